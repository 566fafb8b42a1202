// The console's passkey plumbing in Debian Chromium with a CDP virtual authenticator, against a stand-in
// server that answers the shapes of docs/design.md "Admin side" (enrolment, login, session + CSRF,
// tenants, approvals). It checks the browser side only — credential JSON both ways, the CSRF header on
// cookie-authenticated writes, the approval digest check before the passkey prompt — not the server's
// verification, which the real routes' own tests cover when they land.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CONSOLE_HEADERS, loadConsoleAssets } from '../../src/admin/console-assets.js';
import { canonicalJson } from '../../src/broker/audit.js';
import { createHash } from 'node:crypto';
import { CHROMIUM, CHROMIUM_PATH, titleNeeding } from '../helpers/requirements.js';

const b64url = (b: Buffer) => b.toString('base64url');
const EXTRA_PATHS = [
  ['/v1/auth/login/options', 'post'],
  ['/v1/auth/login/verify', 'post'],
  ['/v1/auth/passkeys/register/options', 'post'],
  ['/v1/auth/passkeys/register/verify', 'post'],
  ['/v1/auth/me', 'get'],
  ['/v1/auth/logout', 'post'],
  ['/v1/tenants', 'get'],
  ['/v1/tenants', 'post'],
  ['/v1/tenants/{t}/members', 'post'],
  ['/v1/approvals', 'get'],
  ['/v1/approvals/{id}', 'get'],
  ['/v1/approvals/{id}/approve/options', 'post'],
  ['/v1/approvals/{id}/approve', 'post'],
  ['/v1/approvals/{id}/reject', 'post'],
] as const;

/** The real openapi.yaml plus the design's admin routes, as a server that has them would list them. */
function openapiWithAdminRoutes(): string {
  const text = readFileSync('openapi.yaml', 'utf8');
  const byPath = new Map<string, string[]>();
  for (const [p, m] of EXTRA_PATHS) byPath.set(p, [...(byPath.get(p) ?? []), m]);
  const block = [...byPath].map(([p, ms]) => `  ${p}:\n${ms.map((m) => `    ${m}:\n      responses: {}\n`).join('')}`).join('');
  return text.replace(/^paths:\n/m, `paths:\n${block}`);
}

interface Recorded {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: any;
}

const CHANGE = { tenant: 'acme', approvalId: 'ap-1', operation: 'key.bind', from: { policyId: null }, to: { policyId: 'p-2', policyVersion: 3 } };
const DIGEST = createHash('sha256').update(canonicalJson(CHANGE)).digest('hex');

