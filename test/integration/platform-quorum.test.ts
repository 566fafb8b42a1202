// The platform quorum (KEYWARD_PLATFORM_QUORUM=2): a KEK rotation and trusting an uploaded signer answer 202
// with an approval and are applied, with every approver's audit row, only after two distinct platform admins
// signed the digest with their passkeys; a token can request but never approve; a quorum no set of enrolled
// platform admins can meet is refused.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS } from '../helpers/db.js';
import { startTestKeyward, type TestKeyward } from '../helpers/keyward.js';
import { approve, enrol, login, type Person, type Session } from '../helpers/people.js';
import { uploadRaw } from '../helpers/collateral.js';
import { canonicalJson } from '../../src/broker/audit.js';
import { createDevNrasKey } from '../../src/dev/nvidia-nras.js';

describe.each(DB_KINDS)('platform quorum on %s', (kind) => {
  let kw: TestKeyward;
  let root: { person: Person; session: Session };
  let second: { person: Person; session: Session };

  beforeAll(async () => {
    kw = await startTestKeyward(kind, { env: { KEYWARD_PLATFORM_QUORUM: '2' } });
    expect((await kw.request('POST', '/v1/keys', { body: { name: 'weights', kind: 'model' } })).statusCode).toBe(201);
    // No platform admin holds a passkey yet: a quorum of 2 cannot be met, so the request is refused.
    expect(kw.logs.some((l) => l.includes('"level":40') && l.includes('KEYWARD_PLATFORM_QUORUM exceeds'))).toBe(true);
    const early = await kw.request('POST', '/v1/kek/rotate');
    expect([early.statusCode, early.json().code]).toEqual([409, 'ERR_PLATFORM_QUORUM_UNREACHABLE']);
    const a = await kw.request('POST', '/v1/platform/members', { body: { name: 'root', role: 'admin' } });
    const rootPerson = await enrol(kw, a.json().enrolmentCode);
    root = { person: rootPerson, session: await login(kw, rootPerson) };
    const still = await root.session.request('POST', '/v1/kek/rotate', {});
    expect(still.json().code).toBe('ERR_PLATFORM_QUORUM_UNREACHABLE');
    const b = await root.session.request('POST', '/v1/platform/members', { name: 'second', role: 'admin' });
    expect(b.statusCode, b.body).toBe(201);
    const secondPerson = await enrol(kw, b.json().enrolmentCode);
    second = { person: secondPerson, session: await login(kw, secondPerson) };
  });
  afterAll(async () => kw?.close());

  it('rotates the KEK only after two platform admins approve; a token cannot approve', async () => {
    const before = (await root.session.request('GET', '/v1/kek')).json().items.find((k: { state: string }) => k.state === 'active');
    const requested = await root.session.request('POST', '/v1/kek/rotate', {});
    expect(requested.statusCode, requested.body).toBe(202);
    const approval = requested.json().approval;
    expect(approval).toMatchObject({ tenant: null, operation: 'kek.rotate', required: 2, approvedBy: [], state: 'pending' });
    const shown = (await second.session.request('GET', `/v1/approvals/${approval.id}`)).json();
    expect(createHash('sha256').update(canonicalJson(shown.change)).digest('hex')).toBe(approval.digest);
    expect(shown.change).toMatchObject({ tenant: null, from: { activeKek: before.id }, to: { target: null, uri: expect.stringMatching(/^file:.*kek-\d{8}T\d{6}$/) } });

    // Nothing changed yet: the same KEK is active.
    expect((await root.session.request('GET', '/v1/kek')).json().items.filter((k: { state: string }) => k.state === 'active').map((k: { id: string }) => k.id)).toEqual([before.id]);

    // A token minted by a platform admin can request, never approve.
    const token = (await root.session.request('POST', '/v1/tokens', { name: 'automation', role: 'admin' })).json().token as string;
    const byToken = await kw.request('POST', `/v1/approvals/${approval.id}/approve/options`, { token });
    expect([byToken.statusCode, byToken.json().code]).toEqual([403, 'ERR_APPROVAL_PASSKEY_REQUIRED']);

    const first = await approve(root.person, root.session, approval.id);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json().approval).toMatchObject({ state: 'pending', approvedBy: [root.person.userId] });
    const twice = await approve(root.person, root.session, approval.id);
    expect(twice.json().code).toBe('ERR_APPROVAL_ALREADY_APPROVED');

    const done = await approve(second.person, second.session, approval.id);
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json().approval).toMatchObject({ state: 'applied', approvedBy: [root.person.userId, second.person.userId] });
    expect(done.json().applied).toMatchObject({ from: before.id, to: expect.any(String), resumed: false, resealed: expect.any(Number) });
    expect(done.json().applied.resealed).toBeGreaterThanOrEqual(1);
    const keks = (await root.session.request('GET', '/v1/kek')).json().items as { id: string; state: string; versions: number }[];
    expect(keks.find((k) => k.id === before.id)?.state).toBe('retired');
    expect(keks.find((k) => k.id === done.json().applied.to)).toMatchObject({ state: 'active', versions: 1 });

    const audit = (await root.session.request('GET', '/v1/audit?limit=50')).json().items as { action: string; target: string; details: Record<string, unknown> }[];
    const signatures = audit.filter((e) => e.action === 'approval.signature' && e.target === approval.id);
    expect(signatures.map((e) => e.details['digest'])).toEqual([approval.digest, approval.digest]);
    expect(audit.find((e) => e.action === 'kek.rotate.start')?.details).toMatchObject({ from: before.id, approvalId: approval.id });
  });

  it('trusts an uploaded NRAS signer only after two platform admins approve', async () => {
    const signer = await createDevNrasKey({ kid: 'platform-quorum-signer' });
    const upload = await uploadRaw(kw, JSON.stringify({ keys: [signer.jwk] }), { contentType: 'application/jwk-set+json', token: (await root.session.request('POST', '/v1/tokens', { name: 'uploader', role: 'operator' })).json().token });
    expect(upload.statusCode, upload.body).toBe(201);
    const id = upload.json().items[0].id as string;
    const requested = await root.session.request('POST', `/v1/collateral/${id}/trust`);
    expect(requested.statusCode, requested.body).toBe(202);
    const approval = requested.json().approval;
    expect(approval).toMatchObject({ tenant: null, operation: 'collateral.trust', target: id, required: 2 });
    const change = (await second.session.request('GET', `/v1/approvals/${approval.id}`)).json().change;
    expect(change.to).toMatchObject({ kind: 'jwks', anchors: [{ spki: expect.stringMatching(/^[0-9a-f]{64}$/) }] });
    const item = async () => (await root.session.request('GET', '/v1/collateral?kind=jwks')).json().items.find((i: { id: string }) => i.id === id);
    expect((await item()).trustedBy).toBeNull();
    expect((await approve(root.person, root.session, approval.id)).json().approval.state).toBe('pending');
    expect((await item()).trustedBy).toBeNull();
    const done = await approve(second.person, second.session, approval.id);
    expect(done.json().approval.state, done.body).toBe('applied');
    expect(done.json().applied).toMatchObject({ id, trustedBy: `user:${second.person.userId}` });
    expect((await item()).trustedBy).toBe(`user:${second.person.userId}`);
  });

  it('fails a trust whose item changed before the quorum was reached, trusting nothing', async () => {
    const signer = await createDevNrasKey({ kid: 'platform-quorum-stale' });
    const operator = (await root.session.request('POST', '/v1/tokens', { name: 'uploader-2', role: 'operator' })).json().token as string;
    const upload = await uploadRaw(kw, JSON.stringify({ keys: [signer.jwk] }), { contentType: 'application/jwk-set+json', token: operator });
    const id = upload.json().items[0].id as string;
    const approval = (await root.session.request('POST', `/v1/collateral/${id}/trust`)).json().approval;
    expect((await approve(root.person, root.session, approval.id)).json().approval.state).toBe('pending');
    expect((await root.session.request('DELETE', `/v1/collateral/${id}`)).statusCode).toBe(200);
    const late = await approve(second.person, second.session, approval.id);
    expect([late.statusCode, late.json().code]).toEqual([409, 'ERR_APPROVAL_STALE']);
    expect((await root.session.request('GET', `/v1/approvals/${approval.id}`)).json().approval.state).toBe('failed');
  });
});
