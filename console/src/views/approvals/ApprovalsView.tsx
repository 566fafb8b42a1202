// Approvals inbox: pending changes, each shown as a readable diff; the console recomputes the change's
// digest (SHA-256 of its RFC 8785 canonical JSON) and asks for a passkey only when it matches the server's.
import { call } from '../../api/client';
import { has, NEEDS, type Capabilities } from '../../api/capabilities';
import type { Approval } from '../../api/pending';
import { auth } from '../../api/session';
import { ErrorBox, Loading, Section, Unavailable, useAction, useLoad } from '../../components/common';
import { canonicalJson, sha256Hex } from '../../lib/canonical';
import { show, when } from '../../lib/format';
import { getAssertion } from '../../lib/webauthn';
import { href } from '../../router';

export function ApprovalsView({ caps, id }: { caps: Capabilities; id: string | undefined }) {
  if (!has(caps, 'approvals')) {
    return (
      <>
        <h1>Approvals</h1>
        <Unavailable what="The approvals inbox" routes={NEEDS.approvals} />
      </>
    );
  }
  return id ? <ApprovalDetail id={id} /> : <Inbox />;
}

function Inbox() {
  const list = useLoad(() => call<{ items: Approval[] }>('GET', '/v1/approvals?state=pending'), []);
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

function ApprovalDetail({ id }: { id: string }) {
  const data = useLoad(async () => {
    const res = await call<Record<string, unknown>>('GET', `/v1/approvals/${encodeURIComponent(id)}`);
    const approval = ((res['approval'] as Approval | undefined) ?? res) as Approval;
    const change = (res['change'] ?? approval.change) as Record<string, unknown> | undefined;
    if (!change || typeof change !== 'object') throw new Error('The server sent no change to approve.');
    const digest = await sha256Hex(canonicalJson(change));
    return { approval, change, digest, matches: digest === approval.digest };
  }, [id]);
  const [run, busy, error] = useAction();
  const session = auth()?.kind === 'session';

  if (data.error) return <ErrorBox error={data.error} />;
  if (!data.data) return <Loading />;
  const { approval, change, digest, matches } = data.data;
  const base = `/v1/approvals/${encodeURIComponent(id)}`;
  const approve = () =>
    run(async () => {
      const options = await call<Record<string, unknown>>('POST', `${base}/approve/options`, {});
      await call('POST', `${base}/approve`, await getAssertion(options));
      data.reload();
    });
  const reject = () =>
    run(async () => {
      await call('POST', `${base}/reject`, {});
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
          {approval.approvedBy.length} of {approval.required} approvals · state {approval.state} · expires {when(approval.expiresAt)}
        </p>
        <Diff change={change} />
        <p class={matches ? 'verdict allowed' : 'verdict denied'} role="status">
          {matches
            ? `Digest checked: this page shows exactly the change the server asks you to sign (${digest}).`
            : `Digest MISMATCH: the server says ${approval.digest}, the change shown hashes to ${digest}. Do not approve.`}
        </p>
      </Section>
      {approval.state === 'pending' && (
        <Section title="Decide">
          {!session && <p class="muted">Approving needs a passkey session; API tokens can request changes, never approve them.</p>}
          <div class="row">
            <button type="button" class="primary" disabled={busy || !matches || !session} onClick={approve}>
              Approve with passkey
            </button>
            <button type="button" class="danger" disabled={busy} onClick={reject}>
              Reject
            </button>
          </div>
          <ErrorBox error={error} />
        </Section>
      )}
    </>
  );
}
