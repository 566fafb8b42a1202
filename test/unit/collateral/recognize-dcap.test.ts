import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { recognizeCollateral } from '../../../src/collateral/recognize.js';
import { vectorPath } from '../../helpers/vectors.js';

const read = (...p: string[]): Uint8Array => new Uint8Array(readFileSync(vectorPath('intel', ...p)));

describe('recognizing Intel DCAP collateral files', () => {
  it('reads dcap-qvl\'s combined JSON as TCB Info, QE Identity, CRLs and chains, though it embeds PEM', () => {
    const items = recognizeCollateral(read('tdx/collateral/dcapqvl_tdx_B0C06F000000_2025-06/dcap_qvl_collateral.json'));
    const count = (kind: string): number => items.filter((i) => i.kind === kind).length;
    expect([count('tcb-info'), count('qe-identity'), count('crl'), count('certificate')]).toEqual([1, 1, 2, 6]);
  });

  it('reads PCS TCB Info and QE Identity responses, PEM chains and DER CRLs', () => {
    const dir = 'sgx/collateral/dcaprs_sgx_00606A000000_2025-02';
    expect(recognizeCollateral(read(dir, 'tcb_info.json')).map((i) => i.kind)).toEqual(['tcb-info']);
    expect(recognizeCollateral(read(dir, 'qe_identity.json')).map((i) => i.kind)).toEqual(['qe-identity']);
    expect(recognizeCollateral(read(dir, 'tcb_signing_chain.pem')).map((i) => i.kind)).toEqual(['certificate', 'certificate']);
    expect(recognizeCollateral(read(dir, 'pck_crl.der')).map((i) => i.kind)).toEqual(['crl']);
  });
});
