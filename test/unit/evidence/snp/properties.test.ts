import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseSnpReport } from '../../../../src/evidence/snp/report.js';
import { parseSnpCertTable } from '../../../../src/evidence/snp/cert-table.js';
import { decodeSnpCertificates } from '../../../../src/evidence/snp/certs.js';
import { verifySnpEvidenceSync } from '../../../../src/evidence/snp/verify.js';
import { buildSnpCertTable } from '../../../../src/dev/snp.js';
import { LruMemo } from '../../../../src/evidence/memo.js';
import { EvidenceError } from '../../../../src/errors.js';
import { chainPemOf, ctxAt, reportOf, vector, vekOf, verifiable } from './helpers.js';

/** Runs `fn`; returns 'ok' or the EvidenceError code. Anything else thrown fails the property. */
function outcome(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (err instanceof EvidenceError) return err.code;
    throw err;
  }
}

const reports = verifiable.map((v) => ({ v, report: reportOf(v), certs: [vekOf(v), chainPemOf(v)] }));

/** Byte-level edits of a real report: overwrite, flip, truncate, extend, splice. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(1183), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(1183), bit: fc.nat(7) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat(1183), value: fc.constant(0) }),
  fc.record({ kind: fc.constant('extend' as const), at: fc.nat(64), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('block' as const), at: fc.nat(1183), value: fc.integer({ min: 0, max: 255 }), len: fc.integer({ min: 1, max: 64 }) }),
);

type Mutation = { kind: 'set' | 'flip' | 'truncate' | 'extend' | 'block'; at: number; value?: number; bit?: number; len?: number };

function mutate(report: Uint8Array, edits: readonly Mutation[]): Uint8Array {
  let out = new Uint8Array(report);
  for (const e of edits) {
    const at = Math.min(e.at, Math.max(out.length - 1, 0));
    if (e.kind === 'set') out[at] = e.value ?? 0;
    if (e.kind === 'flip') out[at] = (out[at] as number) ^ (1 << (e.bit ?? 0));
    if (e.kind === 'truncate') out = out.subarray(0, at);
    if (e.kind === 'extend') out = new Uint8Array([...out, ...new Uint8Array(e.at + 1).fill(e.value ?? 0)]);
    if (e.kind === 'block') out.fill(e.value ?? 0, at, at + (e.len ?? 1));
  }
  return out;
}

describe('property: the parser only ever throws EvidenceError', () => {
  it('random bytes of any length', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 2048 }), (bytes) => {
        expect(outcome(() => parseSnpReport(bytes))).not.toBe('ok');
      }),
      { numRuns: 300 },
    );
  });

  it('random 1184-byte reports with a valid header', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1184, maxLength: 1184 }), fc.integer({ min: 2, max: 5 }), (bytes, version) => {
        const report = new Uint8Array(bytes);
        const view = new DataView(report.buffer);
        view.setUint32(0, version, true);
        view.setUint32(0x34, 1, true);
        const result = outcome(() => parseSnpReport(report));
        expect(['ok', 'ERR_SNP_RESERVED_NONZERO', 'ERR_SNP_REPORT_MALFORMED']).toContain(result);
      }),
      { numRuns: 300 },
    );
  });
});

describe('property: verification of mutated real reports only ever throws EvidenceError', () => {
  it('never accepts a changed report, never throws anything else', () => {
    const memo = new LruMemo();
    fc.assert(
      fc.property(fc.nat(reports.length - 1), fc.array(mutation, { minLength: 1, maxLength: 4 }), (index, edits) => {
        const { v, report, certs } = reports[index] as (typeof reports)[number];
        const mutated = mutate(report, edits as Mutation[]);
        const changed = !Buffer.from(mutated).equals(Buffer.from(report));
        const result = outcome(() =>
          verifySnpEvidenceSync({ type: 'snp', report: mutated, certs }, ctxAt(v.verification_time as string, { memo })),
        );
        if (changed) expect(result).not.toBe('ok');
        else expect(result).toBe('ok');
      }),
      { numRuns: 400 },
    );
  });

  it('random certificate inputs next to a real report', () => {
    const v = vector('milan-v3-vcek-oak-cb');
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 0, maxLength: 512 }), { maxLength: 3 }), (inputs) => {
        const result = outcome(() =>
          verifySnpEvidenceSync({ type: 'snp', report: reportOf(v), certs: inputs }, ctxAt(v.verification_time as string)),
        );
        expect(result).not.toBe('ok');
      }),
      { numRuns: 200 },
    );
  });
});

describe('property: certificate tables', () => {
  const vcek = vekOf(vector('genoa-v5-vcek-oak'));
  const table = buildSnpCertTable([
    { kind: 'vcek', data: vcek },
    { kind: 'ask', data: chainPemOf(vector('genoa-v5-vcek-oak')) },
  ]);

  it('random bytes: parsed or ERR_SNP_CERT_TABLE_MALFORMED, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 600 }), (bytes) => {
        expect(['ok', 'ERR_SNP_CERT_TABLE_MALFORMED']).toContain(outcome(() => parseSnpCertTable(bytes)));
      }),
      { numRuns: 300 },
    );
  });

  it('mutations of a real table: only EvidenceError', () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (edits) => {
        const mutated = mutate(table, edits as Mutation[]);
        outcome(() => decodeSnpCertificates([mutated]));
      }),
      { numRuns: 300 },
    );
  });
});
