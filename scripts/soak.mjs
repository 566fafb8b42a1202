// Soak: mixed traffic on three `keyward serve` replicas over one Postgres for N minutes, then one JSON
// report — RSS slope per replica, p99 drift (first third vs last third of the run), errors by code.
//
//   npm run soak -- --minutes N [--replicas 3] [--rate 12]
//
// Traffic (open loop, `rate` operations per second, round robin over the replicas): full releases with the
// simulator's fresh SNP evidence (challenge, attest, release), denials (a key whose policy wants another
// image), admin reads (keys, audit, KEK status), policy changes (a new version of a policy) and key updates.
// Database: KEYWARD_SOAK_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), in a fresh schema
// dropped afterwards. Exit 1 on any 5xx, any failed connection, or an RSS slope above the bound.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import pg from 'pg';
import { jwkThumbprint } from '../dist/keys/jwe.js';
import { freshKeyPair } from '../dist/keys/key-pair.js';
import { openDevCa } from '../dist/dev/ca.js';
import { writeDevCaBundle } from '../dist/dev/ca-collateral.js';
import { createSimulatorProvider, SIMULATED_DEFAULTS } from '../dist/dev/simulator-provider.js';

const here = dirname(fileURLToPath(import.meta.url));
const BIN = join(here, '..', 'bin', 'keyward.js');
const TOKEN = `soak-bootstrap-admin-token-${process.pid}-0123456789`;
/** RSS growth per replica above this (MB per minute, after the first minute's warm-up) fails the soak. */
export const RSS_SLOPE_BOUND_MB_PER_MIN = 8;
/** Runs shorter than this report RSS but are not failed on it. */
export const MIN_MINUTES_FOR_RSS_GATE = 10;
const WARMUP_MS = 60_000;

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number`);
  return v;
}

function startReplica(env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'serve'], {
      env: { PATH: process.env.PATH, KEYWARD_PORT: '0', KEYWARD_LOG_LEVEL: 'info', KEYWARD_BOOTSTRAP_TOKEN: TOKEN, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`keyward did not start: ${out}`)), 90_000);
    const onData = (c) => {
      if (out.length < 1_000_000) out += c;
      const m = /"address":"(http:\/\/[^"]+)".*keyward listening/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        // Keep draining the pipes so a chatty replica never blocks on a full pipe.
        child.stdout.on('data', () => undefined);
        resolve({ child, url: m[1], stop: () => new Promise((r) => { if (child.exitCode !== null) return r(); child.once('exit', r); child.kill('SIGTERM'); }) });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (c) => (out += c));
    child.once('exit', (code) => reject(new Error(`keyward exited ${code}: ${out}`)));
  });
}

function rssMb(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Least-squares slope of (t minutes, y). */
function slope(points) {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  const num = points.reduce((s, p) => s + (p[0] - mx) * (p[1] - my), 0);
  const den = points.reduce((s, p) => s + (p[0] - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

function p99(values) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(0.99 * sorted.length))];
}

async function call(url, method, path, token, body) {
  const res = await fetch(url + path, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

async function freshSchema(base) {
  const schema = `kwsoak_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const u = new URL(base);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: u.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await c.end();
    },
  };
}

