// Realistic claims objects (as the verifiers emit them) and the example policies, for the policy tests.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SnpClaims } from '../../../src/evidence/snp/claims.js';
import type { SgxClaims, TdxClaims } from '../../../src/evidence/dcap/claims.js';
import type { NvidiaGpuClaims } from '../../../src/evidence/nvidia/claims.js';
import type { NitroClaims } from '../../../src/evidence/nitro/claims.js';
import { compilePolicy, type CompiledPolicy } from '../../../src/policy/compile.js';
import { parsePolicyText } from '../../../src/policy/document.js';

export const POLICIES_DIR = join(process.cwd(), 'policies');

export function examplePolicyText(name: string): string {
  return readFileSync(join(POLICIES_DIR, `${name}.yaml`), 'utf8');
}

export function compileExample(name: string): CompiledPolicy {
  return compilePolicy(parsePolicyText(examplePolicyText(name)));
}

/** A mutable deep copy of `value` handed to `change`: derive a violation from a valid claims object. */
type Draft<T> = { -readonly [K in keyof T]: Draft<T[K]> };
export function changed<T>(value: T, change: (draft: Draft<T>) => void): T {
  const copy = structuredClone(value) as Draft<T>;
  change(copy);
  return copy as T;
}

const zeros = (bytes: number): string => '00'.repeat(bytes);

/** Image measurements listed in policies/snp-production.yaml. */
export const APPROVED_SNP_MEASUREMENT =
  '27411a5e2e3e62f591c0bb3aea6f35f136d4bb3448749af1a23bf1c8e99c7ee9cfd6fa1b2a61d72b2d141c4474ffbdc1';

export function snpClaims(): SnpClaims {
  const tcb = { bootloader: 4, tee: 0, snp: 24, microcode: 219 };
  return {
    tee: 'snp',
    debug: false,
    anchor: {
      source: 'vendor',
      name: 'AMD ARK-Milan',
      spki: '9f056bee44377e29308cb5ffa895bdfb62d18881fa6bed8d6f075b0204089cb9',
    },
    simulated: false,
    revocationChecked: true,
    reportData: 'a3'.repeat(64),
    product: 'Milan',
    reportVersion: 3,
    signer: 'vcek',
    measurement: APPROVED_SNP_MEASUREMENT,
    hostData: zeros(32),
    familyId: zeros(16),
    imageId: zeros(16),
    idKeyDigest: zeros(48),
    authorKeyDigest: zeros(48),
    chipId: '3ac3fe21e13fb0990eb28a802e3fb6a29483a6b0753590c951bdd3b8e53786184ca39e359669a2b76a1936776b564ea464cdce40c05f63c9b610c5068b006b5d',
    vmpl: 0,
    guestSvn: 1,
    policy: {
      debug: false,
      smt: true,
      migrateMa: false,
      singleSocket: false,
      abiMajor: 1,
      abiMinor: 55,
      cxlAllow: false,
      memAes256Xts: false,
      raplDis: false,
      ciphertextHiding: false,
      pageSwapDisable: false,
    },
    reportedTcb: { ...tcb },
    committedTcb: { ...tcb },
    currentTcb: { ...tcb },
    launchTcb: { ...tcb },
    platformInfo: {
      smtEn: true,
      tsmeEn: false,
      eccEn: true,
      raplDis: false,
      ciphertextHidingEn: false,
      aliasCheckComplete: true,
      tioEn: false,
      raw: '0000000000000025',
    },
    cpuid: { family: 25, model: 1, stepping: 1 },
    reportId: 'a1'.repeat(32),
    reportIdMa: 'ff'.repeat(32),
    authorKeyEn: false,
    currentVersion: '1.55.21',
    committedVersion: '1.55.21',
    certProductName: 'Milan-B0',
  };
}

const RTMRS = [
  '211c84a32eece0551b9afe13e72c8a2fced44d05e9702ce5d58ba4f28fb0afe539727757c5e9a0c47b5a82311419ff26',
  'ca76d546e07fb60edc16f1527b711716d6b52de11216aa0a924716dcee5de30cbbeb44d799d4d3c7c45f71de3f36f335',
  '132345f7953f792119a38408b1464562ba1d069e941508933e387d5319e7ecdc78a6806c96e18db3234869e863943314',
  zeros(48),
];

