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
import { dcapCollateralNeeds } from '../dist/evidence/dcap/needs.js';
import { createTrustAnchors, vendorAnchors } from '../dist/evidence/anchors.js';
import { addToCollateral, emptyCollateral, recognizeCollateral } from '../dist/collateral/recognize.js';
import { pckChainPem } from '../dist/dev/dcap.js';
import { createDcapWorld } from '../dist/dev/dcap-world.js';
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
  const world = await createDcapWorld({
    notBefore: new Date('2024-01-01T00:00:00Z'),
    notAfter: new Date('2034-01-01T00:00:00Z'),
    issueDate: new Date('2025-06-01T00:00:00Z'),
    nextUpdate: new Date('2025-07-01T00:00:00Z'),
  });
  const qeOptions = { tee: 'tdx', pckKey: devPrivateKeyObject(world.pki.pck.keys), pckChainPem: pckChainPem(world.pki, world.pki.pck) };
  return { collateral: world.tdxCollateral, anchors: createTrustAnchors([world.rootDer]), qeOptions };
}

function realWorld() {
  const dir = join(VECTORS_DIR, 'intel', 'tdx', 'collateral', 'dcapqvl_tdx_B0C06F000000_2025-06');
  let collateral = emptyCollateral();
  for (const f of readdirSync(dir)) collateral = addToCollateral(collateral, recognizeCollateral(new Uint8Array(readFileSync(join(dir, f))), f));
  const quote = new Uint8Array(readFileSync(join(VECTORS_DIR, 'intel', 'tdx', 'quotes', 'tdx_v4_dcapqvl_sample_B0C06F.bin')));
  return { collateral, quote, now: new Date('2025-07-04T10:00:00Z') };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/**
 * Measures `fn` against raw P-256 in alternating short slices and reports medians, so that load from other
 * processes on a shared machine hits both sides alike. Rates are per CPU-second of this process.
 */
async function paired(name, raw, fn, { rounds, slice }) {
  const rawRates = [];
  const rates = [];
  const walls = [];
  for (let r = 0; r < rounds; r++) {
    const a = await measure(raw, { seconds: slice, warmup: 0.05 });
    const b = await measure(fn, { seconds: slice, warmup: 0.05 });
    rawRates.push(1 / a.cpuSecondsPerOp);
    rates.push(1 / b.cpuSecondsPerOp);
    walls.push(b.opsPerSecond);
  }
  const ratios = rates.map((rate, i) => rate / (rawRates[i] / 2));
  const ceiling = median(rawRates) / 2;
  return report(name, median(rates), 'verifications/cpu-s', {
    ceiling,
    ratio: median(ratios),
    wallOpsPerSecond: Math.round(median(walls)),
  });
}

/** Cycles through pre-minted quotes so every verification sees a quote signature it has not seen before. */
function cycling(quotes, ctx) {
  let i = 0;
  return () => verifyTdxEvidence({ type: 'tdx', quote: quotes[i++ % quotes.length] }, ctx);
}

export async function run({ quick }) {
  const rounds = quick ? 3 : 7;
  const slice = quick ? 0.25 : 0.5;
  const raw = rawP256();
  const rawRate = await measure(raw, { seconds: slice * 2 });
  report('p256.verify.raw', 1 / rawRate.cpuSecondsPerOp, 'verifications/cpu-s', { wallOpsPerSecond: Math.round(rawRate.opsPerSecond) });

  const world = await testWorld();
  const qe = createQuotingEnclave(world.qeOptions);
  const knownQe = Array.from({ length: quick ? 2000 : 6000 }, () => mintTdxQuote(qe, { reportData: randomBytes(64) }));
  const ctx = { collateral: world.collateral, anchors: world.anchors, now: NOW, memo: new LruMemo(50_000) };
  // One untimed pass: the minted quotes are young objects; let the collector promote them before measuring.
  for (const quote of knownQe) await verifyTdxEvidence({ type: 'tdx', quote }, ctx);
  await paired('dcap.tdx.verify.fresh-quote.known-qe', raw, cycling(knownQe, ctx), { rounds, slice });

  // Every quote from a new Quoting Enclave: enough of them that none repeats within the measurement.
  const freshRounds = quick ? 2 : 3;
  const freshQe = Array.from({ length: quick ? 2500 : 6000 }, () => mintTdxQuote(createQuotingEnclave(world.qeOptions), { reportData: randomBytes(64) }));
  const scratch = new LruMemo();
  for (const quote of freshQe) dcapCollateralNeeds(quote, scratch);
  const freshCtx = { ...ctx, memo: new LruMemo(50_000) };
  const fresh = await paired('dcap.tdx.verify.fresh-quote.fresh-qe', raw, cycling(freshQe, freshCtx), { rounds: freshRounds, slice });
  if (fresh.wallOpsPerSecond * (slice + 0.05) * freshRounds > freshQe.length) console.error('dcap bench: fresh-qe quotes repeated; raise their count');

  const real = realWorld();
  const realCtx = { collateral: real.collateral, anchors: vendorAnchors(), now: real.now, memo: new LruMemo() };
  await paired('dcap.tdx.verify.real-vector', raw, () => verifyTdxEvidence({ type: 'tdx', quote: real.quote }, realCtx), { rounds, slice });
}
