// describeCollateral: labels, validity windows and series of real collateral of every kind; test-CA CRLs for
// series edges; broken items refused as ERR_COLLATERAL_MALFORMED; random and mutated files only ever yield
// ERR_COLLATERAL_UNRECOGNIZED or ERR_COLLATERAL_MALFORMED.
import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { describeCollateral, storedItem, type DescribedCollateral } from '../../../src/collateral/describe.js';
import { recognizeCollateral, type CollateralItem } from '../../../src/collateral/recognize.js';
import { createCrl, createSelfSignedRoot, generateDevKeyPair, x509, type DevCertificate } from '../../../src/dev/pki.js';
import { KeywardError } from '../../../src/errors.js';
import { readVector, readVectorText } from '../../helpers/vectors.js';

const TDX_SET = 'tdx/collateral/dcapqvl_tdx_B0C06F000000_2025-06';

function describeFile(bytes: Uint8Array | string, name = 'file'): DescribedCollateral[] {
  const data = typeof bytes === 'string' ? new Uint8Array(Buffer.from(bytes)) : bytes;
  return recognizeCollateral(data, name).map((item) => describeCollateral(item, name));
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof KeywardError) return err.code;
    throw err;
  }
  return undefined;
}

function only(items: DescribedCollateral[]): DescribedCollateral {
  expect(items).toHaveLength(1);
  return items[0] as DescribedCollateral;
}

describe('describeCollateral: real collateral', () => {
  it('certificates: CN label, notBefore/notAfter, SHA-256 of the DER as id', () => {
    const der = readVector('snp', 'amd/genoa/ark.pem');
    const [ark] = describeFile(der);
    const x = new X509Certificate(Buffer.from(der));
    expect(ark).toMatchObject({ kind: 'certificate', label: 'ARK-Genoa', validFrom: new Date(x.validFrom), validUntil: new Date(x.validTo) });
    expect(ark?.sha256).toBe(x.fingerprint256.replace(/:/g, '').toLowerCase());
    expect(ark?.details).toMatchObject({ ca: true, serial: x.serialNumber.toLowerCase().replace(/^0+/, '') });
  });

  it('AMD signing keys: kind, product, chip or CSP and TCB in the label and details', () => {
    const vlek = only(describeFile(readVector('snp', 'vek/milan-v3-vlek-aws-trustee.vlek.der')));
    expect(vlek.label).toMatch(/^VLEK Milan\S* CSP \S+ bl=\d+ tee=\d+ snp=\d+ ucode=\d+$/);
    expect(vlek.details['amd']).toMatchObject({ kind: 'vlek', cspId: expect.any(String) });
    const turin = only(describeFile(readVector('snp', 'vek/turin-vcek-only-virteesev.vcek.der')));
    expect(turin.label).toBe('VCEK Turin chip 1e550a8ee5cf9f4d… fmc=0 bl=0 tee=0 snp=0 ucode=9');
    expect(turin.details['amd']).toMatchObject({ hwId: '1e550a8ee5cf9f4d', tcb: { fmc: 0, bootloader: 0, tee: 0, snp: 0, microcode: 9 } });
  });

  it('CRLs: issuer label, thisUpdate/nextUpdate, the same item from DER and PEM', () => {
    const der = only(describeFile(readVector('snp', 'crl/genoa_vcek_crl_2024-10-23.der')));
    const pem = only(describeFile(readVectorText('snp', 'crl/genoa_vcek_crl_2024-10-23.pem')));
    expect(der).toMatchObject({ kind: 'crl', label: 'CRL by ARK-Genoa', validFrom: new Date('2024-10-23T04:36:24Z'), validUntil: new Date('2025-11-03T01:00:00Z') });
    expect(der.details).toMatchObject({ issuerCn: 'ARK-Genoa', revoked: 1 });
    expect(pem.sha256).toBe(der.sha256);
    expect(pem.series).toBe(der.series);
  });

  it('TCB Info and QE Identity: issueDate/nextUpdate; one series per TEE and FMSPC, one per QE identity', () => {
    const tcb = only(describeFile(readVectorText('intel', TDX_SET, 'tcb_info.json')));
    expect(tcb).toMatchObject({ kind: 'tcb-info', validFrom: new Date('2025-06-19T10:16:03Z'), validUntil: new Date('2025-07-19T10:16:03Z') });
    const feb = only(describeFile(readVectorText('intel', 'sgx/collateral/dcaprs_sgx_00606A000000_2025-02', 'tcb_info.json')));
    const aug = only(describeFile(readVectorText('intel', 'sgx/collateral/automata_sgx_00606A000000_2025-08', 'tcb_info.json')));
    expect(feb.series).toBe(aug.series);
    expect(feb.sha256).not.toBe(aug.sha256);
    expect(tcb.series).not.toBe(feb.series);
    const tdQe = only(describeFile(readVectorText('intel', TDX_SET, 'qe_identity.json')));
    const tdQe2026 = only(describeFile(readVectorText('intel', 'tdx/collateral/dcapqvl_tdx_90C06F000000_2026-02', 'qe_identity.json')));
    const sgxQe = only(describeFile(readVectorText('intel', 'sgx/collateral/dcaprs_sgx_00606A000000_2025-02', 'qe_identity.json')));
    expect(tdQe.label).toBe('TD_QE Identity (evaluation 17)');
    expect(tdQe.series).toBe(tdQe2026.series);
    expect(sgxQe.series).not.toBe(tdQe.series);
  });

  it('RIMs: product, edition and version; validity of the signing certificate; the text stored exactly', () => {
    const text = readVectorText('nvidia', 'hopper-550.90.07-e2e/vbios_rim_NV_GPU_VBIOS_1010_0200_882_96009F0001.xml');
    const rim = only(describeFile(text));
    expect(rim.kind).toBe('rim');
    expect(rim.label).toMatch(/^RIM GH100 GPU 96\.00\.9F\.00\.01$/i);
    expect(rim.validFrom?.getTime()).toBeLessThan(rim.validUntil?.getTime() as number);
    const back = storedItem(rim.kind, rim.data);
    expect(back.data).toBe(text);
  });

  it('OCSP responses and JWK sets', () => {
    const ocsp = only(describeFile(readVector('nvidia', 'hopper-550.90.07-e2e/ocsp/gpu_L3_GH100_Provisioner_ICA1.ocsp.der')));
    expect(ocsp.kind).toBe('ocsp');
    expect((ocsp.details['statuses'] as unknown[]).length).toBeGreaterThan(0);
    const jwks = only(describeFile(readVectorText('nvidia', 'nras-jwks/nras_jwks_2026-06-29T0208Z.json')));
    expect(jwks.kind).toBe('jwks');
    expect(jwks.validUntil).not.toBeNull();
    const bare = only(describeFile('{"keys":[{"kty":"EC","crv":"P-256","kid":"k1","x":"AA","y":"AA"}]}'));
    expect(bare).toMatchObject({ label: 'JWKS k1', validFrom: null, validUntil: null });
  });
});

