import { describe, expect, it } from 'vitest';
import { recognizeCollateral } from '../../../src/collateral/recognize.js';
import { buildSnpCertTable } from '../../../src/dev/snp.js';
import { parseCertificates } from '../../../src/evidence/pki.js';
import { KeywardError } from '../../../src/errors.js';
import { readVector, readVectorText } from '../../helpers/vectors.js';

const hex = (b: Uint8Array | string): string => Buffer.from(b).toString('hex');
const vcek = readVector('snp', 'vek/milan-v3-vcek-oak-oc.vcek.der');
const [ask, ark] = parseCertificates(readVectorText('snp', 'amd/milan/cert_chain_vcek.pem'));
const crl = readVector('snp', 'crl/milan_vcek_crl_2025-05-06.der');

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof KeywardError) return err.code;
    throw err;
  }
  return undefined;
}

describe('recognizeCollateral: SEV-SNP certificate tables', () => {
  it('yields the certificates (DER or PEM inside) and CRLs of a table, skipping unknown GUIDs', () => {
    const table = buildSnpCertTable([
      { kind: 'vcek', data: vcek },
      { kind: 'ask', data: new Uint8Array(Buffer.from(ask?.x509.toString() as string)) },
      { kind: 'ark', data: ark?.der as Uint8Array },
      { kind: '0f0e0d0c-0b0a-0908-0706-050403020100', data: new Uint8Array([9, 9]) },
      { kind: 'crl', data: crl },
    ]);
    const items = recognizeCollateral(table, 'auxblob');
    expect(items.map((i) => i.kind)).toEqual(['certificate', 'certificate', 'certificate', 'crl']);
    expect(items.map((i) => hex(i.data))).toEqual([vcek, ask?.der as Uint8Array, ark?.der as Uint8Array, crl].map(hex));
  });

  it('refuses a malformed or certificate-less table (ERR_COLLATERAL_UNRECOGNIZED)', () => {
    const table = buildSnpCertTable([{ kind: 'vcek', data: vcek }]);
    expect(codeOf(() => recognizeCollateral(table.subarray(0, 30), 'auxblob'))).toBe('ERR_COLLATERAL_UNRECOGNIZED');
    expect(codeOf(() => recognizeCollateral(new Uint8Array(24), 'auxblob'))).toBe('ERR_COLLATERAL_UNRECOGNIZED');
  });

  it('still reads plain DER and PEM certificates', () => {
    expect(recognizeCollateral(vcek).map((i) => i.kind)).toEqual(['certificate']);
    expect(recognizeCollateral(readVector('snp', 'amd/milan/cert_chain_vcek.pem')).map((i) => i.kind)).toEqual(['certificate', 'certificate']);
  });
});
