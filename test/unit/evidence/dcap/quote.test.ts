import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EvidenceError } from '../../../../src/errors.js';
import { parseQuote } from '../../../../src/evidence/dcap/quote.js';
import { readSgxReport, readTdReport } from '../../../../src/evidence/dcap/reports.js';
import { intelManifest, intelQuote } from '../../../helpers/intel.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof EvidenceError) return err.code;
    throw err;
  }
  return 'ok';
}

describe('parseQuote on the real quotes', () => {
  it.each(intelManifest.quotes.map((q) => [q.id, q] as const))('%s matches the manifest layout', (_, q) => {
    const quote = parseQuote(intelQuote(q));
    expect(quote.header.version).toBe(q.quote_version);
    expect(quote.tee).toBe(q.tee_type.toLowerCase());
    expect(quote.bytes.length).toBe(q.length);
    expect(quote.signedRegion.length).toBe(q.signed_region.length);
    expect(quote.header.qeSvn).toBe(q.header.qe_svn);
    expect(quote.header.pceSvn).toBe(q.header.pce_svn);
    expect(hex(quote.header.userData)).toBe(q.header.user_data);
    expect(hex(quote.attestationKey)).toBe(q.signature_data.attestation_key);
    expect(quote.qeAuthData.length).toBe(q.signature_data.qe_auth_data_len);
    expect(quote.signature.byteOffset - intelQuote(q).byteOffset).toBeGreaterThanOrEqual(0);
    const qe = readSgxReport(quote.qeReport);
    expect(hex(qe.mrEnclave)).toBe(q.qe_report.mrenclave);
    expect(hex(qe.mrSigner)).toBe(q.qe_report.mrsigner);
    expect(qe.isvProdId).toBe(q.qe_report.isvprodid);
    expect(qe.isvSvn).toBe(q.qe_report.isvsvn);
    expect(hex(qe.attributes)).toBe(q.qe_report.attributes);
    expect(hex(qe.cpuSvn)).toBe(q.qe_report.cpusvn);
    expect(hex(qe.reportData)).toBe(q.qe_report.report_data);
    const pem = Buffer.from(quote.pckChain).toString('latin1');
    expect(pem.split('-----BEGIN CERTIFICATE-----').length - 1).toBe(q.pck.chain_certs);
    if (quote.tee === 'tdx') {
      const td = readTdReport(quote.body);
      expect(hex(td.mrTd)).toBe(q.td_report?.['mrtd']);
      expect(hex(td.teeTcbSvn)).toBe(q.td_report?.['tee_tcb_svn']);
      expect(quote.bodyKind).toBe(q.body_type.startsWith('TD15') ? 'td15' : 'td10');
    } else {
      expect(hex(readSgxReport(quote.body).mrEnclave)).toBe(q.enclave_report?.['mrenclave']);
      expect(quote.bodyKind).toBe('sgx');
    }
  });
});

describe('parseQuote refusals', () => {
  const v4 = intelQuote(intelManifest.quotes.find((q) => q.id === 'tdx-v4-dcapqvl-sample') ?? (intelManifest.quotes[0] as never));
  const v5 = intelQuote(intelManifest.quotes.find((q) => q.id === 'tdx-v5-gotdx-sample') ?? (intelManifest.quotes[0] as never));
  const v3 = intelQuote(intelManifest.quotes.find((q) => q.id === 'sgx-v3-dcapqvl-sample') ?? (intelManifest.quotes[0] as never));

  function edited(q: Uint8Array, offset: number, ...bytes: number[]): Uint8Array {
    const out = new Uint8Array(q);
    out.set(bytes, offset);
    return out;
  }

  it.each([
    ['version 2', edited(v4, 0, 2, 0), 'ERR_DCAP_QUOTE_VERSION_UNSUPPORTED'],
    ['version 6', edited(v4, 0, 6, 0), 'ERR_DCAP_QUOTE_VERSION_UNSUPPORTED'],
    ['attestation key type 3 (P-384)', edited(v4, 2, 3, 0), 'ERR_DCAP_ATTESTATION_KEY_UNSUPPORTED'],
    ['an unknown TEE type', edited(v4, 4, 0x82), 'ERR_DCAP_TEE_TYPE_UNSUPPORTED'],
    ['a v3 quote claiming TDX', edited(v3, 4, 0x81), 'ERR_DCAP_TEE_TYPE_UNSUPPORTED'],
    ['another QE vendor', edited(v4, 12, 0), 'ERR_DCAP_QE_VENDOR_UNSUPPORTED'],
    ['v5 body type 4', edited(v5, 48, 4, 0), 'ERR_DCAP_BODY_TYPE_UNSUPPORTED'],
    ['v5 body type 1 (SGX) under a TDX header', edited(v5, 48, 1, 0, 0x80, 1, 0, 0), 'ERR_DCAP_TEE_TYPE_UNSUPPORTED'],
    ['a v5 body size that does not fit its type', edited(v5, 50, 0x48, 2, 0, 0), 'ERR_DCAP_QUOTE_MALFORMED'],
    ['v3 certification data type 6', edited(v3, 436 + 64 + 64 + 384 + 64 + 2 + 32, 6, 0), 'ERR_DCAP_CERT_DATA_UNSUPPORTED'],
    ['v3 certification data type 1 (PPID)', edited(v3, 436 + 64 + 64 + 384 + 64 + 2 + 32, 1, 0), 'ERR_DCAP_CERT_DATA_UNSUPPORTED'],
  ])('refuses %s', (_, quote, code) => {
    expect(codeOf(() => parseQuote(quote))).toBe(code);
  });

  it('refuses a declared signature data length beyond the buffer', () => {
    expect(codeOf(() => parseQuote(edited(v4, 0x278, 0xff, 0xff, 0, 0)))).toBe('ERR_DCAP_QUOTE_MALFORMED');
  });

  it('refuses a certification data size that disagrees with the signature data length', () => {
    expect(codeOf(() => parseQuote(edited(v4, 0x2fe, (v4[0x2fe] as number) - 1)))).toBe('ERR_DCAP_QUOTE_MALFORMED');
  });
});

describe('parseQuote under fast-check', () => {
  const real = intelManifest.quotes.map((q) => intelQuote(q));
  const isEvidenceErrorOrOk = (fn: () => unknown): boolean => {
    try {
      fn();
      return true;
    } catch (err) {
      return err instanceof EvidenceError;
    }
  };

  it('random bytes only ever yield an EvidenceError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 6000 }), (bytes) => isEvidenceErrorOrOk(() => parseQuote(bytes))), { numRuns: 500 });
  });

  it('random headers in front of a real body only ever yield an EvidenceError', () => {
    fc.assert(
      fc.property(fc.constantFrom(...real), fc.uint8Array({ minLength: 48, maxLength: 48 }), (q, header) => {
        const out = new Uint8Array(q);
        out.set(header, 0);
        return isEvidenceErrorOrOk(() => parseQuote(out));
      }),
      { numRuns: 300 },
    );
  });

  it('mutated and truncated real quotes only ever parse or yield an EvidenceError', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...real),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        fc.nat(),
        (q, edits, cut) => {
          const out = new Uint8Array(q);
          for (const [at, value] of edits) out[at % out.length] = value;
          return isEvidenceErrorOrOk(() => parseQuote(out.subarray(0, out.length - (cut % 64))));
        },
      ),
      { numRuns: 500 },
    );
  });
});
