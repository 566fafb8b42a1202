import { describe, expect, it } from 'vitest';
import { EvidenceError } from '../../../src/errors.js';
import { parseCertificate, parseCertificates } from '../../../src/evidence/pki.js';
import { checkCrlFreshness, verifyCrl, verifyCrlSignature } from '../../../src/evidence/crl.js';
import { readVector, readVectorText } from '../../helpers/vectors.js';

const DIR = 'tdx/collateral/dcapqvl_tdx_B0C06F000000_2025-06';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof EvidenceError) return err.code;
    throw err;
  }
  return 'ok';
}

describe('pki additions used by the DCAP verifier', () => {
  const [platformCa] = parseCertificates(readVectorText('intel', DIR, 'pck_crl_issuer_chain.pem'));
  const crl = readVector('intel', DIR, 'pck_crl.der');

  it('verifyCrlSignature checks issuer and signature but not time; checkCrlFreshness checks time', () => {
    const verified = verifyCrlSignature(crl, platformCa as never);
    expect(verified.thisUpdate.toISOString()).toBe('2025-06-19T10:00:35.000Z');
    expect(verified.revokedSerials.size).toBe(44);
    expect(codeOf(() => checkCrlFreshness(verified, new Date('2025-07-01T00:00:00Z')))).toBe('ok');
    expect(codeOf(() => checkCrlFreshness(verified, new Date('2025-07-20T00:00:00Z')))).toBe('ERR_CRL_STALE');
    expect(codeOf(() => checkCrlFreshness(verified, new Date('2025-06-01T00:00:00Z')))).toBe('ERR_CRL_NOT_YET_VALID');
    expect(codeOf(() => verifyCrl(crl, platformCa as never, new Date('2025-07-20T00:00:00Z')))).toBe('ERR_CRL_STALE');
  });

  it('parseCertificate refuses a certificate whose EC key is not on its curve with ERR_CHAIN_MALFORMED', () => {
    const der = Buffer.from((platformCa as { der: Uint8Array }).der);
    const spki = der.indexOf(Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex'));
    der[spki + 26 + 20] = (der[spki + 26 + 20] as number) ^ 0x01;
    expect(codeOf(() => parseCertificate(new Uint8Array(der)))).toBe('ERR_CHAIN_MALFORMED');
  });
});
