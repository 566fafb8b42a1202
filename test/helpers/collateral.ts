// Collateral API helpers: raw and JSON uploads through app.inject (every response checked against
// openapi.yaml), a settable clock, and the vector files the collateral tests upload.
import { readdirSync } from 'node:fs';
import type { LightMyRequestResponse } from 'fastify';
import { assertMatchesContract } from './contract.js';
import { BOOTSTRAP_TOKEN, type TestKeyward } from './keyward.js';
import { readVector, vectorPath } from './vectors.js';

export interface SettableClock {
  now(): Date;
  set(at: string | Date): void;
}

export function settableClock(at: string): SettableClock {
  let t = new Date(at).getTime();
  return {
    now: () => new Date(t),
    set: (next) => {
      t = new Date(next).getTime();
    },
  };
}

/** POSTs one raw file to /v1/collateral. */
export async function uploadRaw(
  kw: TestKeyward,
  bytes: Uint8Array | string,
  opts: { contentType?: string; token?: string | null; name?: string } = {},
): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = { 'content-type': opts.contentType ?? 'application/octet-stream' };
  const token = opts.token === undefined ? BOOTSTRAP_TOKEN : opts.token;
  if (token !== null) headers['authorization'] = `Bearer ${token}`;
  const url = opts.name === undefined ? '/v1/collateral' : `/v1/collateral?name=${encodeURIComponent(opts.name)}`;
  const res = await kw.keyward.app.inject({ method: 'POST', url, headers, payload: Buffer.from(bytes) });
  assertMatchesContract('POST', url, res.statusCode, res.headers['content-type'] as string | undefined, res.body);
  return res;
}

/** POSTs files as the JSON envelope {"items": [{name, data}]}. */
export async function uploadJson(kw: TestKeyward, files: { name?: string; data: Uint8Array }[]): Promise<LightMyRequestResponse> {
  return kw.request('POST', '/v1/collateral', { body: { items: files.map((f) => ({ ...(f.name ? { name: f.name } : {}), data: Buffer.from(f.data).toString('base64') })) } });
}

/** Every file of an Intel collateral set directory. */
export function intelSetFiles(dir: string): { name: string; data: Uint8Array }[] {
  return readdirSync(vectorPath('intel', dir))
    .sort()
    .map((name) => ({ name, data: readVector('intel', dir, name) }));
}

export interface ListedCollateral {
  id: string;
  kind: string;
  label: string;
  validFrom: string | null;
  validUntil: string | null;
  stale: boolean;
  source: string;
  name: string | null;
  uploadedBy: string;
  createdAt: string;
  duplicate?: boolean;
  details: Record<string, unknown>;
}

export async function listAll(kw: TestKeyward, query = ''): Promise<ListedCollateral[]> {
  const out: ListedCollateral[] = [];
  let cursor: string | null = null;
  do {
    const sep = query ? '&' : '';
    const res = await kw.request('GET', `/v1/collateral?limit=500${sep}${query}${cursor ? `&cursor=${cursor}` : ''}`);
    if (res.statusCode !== 200) throw new Error(res.body);
    const page = res.json() as { items: ListedCollateral[]; nextCursor: string | null };
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}
