// In-process checks of what `keyward verify` does before verification: evidence type detection on every
// vector file, the NVIDIA device-chain assembly from collateral, the wire form, --at and --nonce parsing.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readdirSync } from 'node:fs';
import { assembleDeviceChain, detectEvidenceTypes, readEvidence } from '../../../src/cli/evidence-input.js';
import { UsageError } from '../../../src/cli/main.js';
import { parseEvidenceType, parseInstant, parseNonce } from '../../../src/cli/verify.js';
import { addToCollateral, emptyCollateral, recognizeCollateral } from '../../../src/collateral/recognize.js';
import { EvidenceError } from '../../../src/errors.js';
import { parseCertificates } from '../../../src/evidence/pki.js';
import type { Collateral } from '../../../src/evidence/types.js';
import { readVector, readVectorText, vectorPath } from '../../helpers/vectors.js';

/** [area, dir, file] of every file in every sub-directory of `area` (recursively) whose name passes `keep`. */
function vectorFiles(area: string, keep: (name: string) => boolean, dir = ''): string[][] {
  return readdirSync(vectorPath(area, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.isDirectory()) return vectorFiles(area, keep, rel);
    return keep(entry.name) ? [[area, rel]] : [];
  });
}

function usageMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof UsageError) return err.message;
    throw err;
  }
  throw new Error('expected a UsageError');
}

function bagOf(...paths: string[][]): Collateral {
  return paths.reduce((bag, p) => addToCollateral(bag, recognizeCollateral(readVector(...p), p.join('/'))), emptyCollateral());
}

describe('detectEvidenceTypes on every vector file', () => {
  const cases: [string, string[]][] = [
    ...vectorFiles('snp', (f) => f.endsWith('.bin') && !f.includes('hcl_report')).map((p) => ['snp', p] as [string, string[]]),
    ...vectorFiles('intel', (f) => f.startsWith('tdx_') && f.endsWith('.bin')).map((p) => ['tdx', p] as [string, string[]]),
    ...vectorFiles('intel', (f) => f.startsWith('sgx_') && f.endsWith('.bin')).map((p) => ['sgx', p] as [string, string[]]),
    ...vectorFiles('nvidia', (f) => /attestation_report.*\.bin$/.test(f)).map((p) => ['nvidia-gpu', p] as [string, string[]]),
    ...vectorFiles('nitro', (f) => f.endsWith('.cbor')).map((p) => ['nitro', p] as [string, string[]]),
  ];

  it('finds all of them', () => {
    expect(cases.filter(([t]) => t === 'snp')).toHaveLength(18);
    expect(cases.filter(([t]) => t === 'tdx' || t === 'sgx')).toHaveLength(18);
    expect(cases.filter(([t]) => t === 'nvidia-gpu').length).toBeGreaterThanOrEqual(15);
    expect(cases.filter(([t]) => t === 'nitro')).toHaveLength(4);
  });

  it.each(cases.map(([type, p]) => [p.join('/'), type, p] as const))('%s is %s', (_name, type, p) => {
    expect(detectEvidenceTypes(readVector(...p))).toEqual([type]);
  });

  it('the Azure HCL wrappers and certificates are not mistaken for evidence', () => {
    expect(detectEvidenceTypes(readVector('snp', 'extra', 'milan-v2-vcek-azure-trustee.hcl_report.bin'))).toEqual([]);
    expect(detectEvidenceTypes(readVector('snp', 'vek', 'milan-v2-vcek-gosevguest.vcek.der'))).toEqual([]);
  });

  it('never names more than one type and never throws, on random bytes and on headers of each kind', () => {
    const headers = [Uint8Array.of(2, 0, 0, 0), Uint8Array.of(4, 0, 2, 0, 0x81, 0, 0, 0), Uint8Array.of(3, 0, 2, 0, 0, 0, 0, 0), Uint8Array.of(0x84, 0x44), Uint8Array.of(0xd2, 0x84, 0x44), Uint8Array.of(0x11, 0xe0)];
    fc.assert(
      fc.property(fc.constantFrom(...headers), fc.uint8Array({ maxLength: 5000 }), fc.constantFrom(0, 1184, 2000), (header, tail, size) => {
        const bytes = new Uint8Array(Math.max(size, header.length + tail.length));
        bytes.set(tail.subarray(0, bytes.length - header.length), header.length);
        bytes.set(header, 0);
        if (bytes.length > 0x26) bytes[0x26] = tail[0] === undefined ? 0 : 0x60;
        expect(detectEvidenceTypes(bytes).length).toBeLessThanOrEqual(1);
      }),
      { numRuns: 300 },
    );
  });
});

