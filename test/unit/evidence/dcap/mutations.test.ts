import { describe, expect, it } from 'vitest';
import { EvidenceError } from '../../../../src/errors.js';
import { vendorAnchors } from '../../../../src/evidence/anchors.js';
import { verifyEvidence } from '../../../../src/evidence/verify.js';
import type { Collateral, VerifyContext } from '../../../../src/evidence/types.js';
import { collateralSet, intelManifest, intelQuote, type IntelQuote } from '../../../helpers/intel.js';

// tdx-v4-dcapqvl-sample: header [0,0x30), TD report [0x30,0x278), u32 at 0x278, signature data from 0x27C:
// sig [0x27C,0x2BC), attestation key [0x2BC,0x2FC), u16 type 6 at 0x2FC, u32 size at 0x2FE,
// QE report [0x302,0x482), QE report sig [0x482,0x4C2), u16 auth len at 0x4C2, auth [0x4C4,0x4E4),
// u16 type 5 at 0x4E4, u32 size at 0x4E6, PEM chain from 0x4EA.
const TDX = intelManifest.quotes.find((q) => q.id === 'tdx-v4-dcapqvl-sample') as IntelQuote;
const TDX_SET = 'dcapqvl_tdx_B0C06F000000_2025-06';
const TDX_AT = new Date('2025-07-04T10:00:00Z');
const OFF = { userData: 0x1c, mrTd: 0x30 + 0x88, sig: 0x27c, ak: 0x2bc, outerType: 0x2fc, qeReport: 0x302, qeSig: 0x482, auth: 0x4c4, innerType: 0x4e4, pem: 0x4ea };

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (err) {
    if (err instanceof EvidenceError) return err.code;
    throw err;
  }
  return 'accepted';
}

function ctx(overrides: Partial<VerifyContext> = {}): VerifyContext {
  return { collateral: collateralSet(TDX_SET), anchors: vendorAnchors(), now: TDX_AT, ...overrides };
}

function verifyTdx(quote: Uint8Array, overrides: Partial<VerifyContext> = {}): Promise<string | undefined> {
  return codeOf(verifyEvidence({ type: 'tdx', quote }, ctx(overrides)));
}

function flipped(offset: number, bit = 0x01): Uint8Array {
  const q = new Uint8Array(intelQuote(TDX));
  q[offset] = (q[offset] as number) ^ bit;
  return q;
}

function flipByte(bytes: Uint8Array, at: number): void {
  bytes[at] = (bytes[at] as number) ^ 0x01;
}

function withBag(change: Partial<Collateral>, set = TDX_SET): Collateral {
  return { ...collateralSet(set), ...change };
}