describe('describeCollateral: series and refusals with a test CA', () => {
  let root: DevCertificate;
  beforeAll(async () => {
    root = await createSelfSignedRoot({ subject: 'CN=Test Root', keys: await generateDevKeyPair('p256'), notBefore: new Date('2024-01-01Z'), notAfter: new Date('2034-01-01Z') });
  });

  it('two CRLs of one issuer form one series; another issuer is another series', async () => {
    const a = only(describeFile(await createCrl(root, { thisUpdate: new Date('2025-01-01Z'), nextUpdate: new Date('2025-02-01Z') })));
    const b = only(describeFile(await createCrl(root, { thisUpdate: new Date('2025-02-01Z'), nextUpdate: new Date('2025-03-01Z'), revokedSerials: ['0a'] })));
    const other = await createSelfSignedRoot({ subject: 'CN=Other Root', keys: await generateDevKeyPair('p256'), notBefore: new Date('2024-01-01Z'), notAfter: new Date('2034-01-01Z') });
    const c = only(describeFile(await createCrl(other, { thisUpdate: new Date('2025-01-01Z'), nextUpdate: new Date('2025-02-01Z') })));
    expect(a.series).toBe(b.series);
    expect(a.sha256).not.toBe(b.sha256);
    expect(b.details['revoked']).toBe(1);
    expect(c.series).not.toBe(a.series);
    expect(a.label).toBe('CRL by Test Root');
  });

  it('refuses a CRL without nextUpdate, an unsuccessful OCSP response, broken JSON collateral and JWK sets', async () => {
    const noNext = await x509.X509CrlGenerator.create({
      issuer: root.cert.subject,
      thisUpdate: new Date('2025-01-01Z'),
      signingKey: root.keys.privateKey,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    });
    expect(codeOf(() => describeFile(new Uint8Array(noNext.rawData)))).toBe('ERR_COLLATERAL_MALFORMED');
    // OCSPResponse { responseStatus tryLater(3) }: well-formed, but says nothing about any certificate.
    expect(codeOf(() => describeFile(new Uint8Array([0x30, 0x03, 0x0a, 0x01, 0x03])))).toBe('ERR_COLLATERAL_MALFORMED');
    const tcb = JSON.parse(readVectorText('intel', TDX_SET, 'tcb_info.json')) as { tcbInfo: Record<string, unknown> };
    tcb.tcbInfo['nextUpdate'] = 'soon';
    expect(codeOf(() => describeFile(JSON.stringify(tcb)))).toBe('ERR_COLLATERAL_MALFORMED');
    const qe = JSON.parse(readVectorText('intel', TDX_SET, 'qe_identity.json')) as { enclaveIdentity: Record<string, unknown> };
    qe.enclaveIdentity['id'] = 'XX';
    expect(codeOf(() => describeFile(JSON.stringify(qe)))).toBe('ERR_COLLATERAL_MALFORMED');
    expect(codeOf(() => describeFile('{"keys":[{"kid":"no-kty"}]}'))).toBe('ERR_COLLATERAL_MALFORMED');
    expect(codeOf(() => describeFile('{"keys":[{"kty":"EC","x5c":["AAAA"]}]}'))).toBe('ERR_COLLATERAL_MALFORMED');
    expect(codeOf(() => describeFile(`{"keys":[${Array.from({ length: 65 }, () => '{"kty":"EC"}').join(',')}]}`))).toBe('ERR_COLLATERAL_MALFORMED');
    expect(codeOf(() => describeFile('<SoftwareIdentity xmlns="x"/>'))).toBe('ERR_COLLATERAL_MALFORMED');
  });

  it('says which file and kind in the message', () => {
    let message = '';
    try {
      describeFile('{"keys":[]}', 'nras.json');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe('nras.json: a jwks that cannot be used: a JWK set needs at least one key.');
  });
});

describe('describeCollateral: properties', () => {
  const allowed = new Set(['ERR_COLLATERAL_UNRECOGNIZED', 'ERR_COLLATERAL_MALFORMED']);
  const check = (bytes: Uint8Array): boolean => {
    const code = codeOf(() => describeFile(bytes));
    return code === undefined || allowed.has(code);
  };
  const seeds = [
    readVector('snp', 'crl/milan_vcek_crl_2025-05-06.der'),
    readVector('snp', 'vek/milan-v3-vcek-oak-cb.vcek.der'),
    readVector('intel', TDX_SET, 'tcb_info.json'),
    readVector('intel', TDX_SET, 'qe_identity.json'),
    readVector('nvidia', 'hopper-550.90.07-e2e/ocsp/gpu_L2_GH100_Identity.ocsp.der'),
    readVector('nvidia', 'nras-jwks/nras_jwks_2026-06-29T0208Z.json'),
  ];

  it('random bytes only ever give a described item or one of the two collateral codes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), check), { numRuns: 300 });
  });

  it('mutated real collateral (flipped bytes, truncation) only ever gives the two collateral codes', () => {
    fc.assert(
      fc.property(fc.constantFrom(...seeds), fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), fc.nat(), fc.boolean(), (seed, flips, cut, truncate) => {
        const bytes = new Uint8Array(seed);
        for (const f of flips) bytes[f % bytes.length] = (bytes[f % bytes.length] as number) ^ (1 << (f % 8));
        return check(truncate ? bytes.subarray(0, cut % bytes.length) : bytes);
      }),
      { numRuns: 200 },
    );
  });

  it('stored bytes read back as the item that was described', () => {
    for (const seed of seeds) {
      for (const item of recognizeCollateral(seed)) {
        const d = describeCollateral(item);
        const back: CollateralItem = storedItem(d.kind, d.data);
        expect(typeof back.data === 'string' ? back.data : Buffer.from(back.data).toString('hex')).toBe(
          typeof item.data === 'string' ? item.data : Buffer.from(item.data).toString('hex'),
        );
      }
    }
  });
});
