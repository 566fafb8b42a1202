// Service benchmarks over real HTTP. The keyward server and a fastify hello-world server
// run as child processes; this process is the load generator (same machine: 2 cores shared by both).
// - datakey: POST /v1/keys/{id}/datakey requests/s next to hello-world requests/s (same generator, same run).
// - release: full releases (challenge + attest + release, durable audit) for SNP, TDX and SNP + 8 GPUs
//   with the dev CA's simulated evidence: server CPU seconds per release next to CPU seconds of the raw
//   P-384 verifies the evidence needs, measured in this run (ratio = verify ÷ release cost), the
//   throughput at saturation and p50/p99 latency at half that rate.
// - one-shot release: the same figures for challenge + POST /v1/release (`<case>_oneshot_*`), and for a
//   one-shot release of two keys (`snp_oneshot_two_keys_*`).
// Database: Postgres when KEYWARD_BENCH_DATABASE_URL is set, else PGlite.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash, generateKeyPairSync, createSign, createVerify } from 'node:crypto';
import pg from 'pg';
import { report } from './lib.mjs';
import { jwkThumbprint } from '../dist/keys/jwe.js';
import { openDevCa } from '../dist/dev/ca.js';
import { writeDevCaBundle } from '../dist/dev/ca-collateral.js';
import { createSimulatorProvider, SIMULATED_DEFAULTS } from '../dist/dev/simulator-provider.js';

const here = dirname(fileURLToPath(import.meta.url));
const BIN = join(here, '..', 'bin', 'keyward.js');
const TOKEN = 'bench-bootstrap-admin-token-0123456789';
const TICK = 100; // Linux USER_HZ

function procCpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICK;
}

/**
 * CPU seconds of every Postgres process on this machine (backends, walwriter, checkpointer...): with
 * KEYWARD_BENCH_DATABASE_URL the database's work for a release happens there, and leaving it out would
 * flatter the server. Read over the same interval as the server's; assumes the bench is the database's only
 * client (true in CI). 0 on PGlite, whose work is already the server process's own CPU.
 */
function databaseCpuSeconds() {
  if (!process.env.KEYWARD_BENCH_DATABASE_URL) return 0;
  let total = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres') total += procCpuSeconds(pid);
    } catch {
      // the process ended between the listing and the read
    }
  }
  return total;
}

function startProcess(args, env, ready) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 60_000);
    child.stdout.on('data', (c) => {
      out += c;
      const m = ready.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1], stop: () => new Promise((r) => { child.once('exit', r); child.kill('SIGTERM'); }) });
      }
    });
    child.stderr.on('data', (c) => (out += c));
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${out}`)));
  });
}

// KEYWARD_RELEASE_CACHE=off in the bench's environment measures releases without the per-replica cache.
const RELEASE_CACHE_ENV = process.env.KEYWARD_RELEASE_CACHE ? { KEYWARD_RELEASE_CACHE: process.env.KEYWARD_RELEASE_CACHE } : {};

async function startKeyward(env) {
  return startProcess([...(process.env.KW_NODE_FLAGS ? process.env.KW_NODE_FLAGS.split(' ') : []), BIN, 'serve'], { KEYWARD_PORT: '0', KEYWARD_LOG_LEVEL: 'info', KEYWARD_BOOTSTRAP_TOKEN: TOKEN, KEYWARD_RATE_LIMIT: '0', ...RELEASE_CACHE_ENV, ...env }, /"address":"(http:\/\/[^"]+)".*keyward listening/);
}

async function startHello() {
  const script = join(mkdtempSync(join(tmpdir(), 'kw-hello-')), 'hello.mjs');
  writeFileSync(
    script,
    `import Fastify from ${JSON.stringify(join(here, '..', 'node_modules', 'fastify', 'fastify.js'))};
const app = Fastify();
app.post('/hello', async () => ({ hello: 'world' }));
const address = await app.listen({ host: '127.0.0.1', port: 0 });
console.log('listening ' + address);`,
  );
  return startProcess([script], {}, /listening (http:\/\/\S+)/);
}

async function call(url, method, path, token, body) {
  const res = await fetch(url + path, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** Closed loop: `concurrency` workers calling `op` for `seconds`; returns ops/s and latencies (ms). */
async function closedLoop(op, { seconds, concurrency }) {
  const end = performance.now() + seconds * 1000;
  const latencies = [];
  const worker = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      await op();
      latencies.push(performance.now() - t0);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { rate: latencies.length / ((performance.now() - t0) / 1000), latencies };
}

/** Open loop at a fixed rate: latency percentiles without coordinated omission from the generator. */
async function openLoop(op, { rate, seconds }) {
  const latencies = [];
  const inflight = [];
  const start = performance.now();
  const total = Math.floor(rate * seconds);
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    inflight.push(op().then(() => latencies.push(performance.now() - due)));
  }
  await Promise.all(inflight);
  return latencies;
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** A fresh schema per run on the bench Postgres (dropped afterwards), or PGlite in `dataDir`. */
async function dbEnv(dataDir) {
  const base = process.env.KEYWARD_BENCH_DATABASE_URL;
  if (!base) return { env: { KEYWARD_DATA_DIR: dataDir }, drop: async () => undefined };
  const schema = `kwbench_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const url = new URL(base);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    env: { KEYWARD_DATA_DIR: dataDir, KEYWARD_DATABASE_URL: url.toString() },
    drop: async () => {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await c.end();
    },
  };
}

