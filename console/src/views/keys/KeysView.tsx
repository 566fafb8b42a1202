// Keys: list and create; one key's versions, state changes, destruction, bound policy and anomaly-alert hold.
import { useState } from 'preact/hooks';
import { api, must } from '../../api/client';
import { has, NEEDS, type Capabilities } from '../../api/capabilities';
import type { Approval, Key, KeyKind } from '../../api/types';
import { approvalOf, ErrorBox, Loading, Section, useAction, useLoad, WaitingApproval } from '../../components/common';
import { when, short } from '../../lib/format';
import { go, href } from '../../router';

export function KeysView({ caps, id }: { caps: Capabilities; id: string | undefined }) {
  return id ? <KeyDetail caps={caps} id={id} /> : <KeyList />;
}

function KeyList() {
  const keys = useLoad(() => must(api.GET('/v1/keys', { params: { query: { limit: 500 } } })), []);
  const [name, setName] = useState('');
  const [kind, setKind] = useState<KeyKind>('model');
  const [description, setDescription] = useState('');
  const [run, busy, error] = useAction();

  const create = (e: Event) => {
    e.preventDefault();
    return run(async () => {
      const key = await must(api.POST('/v1/keys', { body: { name: name.trim(), kind, ...(description ? { description } : {}) } }));
      go('keys', key.id);
    });
  };

  return (
    <>
      <h1>Keys</h1>
      <Section title="Create a key">
        <form onSubmit={create} class="row">
          <div class="field">
            <label for="key-name">Name</label>
            <input id="key-name" value={name} onInput={(e) => setName(e.currentTarget.value)} required pattern="[A-Za-z0-9][A-Za-z0-9._\-]{0,127}" />
          </div>
          <div class="field">
            <label for="key-kind">Kind</label>
            <select id="key-kind" value={kind} onChange={(e) => setKind(e.currentTarget.value as KeyKind)}>
              <option value="model">model</option>
              <option value="dataset">dataset</option>
              <option value="generic">generic</option>
            </select>
          </div>
          <div class="field grow">
            <label for="key-description">Description (optional)</label>
            <input id="key-description" value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
          </div>
          <button type="submit" class="primary" disabled={busy}>
            Create key
          </button>
        </form>
        <ErrorBox error={error} />
      </Section>
      <Section title="All keys">
        {keys.loading && !keys.data ? <Loading /> : null}
        <ErrorBox error={keys.error} />
        {keys.data && keys.data.items.length === 0 && <p class="muted">No keys yet.</p>}
        {keys.data && keys.data.items.length > 0 && (
          <table>
            <caption class="sr-only">Keys</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Kind</th>
                <th scope="col">State</th>
                <th scope="col">Version</th>
                <th scope="col">Policy</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {keys.data.items.map((k) => (
                <tr key={k.id}>
                  <th scope="row">
                    <a href={href('keys', k.id)}>{k.name}</a>
                  </th>
                  <td>{k.kind}</td>
                  <td>
                    <span class={`badge ${k.state}`}>{k.state}</span>
                  </td>
                  <td>{k.version}</td>
                  <td>{k.policyId ? <a href={href('policies', k.policyId)}>{short(k.policyId)}</a> : <span class="muted">none (never released)</span>}</td>
                  <td>{when(k.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
    </>
  );
}

function KeyDetail({ caps, id }: { caps: Capabilities; id: string }) {
  const key = useLoad(() => must(api.GET('/v1/keys/{id}', { params: { path: { id } } })), [id]);
  const versions = useLoad(() => must(api.GET('/v1/keys/{id}/versions', { params: { path: { id } } })), [id]);
  const policies = useLoad(() => must(api.GET('/v1/policies', { params: { query: { limit: 500 } } })), []);
  const [run, busy, error] = useAction();
  const [chosen, setPolicyId] = useState<string | null>(null);
  const [pendingDays, setPendingDays] = useState(7);
  const [confirmDestroy, setConfirmDestroy] = useState(false);
  const [waiting, setWaiting] = useState<Approval | null>(null);

  // Above quorum 1 a binding, enabling or destroying answers 202 with the approval it waits for.
  const act = (fn: () => Promise<unknown>) =>
    run(async () => {
      setWaiting(approvalOf(await fn()));
      key.reload();
      versions.reload();
    });

  if (key.error) return <ErrorBox error={key.error} />;
  if (!key.data) return <Loading />;
  const k: Key = key.data;
  const path = { params: { path: { id } } };
  const boundPolicy = policies.data?.items.find((p) => p.id === k.policyId);
  const scheduled = has(caps, 'scheduleDestroy');
  const policyId = chosen ?? k.policyId ?? '';

  return (
    <>
      <p>
        <a href={href('keys')}>← All keys</a>
      </p>
      <h1>
        Key <span class="mono">{k.name}</span>
      </h1>
      <WaitingApproval approval={waiting} />
      <Section title="Details">
        <dl class="facts">
          <dt>ID</dt>
          <dd class="mono">{k.id}</dd>
          <dt>Kind</dt>
          <dd>{k.kind}</dd>
          <dt>State</dt>
          <dd>
            <span class={`badge ${k.state}`}>{k.state}</span>
            {k.held ? <span class="badge disabled">held by {k.held.alert} since {when(k.held.since)}</span> : null}
          </dd>
          <dt>Origin</dt>
          <dd>{k.origin}</dd>
          <dt>Current version</dt>
          <dd>{k.version}</dd>
          <dt>Description</dt>
          <dd>{k.description || '—'}</dd>
          <dt>Created</dt>
          <dd>{when(k.createdAt)}</dd>
        </dl>
        <p>
          <a href={href('releases', k.id)}>Releases and denials of this key</a> · <a href={href('audit', undefined, { target: k.id })}>Audit events</a>
        </p>
      </Section>
      <Section title="Release policy">
        <p>
          Bound policy:{' '}
          {k.policyId ? (
            <a href={href('policies', k.policyId)}>{boundPolicy ? `${boundPolicy.name} (v${boundPolicy.version})` : k.policyId}</a>
          ) : (
            <strong>none — this key is never released</strong>
          )}
        </p>
        {k.state !== 'destroyed' && (
          <form
            class="row"
            onSubmit={(e) => {
              e.preventDefault();
              void act(() => must(api.PUT('/v1/keys/{id}/policy', { ...path, body: { policyId: policyId || null } })));
            }}
          >
            <div class="field grow">
              <label for="bind-policy">Bind to policy</label>
              <select id="bind-policy" value={policyId} onChange={(e) => setPolicyId(e.currentTarget.value)}>
                <option value="">— none (unbind) —</option>
                {policies.data?.items.map((p) => (
                  <option key={p.id} value={p.id}>
                    {p.name} (v{p.version})
                  </option>
                ))}
              </select>
            </div>
            <button type="submit" disabled={busy}>
              {policyId ? 'Bind policy' : 'Unbind'}
            </button>
          </form>
        )}
      </Section>
      <Section title="Versions">
        <ErrorBox error={versions.error} />
        {versions.data && (
          <table>
            <caption class="sr-only">Key versions</caption>
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">State</th>
                <th scope="col">Created</th>
                <th scope="col">Destroyed</th>
              </tr>
            </thead>
            <tbody>
              {versions.data.items.map((v) => (
                <tr key={v.version}>
                  <td>{v.version}</td>
                  <td>{v.state}</td>
                  <td>{when(v.createdAt)}</td>
                  <td>{when(v.destroyedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      {k.state !== 'destroyed' && has(caps, 'alertHold') && (
        <Section title="Anomaly alerts">
          <p class="muted">
            With the hold on, an alert about a release of this key (a TEE never seen for it, a burst over its usual rate) holds the key: releases are
            refused until an owner lifts the hold (under the tenant's quorum).
          </p>
          <div class="row">
            <label class="check">
              <input
                type="checkbox"
                checked={k.alertHold === true}
                disabled={busy}
                onChange={(e) => {
                  const alertHold = e.currentTarget.checked;
                  void act(() => must(api.PATCH('/v1/keys/{id}', { ...path, body: { alertHold } })));
                }}
              />{' '}
              Hold the key when a release alert is raised
            </label>
            {k.held ? (
              <button type="button" disabled={busy} onClick={() => act(() => must(api.POST('/v1/keys/{id}/lift-hold', path)))}>
                Lift the hold
              </button>
            ) : null}
          </div>
        </Section>
      )}
      {k.state !== 'destroyed' && (
        <Section title="Actions">
          <div class="row">
            <button type="button" disabled={busy || k.state !== 'active'} onClick={() => act(() => must(api.POST('/v1/keys/{id}/rotate', path)))}>
              Rotate (add a version)
            </button>
            {k.state === 'active' ? (
              <button type="button" disabled={busy} onClick={() => act(() => must(api.POST('/v1/keys/{id}/disable', path)))}>
                Disable
              </button>
            ) : (
              <button type="button" disabled={busy} onClick={() => act(() => must(api.POST('/v1/keys/{id}/enable', path)))}>
                Enable
              </button>
            )}
          </div>
          <h3>Destruction</h3>
          {scheduled ? (
            <div class="row">
              <div class="field">
                <label for="pending-days">Waiting period (days, 7–30)</label>
                <input id="pending-days" type="number" min={7} max={30} value={pendingDays} onInput={(e) => setPendingDays(Number(e.currentTarget.value))} />
              </div>
              <button type="button" class="danger" disabled={busy} onClick={() => act(() => must(api.POST('/v1/keys/{id}/schedule-destroy', { ...path, body: { pendingDays } })))}>
                Schedule destruction
              </button>
              <button type="button" disabled={busy} onClick={() => act(() => must(api.POST('/v1/keys/{id}/cancel-destroy', path)))}>
                Cancel destruction
              </button>
            </div>
          ) : (
            <>
              <p class="muted">
                This server has no scheduled destruction (<code>{NEEDS.scheduleDestroy.join(', ')}</code>); destroying erases the key
                material now and cannot be undone.
              </p>
              <label class="check">
                <input type="checkbox" checked={confirmDestroy} onChange={(e) => setConfirmDestroy(e.currentTarget.checked)} /> I understand: destroy{' '}
                {k.name} now
              </label>
              <button
                type="button"
                class="danger"
                disabled={busy || !confirmDestroy || !has(caps, 'destroyNow')}
                onClick={() => act(() => must(api.DELETE('/v1/keys/{id}', path)))}
              >
                Destroy now
              </button>
            </>
          )}
          <ErrorBox error={error} />
        </Section>
      )}
    </>
  );
}
