import { describe, expect, it } from 'vitest';
import {
  CLAIM_OBJECT_TYPES,
  CPU_TEES,
  TEE_CLAIM_FIELDS,
  claimTypeAt,
} from '../../../src/policy/claims-schema.js';
import { claimsSchemaGaps } from '../../../src/policy/claims-schema-gaps.js';
import { changed, gpuClaims, nitroClaims, sgxClaims, snpClaims, tdxClaims } from './fixtures.js';

describe('claims schema', () => {
  it('declares every field of realistic claims of each TEE', () => {
    for (const claims of [snpClaims(), tdxClaims(), sgxClaims(), nitroClaims(), gpuClaims()]) {
      expect(claimsSchemaGaps(claims), claims.tee).toEqual([]);
    }
    const turin = changed(snpClaims(), (d) => ((d.product = 'Turin'), (d.reportedTcb.fmc = 1)));
    expect(claimsSchemaGaps(turin)).toEqual([]);
  });

  it('reports a field the schema does not declare, a value of another kind and a word outside a vocabulary', () => {
    const claims = { ...snpClaims(), cspIdentity: 'aws', reportedTcb: { ...snpClaims().reportedTcb, snp: '24' }, signer: 'VCEK' };
    expect(claimsSchemaGaps(claims)).toEqual([
      'snp.signer: "VCEK" is not a declared value (vcek, vlek)',
      'snp.reportedTcb.snp: expected int',
      'snp.cspIdentity: not declared in the policy claims schema',
    ]);
    expect(claimsSchemaGaps({ ...tdxClaims(), rtmr: ['00', 1] })).toEqual(['tdx.rtmr[1]: expected string']);
    expect(claimsSchemaGaps({ ...nitroClaims(), pcrs: { '0': 5 } })).toEqual(['nitro.pcrs["0"]: expected string']);
    expect(claimsSchemaGaps({ tee: 'sev' })).toEqual(['tee: "sev" is not a TEE the schema knows']);
    expect(claimsSchemaGaps(null)).toEqual(['tee: undefined is not a TEE the schema knows']);
  });

  it('types cpu as the union of the SNP, TDX, SGX and Nitro fields', () => {
    const cpu = CLAIM_OBJECT_TYPES.CpuClaims;
    for (const tee of CPU_TEES) {
      for (const field of Object.keys(TEE_CLAIM_FIELDS[tee])) expect(cpu, `${tee}.${field}`).toHaveProperty(field);
    }
    const expectedCount = new Set(CPU_TEES.flatMap((tee) => Object.keys(TEE_CLAIM_FIELDS[tee]))).size;
    expect(Object.keys(cpu)).toHaveLength(expectedCount);
    expect(cpu['tee']).toEqual({ kind: 'string', values: ['snp', 'tdx', 'sgx', 'nitro'] });
    expect(CLAIM_OBJECT_TYPES.GpuClaims).not.toHaveProperty('measurement');
  });

  it('finds the declared type at a path', () => {
    expect(claimTypeAt(['cpu', 'reportedTcb', 'snp'])).toEqual({ kind: 'int' });
    expect(claimTypeAt(['gpus', '*', 'arch'])).toEqual({ kind: 'string', values: ['hopper', 'blackwell'] });
    expect(claimTypeAt(['cpu', 'rtmr', '*'])).toEqual({ kind: 'string' });
    expect(claimTypeAt(['cpu', 'pcrs', '0'])).toEqual({ kind: 'string' });
    expect(claimTypeAt(['cpu', 'measurment'])).toBeUndefined();
    expect(claimTypeAt(['cpu', 'constructor'])).toBeUndefined();
    expect(claimTypeAt(['refs', 'x'])).toBeUndefined();
    expect(claimTypeAt(['cpu', 'vmpl', 'x'])).toBeUndefined();
  });
});
