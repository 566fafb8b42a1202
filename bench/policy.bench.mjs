// Policy evaluation cost: evaluations/s of the SNP production and the SNP + 8 GPU composite example
// policies, next to raw P-384 ECDSA verifications/s measured in the same run (the cost of the signature
// check that precedes every policy decision). ratio = evaluations/s ÷ verifications/s: how many policy
// evaluations fit in the time of one verification.
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measure, report } from './lib.mjs';
import { compilePolicy } from '../dist/policy/compile.js';
import { parsePolicyText } from '../dist/policy/document.js';
import { evaluatePolicy } from '../dist/policy/evaluate.js';

const policiesDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'policies');

function loadPolicy(name) {
  return compilePolicy(parsePolicyText(readFileSync(join(policiesDir, `${name}.yaml`), 'utf8')));
}

const tcb = { bootloader: 4, tee: 0, snp: 24, microcode: 219 };
const snp = {
  tee: 'snp',
  debug: false,
  anchor: { source: 'vendor', name: 'AMD ARK-Milan', spki: '9f056bee44377e29308cb5ffa895bdfb62d18881fa6bed8d6f075b0204089cb9' },
  simulated: false,
  revocationChecked: true,
  reportData: 'a3'.repeat(64),
  product: 'Milan',
  reportVersion: 3,
  signer: 'vcek',
  measurement: '27411a5e2e3e62f591c0bb3aea6f35f136d4bb3448749af1a23bf1c8e99c7ee9cfd6fa1b2a61d72b2d141c4474ffbdc1',
  hostData: '00'.repeat(32),
  familyId: '00'.repeat(16),
  imageId: '00'.repeat(16),
  idKeyDigest: '00'.repeat(48),
  authorKeyDigest: '00'.repeat(48),
  chipId: '3a'.repeat(64),
  vmpl: 0,
  guestSvn: 1,
  policy: { debug: false, smt: true, migrateMa: false, singleSocket: false, abiMajor: 1, abiMinor: 55 },
  reportedTcb: tcb,
  committedTcb: tcb,
  currentTcb: tcb,
  launchTcb: tcb,
};
const gpu = (i) => ({
  tee: 'nvidia-gpu',
  debug: false,
  anchor: { source: 'vendor', name: 'NVIDIA Device Identity CA', spki: 'a90c4eb5acfd3e3d03a25db6a26b84f720ad0503196c627c21ddd48dd85b06a4' },
  simulated: false,
  revocationChecked: true,
  arch: 'hopper',
  nonce: `${i}`.padStart(64, '0'),
  driverVersion: '550.90.07',
  vbiosVersion: '96.00.88.00.01',
  measurements: { matched: 64, total: 64, mismatchedIndices: [] },
  rim: { driver: 'NV_GPU_DRIVER_GH100_550.90.07', vbios: 'NV_GPU_VBIOS_1010_0200_882_96008800' },
  revocation: 'checked',
  deviceType: 'gpu',
  deviceId: `${i}`.padStart(64, 'd'),
  ueid: `${470000 + i}`,
});

function p384VerifyRate(seconds) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const data = Buffer.alloc(0x2a0, 7);
  const signature = sign('sha384', data, privateKey);
  return measure(() => {
    if (!verify('sha384', data, publicKey, signature)) throw new Error('P-384 verify failed');
  }, { seconds });
}

export async function run({ quick }) {
  const seconds = quick ? 0.7 : 3;
  const ceiling = await p384VerifyRate(seconds);
  const cases = [
    ['policy.snp-production', loadPolicy('snp-production'), { cpu: snp, gpus: [] }],
    ['policy.snp-8gpu-composite', loadPolicy('snp-8gpu-composite'), { cpu: snp, gpus: Array.from({ length: 8 }, (_, i) => gpu(i)) }],
  ];
  for (const [name, policy, input] of cases) {
    if (!evaluatePolicy(policy, input).allowed) throw new Error(`${name}: the benchmark claims must be allowed`);
    const r = await measure(() => evaluatePolicy(policy, input), { seconds });
    report(`${name}.evaluations`, r.opsPerSecond, 'evaluations/s', {
      ceiling: ceiling.opsPerSecond,
      ceilingName: 'p384-verify/s',
      ratio: r.opsPerSecond / ceiling.opsPerSecond,
    });
  }
  const snpText = readFileSync(join(policiesDir, 'snp-production.yaml'), 'utf8');
  const compiles = await measure(() => compilePolicy(parsePolicyText(snpText)), { seconds: quick ? 0.5 : 2 });
  report('policy.snp-production.compiles', compiles.opsPerSecond, 'compiles/s');
}