async function main() {
  const minutes = option('minutes', 2);
  const replicaCount = option('replicas', 3);
  const rate = option('rate', 12);
  const base = process.env.KEYWARD_SOAK_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
  const dir = mkdtempSync(join(tmpdir(), 'kw-soak-'));
  const schema = await freshSchema(base);
  const replicas = [];
  try {
    const now = new Date();
    const ca = await openDevCa({ dataDir: join(dir, 'ca'), now, amdKeyAlgorithm: 'rsa-pss-2048' });
    const bundle = await writeDevCaBundle(ca, join(dir, 'bundle'), now);
    const env = {
      KEYWARD_DATA_DIR: join(dir, 'data'),
      KEYWARD_DATABASE_URL: schema.url,
      KEYWARD_EXTRA_ANCHORS: bundle.anchorsDir,
      KEYWARD_COLLATERAL_DIR: bundle.collateralDir,
      // Budgets on (every request pays for its counters) but far above what the soak sends.
      KEYWARD_RATE_LIMIT: '100000',
    };
    replicas.push(await startReplica(env));
    for (let i = 1; i < replicaCount; i++) replicas.push(await startReplica(env));
    const admin = replicas[0].url;
    const image = Buffer.from(SIMULATED_DEFAULTS.snpMeasurement).toString('hex');
    const allow = (await call(admin, 'POST', '/v1/policies', TOKEN, { name: 'soak-allow', rules: [{ name: 'image', expr: 'cpu.measurement in refs.images' }], refs: { images: [image] } })).json;
    const deny = (await call(admin, 'POST', '/v1/policies', TOKEN, { name: 'soak-deny', rules: [{ name: 'image', expr: 'cpu.measurement in refs.images' }], refs: { images: ['ab'.repeat(48)] } })).json;
    const churn = (await call(admin, 'POST', '/v1/policies', TOKEN, { name: 'soak-churn', rules: [{ name: 'r', expr: 'true' }] })).json;
    const keys = {};
    for (const [name, policy] of [['released', allow], ['denied', deny]]) {
      const key = (await call(admin, 'POST', '/v1/keys', TOKEN, { name: `soak-${name}`, kind: 'model' })).json;
      await call(admin, 'PUT', `/v1/keys/${key.id}/policy`, TOKEN, { policyId: policy.id });
      keys[name] = key.id;
    }
    const provider = createSimulatorProvider({ tee: 'snp', gpus: 0, ca });
    const tee = freshKeyPair({ type: 'x25519' });
    const teePublicKey = { kty: 'OKP', crv: 'X25519', x: tee.publicKey.export({ format: 'jwk' }).x };
    const thumb = jwkThumbprint(teePublicKey);

    const errors = {};
    const counts = {};
    const latencies = []; // [t ms since start, ms]
    let fiveXX = 0;
    let connectionFailures = 0;
    const note = (op, res) => {
      counts[op] = (counts[op] ?? 0) + 1;
      if (res.status >= 400) {
        const k = `${res.status} ${res.json?.code ?? '?'}`;
        errors[k] = (errors[k] ?? 0) + 1;
      }
      if (res.status >= 500) fiveXX++;
    };
    const ops = [
      ['release', 4, async (url) => {
        const ch = await call(url, 'POST', '/v1/challenge');
        note('challenge', ch);
        if (ch.status !== 201) return;
        const bind = createHash('sha512').update(Buffer.from(ch.json.nonce, 'base64url')).update(thumb).digest();
        const evidence = await provider.collect(new Uint8Array(bind));
        const at = await call(url, 'POST', '/v1/attest', undefined, { nonce: ch.json.nonce, teePublicKey, evidence });
        note('attest', at);
        if (at.status !== 200) return;
        const r = await call(url, 'POST', `/v1/keys/${keys.released}/release`, at.json.token);
        note('release', r);
        const d = await call(url, 'POST', `/v1/keys/${keys.denied}/release`, at.json.token);
        note('denial', d.status === 403 && d.json?.code === 'ERR_POLICY_DENIED' ? { status: 200 } : d);
      }],
      ['adminRead', 4, async (url, i) => {
        const path = ['/v1/keys', '/v1/audit?limit=20', '/v1/kek', '/v1/policies', `/v1/keys/${keys.released}/versions`][i % 5];
        note('adminRead', await call(url, 'GET', path, TOKEN));
      }],
      ['policyChange', 1, async (url, i) => {
        note('policyChange', await call(url, 'PUT', `/v1/policies/${churn.id}`, TOKEN, { name: 'soak-churn', rules: [{ name: 'r', expr: `${i} >= 0` }] }));
      }],
      ['keyUpdate', 1, async (url, i) => {
        note('keyUpdate', await call(url, 'PATCH', `/v1/keys/${keys.denied}`, TOKEN, { description: `soak ${i}` }));
      }],
    ];
    const wheel = ops.flatMap(([name, weight, fn]) => Array.from({ length: weight }, () => [name, fn]));

    const rss = replicas.map(() => []);
    const start = performance.now();
    const sampler = setInterval(() => {
      const t = (performance.now() - start) / 60_000;
      replicas.forEach((r, i) => {
        if (r.child.exitCode === null) rss[i].push([t, rssMb(r.child.pid)]);
      });
    }, 5_000);
    const durationMs = minutes * 60_000;
    const inflight = new Set();
    for (let i = 0; performance.now() - start < durationMs; i++) {
      const due = start + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const [name, fn] = wheel[i % wheel.length];
      const url = replicas[i % replicas.length].url;
      const p = fn(url, i)
        .then(() => latencies.push([due - start, name, performance.now() - due]))
        .catch((err) => {
          connectionFailures++;
          const k = `connection ${err?.cause?.code ?? err?.name ?? 'error'}`;
          errors[k] = (errors[k] ?? 0) + 1;
        })
        .finally(() => inflight.delete(p));
      inflight.add(p);
    }
    await Promise.all(inflight);
    clearInterval(sampler);

    const third = durationMs / 3;
    const firstThird = latencies.filter(([t]) => t < third).map(([, , ms]) => ms);
    const lastThird = latencies.filter(([t]) => t >= 2 * third).map(([, , ms]) => ms);
    const byOp = {};
    for (const [t, name, ms] of latencies) {
      byOp[name] ??= { first: [], last: [] };
      if (t < third) byOp[name].first.push(ms);
      if (t >= 2 * third) byOp[name].last.push(ms);
    }
    const warm = WARMUP_MS / 60_000;
    const slopes = rss.map((points) => {
      const after = points.filter(([t]) => t >= Math.min(warm, minutes / 2));
      return Math.round(slope(after) * 100) / 100;
    });
    const crashed = replicas.filter((r) => r.child.exitCode !== null).length;
    // A leak both climbs and ends higher: over a short run one GC sawtooth can tilt the fitted slope, so a
    // replica fails only when its slope is over the bound AND its RSS ended more than that rate × the
    // measured minutes above where the measurement started.
    const grew = rss.map((points) => {
      const after = points.filter(([t]) => t >= Math.min(warm, minutes / 2));
      const first = after[0];
      const last = after[after.length - 1];
      return first && last ? last[1] - first[1] > RSS_SLOPE_BOUND_MB_PER_MIN * Math.max(last[0] - first[0], 1 / 60) : false;
    });
    // Under 10 minutes, GC swings of ±15 MB dwarf any leak worth catching: RSS is reported, not judged.
    const leaking = slopes.map((s, i) => minutes >= MIN_MINUTES_FOR_RSS_GATE && s > RSS_SLOPE_BOUND_MB_PER_MIN && grew[i] === true);
    const pass = fiveXX === 0 && connectionFailures === 0 && crashed === 0 && !leaking.includes(true);
    const round = (v) => (v === null ? null : Math.round(v));
    console.log(
      JSON.stringify(
        {
          minutes,
          replicas: replicaCount,
          database: 'postgres',
          ratePerSecond: rate,
          operations: counts,
          rssMb: rss.map((points) => ({ start: round(points[0]?.[1] ?? null), end: round(points.at(-1)?.[1] ?? null) })),
          rssSlopeMbPerMinute: slopes,
          rssSlopeBoundMbPerMinute: RSS_SLOPE_BOUND_MB_PER_MIN,
          p99Ms: { firstThird: round(p99(firstThird)), lastThird: round(p99(lastThird)), drift: round((p99(lastThird) ?? 0) - (p99(firstThird) ?? 0)) },
          p99MsByOperation: Object.fromEntries(Object.entries(byOp).map(([k, v]) => [k, { firstThird: round(p99(v.first)), lastThird: round(p99(v.last)) }])),
          errors,
          fiveXX,
          connectionFailures,
          crashedReplicas: crashed,
          pass,
        },
        null,
        2,
      ),
    );
    process.exitCode = pass ? 0 : 1;
  } finally {
    await Promise.all(replicas.map((r) => r.stop()));
    await schema.drop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
