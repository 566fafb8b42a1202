// A world for the workload CLI tests (built CLI: run `npm run build` first): the development CA written by
// `keyward dev ca --out DIR --data-dir AGENT`, a `keyward serve` child trusting DIR/anchors, keys with SNP
// policies that match (or not) the simulator's measurement, and a runner that keeps stdout as bytes.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompactEncrypt, importJWK, type JWK } from 'jose';
import { BIN, api, run, serve, type Served } from './process.js';
import { BOOTSTRAP_TOKEN } from './keyward.js';
import { snpPolicy } from './tee.js';
import { SIMULATED_DEFAULTS } from '../../src/dev/simulator-provider.js';

export const SIMULATED_MEASUREMENT = Buffer.from(SIMULATED_DEFAULTS.snpMeasurement).toString('hex');

export interface CliResult {
  readonly code: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** Runs the built CLI to completion; stdout is kept as bytes (released keys, unsealed plaintext). */
export async function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env['PATH'] ?? '', KEYWARD_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout: Buffer.concat(out), stderr };
}

/** Files in `dir` a failed write could have left behind (temp files of the atomic writers). */
export function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.includes('keyward-tmp'));
}

export interface AgentWorld {
  readonly root: string;
  /** The agent's data dir (holds dev-ca/). */
  readonly agentDir: string;
  /** What `keyward dev ca --out` wrote: anchors/ and collateral/. */
  readonly devDir: string;
  readonly server: Served;
  readonly url: string;
  readonly token: string;
  /** Imports `material` as a model key bound to a policy for `measurement` (default: the simulator's). */
  importKey(name: string, material: Uint8Array, measurement?: string): Promise<string>;
  /** Creates a generated model key bound to a policy for `measurement` (default: the simulator's). */
  createKey(name: string, measurement?: string): Promise<string>;
  /** Creates a generated model key bound to the given policy document. */
  createKeyWithPolicy(name: string, policy: unknown): Promise<string>;
  close(): Promise<void>;
}

async function bindPolicy(url: string, keyId: string, document: unknown): Promise<void> {
  const policy = await api(url, BOOTSTRAP_TOKEN, 'POST', '/v1/policies', document);
  if (policy.status !== 201) throw new Error(`policy: ${JSON.stringify(policy.json)}`);
  const bound = await api(url, BOOTSTRAP_TOKEN, 'PUT', `/v1/keys/${keyId}/policy`, { policyId: policy.json.id });
  if (bound.status !== 200) throw new Error(`bind: ${JSON.stringify(bound.json)}`);
}

async function createModelKey(url: string, name: string): Promise<string> {
  const key = await api(url, BOOTSTRAP_TOKEN, 'POST', '/v1/keys', { name, kind: 'model' });
  if (key.status !== 201) throw new Error(`create: ${JSON.stringify(key.json)}`);
  return key.json.id as string;
}

/** `serverEnv` adds settings to the server's environment (e.g. KEYWARD_COLLATERAL_DIR). */
export async function startAgentWorld(prefix: string, serverEnv: (devDir: string) => Record<string, string> = () => ({})): Promise<AgentWorld> {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const agentDir = join(root, 'agent');
  const devDir = join(root, 'dev');
  const ca = await run(['dev', 'ca', '--out', devDir, '--data-dir', agentDir], {});
  if (ca.code !== 0) throw new Error(`dev ca failed: ${ca.stderr}`);
  const server = await serve({
    KEYWARD_DATA_DIR: join(root, 'server'),
    KEYWARD_BOOTSTRAP_TOKEN: BOOTSTRAP_TOKEN,
    KEYWARD_EXTRA_ANCHORS: join(devDir, 'anchors'),
    // The development CA's CRLs: with revocation required (the default) the server needs them.
    KEYWARD_COLLATERAL_DIR: join(devDir, 'collateral'),
    KEYWARD_RATE_LIMIT: '0',
    ...serverEnv(devDir),
  });
  const url = server.url;
  return {
    root,
    agentDir,
    devDir,
    server,
    url,
    token: BOOTSTRAP_TOKEN,
    async importKey(name, material, measurement = SIMULATED_MEASUREMENT) {
      const jwk = (await api(url, BOOTSTRAP_TOKEN, 'GET', '/v1/import-key')).json as JWK;
      const jwe = await new CompactEncrypt(material).setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: jwk.kid as string }).encrypt(await importJWK(jwk, 'RSA-OAEP-256'));
      const key = await api(url, BOOTSTRAP_TOKEN, 'POST', '/v1/keys/import', { name, kind: 'model', jwe });
      if (key.status !== 201) throw new Error(`import: ${JSON.stringify(key.json)}`);
      await bindPolicy(url, key.json.id, snpPolicy(`${name}-policy`, measurement));
      return key.json.id as string;
    },
    async createKey(name, measurement = SIMULATED_MEASUREMENT) {
      const id = await createModelKey(url, name);
      await bindPolicy(url, id, snpPolicy(`${name}-policy`, measurement));
      return id;
    },
    async createKeyWithPolicy(name, policy) {
      const id = await createModelKey(url, name);
      await bindPolicy(url, id, policy);
      return id;
    },
    async close() {
      await server.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Where the fields of a sealed file sit (docs/sealed-format.md §2, §3), read from its bytes. */
export interface SealedLayout {
  readonly headerLength: number;
  readonly keyId: { readonly offset: number; readonly length: number };
  readonly name: { readonly offset: number; readonly length: number };
  readonly wrapped: { readonly offset: number; readonly length: number };
  /** Each chunk record: where it starts and its total length (prefix, ciphertext, tag). */
  readonly records: readonly { readonly offset: number; readonly length: number }[];
}

export function sealedLayout(bytes: Buffer): SealedLayout {
  const headerLength = bytes.readUInt32BE(0x0a);
  const keyIdLength = bytes.readUInt16BE(0x38);
  const nameAt = 0x3a + keyIdLength;
  const nameLength = bytes.readUInt16BE(nameAt);
  const wrappedAt = nameAt + 2 + nameLength;
  const wrappedLength = bytes.readUInt16BE(wrappedAt);
  const records: { offset: number; length: number }[] = [];
  for (let at = headerLength; at < bytes.length; ) {
    const length = 5 + bytes.readUInt32BE(at + 1) + 16;
    records.push({ offset: at, length });
    at += length;
  }
  return {
    headerLength,
    keyId: { offset: 0x3a, length: keyIdLength },
    name: { offset: nameAt + 2, length: nameLength },
    wrapped: { offset: wrappedAt + 2, length: wrappedLength },
    records,
  };
}
