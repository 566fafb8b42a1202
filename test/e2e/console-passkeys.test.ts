// Two owners govern a tenant through the console, end to end: Debian's Chromium (playwright-core, never a
// downloaded browser; a fresh profile) against a real `keyward serve` child, passkeys through Chrome's CDP
// virtual authenticator (one per browser context). The platform admin's bootstrap token creates tenant
// `acme` with quorum 2 and invites two owners; each enrols a passkey with their enrolment code in their
// own context; owner 1 creates a key, writes a policy whose typo the server reports on its rule, fixes it,
// dry-runs it and asks to bind it; both owners approve with a passkey after the console recomputed the
// change's digest; the simulated SNP workload is released the key, then denied, and owner 1 reads the
// denial's explanation and sees the audit chain verified. No console error, no failed request, no error
// answer but the typo's type-check, no axe violation. KEYWARD_SCREENSHOTS=1 also writes docs/screenshots/.
import { createHash, X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { canonicalJson } from '../../src/broker/audit.js';
import { spkiSha256 } from '../../src/evidence/anchors.js';
import { CHROMIUM, CHROMIUM_PATH, titleNeeding } from '../helpers/requirements.js';
import { runCli, SIMULATED_MEASUREMENT, startAgentWorld, type AgentWorld } from '../helpers/agent-cli.js';
import { api } from '../helpers/process.js';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const SCREENSHOTS = process.env['KEYWARD_SCREENSHOTS'] === '1' ? join(process.cwd(), 'docs', 'screenshots') : null;
const OTHER_IMAGE = 'd4'.repeat(48);
/** The one error answer the flow causes on purpose: the server's type-check of the policy with a typo. */
const EXPECTED_ERRORS = ['422 POST /v1/policies/validate'];

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

interface Owner {
  readonly name: string;
  readonly context: BrowserContext;
  readonly page: Page;
  readonly consoleErrors: string[];
  readonly failedRequests: string[];
  readonly errorResponses: string[];
  /** Method, path and headers (as sent, Origin included) of every write the page sent to /v1/. */
  readonly writes: { method: string; path: string; headers: Promise<Record<string, string>> }[];
}

/** A port free now, so that KEYWARD_ORIGIN can name it before keyward starts. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** A browser context of its own (cookies, storage) with a CDP virtual authenticator: a person's device. */
async function openOwner(browser: Browser, name: string): Promise<Owner> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  context.setDefaultTimeout(30_000);
  const page = await context.newPage();
  const owner: Owner = { name, context, page, consoleErrors: [], failedRequests: [], errorResponses: [], writes: [] };
  page.on('console', (m) => {
    if (m.type() === 'error') owner.consoleErrors.push(m.text());
  });
  page.on('pageerror', (err) => owner.consoleErrors.push(`uncaught: ${err.message}`));
  page.on('requestfailed', (r) => owner.failedRequests.push(`${r.method()} ${r.url()}: ${r.failure()?.errorText}`));
  page.on('request', (r) => {
    const path = new URL(r.url()).pathname;
    if (path.startsWith('/v1/') && r.method() !== 'GET') owner.writes.push({ method: r.method(), path, headers: r.allHeaders() });
  });
  page.on('response', (r) => {
    if (r.status() >= 400) owner.errorResponses.push(`${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`);
  });
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  return owner;
}

async function axe(page: Page, where: string): Promise<void> {
  // Page-side code as strings: this file is type-checked without the DOM library.
  if (!(await page.evaluate("'axe' in window"))) await page.evaluate(AXE_SOURCE);
  const tags = JSON.stringify(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']);
  const violations = (await page.evaluate(`axe.run(document, { runOnly: { type: 'tag', values: ${tags} } }).then((r) => r.violations)`)) as AxeViolation[];
  expect(violations.map((v) => `${where}: ${v.id} (${v.impact}) ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join('; ')}`)).toEqual([]);
}

async function shot(page: Page, name: string): Promise<void> {
  if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

async function nav(page: Page, label: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: label }).click();
}

