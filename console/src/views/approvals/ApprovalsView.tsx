// Approvals inbox: pending changes, each shown as a readable diff; the console recomputes the change's
// digest (SHA-256 of its RFC 8785 canonical JSON) and asks for a passkey only when it matches the server's.
import { api, must } from '../../api/client';
import { has, NEEDS, type Capabilities } from '../../api/capabilities';
import type { Approval, Me } from '../../api/types';
import { auth } from '../../api/session';
import { ErrorBox, Loading, Section, Unavailable, useAction, useLoad } from '../../components/common';
import { canonicalJson, sha256Hex } from '../../lib/canonical';
import { show, when } from '../../lib/format';
import { getAssertion } from '../../lib/webauthn';
import { href } from '../../router';

export function ApprovalsView({ caps, id, me }: { caps: Capabilities; id: string | undefined; me: Me | null }) {
  if (!has(caps, 'approvals')) {
    return (
      <>
        <h1>Approvals</h1>
        <Unavailable what="The approvals inbox" routes={NEEDS.approvals} />
      </>
    );
  }
  return id ? <ApprovalDetail id={id} me={me} /> : <Inbox />;
}

function Inbox() {
  const list = useLoad(() => must(api.GET('/v1/approvals', { params: { query: { state: 'pending' } } })), []);
  return (
    <>
      <h1>Approvals</h1>
      <Section title="Pending changes">
        <ErrorBox error={list.error} />
        {!list.data && !list.error && <Loading />}
        {list.data?.items.length === 0 && <p class="muted">Nothing waits for approval.</p>}
        {list.data && list.data.items.length > 0 && (
          <table>
            <caption class="sr-only">Pending approvals</caption>
            <thead>
              <tr>
                <th scope="col">Operation</th>
                <th scope="col">Tenant</th>
                <th scope="col">Requested by</th>
                <th scope="col">Approvals</th>
                <th scope="col">Expires</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((a) => (
                <tr key={a.id}>
                  <th scope="row">
                    <a href={href('approvals', a.id)}>{a.operation}</a>
                  </th>
                  <td>{a.tenant ?? 'platform'}</td>
                  <td>{a.requestedBy}</td>
                  <td>
                    {a.approvedBy.length} of {a.required}
                  </td>
                  <td>{when(a.expiresAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
    </>
  );
}

type Flat = Map<string, string>;

function flatten(value: unknown, prefix = '', out: Flat = new Map()): Flat {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (Array.isArray(value) && value.some((v) => v !== null && typeof v === 'object')) {
    value.forEach((v, i) => flatten(v, `${prefix}[${i}]`, out));
  } else out.set(prefix || '(value)', show(value));
  return out;
}

/** The change's before and after, where it names them; otherwise all of it as "after". */
function sides(change: Record<string, unknown>): { before: unknown; after: unknown; context: Record<string, unknown> } {
  for (const [b, a] of [['from', 'to'], ['before', 'after'], ['current', 'proposed']] as const) {
    if (b in change || a in change) {
      const { [b]: before, [a]: after, ...context } = change;
      return { before, after, context };
    }
  }
  return { before: undefined, after: change, context: {} };
}

function Diff({ change }: { change: Record<string, unknown> }) {
  const { before, after, context } = sides(change);
  const b = flatten(before ?? {});
  const a = flatten(after ?? {});
  const paths = [...new Set([...b.keys(), ...a.keys()])].sort();
  return (
    <>
      {Object.keys(context).length > 0 && (
        <dl class="facts">
          {Object.entries(context).map(([k, v]) => (
            <div key={k}>
              <dt>{k}</dt>
              <dd class="mono">{show(v)}</dd>
            </div>
          ))}
        </dl>
      )}
      <table class="diff">
        <caption>What changes</caption>
        <thead>
          <tr>
            <th scope="col">Field</th>
            <th scope="col">Now</th>
            <th scope="col">After approval</th>
          </tr>
        </thead>
        <tbody>
          {paths.map((p) => {
            const was = b.get(p);
            const will = a.get(p);
            const kind = was === undefined ? 'added' : will === undefined ? 'removed' : was === will ? 'same' : 'changed';
            return (
              <tr key={p} class={`diff-${kind}`}>
                <th scope="row" class="mono">
                  {p}
                </th>
                <td class="mono">{was ?? '—'}</td>
                <td class="mono">
                  {will ?? '—'} {kind !== 'same' && <span class="sr-only">({kind})</span>}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </>
  );
}

/** A user id, or "you". */
function who(userId: string, me: Me | null): string {
  return me?.userId === userId ? `you (${me.name})` : userId;
}

/** The approval, the exact change JSON, and the digest recomputed here (RFC 8785 canonical JSON → SHA-256 hex). */
async function loadApproval(id: string): Promise<{ approval: Approval; change: Record<string, unknown>; digest: string; matches: boolean }> {
  const { approval, change } = await must(api.GET('/v1/approvals/{id}', { params: { path: { id } } }));
  const digest = await sha256Hex(canonicalJson(change));
  return { approval, change, digest, matches: digest === approval.digest };
}

function ApprovalDetail({ id, me }: { id: string; me: Me | null }) {
  const data = useLoad(() => loadApproval(id), [id]);
  const [run, busy, error] = useAction();
  const session = auth()?.kind === 'session';

  if (data.error) return <ErrorBox error={data.error} />;
  if (!data.data) return <Loading />;
  const { approval, change, digest, matches } = data.data;
  const path = { params: { path: { id } } };
  const mine = me !== null && approval.approvedBy.includes(me.userId);
  // The passkey signs a challenge the server derives from the digest; the console asks for it only after
  // the change it shows hashed to that digest.
  const approve = () =>
    run(async () => {
      const options = await must(api.POST('/v1/approvals/{id}/approve/options', path));
      const response = await getAssertion(options);
      await must(api.POST('/v1/approvals/{id}/approve', { ...path, body: { response } }));
      data.reload();
    });
  const reject = () =>
    run(async () => {
      await must(api.POST('/v1/approvals/{id}/reject', path));
      data.reload();
    });
  return (
    <>
      <p>
        <a href={href('approvals')}>← Inbox</a>
      </p>
      <h1>Approve: {approval.operation}</h1>
      <Section title="The change">
        <p>
          {approval.approvedBy.length} of {approval.required} approvals · state {approval.state} · tenant {approval.tenant ?? 'platform'} ·
          requested by {who(approval.requestedBy.replace(/^user:/, ''), me)} · expires {when(approval.expiresAt)}
        </p>
        {approval.approvedBy.length > 0 && <p>Approved by: {approval.approvedBy.map((u) => who(u, me)).join(', ')}</p>}
        <Diff change={change} />
        <details open>
          <summary>The change JSON (the digest is over its RFC 8785 canonical form)</summary>
          <pre class="mono change-json">{JSON.stringify(change, null, 2)}</pre>
        </details>
        <dl class="facts">
          <div>
            <dt>Digest from the server</dt>
            <dd class="mono">{approval.digest}</dd>
          </div>
          <div>
            <dt>Digest recomputed here</dt>
            <dd class="mono">{digest}</dd>
          </div>
        </dl>
        <p class={matches ? 'verdict allowed' : 'verdict denied'} role="status">
          {matches
            ? `Digest checked: this page shows exactly the change the server asks you to sign (${digest}).`
            : `Digest MISMATCH: the server says ${approval.digest}, the change shown hashes to ${digest}. Do not approve.`}
        </p>
      </Section>
      {approval.state === 'pending' ? (
        <Section title="Decide">
          {!session && <p class="muted">Approving needs a passkey session; API tokens can request changes, never approve them.</p>}
          {mine && <p class="muted">You have approved this change; it waits for another owner.</p>}
          <div class="row">
            <button type="button" class="primary" disabled={busy || !matches || !session || mine} onClick={approve}>
              Approve with passkey
            </button>
            <button type="button" class="danger" disabled={busy} onClick={reject}>
              Reject
            </button>
          </div>
          <ErrorBox error={error} />
        </Section>
      ) : (
        <p role="status" class={approval.state === 'applied' ? 'ok' : 'muted'}>
          {approval.state === 'applied' ? 'Applied: the quorum of owners approved this change and keyward made it.' : `This change is ${approval.state}.`}
        </p>
      )}
    </>
  );
}
