// A token delegates no more than it holds: a token narrowed to `tokens:admin` cannot mint an unrestricted
// admin, a role cannot mint a role it does not contain, and a minted token never outlives its minter.
import { describe, expect, it, afterAll, beforeAll } from 'vitest';
import { startTestKeyward, type TestKeyward } from '../helpers/keyward.js';

describe('minting API tokens', () => {
  let kw: TestKeyward;

  beforeAll(async () => {
    kw = await startTestKeyward('pglite');
  });
  afterAll(async () => kw?.close());

  async function mint(body: Record<string, unknown>, token?: string) {
    return kw.request('POST', '/v1/tokens', { body, ...(token !== undefined ? { token } : {}) });
  }

  async function expectRefused(body: Record<string, unknown>, token: string) {
    const res = await mint(body, token);
    expect(res.statusCode, res.body).toBe(403);
    expect(res.json().code).toBe('ERR_TOKEN_EXCEEDS_MINTER');
  }

  it('refuses an admin token narrowed to tokens:admin minting a full admin, or any scope it lacks', async () => {
    const narrow = (await mint({ name: 'token-minter', role: 'admin', scopes: ['tokens:admin'] })).json().token as string;
    await expectRefused({ name: 'escalated', role: 'admin' }, narrow);
    await expectRefused({ name: 'escalated', role: 'admin', scopes: ['tokens:admin', 'kek:admin'] }, narrow);
    await expectRefused({ name: 'escalated', role: 'owner', scopes: ['keys:read'] }, narrow);
    const same = await mint({ name: 'same', role: 'admin', scopes: ['tokens:admin'] }, narrow);
    expect(same.statusCode, same.body).toBe(201);
    expect(same.json().scopes).toEqual(['tokens:admin']);
    expect((await kw.request('GET', '/v1/keys', { token: same.json().token })).json().code).toBe('ERR_AUTH_FORBIDDEN');
    const audit = (await kw.request('GET', '/v1/audit?action=token.create&limit=1000')).json().items;
    expect(audit.filter((e: { details: { name: string } }) => e.details.name === 'escalated')).toEqual([]);
  });

  it('refuses a role the minter role does not contain, allows one it does', async () => {
    const owner = (await mint({ name: 'owner-minter', role: 'owner', scopes: [] })).json().token as string;
    // An owner has no tokens:admin scope at all: it cannot mint anything.
    expect((await mint({ name: 'x', role: 'auditor' }, owner)).json().code).toBe('ERR_AUTH_FORBIDDEN');
    const operator = (await mint({ name: 'operator', role: 'operator' })).json().token as string;
    expect((await mint({ name: 'x', role: 'auditor' }, operator)).json().code).toBe('ERR_AUTH_FORBIDDEN');
    const admin = (await mint({ name: 'admin-2', role: 'admin' })).json().token as string;
    for (const role of ['admin', 'owner', 'operator', 'auditor']) expect((await mint({ name: `by-admin-${role}`, role }, admin)).statusCode).toBe(201);
    const limitedAdmin = (await mint({ name: 'limited', role: 'admin', scopes: ['tokens:admin', 'keys:read', 'audit:read', 'policies:read', 'collateral:read'] })).json().token as string;
    expect((await mint({ name: 'auditor-by-limited', role: 'auditor' }, limitedAdmin)).statusCode).toBe(201);
    await expectRefused({ name: 'operator-by-limited', role: 'operator' }, limitedAdmin);
  });

  it('caps the expiry at the minter’s: a longer one is refused, none inherits it', async () => {
    const shortLived = (await mint({ name: 'short', role: 'admin', expiresInSeconds: 3600 })).json();
    await expectRefused({ name: 'longer', role: 'auditor', expiresInSeconds: 7200 }, shortLived.token);
    const inherited = await mint({ name: 'inherits', role: 'auditor' }, shortLived.token);
    expect(inherited.statusCode, inherited.body).toBe(201);
    expect(inherited.json().expiresAt).toBe(shortLived.expiresAt);
    const shorter = await mint({ name: 'shorter', role: 'auditor', expiresInSeconds: 600 }, shortLived.token);
    expect(new Date(shorter.json().expiresAt).getTime()).toBeLessThan(new Date(shortLived.expiresAt).getTime());
    // The bootstrap token never expires: its tokens may live as long as asked, or forever.
    expect((await mint({ name: 'forever', role: 'auditor' })).json().expiresAt).toBeNull();
  });
});