describe.skipIf(!CHROMIUM.available)(titleNeeding(CHROMIUM, 'two owners in the console: passkeys, quorum approval, release and denial'), () => {
  let world: AgentWorld;
  let origin: string;
  let browser: Browser;
  let alice: Owner;
  let bob: Owner;
  const codes: Record<string, string> = {};
  let keyId = '';
  let approvalId = '';
  let simulatorRoot = '';

  beforeAll(async () => {
    const port = await freePort();
    // The browser must use the origin keyward knows (localhost, the RP ID), not 127.0.0.1.
    origin = `http://localhost:${port}`;
    world = await startAgentWorld('keyward-console-passkeys-', () => ({ KEYWARD_PORT: String(port), KEYWARD_ORIGIN: origin, KEYWARD_RP_ID: 'localhost' }));
    expect(world.url).toBe(`http://127.0.0.1:${port}`);
    simulatorRoot = spkiSha256(new X509Certificate(readFileSync(join(world.devDir, 'anchors', 'amd-ark-milan.pem'))));

    // The platform admin (bootstrap token) creates the tenant and invites its two owners.
    const tenant = await api(world.url, world.token, 'POST', '/v1/tenants', { name: 'acme', quorum: 2 });
    expect(tenant.status, JSON.stringify(tenant.json)).toBe(201);
    for (const name of ['alice', 'bob']) {
      const invite = await api(world.url, world.token, 'POST', '/v1/tenants/acme/members', { name, role: 'owner' });
      expect(invite.status, JSON.stringify(invite.json)).toBe(201);
      codes[name] = invite.json.enrolmentCode as string;
    }

    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    alice = await openOwner(browser, 'alice');
    bob = await openOwner(browser, 'bob');
    if (SCREENSHOTS) mkdirSync(SCREENSHOTS, { recursive: true });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await world?.close();
  });

  async function enrol(owner: Owner): Promise<void> {
    const { page } = owner;
    await page.goto(`${origin}/console/`);
    await page.getByRole('button', { name: 'Log in with a passkey' }).waitFor();
    await page.getByLabel('Enrolment code (from your invitation)', { exact: true }).fill(codes[owner.name] ?? '');
    await page.getByRole('button', { name: 'Create my passkey' }).click();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    await page.getByText(`Passkey session: ${owner.name} (owner of acme)`).waitFor();
  }

  it('each owner enrols a passkey with their enrolment code and is logged in with a session cookie', async () => {
    await alice.page.goto(`${origin}/console/`);
    await alice.page.getByRole('heading', { name: 'Log in with a passkey' }).waitFor();
    await axe(alice.page, 'login');
    await shot(alice.page, 'login');
    await enrol(alice);
    await enrol(bob);

    const cookie = (await alice.context.cookies(origin)).find((c) => c.name === 'keyward_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    // The session, not a token: the console never holds a bearer credential after a passkey login.
    expect(await alice.page.evaluate("sessionStorage.getItem('keyward.auth')")).toMatch(/"kind":"session"/);

    // Logging out ends the session; logging in again uses the passkey the authenticator holds.
    await alice.page.getByRole('button', { name: 'Log out' }).click();
    await alice.page.getByRole('button', { name: 'Log in with a passkey' }).click();
    await alice.page.getByText('Passkey session: alice (owner of acme)').waitFor();
    const paths = alice.writes.map((w) => `${w.method} ${w.path}`);
    expect(paths).toEqual([
      'POST /v1/auth/passkeys/register/options',
      'POST /v1/auth/passkeys/register/verify',
      'POST /v1/auth/login/options',
      'POST /v1/auth/login/verify',
      'POST /v1/auth/logout',
      'POST /v1/auth/login/options',
      'POST /v1/auth/login/verify',
    ]);
    expect((await alice.writes.find((w) => w.path === '/v1/auth/logout')?.headers)?.['x-keyward-csrf']).toMatch(/^[A-Za-z0-9_-]{20,}$/);
  }, 120_000);

  it('owner 1 creates a key, sees the typo on its rule, fixes it, dry-runs the policy and asks to bind it', async () => {
    const { page } = alice;
    await nav(page, 'Keys');
    await page.getByLabel('Name', { exact: true }).fill('llama-weights');
    await page.getByLabel('Kind', { exact: true }).selectOption('model');
    await page.getByLabel('Description (optional)', { exact: true }).fill('Llama 3 70B weights');
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.getByRole('heading', { name: 'Key llama-weights' }).waitFor();
    keyId = decodeURIComponent(new URL(page.url()).hash.split('/')[2] ?? '');
    expect(keyId).toMatch(/^[0-9a-f-]{36}$/);
    await page.getByText('none — this key is never released').waitFor();

    await nav(page, 'Policies');
    await page.getByRole('link', { name: 'New policy' }).click();
    await page.getByRole('heading', { name: 'New policy' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('llama-prod');
    await page.getByLabel('Description', { exact: true }).fill('Llama weights only to the production image');
    await page.getByRole('button', { name: 'Add rule' }).click();
    await page.getByLabel('Rule 2 name', { exact: true }).fill('snp');
    await page.getByLabel('Rule 2 expression', { exact: true }).fill('cpu.tee == "snp"');
    await page.getByRole('button', { name: 'Add rule' }).click();
    await page.getByLabel('Rule 3 name', { exact: true }).fill('image');
    await page.getByLabel('Rule 3 expression', { exact: true }).fill('cpu.measurment in refs.images');
    // The owners name the non-vendor root they accept (here the simulator's development CA) by its SPKI hash.
    await page.getByRole('button', { name: 'Add rule' }).click();
    await page.getByLabel('Rule 4 name', { exact: true }).fill('simulator-ca');
    await page.getByLabel('Rule 4 expression', { exact: true }).fill('cpu.anchor.spki in refs.anchors');
    await page.getByLabel(/^Reference values/).fill(JSON.stringify({ images: [SIMULATED_MEASUREMENT], anchors: [simulatorRoot] }, null, 2));
    const imageProblems = page.getByRole('list', { name: 'Problems in rule image' });
    await imageProblems.waitFor();
    expect(await imageProblems.textContent()).toMatch(/measurment/);
    expect(await page.getByLabel('Rule 3 expression', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByRole('list', { name: 'Problems in rule snp' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Create policy' }).isDisabled()).toBe(true);
    await axe(page, 'policy editor with an error');
    await shot(page, 'policy-editor-error');

    await page.getByLabel('Rule 3 expression', { exact: true }).fill('cpu.measurement in refs.images');
    await page.getByText('The server accepts this policy.').waitFor();
    expect(await imageProblems.count()).toBe(0);
    await page.getByRole('button', { name: 'Create policy' }).click();
    await page.getByRole('heading', { name: 'Policy llama-prod (version 1)' }).waitFor();

    const anchor = { source: 'extra', spki: simulatorRoot, name: 'AMD ARK-Milan (keyward SIMULATED)' };
    await page.getByLabel('Claims (JSON: cpu, gpus)', { exact: true }).fill(JSON.stringify({ cpu: { tee: 'snp', debug: true, measurement: SIMULATED_MEASUREMENT, anchor }, gpus: [] }));
    await page.getByRole('button', { name: 'Run dry run' }).click();
    await page.getByText('Denied by llama-prod version 1').waitFor();
    const noDebug = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'no-debug' }) });
    expect(await noDebug.textContent()).toContain('fail');
    for (const passing of ['snp', 'image', 'simulator-ca']) expect(await page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: passing }) }).textContent()).toContain('pass');

    // Quorum 2: the binding does not apply; it becomes a pending approval.
    await page.getByLabel('Key', { exact: true }).selectOption({ label: 'llama-weights' });
    await page.getByRole('button', { name: 'Bind', exact: true }).click();
    const waits = page.getByText(/^This change waits for approval: key\.bind-policy needs 2 owners to approve it/);
    await waits.waitFor();
    approvalId = /#\/approvals\/([0-9a-f-]{36})$/.exec((await waits.getByRole('link', { name: 'key.bind-policy' }).getAttribute('href')) ?? '')?.[1] ?? '';
    expect(approvalId).toMatch(/^[0-9a-f-]{36}$/);
    await axe(page, 'policy page');
    await shot(page, 'policy-dry-run');
    const bind = await alice.writes.find((w) => w.method === 'PUT' && w.path === `/v1/keys/${keyId}/policy`)?.headers;
    expect(bind?.['x-keyward-csrf']).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(bind?.['authorization']).toBeUndefined();
    expect(bind?.['origin']).toBe(origin);
  }, 120_000);

  async function openApproval(owner: Owner): Promise<string> {
    const { page } = owner;
    await nav(page, 'Approvals');
    await page.getByRole('heading', { name: 'Approvals', level: 1 }).waitFor();
    await page.getByRole('table', { name: 'Pending approvals' }).getByRole('link', { name: 'key.bind-policy' }).click();
    await page.getByRole('heading', { name: 'Approve: key.bind-policy' }).waitFor();
    const verdict = page.getByText(/^Digest checked: this page shows exactly the change the server asks you to sign \([0-9a-f]{64}\)\.$/);
    await verdict.waitFor();
    return /\(([0-9a-f]{64})\)/.exec((await verdict.textContent()) ?? '')?.[1] ?? '';
  }

  it('both owners see the change and its recomputed digest, and approve it with their passkeys: the binding applies; an unbinding is rejected', async () => {
    // Owner 1 (the requester) approves once; that alone does not apply it.
    expect(await openApproval(alice)).toMatch(/^[0-9a-f]{64}$/);
    await alice.page.getByRole('button', { name: 'Approve with passkey' }).click();
    await alice.page.getByText(/^1 of 2 approvals · state pending/).waitFor();
    expect(await alice.page.getByRole('button', { name: 'Approve with passkey' }).isDisabled()).toBe(true);

    // Owner 2 reads the change in their own browser; the digest shown is SHA-256 of the change's RFC 8785 JSON.
    const shown = await openApproval(bob);
    const served = await bob.page.request.get(`${origin}/v1/approvals/${approvalId}`);
    expect(served.status()).toBe(200);
    const { approval, change } = (await served.json()) as { approval: { digest: string }; change: Record<string, unknown> };
    expect(shown).toBe(createHash('sha256').update(canonicalJson(change), 'utf8').digest('hex'));
    expect(shown).toBe(approval.digest);
    expect(change).toMatchObject({ operation: 'key.bind-policy', tenant: 'acme', approvalId, target: keyId, from: { policyId: null }, to: { policyVersion: 1 } });
    expect(await bob.page.getByText('"keyward-change:v1"').count()).toBe(1);
    const rules = bob.page.getByRole('table', { name: 'What changes' });
    expect(await rules.textContent()).toContain('cpu.measurement in refs.images');
    await axe(bob.page, 'approval');
    await shot(bob.page, 'approvals');

    await bob.page.getByRole('button', { name: 'Approve with passkey' }).click();
    await bob.page.getByText('Applied: the quorum of owners approved this change and keyward made it.').waitFor();
    await bob.page.getByText(/^2 of 2 approvals · state applied/).waitFor();
    const approve = await bob.writes.find((w) => w.path === `/v1/approvals/${approvalId}/approve`)?.headers;
    expect(approve?.['x-keyward-csrf']).toMatch(/^[A-Za-z0-9_-]{20,}$/);

    // Owner 1's key now names the policy version both signed.
    await alice.page.goto(`${origin}/console/#/keys/${keyId}`);
    await alice.page.getByRole('link', { name: 'llama-prod (v1)' }).waitFor();
    await axe(alice.page, 'key');
    await shot(alice.page, 'keys');

    // Owner 1 asks to unbind; owner 2 rejects it, and the binding stays.
    await alice.page.getByLabel('Bind to policy', { exact: true }).selectOption({ label: '— none (unbind) —' });
    await alice.page.getByRole('button', { name: 'Unbind' }).click();
    await alice.page.getByText(/^This change waits for approval: key\.bind-policy needs 2 owners to approve it/).waitFor();
    await axe(alice.page, 'key with a change waiting');
    await openApproval(bob);
    const unbind = await bob.page.request.get(`${origin}/v1/approvals?state=pending`);
    expect(((await unbind.json()) as { items: { operation: string; target: string }[] }).items).toMatchObject([{ operation: 'key.bind-policy', target: keyId }]);
    await bob.page.getByRole('button', { name: 'Reject' }).click();
    await bob.page.getByText('This change is rejected.').waitFor();
    await alice.page.reload();
    await alice.page.getByRole('link', { name: 'llama-prod (v1)' }).waitFor();
  }, 120_000);

  it('the simulated workload is released the key, then denied; owner 1 reads why, and sees the audit chain verified', async () => {
    const released = await runCli(['agent', 'release', '--server', world.url, '--key', keyId, '--simulate', 'snp', '--data-dir', world.agentDir]);
    expect(released.code, released.stderr).toBe(0);
    const denied = await runCli(['agent', 'release', '--server', world.url, '--key', keyId, '--simulate', 'snp', '--measurement', OTHER_IMAGE, '--data-dir', world.agentDir]);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain('ERR_POLICY_DENIED');

    const { page } = alice;
    await nav(page, 'Releases & denials');
    await page.getByLabel('Key', { exact: true }).selectOption({ label: 'llama-weights' });
    await page.getByRole('heading', { name: '1 released, 1 denied' }).waitFor();
    expect(await page.locator('li.release').count()).toBe(1);
    const denial = page.locator('li.denial');
    expect(await denial.count()).toBe(1);
    expect(await denial.textContent()).toContain('ERR_POLICY_DENIED');
    const why = denial.getByRole('table', { name: 'Why it was denied' });
    // Only the image rule failed: the simulator's root is the one the owners named.
    expect(await why.getByRole('row').count()).toBe(2);
    const imageRow = why.getByRole('row').filter({ has: page.getByRole('rowheader', { name: /image/ }) });
    const text = (await imageRow.textContent()) ?? '';
    expect(text).toContain('fail');
    expect(text).toContain('expected: cpu.measurement in refs.images');
    expect(text).toContain(OTHER_IMAGE);
    await axe(page, 'releases');
    await shot(page, 'releases');

    // A new version of the bound policy is a change under the quorum too: it waits, version 1 stays.
    await nav(page, 'Policies');
    await page.getByRole('heading', { name: 'Policies', level: 1 }).waitFor();
    // Both links lead to the same policy (the previous view's may still be on screen while the list renders).
    await page.getByRole('link', { name: 'llama-prod' }).first().click();
    await page.getByRole('heading', { name: 'Policy llama-prod (version 1)' }).waitFor();
    await page.getByLabel('Description', { exact: true }).fill('Llama weights only to the production image (reviewed)');
    await page.getByText('The server accepts this policy.').waitFor();
    await page.getByRole('button', { name: 'Save new version' }).click();
    await page.getByText(/^This change waits for approval: policy\.update needs 2 owners to approve it/).waitFor();
    expect(await page.getByRole('heading', { name: 'Policy llama-prod (version 1)' }).count()).toBe(1);

    await nav(page, 'Collateral');
    await page.getByRole('heading', { name: /items · \d+ stale/ }).waitFor();
    await axe(page, 'collateral');
    await shot(page, 'collateral');

    await nav(page, 'Audit log');
    await page.getByText(/^Chain verified: \d+ events/).waitFor();
    await page.getByRole('table', { name: 'Audit events' }).getByRole('row').nth(5).waitFor();
    await axe(page, 'audit');
    await shot(page, 'audit');

    for (const owner of [alice, bob]) {
      expect(owner.failedRequests, owner.name).toEqual([]);
      expect(owner.errorResponses.filter((r) => !EXPECTED_ERRORS.includes(r)), owner.name).toEqual([]);
      expect(owner.consoleErrors.filter((m) => !/status of 422/.test(m)), owner.name).toEqual([]);
    }
    // The deliberate typo was seen (the filter above has something to filter).
    expect(alice.errorResponses).toContain('422 POST /v1/policies/validate');
  }, 120_000);
});