function rawP384CpuSeconds(seconds) {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const data = Buffer.alloc(672, 7);
  const sig = createSign('sha384').update(data).sign(privateKey);
  const c0 = process.cpuUsage();
  const end = performance.now() + seconds * 1000;
  let n = 0;
  while (performance.now() < end) {
    createVerify('sha384').update(data).verify(publicKey, sig);
    n++;
  }
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6 / n;
}

async function benchDatakey(quick) {
  const dataDir = mkdtempSync(join(tmpdir(), 'kw-bench-'));
  const seconds = quick ? 2 : 10;
  const hello = await startHello();
  const db = await dbEnv(dataDir);
  const kw = await startKeyward(db.env);
  try {
    const key = await call(kw.url, 'POST', '/v1/keys', TOKEN, { name: `bench-${Date.now()}`, kind: 'dataset' });
    const hi = await closedLoop(() => call(hello.url, 'POST', '/hello', undefined, {}), { seconds, concurrency: 16 });
    const dk = await closedLoop(() => call(kw.url, 'POST', `/v1/keys/${key.id}/datakey`, TOKEN), { seconds, concurrency: 16 });
    report('datakey_requests_per_second', dk.rate, 'req/s', { ceiling: hi.rate, ratio: dk.rate / hi.rate, ceilingName: 'fastify hello world', database: process.env.KEYWARD_BENCH_DATABASE_URL ? 'postgres' : 'pglite', generator: 'same machine, in-process fetch, 16 connections' });
    report('datakey_latency_p50', percentile(dk.latencies, 50), 'ms');
  } finally {
    await kw.stop();
    await hello.stop();
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** A dev CA (the simulator's roots and collateral) for the release benchmarks. */
async function devWorld() {
  const dir = mkdtempSync(join(tmpdir(), 'kw-bench-ca-'));
  const now = new Date();
  const ca = await openDevCa({ dataDir: dir, now, amdKeyAlgorithm: 'rsa-pss-2048' });
  const bundle = await writeDevCaBundle(ca, join(dir, 'bundle'), now);
  return { ca, bundle, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const RELEASE_CASES = [
  { name: 'snp', tee: 'snp', gpus: 0, rules: [{ name: 'image', expr: 'cpu.measurement in refs.images' }, { name: 'no-debug', expr: '!cpu.debug' }, { name: 'tcb', expr: 'cpu.reportedTcb.snp >= 1' }] },
  { name: 'tdx', tee: 'tdx', gpus: 0, rules: [{ name: 'image', expr: 'cpu.mrTd in refs.mrTd' }, { name: 'no-debug', expr: '!cpu.debug' }, { name: 'tcb', expr: 'cpu.tcbStatus == "UpToDate"' }] },
  { name: 'snp_8gpu', tee: 'snp', gpus: 8, rules: [{ name: 'image', expr: 'cpu.measurement in refs.images' }, { name: 'gpus', expr: 'gpus.size() == 8 && gpus.all(g, g.measurements.matched == g.measurements.total)' }] },
];

/** The release flows measured: the three calls, the one-shot call, the one-shot call for two keys. */
const FLOWS = {
  token: { suffix: '', keys: 1 },
  oneShot: { suffix: '_oneshot', keys: 1 },
  oneShotTwoKeys: { suffix: '_oneshot_two_keys', keys: 2 },
};

async function benchRelease(world, c, quick, verifyCost, flow = FLOWS.token) {
  const dataDir = mkdtempSync(join(tmpdir(), 'kw-bench-'));
  const db = await dbEnv(dataDir);
  const kw = await startKeyward({ ...db.env, KEYWARD_EXTRA_ANCHORS: world.bundle.anchorsDir, KEYWARD_COLLATERAL_DIR: world.bundle.collateralDir });
  try {
    const key = await call(kw.url, 'POST', '/v1/keys', TOKEN, { name: 'bench-model', kind: 'model' });
    const second = await call(kw.url, 'POST', '/v1/keys', TOKEN, { name: 'bench-tokenizer', kind: 'model' });
    const refs = { images: [Buffer.from(SIMULATED_DEFAULTS.snpMeasurement).toString('hex')], mrTd: [Buffer.from(SIMULATED_DEFAULTS.tdxMrTd).toString('hex')] };
    const policy = await call(kw.url, 'POST', '/v1/policies', TOKEN, { name: `bench-${c.name}`, rules: c.rules, refs });
    await call(kw.url, 'PUT', `/v1/keys/${key.id}/policy`, TOKEN, { policyId: policy.id });
    await call(kw.url, 'PUT', `/v1/keys/${second.id}/policy`, TOKEN, { policyId: policy.id });
    const keys = [{ keyId: key.id }, { keyId: second.id }].slice(0, flow.keys);
    const provider = createSimulatorProvider({ tee: c.tee, gpus: c.gpus, ca: world.ca });
    // One X25519 TEE key for the run (the cheapest ECDH for the release JWE); every release gets fresh evidence.
    const tee = generateKeyPairSync('x25519');
    const teePublicKey = { kty: 'OKP', crv: 'X25519', x: tee.publicKey.export({ format: 'jwk' }).x };
    const thumb = jwkThumbprint(teePublicKey);
    const releaseOnce = async () => {
      const { nonce } = await call(kw.url, 'POST', '/v1/challenge');
      const bind = createHash('sha512').update(Buffer.from(nonce, 'base64url')).update(thumb).digest();
      const evidence = await provider.collect(new Uint8Array(bind));
      if (flow !== FLOWS.token) {
        const { releases } = await call(kw.url, 'POST', '/v1/release', undefined, { nonce, teePublicKey, evidence, keys });
        if (releases.length !== keys.length) throw new Error('the one-shot release answered the wrong number of keys');
        return;
      }
      const { token } = await call(kw.url, 'POST', '/v1/attest', undefined, { nonce, teePublicKey, evidence });
      await call(kw.url, 'POST', `/v1/keys/${key.id}/release`, token);
    };
    for (let i = 0; i < (quick ? 5 : 20); i++) await releaseOnce();
    const seconds = quick ? 2 : 15;
    const cpu0 = procCpuSeconds(kw.child.pid);
    const db0 = databaseCpuSeconds();
    const sat = await closedLoop(releaseOnce, { seconds, concurrency: 6 });
    const dbCpuPerRelease = (databaseCpuSeconds() - db0) / sat.latencies.length;
    const serverCpuPerRelease = (procCpuSeconds(kw.child.pid) - cpu0) / sat.latencies.length + dbCpuPerRelease;
    const verifies = 1 + c.gpus;
    const dbName = process.env.KEYWARD_BENCH_DATABASE_URL ? 'postgres' : 'pglite';
    const name = `${c.name}${flow.suffix}`;
    report(`${name}_release_server_cpu_per_release`, serverCpuPerRelease * 1000, 'ms', {
      ceiling: verifyCost * verifies * 1000,
      ceilingName: `${verifies} raw P-384 crypto.verify (this process)`,
      ratio: (verifyCost * verifies) / serverCpuPerRelease,
      database: dbName,
      ...(dbName === 'postgres' ? { databaseCpuMs: Math.round(dbCpuPerRelease * 1e5) / 100, includesDatabaseCpu: true } : {}),
      keys: flow.keys,
      releaseCache: process.env.KEYWARD_RELEASE_CACHE ?? 'on',
    });
    report(`${name}_release_throughput_saturation`, sat.rate, 'releases/s', { database: dbName, generator: 'same machine: the simulator signs fresh evidence per release; 6 concurrent flows' });
    const half = await openLoop(releaseOnce, { rate: Math.max(1, sat.rate / 2), seconds: quick ? 1.5 : 10 });
    report(`${name}_release_latency_p50_at_half_rate`, percentile(half, 50), 'ms', { rate: Math.round(sat.rate / 2) });
    report(`${name}_release_latency_p99_at_half_rate`, percentile(half, 99), 'ms', { rate: Math.round(sat.rate / 2) });
  } finally {
    await kw.stop();
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function run({ quick }) {
  await benchDatakey(quick);
  const world = await devWorld();
  try {
    const verifyCost = rawP384CpuSeconds(quick ? 1 : 3);
    const cases = quick ? RELEASE_CASES.filter((x) => x.name !== 'tdx') : RELEASE_CASES;
    for (const c of cases) await benchRelease(world, c, quick, verifyCost, FLOWS.token);
    for (const c of cases) await benchRelease(world, c, quick, verifyCost, FLOWS.oneShot);
    await benchRelease(world, RELEASE_CASES[0], quick, verifyCost, FLOWS.oneShotTwoKeys);
  } finally {
    world.cleanup();
  }
}
