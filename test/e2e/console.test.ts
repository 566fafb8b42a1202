// The admin console end to end in Debian's Chromium (playwright-core, never a downloaded browser) against
// a real `keyward serve` trusting the development CA: log in with the API token, create a key, write a
// policy whose typo the server reports on the right rule, fix it, dry-run it, bind it, let the simulated
// SNP workload get a release and then a denial, read the denial's explanation, and see the audit chain
// verified — with no console error, no failed request but the deliberate ones, and no axe violation.
// (The screenshots in docs/screenshots/ come from the passkey flow, console-passkeys.test.ts.)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_PATH, titleNeeding } from '../helpers/requirements.js';
import { runCli, SIMULATED_MEASUREMENT, startAgentWorld, type AgentWorld } from '../helpers/agent-cli.js';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const OTHER_IMAGE = 'd4'.repeat(48);

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

describe.skipIf(!CHROMIUM.available)(titleNeeding(CHROMIUM, 'admin console in Chromium'), () => {
  let world: AgentWorld;
  let profile: string;
  let context: BrowserContext;
  let page: Page;
  const consoleErrors: string[] = [];
  const failedRequests: string[] = [];
  const errorResponses: string[] = [];

  beforeAll(async () => {
    world = await startAgentWorld('keyward-console-e2e-', (devDir) => ({ KEYWARD_COLLATERAL_DIR: join(devDir, 'collateral') }));
    profile = mkdtempSync(join(tmpdir(), 'keyward-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 860 },
    });
    context.setDefaultTimeout(30_000);
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (err) => consoleErrors.push(`uncaught: ${err.message}`));
    page.on('requestfailed', (r) => failedRequests.push(`${r.method()} ${r.url()}: ${r.failure()?.errorText}`));
    page.on('response', (r) => {
      if (r.status() >= 400) errorResponses.push(`${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`);
    });
  }, 240_000);

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await world?.close();
  });

  async function axe(where: string): Promise<void> {
    // Page-side code as strings: this file is type-checked without the DOM library.
    if (!(await page.evaluate("'axe' in window"))) await page.evaluate(AXE_SOURCE);
    const tags = JSON.stringify(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']);
    const violations = (await page.evaluate(`axe.run(document, { runOnly: { type: 'tag', values: ${tags} } }).then((r) => r.violations)`)) as AxeViolation[];
    expect(violations.map((v) => `${where}: ${v.id} (${v.impact}) ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join('; ')}`)).toEqual([]);
  }

  async function nav(label: string): Promise<void> {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: label }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).first().textContent()).toBeTruthy();
  }

  it('token login, key, policy with a typo on its rule, dry run, bind, release and denial, audit chain', async () => {
    await page.goto(`${world.url}/console/`);
    await page.getByRole('heading', { name: 'Log in with a passkey' }).waitFor();
    // The server offers passkey login (its routes are in openapi.yaml), so the console does too.
    await page.getByRole('button', { name: 'Log in with a passkey' }).waitFor();
    expect(await page.locator('#passkey-unavailable').count()).toBe(0);
    await axe('login');

    await page.getByLabel('API token', { exact: true }).fill(world.token);
    await page.getByRole('button', { name: 'Log in with token' }).click();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    await page.getByRole('heading', { name: 'Keys', level: 1 }).waitFor();

    // A key.
    await page.getByLabel('Name', { exact: true }).fill('llama-weights');
    await page.getByLabel('Kind', { exact: true }).selectOption('model');
    await page.getByLabel('Description (optional)', { exact: true }).fill('Llama 3 70B weights');
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.getByRole('heading', { name: 'Key llama-weights' }).waitFor();
    const keyId = decodeURIComponent(new URL(page.url()).hash.split('/')[2] ?? '');
    expect(keyId).toMatch(/^[0-9a-f-]{36}$/);
    await page.getByText('none — this key is never released').waitFor();
    // Rotate, disable, enable: the versions table and the state follow.
    const versions = page.getByRole('table', { name: 'Key versions' });
    await versions.getByRole('row').nth(1).waitFor();
    await page.getByRole('button', { name: 'Rotate (add a version)' }).click();
    await versions.getByRole('row').nth(2).waitFor();
    await page.getByRole('button', { name: 'Disable' }).click();
    await page.getByRole('button', { name: 'Enable' }).waitFor();
    expect(await page.getByRole('button', { name: 'Rotate (add a version)' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Enable' }).click();
    await page.getByRole('button', { name: 'Disable' }).waitFor();
    await axe('key');

    // A policy with a typo: the server's type-check names the rule, and the console shows it there.
    await nav('Policies');
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
    await page.getByLabel(/^Reference values/).fill(JSON.stringify({ images: [SIMULATED_MEASUREMENT] }, null, 2));
    const imageProblems = page.getByRole('list', { name: 'Problems in rule image' });
    await imageProblems.waitFor();
    expect(await imageProblems.textContent()).toMatch(/measurment/);
    expect(await page.getByLabel('Rule 3 expression', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByRole('list', { name: 'Problems in rule snp' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Create policy' }).isDisabled()).toBe(true);
    await axe('policy editor with an error');

    await page.getByLabel('Rule 3 expression', { exact: true }).fill('cpu.measurement in refs.images');
    await page.getByText('The server accepts this policy.').waitFor();
    expect(await imageProblems.count()).toBe(0);
    await page.getByRole('button', { name: 'Create policy' }).click();
    await page.getByRole('heading', { name: 'Policy llama-prod (version 1)' }).waitFor();

    // Dry run over pasted claims: every rule's outcome and the values it read.
    await page.getByLabel('Claims (JSON: cpu, gpus)', { exact: true }).fill(JSON.stringify({ cpu: { tee: 'snp', debug: true, measurement: SIMULATED_MEASUREMENT }, gpus: [] }));
    await page.getByRole('button', { name: 'Run dry run' }).click();
    await page.getByText('Denied by llama-prod version 1').waitFor();
    const noDebug = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'no-debug' }) });
    expect(await noDebug.textContent()).toContain('fail');
    expect(await noDebug.textContent()).toContain('cpu.debug');
    expect(await page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'image' }) }).textContent()).toContain('pass');

    // Bind it to the key.
    await page.getByLabel('Key', { exact: true }).selectOption({ label: 'llama-weights' });
    await page.getByRole('button', { name: 'Bind', exact: true }).click();
    await page.getByText('Key llama-weights is now bound to llama-prod.').waitFor();
    await axe('policy page');

    // The simulated SNP workload gets the key...
    const released = await runCli(['agent', 'release', '--server', world.url, '--key', keyId, '--simulate', 'snp', '--data-dir', world.agentDir]);
    expect(released.code, released.stderr).toBe(0);

    // ...until a new policy version wants another image: then it is denied.
    await page.getByLabel(/^Reference values/).fill(JSON.stringify({ images: [OTHER_IMAGE] }));
    await page.getByText('The server accepts this policy.').waitFor();
    await page.getByRole('button', { name: 'Save new version' }).click();
    await page.getByRole('heading', { name: 'Policy llama-prod (version 2)' }).waitFor();
    const denied = await runCli(['agent', 'release', '--server', world.url, '--key', keyId, '--simulate', 'snp', '--data-dir', world.agentDir]);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain('ERR_POLICY_DENIED');

    // Who received the key, and why the denial: the failing rule, what it expected, what it saw.
    await nav('Releases & denials');
    await page.getByLabel('Key', { exact: true }).selectOption({ label: 'llama-weights' });
    await page.getByRole('heading', { name: '1 released, 1 denied' }).waitFor();
    const denial = page.locator('li.denial');
    expect(await denial.count()).toBe(1);
    const why = denial.getByRole('table', { name: 'Why it was denied' });
    const imageRow = why.getByRole('row').filter({ has: page.getByRole('rowheader', { name: /image/ }) });
    const text = (await imageRow.textContent()) ?? '';
    expect(text).toContain('fail');
    expect(text).toContain('expected: cpu.measurement in refs.images');
    expect(text).toContain(SIMULATED_MEASUREMENT);
    expect(await denial.textContent()).toContain('ERR_POLICY_DENIED');
    expect(await page.locator('li.release').count()).toBe(1);
    await axe('releases');

    // Collateral from the development CA, with expiries.
    await nav('Collateral');
    await page.getByRole('heading', { name: /items · \d+ stale/ }).waitFor();
    expect(await page.getByRole('table', { name: 'Collateral by expiry' }).getByRole('row').count()).toBeGreaterThan(1);
    await axe('collateral');

    // The audit log and its chain.
    await nav('Audit log');
    await page.getByText(/^Chain verified: \d+ events/).waitFor();
    // The chain's status and the events load separately: wait for the rows, then count them.
    await page.getByRole('table', { name: 'Audit events' }).getByRole('row').nth(5).waitFor();
    expect(await page.getByRole('table', { name: 'Audit events' }).getByRole('row').count()).toBeGreaterThan(5);
    await axe('audit');

    // The tenants and approvals views work against this server's routes.
    await nav('Tenants');
    await page.getByRole('heading', { name: 'Tenants and members', level: 1 }).waitFor();
    await page.getByText('default', { exact: true }).first().waitFor();
    // As the README says: the bootstrap token invites a person, who enrols a passkey with the code shown once.
    await page.getByRole('form', { name: 'Invite a member to default' }).getByLabel('Member name', { exact: true }).fill('carol');
    await page.getByRole('form', { name: 'Invite a member to default' }).getByRole('button', { name: 'Invite' }).click();
    const code = page.locator('p.code');
    await code.waitFor();
    expect(await code.textContent()).toMatch(/^kwe_[A-Za-z0-9_-]{20,}$/);
    await axe('tenants');
    await nav('Approvals');
    await page.getByRole('heading', { name: 'Approvals', level: 1 }).waitFor();
    await axe('approvals');
    await nav('Keys');
    await page.getByRole('link', { name: 'llama-weights' }).waitFor();

    // Keyboard: after a reload (the token stays for this tab) the first Tab reaches the skip link, which
    // moves focus to the content.
    await page.reload();
    await page.getByRole('link', { name: 'llama-weights' }).waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate('document.activeElement?.id')).toBe('main');

    // The only non-2xx answers were the deliberate typo's type-check (422 from /v1/policies/validate).
    expect(failedRequests).toEqual([]);
    expect(errorResponses.filter((r) => r !== '422 POST /v1/policies/validate')).toEqual([]);
    expect(errorResponses.length).toBeGreaterThan(0);
    expect(consoleErrors.filter((m) => !/status of 422/.test(m))).toEqual([]);
  }, 300_000);
});