export function tdxClaims(): TdxClaims {
  return {
    tee: 'tdx',
    debug: false,
    anchor: {
      source: 'vendor',
      name: 'Intel SGX Root CA',
      spki: 'a0af031289f5d5d4132f9186068a7fc13628633ba235777472e29b6b6c67a49e',
    },
    simulated: false,
    revocationChecked: true,
    reportData: '5c'.repeat(64),
    quoteVersion: 4,
    mrTd: '474634460dc22b8cacd8fad499f480393e0e1540029dec55d644aeca76f6e95a8ef90892da752c4dad9d40f5e5cc843b',
    rtmr: [...RTMRS],
    mrSeam: '49b66faa451d19ebbdbe89371b8daf2b65aa3984ec90110343e9e2eec116af08850fa20e3b1aa9a874d77a65380ee7e6',
    mrSignerSeam: zeros(48),
    mrConfigId: zeros(48),
    mrOwner: zeros(48),
    mrOwnerConfig: zeros(48),
    tdAttributes: { debug: false, septVeDisable: true, pks: false, kl: false, perfmon: false },
    xfam: 'e702060000000000',
    teeTcbSvn: '04010200000000000000000000000000',
    seamAttributes: zeros(8),
    tdxModuleId: 'TDX_01',
    tdxModuleTcbStatus: 'UpToDate',
    fmspc: '00806f050000',
    tcbStatus: 'UpToDate',
    advisoryIds: [],
    pceId: '0000',
    pceSvn: 13,
    cpuSvn: '0b0b0303ffff01000000000000000000',
    tcbDate: '2024-03-13T00:00:00Z',
    tcbEvaluationDataNumber: 17,
    qeTcbStatus: 'UpToDate',
    qeSvn: 8,
  };
}

export function sgxClaims(): SgxClaims {
  return {
    tee: 'sgx',
    debug: false,
    anchor: {
      source: 'vendor',
      name: 'Intel SGX Root CA',
      spki: 'a0af031289f5d5d4132f9186068a7fc13628633ba235777472e29b6b6c67a49e',
    },
    simulated: false,
    revocationChecked: true,
    reportData: '7e'.repeat(64),
    quoteVersion: 3,
    mrEnclave: 'c9a1b0bbf4fbd4ef6f2b8c8b2c8a0b9cdb1e3e8f4d5c9b2a7e6d0c3b1a9f8e7d',
    mrSigner: '93d90b3857f399661562eb6b27d38a6bb0e6b0fe9748b2d4178e218c49566a1a',
    isvProdId: 1,
    isvSvn: 4,
    attributes: { debug: false, mode64Bit: true, provisionKey: false, einitTokenKey: false, kss: false, xfrm: '0300000000000000' },
    miscSelect: 0,
    configId: zeros(64),
    configSvn: 0,
    isvExtProdId: zeros(16),
    isvFamilyId: zeros(16),
    reportCpuSvn: '0b0b0303ffff01000000000000000000',
    fmspc: '00906ed50000',
    tcbStatus: 'UpToDate',
    advisoryIds: [],
    pceId: '0000',
    pceSvn: 13,
    cpuSvn: '0b0b0303ffff01000000000000000000',
    tcbDate: '2024-03-13T00:00:00Z',
    tcbEvaluationDataNumber: 17,
    qeTcbStatus: 'UpToDate',
    qeSvn: 8,
  };
}

export function gpuClaims(index = 0): NvidiaGpuClaims {
  return {
    tee: 'nvidia-gpu',
    debug: false,
    anchor: {
      source: 'vendor',
      name: 'NVIDIA Device Identity CA',
      spki: 'a90c4eb5acfd3e3d03a25db6a26b84f720ad0503196c627c21ddd48dd85b06a4',
    },
    simulated: false,
    revocationChecked: true,
    arch: 'hopper',
    nonce: (index.toString(16).padStart(2, '0') + 'b1').repeat(16),
    driverVersion: '550.90.07',
    vbiosVersion: '96.00.88.00.01',
    measurements: { matched: 64, total: 64, mismatchedIndices: [] },
    rim: { driver: 'NV_GPU_DRIVER_GH100_550.90.07', vbios: 'NV_GPU_VBIOS_1010_0200_882_96008800' },
    revocation: 'checked',
    source: 'local',
    deviceType: 'gpu',
    chip: 'GH100',
    ccMode: true,
    featureFlag: 'unreported',
    ueid: String(470_000_000_000 + index),
    deviceId: (index.toString(16).padStart(2, '0') + 'd1').repeat(16),
    hwmodel: 'GH100 A01 GSP BROM',
    revocationCoverage: { checked: 4, required: 4 },
  };
}

export function eightGpus(): NvidiaGpuClaims[] {
  return Array.from({ length: 8 }, (_, i) => gpuClaims(i));
}

export function nitroClaims(): NitroClaims {
  return {
    tee: 'nitro',
    timestamp: '2024-08-07T10:00:00.000Z',
    debug: false,
    anchor: {
      source: 'vendor',
      name: 'AWS Nitro Enclaves Root-G1',
      spki: 'f2caf5ecc6190b4a8399b78bc58a2bbcd0382375db8a1bfd78a82743874fd225',
    },
    simulated: false,
    revocationChecked: true,
    moduleId: 'i-0f4d3c2b1a0987654-enc0190a1b2c3d4e5f6',
    digest: 'SHA384',
    pcrs: { '0': 'ab'.repeat(48), '1': 'cd'.repeat(48), '2': 'ef'.repeat(48), '8': zeros(48) },
    nonce: '11'.repeat(64),
    userData: '',
    publicKey: '',
  };
}