describe('readEvidence', () => {
  const empty = emptyCollateral();

  it('reads raw evidence of the detected type, or of --type', () => {
    const report = readVector('snp', 'reports', 'milan-v2-vcek-gosevguest.bin');
    expect(readEvidence(report, undefined, empty, 'r.bin')).toEqual({ type: 'snp', report, certs: [] });
    const quote = readVector('intel', 'tdx/quotes', 'tdx_v4_dcapqvl_sample_B0C06F.bin');
    expect(readEvidence(quote, 'tdx', empty, 'q.bin')).toEqual({ type: 'tdx', quote });
    expect(readEvidence(report, 'nitro', empty, 'r.bin')).toEqual({ type: 'nitro', document: report });
  });

  it('reads an NRAS detached EAT as nvidia-nras, whitespace and all', () => {
    const text = readVectorText('nvidia', 'h200-595.71.05-nras-e2e', 'nras_response.json');
    const bytes = new Uint8Array(Buffer.from(`\n  ${text}\n`));
    expect(readEvidence(bytes, undefined, empty, 'eat.json')).toEqual({ type: 'nvidia-nras', token: `\n  ${text}\n` });
    expect(usageMessage(() => readEvidence(bytes, 'nitro', empty, 'eat.json'))).toMatch(/is an NRAS result, not nitro evidence/);
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...Buffer.from(text)]);
    expect(readEvidence(bom, undefined, empty, 'bom.json')).toEqual({ type: 'nvidia-nras', token: text });
  });

  it('reads the wire form: one item, a set (extra attest-body fields ignored), and refuses a --type that disagrees', () => {
    const doc = readVector('nitro', 'cape-2022-09-15', 'attestation_doc.cbor');
    const item = { type: 'nitro', document: Buffer.from(doc).toString('base64') };
    const json = (v: unknown) => new Uint8Array(Buffer.from(JSON.stringify(v)));
    expect(readEvidence(json(item), undefined, empty, 'i.json')).toEqual({ type: 'nitro', document: doc });
    expect(readEvidence(json({ nonce: 'abc', teePublicKey: {}, evidence: [item, item] }), 'nitro', empty, 's.json')).toEqual([
      { type: 'nitro', document: doc },
      { type: 'nitro', document: doc },
    ]);
    expect(usageMessage(() => readEvidence(json({ evidence: [item] }), 'snp', empty, 's.json'))).toMatch(/--type snp does not match/);
    expect(usageMessage(() => readEvidence(json({ evidence: item }), undefined, empty, 's.json'))).toMatch(/must be an array/);
    expect(usageMessage(() => readEvidence(json([1, 2]), undefined, empty, 'a.json'))).toMatch(/not an NRAS detached EAT/);
    expect(usageMessage(() => readEvidence(new Uint8Array(Buffer.from('{"type": ')), undefined, empty, 'b.json'))).toMatch(/not valid JSON/);
  });

  it('a wire item that does not decode is an EvidenceError (a verdict), not a usage error', () => {
    try {
      readEvidence(new Uint8Array(Buffer.from('{"type":"snp","report":"***"}')), undefined, empty, 'w.json');
      expect.unreachable();
    } catch (err) {
      expect((err as EvidenceError).code).toBe('ERR_EVIDENCE_MALFORMED');
    }
  });

  it('refuses empty and undetectable files with usage errors', () => {
    expect(usageMessage(() => readEvidence(new Uint8Array(0), undefined, empty, 'e.bin'))).toMatch(/e\.bin is empty/);
    expect(usageMessage(() => readEvidence(new Uint8Array(3000).fill(7), undefined, empty, 'x.bin'))).toMatch(/cannot tell what evidence x\.bin holds/);
    expect(usageMessage(() => readEvidence(new Uint8Array(Buffer.from('hello world')), undefined, empty, 't.txt'))).toMatch(/cannot tell/);
  });
});

