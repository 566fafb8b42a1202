// TDX quote verifications/s with warm collateral, next to raw P-256 verifications/s measured in the same
// run, both per CPU-second of this process (the machine may be shared; wall-clock rates are given as
// `wallOpsPerSecond`). Ceiling = raw / 2: a quote from a Quoting Enclave seen for the first time needs two ECDSA checks
// (QE report by the PCK key, quote by the attestation key). Figures:
//  - fresh quotes, known QE: distinct quote signatures from one QE (its QE report is remembered);
//  - fresh quotes, fresh QE: every quote from a new QE (new attestation key and QE report);
//  - a real Intel TDX quote with its real collateral, verified over and over.
import { generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { measure, report, VECTORS_DIR } from './lib.mjs';
import { verifyTdxEvidence } from '../dist/evidence/tdx/verify.js';
import { LruMemo } from '../dist/evidence/memo.js';
import { createTrustAnchors, vendorAnchors } from '../dist/evidence/anchors.js';
import { addToCollateral, emptyCollateral, recognizeCollateral } from '../dist/collateral/recognize.js';
import { createDcapCrls, createDcapTestPki, dcapCollateral, pckChainPem, signQeIdentity, signTcbInfo } from '../dist/dev/dcap.js';
import { qeIdentityBody, tcbInfoBody } from '../dist/dev/dcap-collateral.js';
import { createQuotingEnclave, mintTdxQuote } from '../dist/dev/dcap-quote.js';
import { devPrivateKeyObject } from '../dist/dev/pki.js';

const NOW = new Date('2025-06-15T12:00:00Z');

function rawP256() {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const data = randomBytes(632);
  const signature = sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return () => verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature);
}

async function testWorld() {
  const notBefore = new Date('2024-01-01T00:00:00Z');
  const notAfter = new Date('2034-01-01T00:00:00Z');
  const dates = { issueDate: new Date('2025-06-01T00:00:00Z'), nextUpdate: new Date('2025-07-01T00:00:00Z') };
  const pki = await createDcapTestPki({ notBefore, notAfter });
  const { rootCrl, pckCrl } = await createDcapCrls(pki, { thisUpdate: dates.issueDate, nextUpdate: dates.nextUpdate });
  const sgx = [...pki.pckValues.sgxTcbComponents];
  const tcbInfo = signTcbInfo(
    pki,
    tcbInfoBody({
      tee: 'tdx',
      fmspc: pki.pckValues.fmspc,
      ...dates,
      levels: [{ sgx, pceSvn: pki.pckValues.pceSvn, tdx: [6, 1, 3, ...new Array(13).fill(0)], status: 'UpToDate' }],
      moduleIdentities: [{ id: 'TDX_01', levels: [{ isvSvn: 6, status: 'UpToDate' }] }],
    }),
  );
  const qeIdentity = signQeIdentity(pki, qeIdentityBody({ id: 'TD_QE', ...dates }));
  const collateral = dcapCollateral(pki, { tcbInfo, qeIdentity, rootCrl, pckCrl });
  const qeOptions = { tee: 'tdx', pckKey: devPrivateKeyObject(pki.pck.keys), pckChainPem: pckChainPem(pki, pki.pck) };
  return { collateral, anchors: createTrustAnchors([pki.root.der]), qeOptions };
}

function realWorld() {
  const dir = join(VECTORS_DIR, 'intel', 'tdx', 'collateral', 'dcapqvl_tdx_B0C06F000000_2025-06');
  let collateral = emptyCollateral();
  for (const f of readdirSync(dir)) collateral = addToCollateral(collateral, recognizeCollateral(new Uint8Array(readFileSync(join(dir, f))), f));
  const quote = new Uint8Array(readFileSync(join(VECTORS_DIR, 'intel', 'tdx', 'quotes', 'tdx_v4_dcapqvl_sample_B0C06F.bin')));
  return { collateral, quote, now: new Date('2025-07-04T10:00:00Z') };
}

/** Operations per CPU-second, with the wall-clock rate alongside. */
async function rate(fn, seconds) {
  const m = await measure(fn, { seconds });
  return { perCpuSecond: 1 / m.cpuSecondsPerOp, wall: m.opsPerSecond };
}

function reportAgainst(name, r, ceiling, extra = {}) {
  report(name, r.perCpuSecond, 'verifications/cpu-s', { ceiling, ratio: r.perCpuSecond / ceiling, wallOpsPerSecond: Math.round(r.wall), ...extra });
}

/** Cycles through pre-minted quotes so every verification sees a quote signature it has not seen before. */
function cycling(quotes, ctx) {
  let i = 0;
  return () => verifyTdxEvidence({ type: 'tdx', quote: quotes[i++ % quotes.length] }, ctx);
}

export async function run({ quick }) {
  const seconds = quick ? 0.6 : 3;
  const raw = await rate(rawP256(), seconds);
  report('p256.verify.raw', raw.perCpuSecond, 'verifications/cpu-s', { wallOpsPerSecond: Math.round(raw.wall) });
  const ceiling = raw.perCpuSecond / 2;

  const world = await testWorld();
  const count = quick ? 2000 : 8000;
  const qe = createQuotingEnclave(world.qeOptions);
  const knownQe = Array.from({ length: count }, () => mintTdxQuote(qe, { reportData: randomBytes(64) }));
  const ctx = { collateral: world.collateral, anchors: world.anchors, now: NOW, memo: new LruMemo(50_000) };
  reportAgainst('dcap.tdx.verify.fresh-quote.known-qe', await rate(cycling(knownQe, ctx), seconds), ceiling);

  // Enough quotes that none repeats within warm-up plus measurement: each brings a new QE to the verifier.
  const freshSeconds = quick ? 0.4 : 1.5;
  const freshCount = quick ? 3000 : 9000;
  const freshQe = Array.from({ length: freshCount }, () => mintTdxQuote(createQuotingEnclave(world.qeOptions), { reportData: randomBytes(64) }));
  const freshCtx = { ...ctx, memo: new LruMemo(50_000) };
  const freshRate = await rate(cycling(freshQe, freshCtx), freshSeconds);
  const repeats = freshRate.wall * (freshSeconds + 0.3) > freshCount;
  reportAgainst('dcap.tdx.verify.fresh-quote.fresh-qe', freshRate, ceiling, repeats ? { warning: 'quotes repeated; raise freshCount' } : {});

  const real = realWorld();
  const realCtx = { collateral: real.collateral, anchors: vendorAnchors(), now: real.now, memo: new LruMemo() };
  reportAgainst('dcap.tdx.verify.real-vector', await rate(() => verifyTdxEvidence({ type: 'tdx', quote: real.quote }, realCtx), seconds), ceiling);
}
