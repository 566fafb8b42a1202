import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EvidenceError } from '../../../../src/errors.js';
import { commonNameOf } from '../../../../src/evidence/pki.js';
import { DerError, readChildren, readTlv } from '../../../../src/evidence/der.js';
import { parsePckChainPem, parseSgxExtension, pckCertificatesOf } from '../../../../src/evidence/dcap/pck.js';
import { parseQuote } from '../../../../src/evidence/dcap/quote.js';
import { LruMemo } from '../../../../src/evidence/memo.js';
import { defaultPckValues, encodeSgxExtension } from '../../../../src/dev/dcap.js';
import { intelManifest, intelQuote } from '../../../helpers/intel.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('the PCK certificate of each real quote', () => {
  it.each(intelManifest.quotes.map((q) => [q.id, q] as const))('%s: SGX extension matches the manifest', (_, q) => {
    const pck = pckCertificatesOf(parseQuote(intelQuote(q)).pckChain);
    const ext = pck.extensions;
    expect(hex(ext.fmspc).toUpperCase()).toBe(q.pck.fmspc.toUpperCase());
    expect(hex(ext.pceId)).toBe(q.pck.pceid);
    expect(ext.pceSvn).toBe(q.pck.pcesvn);
    expect(hex(ext.cpuSvn)).toBe(q.pck.cpusvn);
    expect(ext.sgxTcbComponents).toEqual(q.pck.sgx_tcb_comp_svns);
    expect(ext.sgxType).toBe(q.pck.sgx_type);
    expect(hex(ext.ppid)).toBe(q.pck.ppid);
    expect(pck.leaf.serial).toBe(q.pck.serial.replace(/^0+/, ''));
    expect(commonNameOf(pck.leaf.issuer)).toBe(q.pck.issuer_ca);
    expect(pck.certificates.length).toBe(q.pck.chain_certs);
  });

  it('parses a chain once per memo', () => {
    const quote = parseQuote(intelQuote(intelManifest.quotes[0] as never));
    const memo = new LruMemo();
    const a = pckCertificatesOf(quote.pckChain, memo);
    const b = pckCertificatesOf(quote.pckChain, memo);
    expect(b).toBe(a);
    expect(memo.hits).toBe(1);
  });
});

describe('the SGX extension codec', () => {
  it('round-trips the dev encoder', () => {
    const values = defaultPckValues({ fmspc: '00A06D080000', pceSvn: 300, sgxType: 2, sgxTcbComponents: [255, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 128] });
    const ext = parseSgxExtension(encodeSgxExtension(values));
    expect([hex(ext.fmspc), ext.pceSvn, ext.sgxType, ext.sgxTcbComponents]).toEqual(['00a06d080000', 300, 2, values.sgxTcbComponents]);
  });

  it('refuses an extension without FMSPC, or with a component out of range', () => {
    const der = encodeSgxExtension(defaultPckValues());
    const outer = readTlv(der, 0);
    let start = 0;
    const kept: Uint8Array[] = [];
    readChildren(outer.value).forEach((child, i) => {
      if (i !== 3) kept.push(outer.value.subarray(start, child.end));
      start = child.end;
    });
    const body = Buffer.concat(kept);
    const noFmspc = Buffer.concat([Buffer.from([0x30, 0x82, body.length >> 8, body.length & 0xff]), body]);
    expect(() => parseSgxExtension(noFmspc)).toThrow(DerError);
    expect(() => parseSgxExtension(encodeSgxExtension(defaultPckValues({ sgxTcbComponents: [256, ...new Array(15).fill(0)] })))).toThrow(
      /out of range/,
    );
  });

  it('only ever throws DerError on mutated extensions', () => {
    const der = encodeSgxExtension(defaultPckValues());
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (edits) => {
        const m = new Uint8Array(der);
        for (const [at, v] of edits) m[at % m.length] = v;
        try {
          parseSgxExtension(m);
        } catch (err) {
          return err instanceof DerError;
        }
        return true;
      }),
      { numRuns: 400 },
    );
  });
});

describe('the certification data PEM', () => {
  const pem = parseQuote(intelQuote(intelManifest.quotes[0] as never)).pckChain;

  it('tolerates NUL padding and whitespace, refuses other text around the blocks', () => {
    const text = Buffer.from(pem).toString('latin1').replace(/\0+$/, '');
    expect(parsePckChainPem(Buffer.from(`\n${text}\0\0\0`, 'latin1')).length).toBe(3);
    expect(() => parsePckChainPem(Buffer.from(`junk${text}`, 'latin1'))).toThrow(EvidenceError);
    expect(() => parsePckChainPem(Buffer.from(`${text}${text}`, 'latin1'))).toThrow(/1 to 3 certificates/);
    expect(() => parsePckChainPem(new Uint8Array(0))).toThrow(EvidenceError);
  });
});