describe.skipIf(!CHROMIUM.available)(titleNeeding(CHROMIUM, 'console passkeys in Chromium (stand-in server)'), () => {
  let server: Server;
  let origin: string;
  let profile: string;
  let context: BrowserContext;
  let page: Page;
  const requests: Recorded[] = [];
  const consoleErrors: string[] = [];
  let credentialId: string | undefined;
  let approved = false;

  function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : undefined;
    requests.push({ method: req.method ?? '', path: url.pathname + url.search, headers: req.headers, body });
    const assets = loadConsoleAssets();
    if (url.pathname.startsWith('/console/')) {
      const asset = assets.get(url.pathname.slice('/console/'.length) || 'index.html');
      if (!asset) return json(res, 404, { code: 'ERR_ROUTE_NOT_FOUND', detail: 'no file' });
      res.writeHead(200, { ...CONSOLE_HEADERS, 'content-type': asset.type });
      return res.end(asset.body);
    }
    const route = `${req.method} ${url.pathname}`;
    const loggedIn = /keyward_session=s1/.test(req.headers.cookie ?? '');
    switch (route) {
      case 'GET /openapi.yaml':
        res.writeHead(200, { 'content-type': 'application/yaml' });
        return res.end(openapiWithAdminRoutes());
      case 'POST /v1/auth/passkeys/register/options':
        if (body?.enrolmentCode !== 'ENROL-1234') return json(res, 400, { code: 'ERR_REQUEST_INVALID', detail: 'bad code' });
        return json(res, 200, {
          challenge: b64url(randomBytes(32)),
          rp: { id: 'localhost', name: 'keyward' },
          user: { id: b64url(randomBytes(16)), name: 'alice', displayName: 'Alice' },
          pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
          authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
          attestation: 'none',
          timeout: 60000,
        });
      case 'POST /v1/auth/passkeys/register/verify':
        credentialId = body?.credential?.id;
        return json(res, 200, { verified: true });
      case 'POST /v1/auth/login/options':
      case 'POST /v1/approvals/ap-1/approve/options':
        return json(res, 200, { challenge: b64url(randomBytes(32)), rpId: 'localhost', userVerification: 'required', allowCredentials: [], timeout: 60000 });
      case 'POST /v1/auth/login/verify':
        if (body?.id !== credentialId || !body?.response?.signature) return json(res, 401, { code: 'ERR_AUTH_INVALID', detail: 'no' });
        return json(res, 200, { csrf: 'csrf-abc' }, { 'set-cookie': 'keyward_session=s1; HttpOnly; SameSite=Strict; Path=/' });
      default:
    }
    if (!loggedIn) return json(res, 401, { code: 'ERR_AUTH_REQUIRED', detail: 'log in' });
    switch (route) {
      case 'GET /v1/keys':
        return json(res, 200, { items: [], nextCursor: null });
      case 'GET /v1/auth/me':
        return json(res, 200, { user: { id: 'u-1', name: 'alice' }, tenants: [{ tenant: 'acme', role: 'owner' }] });
      case 'GET /v1/tenants':
        return json(res, 200, { items: [{ name: 'acme', quorum: 2 }] });
      case 'POST /v1/tenants/acme/members':
        return json(res, 201, { userId: 'u-2', enrolmentCode: 'ENROL-5678', expiresAt: '2030-01-01T00:00:00Z' });
      case 'GET /v1/approvals':
        return json(res, 200, { items: [{ id: 'ap-1', operation: 'key.bind', digest: DIGEST, required: 2, approvedBy: [], state: 'pending', expiresAt: '2030-01-01T00:00:00Z' }] });
      case 'GET /v1/approvals/ap-1':
        return json(res, 200, {
          approval: { id: 'ap-1', operation: 'key.bind', digest: DIGEST, required: 2, approvedBy: approved ? ['alice'] : [], state: 'pending', expiresAt: '2030-01-01T00:00:00Z' },
          change: CHANGE,
        });
      case 'POST /v1/approvals/ap-1/approve':
        if (body?.id !== credentialId) return json(res, 400, { code: 'ERR_REQUEST_INVALID', detail: 'unknown credential' });
        approved = true;
        return json(res, 200, { approved: true });
      default:
        return json(res, 404, { code: 'ERR_ROUTE_NOT_FOUND', detail: route });
    }
  }

  beforeAll(async () => {
    server = createServer((req, res) => void handle(req, res).catch((err) => json(res, 500, { code: 'ERR_INTERNAL', detail: String(err) })));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    origin = `http://localhost:${typeof address === 'object' && address ? address.port : 0}`;
    profile = mkdtempSync(join(tmpdir(), 'keyward-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    context.setDefaultTimeout(30_000);
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (err) => consoleErrors.push(`uncaught: ${err.message}`));
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable', { enableUI: false });
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await new Promise((resolve) => server?.close(resolve));
  });

  it('enrols a passkey with an enrolment code, logs in with it, sends the CSRF token on writes, and approves a change whose digest it checked', async () => {
    await page.goto(`${origin}/console/`);
    await page.getByLabel('Enrolment code (from your invitation)', { exact: true }).fill('ENROL-1234');
    await page.getByRole('button', { name: 'Create my passkey' }).click();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    await page.getByText('Passkey session: alice (owner of acme)').waitFor();
    expect(credentialId).toMatch(/^[A-Za-z0-9_-]+$/);
    const login = requests.find((r) => r.path === '/v1/auth/login/verify');
    expect(Object.keys(login?.body.response ?? {}).sort()).toEqual(['authenticatorData', 'clientDataJSON', 'signature', 'userHandle']);
    const clientData = JSON.parse(Buffer.from(login?.body.response.clientDataJSON, 'base64url').toString());
    expect(clientData).toMatchObject({ type: 'webauthn.get', origin });
    const registered = requests.find((r) => r.path === '/v1/auth/passkeys/register/verify');
    expect(registered?.body.enrolmentCode).toBe('ENROL-1234');
    expect(Object.keys(registered?.body.credential.response ?? {})).toEqual(expect.arrayContaining(['attestationObject', 'clientDataJSON']));

    // Tenants: invite a member; the write carries the CSRF token (the cookie rides along by itself).
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Tenants' }).click();
    await page.getByLabel('Member name', { exact: true }).fill('bob');
    await page.getByRole('button', { name: 'Invite' }).click();
    await page.getByText('ENROL-5678').waitFor();
    const invite = requests.find((r) => r.path === '/v1/tenants/acme/members');
    expect(invite?.headers['x-keyward-csrf']).toBe('csrf-abc');
    expect(invite?.headers.authorization).toBeUndefined();
    expect(invite?.body).toEqual({ name: 'bob', role: 'owner' });

    // Approvals: the diff, the recomputed digest, and the passkey approval.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Approvals' }).click();
    await page.getByRole('link', { name: 'key.bind' }).click();
    await page.getByText(`Digest checked: this page shows exactly the change the server asks you to sign (${DIGEST}).`).waitFor();
    const row = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'policyVersion' }) });
    expect(await row.textContent()).toContain('3');
    await page.getByRole('button', { name: 'Approve with passkey' }).click();
    await page.getByText('1 of 2 approvals').waitFor();
    const approve = requests.find((r) => r.path === '/v1/approvals/ap-1/approve');
    expect(approve?.headers['x-keyward-csrf']).toBe('csrf-abc');
    expect(approve?.body.id).toBe(credentialId);
    expect(consoleErrors).toEqual([]);
  }, 120_000);
});
