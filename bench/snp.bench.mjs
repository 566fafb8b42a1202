// SEV-SNP verification throughput on one core: full verifications per second of reports the
// service has not seen (a warm chain memo, a fresh P-384 report signature each time), next to raw
// crypto.verify P-384 per second measured in the same run; plus identical reports served by the memo.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate, verify as cryptoVerify } from 'node:crypto';
import { report, VECTORS_DIR } from './lib.mjs';
import { verifySnpEvidenceSync } from '../dist/evidence/snp/verify.js';
import { parseSnpReport } from '../dist/evidence/snp/report.js';
import { LruMemo } from '../dist/evidence/memo.js';
import { createTrustAnchors, vendorAnchors } from '../dist/evidence/anchors.js';
import { emptyCollateral } from '../dist/collateral/recognize.js';
import { createCrl } from '../dist/dev/pki.js';
import { buildSnpReport, createAmdLookalikePki, issueVcek, signSnpReport } from '../dist/dev/snp.js';

/** Remembers chain, CRL and parse results but never a report signature, so every report costs a P-384 verify. */
class ChainOnlyMemo {
  constructor(inner) {
    this.inner = inner;
  }
  remember(key, compute) {
    return key.startsWith('snp-report-sig:') ? compute() : this.inner.remember(key, compute);
  }
}

function rawVerifier(reports, certDer) {
  const key = new X509Certificate(certDer).publicKey;
  const inputs = reports.map((bytes) => {
    const parsed = parseSnpReport(bytes);
    return [parsed.signedBytes, parsed.signatureP1363];
  });
  let i = 0;
  return () => {
    const [data, sig] = inputs[i++ % inputs.length];
    if (!cryptoVerify('sha384', data, { key, dsaEncoding: 'ieee-p1363' }, sig)) throw new Error('raw verify failed');
  };
}

async function syntheticSet(count) {
  const notBefore = new Date('2024-01-01T00:00:00Z');
  const notAfter = new Date('2031-01-01T00:00:00Z');
  const chipId = new Uint8Array(64).map((_, i) => i + 1);
  const tcb = { bootloader: 4, tee: 0, snp: 24, microcode: 219 };
  const pki = await createAmdLookalikePki({ product: 'Milan', algorithm: 'rsa-pss-2048', notBefore, notAfter });
  const vcek = await issueVcek(pki, { chipId, tcb, notBefore, notAfter });
  const crl = await createCrl(pki.ark, { thisUpdate: notBefore, nextUpdate: notAfter, revokedSerials: ['0999'] });
  const reports = Array.from({ length: count }, (_, i) => {
    const reportData = new Uint8Array(64);
    new DataView(reportData.buffer).setUint32(0, i);
    return signSnpReport(buildSnpReport({ product: 'Milan', chipId, reportedTcb: tcb, reportData }), vcek.keys);
  });
  const collateral = { ...emptyCollateral(), crls: [crl] };
  const ctx = (memo) => ({ collateral, anchors: createTrustAnchors([pki.ark.der]), now: new Date('2025-06-01T00:00:00Z'), memo });
  const items = reports.map((r) => ({ type: 'snp', report: r, certs: [vcek.der, pki.ask.der, pki.ark.der] }));
  return { reports, items, vcekDer: vcek.der, ctx };
}

function realSet() {
  const dir = join(VECTORS_DIR, 'snp');
  const reportBytes = new Uint8Array(readFileSync(join(dir, 'reports/milan-v3-vcek-oak-cb.bin')));
  const vcekDer = new Uint8Array(readFileSync(join(dir, 'vek/milan-v3-vcek-oak-cb.vcek.der')));
  const chain = new Uint8Array(readFileSync(join(dir, 'amd/milan/cert_chain_vcek.pem')));
  const crl = new Uint8Array(readFileSync(join(dir, 'crl/milan_vcek_crl_2025-05-06.der')));
  const collateral = { ...emptyCollateral(), crls: [crl] };
  const ctx = (memo) => ({ collateral, anchors: vendorAnchors(), now: new Date('2025-06-01T00:00:00Z'), memo });
  return { reports: [reportBytes], item: { type: 'snp', report: reportBytes, certs: [vcekDer, chain] }, vcekDer, ctx };
}

function cpuMicros() {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/**
 * Ops per CPU-second of each function (one core; time spent waiting on a shared machine does not count),
 * measured in short alternating blocks so that every function sees the same machine conditions.
 */
async function perCore(fns, { seconds }) {
  const block = 20;
  const runBlock = (fn) => {
    for (let k = 0; k < block; k++) fn();
  };
  for (const fn of fns) {
    const warm = performance.now() + 300; // let the JIT settle before counting
    while (performance.now() < warm) runBlock(fn);
  }
  const cpu = fns.map(() => 0);
  const ops = fns.map(() => 0);
  const end = performance.now() + seconds * 1000 * fns.length;
  while (performance.now() < end) {
    for (const [i, fn] of fns.entries()) {
      const c0 = cpuMicros();
      runBlock(fn);
      cpu[i] += cpuMicros() - c0;
      ops[i] += block;
    }
  }
  return fns.map((_, i) => (ops[i] / cpu[i]) * 1e6);
}

export async function run({ quick }) {
  const opts = { seconds: quick ? 1 : 4 };
  const synthetic = await syntheticSet(quick ? 100 : 500);
  const freshCtx = synthetic.ctx(new ChainOnlyMemo(new LruMemo()));
  let i = 0;
  const [fresh, raw] = await perCore(
    [() => verifySnpEvidenceSync(synthetic.items[i++ % synthetic.items.length], freshCtx), rawVerifier(synthetic.reports, synthetic.vcekDer)],
    opts,
  );
  report('snp.verify.new-report.test-ca', fresh, 'verifications/s/core', {
    ceiling: raw,
    ratio: fresh / raw,
    note: `${synthetic.items.length} distinct test-CA reports: full verification (chain memo warm, CRL applied), a P-384 report signature each time; ceiling = crypto.verify P-384`,
  });

  const real = realSet();
  const realCtx = real.ctx(new ChainOnlyMemo(new LruMemo()));
  const cachedCtx = real.ctx(new LruMemo());
  const [realFresh, realRaw, cached] = await perCore(
    [() => verifySnpEvidenceSync(real.item, realCtx), rawVerifier(real.reports, real.vcekDer), () => verifySnpEvidenceSync(real.item, cachedCtx)],
    opts,
  );
  report('snp.verify.new-report.real-vector', realFresh, 'verifications/s/core', {
    ceiling: realRaw,
    ratio: realFresh / realRaw,
    note: 'milan-v3-vcek-oak-cb with the real AMD chain (PEM bundle) and Milan CRL; report signature re-verified every time',
  });
  report('snp.verify.identical-report.cached', cached, 'verifications/s/core', {
    ceiling: realRaw,
    ratio: cached / realRaw,
    note: 'the same report and chain again: signature results from the memo; validity, CRL times and claims still computed',
  });
}