describe('mutated real TDX quote', () => {
  it('is accepted unmodified (the baseline for every mutation below)', async () => {
    expect(await verifyTdx(intelQuote(TDX))).toBe('accepted');
  });

  it.each([
    ['version', 0x00, 0x02, 'ERR_DCAP_QUOTE_VERSION_UNSUPPORTED'],
    ['attestation key type', 0x02, 0x01, 'ERR_DCAP_ATTESTATION_KEY_UNSUPPORTED'],
    ['TEE type', 0x04, 0x01, 'ERR_DCAP_TEE_TYPE_UNSUPPORTED'],
    ['QE vendor ID', 0x0c, 0x80, 'ERR_DCAP_QE_VENDOR_UNSUPPORTED'],
    ['user data', OFF.userData, 0x01, 'ERR_DCAP_QUOTE_SIGNATURE_INVALID'],
    ['reserved header bytes', 0x08, 0x01, 'ERR_DCAP_QUOTE_SIGNATURE_INVALID'],
  ])('flipped bit in the header: %s', async (_, offset, bit, code) => {
    expect(await verifyTdx(flipped(offset, bit))).toBe(code);
  });

  it.each([
    ['MRTD', OFF.mrTd],
    ['REPORTDATA', 0x30 + 0x208 + 63],
    ['TEE_TCB_SVN', 0x30],
    ['TD attributes', 0x30 + 0x78],
  ])('flipped bit in the body (%s) → ERR_DCAP_QUOTE_SIGNATURE_INVALID', async (_, offset) => {
    expect(await verifyTdx(flipped(offset))).toBe('ERR_DCAP_QUOTE_SIGNATURE_INVALID');
  });

  it('flipped bit in the quote signature → ERR_DCAP_QUOTE_SIGNATURE_INVALID', async () => {
    expect(await verifyTdx(flipped(OFF.sig + 5))).toBe('ERR_DCAP_QUOTE_SIGNATURE_INVALID');
    expect(await verifyTdx(flipped(OFF.sig + 63))).toBe('ERR_DCAP_QUOTE_SIGNATURE_INVALID');
  });

  it('flipped bit in the attestation key → ERR_DCAP_QE_REPORT_DATA_MISMATCH (the QE report binds the key)', async () => {
    expect(await verifyTdx(flipped(OFF.ak + 10))).toBe('ERR_DCAP_QE_REPORT_DATA_MISMATCH');
  });

  it.each([
    ['MRSIGNER', OFF.qeReport + 0x80],
    ['ISVSVN', OFF.qeReport + 0x102],
    ['REPORTDATA', OFF.qeReport + 0x140],
    ['QE report signature', OFF.qeSig + 7],
  ])('flipped bit in the QE report (%s) → ERR_DCAP_QE_REPORT_SIGNATURE_INVALID', async (_, offset) => {
    expect(await verifyTdx(flipped(offset))).toBe('ERR_DCAP_QE_REPORT_SIGNATURE_INVALID');
  });

  it('flipped bit in the QE authentication data → ERR_DCAP_QE_REPORT_DATA_MISMATCH', async () => {
    expect(await verifyTdx(flipped(OFF.auth + 3))).toBe('ERR_DCAP_QE_REPORT_DATA_MISMATCH');
  });

  it.each([
    ['outer type 6 → 5', OFF.outerType, 0x03, 'ERR_DCAP_CERT_DATA_UNSUPPORTED'],
    ['inner type 5 → 4', OFF.innerType, 0x01, 'ERR_DCAP_CERT_DATA_UNSUPPORTED'],
    ['inner type 5 → 7', OFF.innerType, 0x02, 'ERR_DCAP_CERT_DATA_UNSUPPORTED'],
    ['signature data length', 0x278, 0x01, 'ERR_DCAP_QUOTE_MALFORMED'],
    ['QE auth data length (overruns)', 0x4c3, 0x80, 'ERR_DCAP_QUOTE_MALFORMED'],
    ['QE auth data length (shifts the type)', 0x4c2, 0x01, 'ERR_DCAP_CERT_DATA_UNSUPPORTED'],
  ])('flipped bit in the certification data: %s', async (_, offset, bit, code) => {
    expect(await verifyTdx(flipped(offset, bit))).toBe(code);
  });

  describe('PCK certificate in the quote', () => {
    const original = intelQuote(TDX);
    const pemText = Buffer.from(original.subarray(OFF.pem)).toString('latin1');
    const leafB64 = (/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(pemText)?.[1] ?? '').replace(/\s+/g, '');
    const leafDer = Buffer.from(leafB64, 'base64');

    /** Re-encodes the leaf after `edit` (same length, so every size field still holds). */
    function withLeaf(edit: (der: Buffer) => void): Uint8Array {
      const der = Buffer.from(leafDer);
      edit(der);
      const b64 = der.toString('base64');
      expect(b64.length).toBe(leafB64.length);
      let i = 0;
      const text = pemText.replace(/(-----BEGIN CERTIFICATE-----)([\s\S]*?)(-----END CERTIFICATE-----)/, (_, a: string, body: string, c: string) => {
        const rebuilt = body.replace(/[A-Za-z0-9+/=]/g, () => b64[i++] as string);
        return `${a}${rebuilt}${c}`;
      });
      const q = new Uint8Array(original);
      q.set(Buffer.from(text, 'latin1'), OFF.pem);
      return q;
    }

    it('a flipped bit in the signed part (serial number) → ERR_CHAIN_SIGNATURE_INVALID', async () => {
      // TBSCertificate: SEQUENCE hdr (4) ‖ [0] version (5) ‖ INTEGER serial (tag, len, value...)
      const serialValue = 4 + 4 + 5 + 2;
      expect(await verifyTdx(withLeaf((der) => flipByte(der, serialValue + 3)))).toBe('ERR_CHAIN_SIGNATURE_INVALID');
    });

    it('a flipped bit in the certificate signature → ERR_CHAIN_SIGNATURE_INVALID', async () => {
      expect(await verifyTdx(withLeaf((der) => flipByte(der, der.length - 3)))).toBe('ERR_CHAIN_SIGNATURE_INVALID');
    });

    it('a flipped bit in the public key (no longer a P-256 point) → ERR_CHAIN_MALFORMED', async () => {
      const spki = leafDer.indexOf(Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex'));
      expect(spki).toBeGreaterThan(0);
      expect(await verifyTdx(withLeaf((der) => flipByte(der, spki + 26 + 40)))).toBe('ERR_CHAIN_MALFORMED');
    });

    it('a broken DER structure → ERR_CHAIN_MALFORMED', async () => {
      expect(await verifyTdx(withLeaf((der) => flipByte(der, 1)))).toBe('ERR_CHAIN_MALFORMED');
    });

    it('text that is not PEM inside the chain → ERR_DCAP_PCK_CERT_INVALID', async () => {
      const q = new Uint8Array(original);
      q[original.length - 1] = 0x41; // the NUL terminator becomes "A"
      expect(await verifyTdx(q)).toBe('ERR_DCAP_PCK_CERT_INVALID');
    });
  });

  it('truncated anywhere → ERR_DCAP_QUOTE_MALFORMED', async () => {
    const q = intelQuote(TDX);
    for (const length of [0, 47, 48, 100, 0x277, 0x27c, 0x2fc, 0x4e9, q.length - 200, q.length - 1]) {
      expect(await verifyTdx(q.subarray(0, length))).toBe('ERR_DCAP_QUOTE_MALFORMED');
    }
  });

  it('tolerates zero padding after the declared end, refuses anything else there', async () => {
    const q = intelQuote(TDX);
    const padded = new Uint8Array(q.length + 70);
    padded.set(q);
    expect(await verifyTdx(padded)).toBe('accepted');
    padded[q.length + 10] = 1;
    expect(await verifyTdx(padded)).toBe('ERR_DCAP_QUOTE_MALFORMED');
  });
});

describe('mutated real collateral', () => {
  const bag = collateralSet(TDX_SET);

  it('a TCB Info with one edited character → ERR_DCAP_TCB_INFO_SIGNATURE_INVALID', async () => {
    const edits = [
      (t: string) => t.replace('"tcbEvaluationDataNumber":17', '"tcbEvaluationDataNumber":18'),
      // Same meaning, other bytes: hex case is part of what Intel signed.
      (t: string) => t.replace('"fmspc":"B0C06F000000"', '"fmspc":"b0C06F000000"'),
    ];
    for (const edit of edits) {
      const tcbInfos = bag.tcbInfos.map(edit);
      expect(tcbInfos).not.toEqual(bag.tcbInfos);
      expect(await verifyTdx(intelQuote(TDX), { collateral: withBag({ tcbInfos }) })).toBe('ERR_DCAP_TCB_INFO_SIGNATURE_INVALID');
    }
  });

  it('a QE Identity with one edited character → ERR_DCAP_QE_IDENTITY_SIGNATURE_INVALID', async () => {
    const qeIdentities = bag.qeIdentities.map((t) => t.replace('"isvprodid":2', '"isvprodid":3'));
    expect(qeIdentities).not.toEqual(bag.qeIdentities);
    expect(await verifyTdx(intelQuote(TDX), { collateral: withBag({ qeIdentities }) })).toBe('ERR_DCAP_QE_IDENTITY_SIGNATURE_INVALID');
  });

  it('a TCB Info that is not JSON any more → ERR_DCAP_TCB_INFO_INVALID', async () => {
    const tcbInfos = bag.tcbInfos.map((t) => t.replace('"tcbLevels":[', '"tcbLevels":{['));
    expect(await verifyTdx(intelQuote(TDX), { collateral: withBag({ tcbInfos }) })).toBe('ERR_DCAP_TCB_INFO_INVALID');
  });

  it('a flipped bit in a CRL → ERR_CRL_SIGNATURE_INVALID or ERR_CRL_INVALID', async () => {
    const crls = bag.crls.map((der) => {
      const c = new Uint8Array(der);
      c[c.length - 10] = (c[c.length - 10] as number) ^ 0x01;
      return c;
    });
    expect(await verifyTdx(intelQuote(TDX), { collateral: withBag({ crls }) })).toBe('ERR_CRL_SIGNATURE_INVALID');
  });

  it.each([
    ['TCB Info', { tcbInfos: [] }],
    ['QE Identity', { qeIdentities: [] }],
    ['CRLs', { crls: [] }],
    ['certificates (TCB Signing)', { certificates: [] }],
  ])('without the %s → ERR_COLLATERAL_MISSING', async (_, change) => {
    expect(await verifyTdx(intelQuote(TDX), { collateral: withBag(change) })).toBe('ERR_COLLATERAL_MISSING');
  });

  it('with only another platform\'s TCB Info, or only SGX collateral → ERR_COLLATERAL_MISSING', async () => {
    const other = collateralSet('dcapqvl_tdx_90C06F000000_2026-02');
    expect(await verifyTdx(intelQuote(TDX), { collateral: withBag({ tcbInfos: other.tcbInfos }) })).toBe('ERR_COLLATERAL_MISSING');
    const sgx = collateralSet('dcapqvl_sgx_00A067110000_2025-06');
    expect(await verifyTdx(intelQuote(TDX), { collateral: withBag({ qeIdentities: sgx.qeIdentities }) })).toBe('ERR_COLLATERAL_MISSING');
  });
});

describe('verification time outside the collateral windows', () => {
  const sgx = intelManifest.quotes.find((q) => q.id === 'sgx-v3-automata') as IntelQuote;
  const tdxGo = intelManifest.quotes.find((q) => q.id === 'tdx-v4-trustee-q4') as IntelQuote;

  async function at(q: IntelQuote, set: string, now: string): Promise<string | undefined> {
    const type = q.tee_type === 'TDX' ? ('tdx' as const) : ('sgx' as const);
    return codeOf(verifyEvidence({ type, quote: intelQuote(q) }, { collateral: collateralSet(set), anchors: vendorAnchors(), now: new Date(now) }));
  }

  it('now after the TCB Info nextUpdate → ERR_COLLATERAL_STALE', async () => {
    // dcaprs SGX set: TCB Info nextUpdate 03:29:42, CRLs good until 03:40:28.
    expect(await at(sgx, 'dcaprs_sgx_00606A000000_2025-02', '2025-03-15T03:29:42Z')).toBe('accepted');
    expect(await at(sgx, 'dcaprs_sgx_00606A000000_2025-02', '2025-03-15T03:29:43Z')).toBe('ERR_COLLATERAL_STALE');
  });

  it('now after the QE Identity nextUpdate → ERR_COLLATERAL_STALE', async () => {
    // go-tdx-guest 2023 set: QE Identity nextUpdate 07:24:59, PCK CRL good until 07:27:52.
    expect(await at(tdxGo, 'gotdx_tdx_50806F000000_2023-06', '2023-07-08T07:26:00Z')).toBe('ERR_COLLATERAL_STALE');
  });

  it('now after the PCK CRL nextUpdate → ERR_CRL_STALE', async () => {
    expect(await at(TDX, TDX_SET, '2025-07-19T10:00:36Z')).toBe('ERR_CRL_STALE');
  });

  it('now before the CRLs were issued → ERR_CRL_NOT_YET_VALID; before the TCB Info → ERR_COLLATERAL_MISSING', async () => {
    expect(await at(TDX, TDX_SET, '2025-06-19T10:00:00Z')).toBe('ERR_CRL_NOT_YET_VALID');
    expect(await at(TDX, TDX_SET, '2025-06-19T10:10:00Z')).toBe('ERR_COLLATERAL_MISSING');
  });

  it('now after the PCK certificate expired → ERR_CHAIN_EXPIRED', async () => {
    expect(await at(TDX, TDX_SET, '2032-06-01T00:00:00Z')).toBe('ERR_CHAIN_EXPIRED');
  });
});
