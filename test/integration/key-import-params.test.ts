// Imports are bound: per-key import parameters give a single-use import token valid at most 24 h; the
// JWE's protected header carries it, so the same JWE is refused a second time, into another key, through
// the shared import of tenant `default`, and after the token expired.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompactEncrypt, importJWK, type JWK } from 'jose';
import { DB_KINDS } from '../helpers/db.js';
import { startTestKeyward, type TestKeyward } from '../helpers/keyward.js';
import { inviteAndLogin, login, type Person, type Session } from '../helpers/people.js';
import type { Clock } from '../../src/clock.js';

class TestClock implements Clock {
  private offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

async function boundJwe(params: { publicKey: JWK; importToken: string }, material: Uint8Array, importToken: string | null = params.importToken): Promise<string> {
  const alg = params.publicKey.alg as string;
  return new CompactEncrypt(material)
    .setProtectedHeader({ alg, enc: 'A256GCM', kid: params.publicKey.kid as string, ...(importToken !== null ? { importToken } : {}) })
    .encrypt(await importJWK(params.publicKey, alg));
}

describe.each(DB_KINDS)('per-key import parameters on %s', (kind) => {
  let kw: TestKeyward;
  let alice: Session;
  let person: Person;
  const clock = new TestClock();
  const keys: Record<string, string> = {};

  async function params(keyId: string, body: unknown = {}) {
    const res = await alice.request('POST', `/v1/keys/${keyId}/import-params`, body);
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { publicKey: JWK; importToken: string; expiresAt: string };
  }

  beforeAll(async () => {
    kw = await startTestKeyward(kind, { clock });
    expect((await kw.request('POST', '/v1/tenants', { body: { name: 'acme' } })).statusCode).toBe(201);
    ({ session: alice, person } = await inviteAndLogin(kw, 'acme', 'alice', 'owner'));
    for (const name of ['first', 'second']) {
      const res = await alice.request('POST', '/v1/keys', { tenant: 'acme', name, kind: 'model' });
      expect(res.statusCode, res.body).toBe(201);
      keys[name] = res.json().id;
    }
  });
  afterAll(async () => kw?.close());

  it('imports once into the key the token was issued for; a second use and another key are refused', async () => {
    const p = await params(keys['first'] as string);
    expect(p.importToken).toMatch(/^kwi_/);
    expect(p.publicKey).toMatchObject({ kid: expect.any(String), alg: 'RSA-OAEP-256', use: 'enc' });
    const expires = new Date(p.expiresAt).getTime() - clock.now().getTime();
    expect(expires).toBeGreaterThan(23 * 3600 * 1000);
    expect(expires).toBeLessThanOrEqual(24 * 3600 * 1000);
    const jwe = await boundJwe(p, new Uint8Array(randomBytes(32)));

    // Re-targeted to another key of the same tenant: refused, and the token stays unused.
    const elsewhere = await alice.request('POST', `/v1/keys/${keys['second']}/import`, { jwe });
    expect([elsewhere.statusCode, elsewhere.json().code]).toEqual([400, 'ERR_IMPORT_TOKEN_INVALID']);
    // Through the shared import of tenant default (the bootstrap admin): refused.
    const shared = await kw.request('POST', '/v1/keys/import', { body: { name: 'stolen', kind: 'model', jwe } });
    expect([shared.statusCode, shared.json().code]).toEqual([400, 'ERR_IMPORT_TOKEN_INVALID']);

    const imported = await alice.request('POST', `/v1/keys/${keys['first']}/import`, { jwe });
    expect(imported.statusCode, imported.body).toBe(200);
    expect(imported.json()).toMatchObject({ id: keys['first'], version: 2 });
    const again = await alice.request('POST', `/v1/keys/${keys['first']}/import`, { jwe });
    expect([again.statusCode, again.json().code]).toEqual([400, 'ERR_IMPORT_TOKEN_INVALID']);
    expect((await alice.request('GET', `/v1/keys/${keys['first']}`)).json().version).toBe(2);

    const audit = (await alice.request('GET', '/v1/audit?action=key.import')).json().items as { target: string; details: Record<string, unknown> }[];
    expect(audit.map((e) => [e.target, e.details['version']])).toEqual([[keys['first'], 2]]);
    expect(JSON.stringify(audit)).not.toContain(p.importToken);
  });

  it('refuses a JWE without importToken, with a made-up one, and after the token expired', async () => {
    const p = await params(keys['second'] as string, { alg: 'ECDH-ES+A256KW' });
    expect(p.publicKey.alg).toBe('ECDH-ES+A256KW');
    const material = new Uint8Array(randomBytes(32));
    for (const token of [null, `kwi_${randomBytes(32).toString('base64url')}`]) {
      const res = await alice.request('POST', `/v1/keys/${keys['second']}/import`, { jwe: await boundJwe(p, material, token) });
      expect([res.statusCode, res.json().code]).toEqual([400, 'ERR_IMPORT_TOKEN_INVALID']);
    }
    clock.advance(24 * 3600 * 1000 + 1000);
    alice = await login(kw, person);
    const late = await alice.request('POST', `/v1/keys/${keys['second']}/import`, { jwe: await boundJwe(p, material) });
    expect([late.statusCode, late.json().code]).toEqual([400, 'ERR_IMPORT_TOKEN_INVALID']);
    expect((await alice.request('GET', `/v1/keys/${keys['second']}`)).json().version).toBe(1);
  });

  it('keeps GET /v1/import-key for tenant default only', async () => {
    const res = await alice.request('GET', '/v1/import-key');
    expect(res.statusCode).toBe(403);
  });
});