describe('assembleDeviceChain', () => {
  const E2E = 'hopper-550.90.07-e2e';
  const BW8 = 'blackwell-8gpu-590.48.01-mpt';
  const ders = (pem: string) => parseCertificates(pem).map((c) => c.sha256);

  it('orders one supplied chain leaf first, whatever order the certificates came in', () => {
    const pem = readVectorText('nvidia', E2E, 'device_cert_chain.pem');
    const certs = parseCertificates(pem);
    const shuffled: Collateral = { ...emptyCollateral(), certificates: [certs[2], certs[4], certs[0], certs[3], certs[1]].map((c) => c?.der as Uint8Array) };
    const report = readVector('nvidia', E2E, 'attestation_report.bin');
    expect(ders(assembleDeviceChain(report, shuffled))).toEqual(certs.map((c) => c.sha256));
  });

  it('picks, among eight chains, the leaf whose key signed the report', () => {
    const bag = bagOf(...Array.from({ length: 8 }, (_, i) => ['nvidia', BW8, `gpu${i}_device_cert_chain.pem`]));
    for (const i of [0, 5, 7]) {
      const own = parseCertificates(readVectorText('nvidia', BW8, `gpu${i}_device_cert_chain.pem`));
      const chain = parseCertificates(assembleDeviceChain(readVector('nvidia', BW8, `gpu${i}_attestation_report.bin`), bag));
      expect(chain[0]?.sha256).toBe(own[0]?.sha256);
      expect(chain).toHaveLength(5);
    }
  });

  it('needs at least one certificate that is not a root', () => {
    const report = readVector('nvidia', E2E, 'attestation_report.bin');
    expect(usageMessage(() => assembleDeviceChain(report, emptyCollateral()))).toMatch(/needs its device certificate chain/);
    expect(usageMessage(() => assembleDeviceChain(report, bagOf(['nvidia', 'roots', 'nvidia_device_identity_ca.pem'])))).toMatch(/needs its device/);
  });
});

describe('option parsing', () => {
  it('--at takes RFC 3339 date-times and refuses everything else', () => {
    expect(parseInstant('2025-01-31T12:00:00Z').toISOString()).toBe('2025-01-31T12:00:00.000Z');
    expect(parseInstant('2025-01-31t12:00:00.5z').toISOString()).toBe('2025-01-31T12:00:00.500Z');
    expect(parseInstant('2025-01-31T12:00:00.123456789+05:30').toISOString()).toBe('2025-01-31T06:30:00.123Z');
    for (const bad of ['', 'yesterday', '2025-01-31', '2025-01-31T12:00:00', '2025-01-31 12:00:00Z', '2025-13-01T00:00:00Z', '2025-02-30T00:00:00Z', '2025-01-01T24:00:00Z', '2025-01-01T10:60:00Z', '2025-01-01T10:00:00+25:00']) {
      expect(() => parseInstant(bad), bad).toThrow(UsageError);
    }
  });

  it('--nonce takes 1 to 512 bytes of hex', () => {
    expect(Buffer.from(parseNonce('00FFaa')).toString('hex')).toBe('00ffaa');
    expect(parseNonce('ab'.repeat(512))).toHaveLength(512);
    for (const bad of ['', 'abc', 'xy', '0x00', 'ab'.repeat(513), 'ab cd']) expect(() => parseNonce(bad), bad).toThrow(UsageError);
  });

  it('--type takes exactly the evidence types', () => {
    expect(parseEvidenceType('nvidia-nras')).toBe('nvidia-nras');
    expect(parseEvidenceType(undefined)).toBeUndefined();
    for (const bad of ['SNP', 'sev', 'nvidia', '']) expect(() => parseEvidenceType(bad), bad).toThrow(UsageError);
  });
});
