// `keyward approval show|reject|approve` recompute the approval's digest from its change JSON (RFC 8785
// canonical JSON, SHA-256) and warn when they differ, against a scripted server answering GET
// /v1/approvals/{id} as openapi.yaml says: `{"approval": {...}, "change": {...}}`.
import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { main, type CliIo } from '../../../src/cli/main.js';
import { canonicalJson } from '../../../src/broker/audit.js';
import { startFakeHttp, problem, type FakeHttp } from '../../helpers/fake-http.js';

function capture(): CliIo & { outText: () => string; errText: () => string } {
  let out = '';
  let err = '';
  return { out: (t) => void (out += t), err: (t) => void (err += t), outText: () => out, errText: () => err };
}

const change = { tenant: 'acme', op: 'key.bind-policy', keyId: 'k1', from: null, to: { policyId: 'p1', version: 3, rules: [{ name: 'snp', expr: 'cpu.tee == "snp"' }] } };
const digest = createHash('sha256').update(canonicalJson(change)).digest('hex');
const approval = (d: string) => ({ id: 'ap-1', operation: 'key.bind-policy', digest: d, required: 2, approvedBy: [], state: 'pending', expiresAt: '2030-01-01T00:00:00.000Z' });
/** The answer of GET /v1/approvals/{id}. */
const shown = (d: string) => ({ approval: approval(d), change });

let fake: FakeHttp;
const saved = { ...process.env };
beforeAll(async () => {
  fake = await startFakeHttp();
  process.env['KEYWARD_ADDR'] = fake.url;
  process.env['KEYWARD_TOKEN'] = 'kw_unit';
});
afterEach(() => fake.requests.splice(0));
afterAll(async () => {
  process.env = saved;
  await fake.close();
});

describe('keyward approval show', () => {
  it('says the digest matches the change it shows, and where to approve', async () => {
    fake.handle(() => ({ status: 200, json: shown(digest) }));
    const io = capture();
    expect(await main(['approval', 'show', 'ap-1'], io)).toBe(0);
    expect(io.outText()).toContain(`digest:    ${digest} (matches the change below)`);
    expect(io.outText()).toContain('approvals: 0 of 2');
    expect(io.outText()).toContain(`approve or reject it with a passkey in the console: ${fake.url.replace("127.0.0.1", "localhost")}/console/#/approvals/ap-1\n`);
    expect(fake.requests[0]).toMatchObject({ method: 'GET', url: '/v1/approvals/ap-1' });
    expect(fake.requests[0]?.headers['authorization']).toBe('Bearer kw_unit');
  });

  it('refuses (exit 1) when the digest is not the change\'s', async () => {
    fake.handle(() => ({ status: 200, json: shown('00'.repeat(32)) }));
    const io = capture();
    expect(await main(['approval', 'show', 'ap-1'], io)).toBe(1);
    expect(io.outText()).toContain('DOES NOT MATCH the change below: do not approve');
  });

  it('--json prints the server\'s answer exactly; list shows the pending ones', async () => {
    const text = JSON.stringify(shown(digest));
    fake.handle(() => ({ status: 200, headers: { 'content-type': 'application/json' }, text }));
    const io = capture();
    await main(['approval', 'show', 'ap-1', '--json'], io);
    expect(io.outText()).toBe(`${text}\n`);
    fake.handle(() => ({ status: 200, json: { items: [approval(digest)] } }));
    const list = capture();
    expect(await main(['approval', 'list'], list)).toBe(0);
    expect(fake.requests.at(-1)?.url).toBe('/v1/approvals?state=pending');
    expect(list.outText()).toMatch(/ap-1 +key\.bind-policy +pending +0\/2 +2030-01-01T00:00:00\.000Z/);
  });

  it('an unknown approval is the server\'s code, exit 1', async () => {
    fake.handle(() => problem(404, 'ERR_APPROVAL_NOT_FOUND'));
    const io = capture();
    expect(await main(['approval', 'show', 'nope'], io)).toBe(1);
    expect(io.errText()).toBe('keyward approval: ERR_APPROVAL_NOT_FOUND: fake ERR_APPROVAL_NOT_FOUND (HTTP 404, request id req-ERR_APPROVAL_NOT_FOUND)\n');
  });

  it('approve sends nothing but the read: it shows the digest check and points to the console, exit 3', async () => {
    fake.handle(() => ({ status: 200, json: shown('00'.repeat(32)) }));
    const io = capture();
    expect(await main(['approval', 'approve', 'ap-1'], io)).toBe(3);
    expect(fake.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /v1/approvals/ap-1']);
    expect(io.outText()).toContain('DOES NOT MATCH the change below: do not approve');
    expect(io.errText()).toBe(
      `keyward approval: ERR_APPROVAL_PASSKEY_REQUIRED: approving needs an owner's passkey, which the command line cannot hold; approve it in the console: ${fake.url.replace("127.0.0.1", "localhost")}/console/#/approvals/ap-1 — and its digest DOES NOT MATCH the change: do not approve it\n`,
    );
  });

  it('reject shows the digest check before it rejects', async () => {
    fake.handle((req) => (req.method === 'GET' ? { status: 200, json: shown('00'.repeat(32)) } : { status: 200, json: { approval: { ...approval('00'.repeat(32)), state: 'rejected' } } }));
    const io = capture();
    expect(await main(['approval', 'reject', 'ap-1'], io)).toBe(0);
    expect(fake.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /v1/approvals/ap-1', 'POST /v1/approvals/ap-1/reject']);
    expect(io.outText()).toBe(`digest: ${'00'.repeat(32)} (DOES NOT MATCH its change: do not approve)\napproval ap-1 (key.bind-policy) is rejected\n`);
  });
});

describe('consoleBase', () => {
  it('prefers KEYWARD_ORIGIN, else spells a loopback IP localhost (passkeys are refused at 127.0.0.1)', async () => {
    const { consoleBase } = await import('../../../src/cli/admin-http.js');
    expect(consoleBase({ baseUrl: 'http://127.0.0.1:8750' })).toBe('http://localhost:8750');
    expect(consoleBase({ baseUrl: 'http://127.0.0.1:8750', settings: { consoleOrigin: 'https://kms.example/' } })).toBe('https://kms.example');
    expect(consoleBase({ baseUrl: 'https://kms.internal:8443' })).toBe('https://kms.internal:8443');
  });
});
