// Tenants and their members: create a tenant, invite an owner or auditor and hand over the enrolment code.
import { useState } from 'preact/hooks';
import { api, must } from '../../api/client';
import { has, NEEDS, type Capabilities } from '../../api/capabilities';
import type { Invite, PendingChange } from '../../api/types';
import { ErrorBox, Loading, Section, Unavailable, useAction, useLoad } from '../../components/common';
import { when } from '../../lib/format';
import { href } from '../../router';

export function TenantsView({ caps }: { caps: Capabilities }) {
  if (!has(caps, 'tenants')) {
    return (
      <>
        <h1>Tenants and members</h1>
        <Unavailable what="Tenants" routes={NEEDS.tenants} />
      </>
    );
  }
  return <Tenants canInvite={has(caps, 'members')} />;
}

function Tenants({ canInvite }: { canInvite: boolean }) {
  const list = useLoad(() => must(api.GET('/v1/tenants')), []);
  const [name, setName] = useState('');
  const [quorum, setQuorum] = useState(1);
  const [run, busy, error] = useAction();
  const create = (e: Event) => {
    e.preventDefault();
    return run(async () => {
      await must(api.POST('/v1/tenants', { body: { name: name.trim(), quorum } }));
      setName('');
      list.reload();
    });
  };
  return (
    <>
      <h1>Tenants and members</h1>
      <Section title="Create a tenant">
        <form class="row" onSubmit={create}>
          <div class="field grow">
            <label for="tenant-name">Name</label>
            <input id="tenant-name" value={name} onInput={(e) => setName(e.currentTarget.value)} required />
          </div>
          <div class="field">
            <label for="tenant-quorum">Quorum (owners who must approve)</label>
            <input id="tenant-quorum" type="number" min={1} value={quorum} onInput={(e) => setQuorum(Number(e.currentTarget.value))} />
          </div>
          <button type="submit" class="primary" disabled={busy}>
            Create tenant
          </button>
        </form>
        <ErrorBox error={error} />
      </Section>
      <Section title="Tenants">
        <ErrorBox error={list.error} />
        {!list.data && !list.error && <Loading />}
        <ul class="tenants">
          {list.data?.items.map((t) => (
            <li key={t.name} class="card">
              <h3>{t.name}</h3>
              <p class="muted">
                Quorum {t.quorum} · created {when(t.createdAt)}
                {t.role && ` · you are ${t.role}`}
              </p>
              {canInvite ? <Invite tenant={t.name} /> : <p class="muted">Inviting members is not available on this server.</p>}
            </li>
          ))}
        </ul>
      </Section>
    </>
  );
}

function Invite({ tenant }: { tenant: string }) {
  const [name, setName] = useState('');
  const [role, setRole] = useState<'owner' | 'auditor'>('owner');
  const [invitation, setInvitation] = useState<Invite | PendingChange | null>(null);
  const [run, busy, error] = useAction();
  const id = tenant.replace(/[^A-Za-z0-9_-]/g, '_');
  const invite = (e: Event) => {
    e.preventDefault();
    return run(async () => setInvitation(await must(api.POST('/v1/tenants/{tenant}/members', { params: { path: { tenant } }, body: { name: name.trim(), role } }))));
  };
  return (
    <>
      <form class="row" onSubmit={invite} aria-label={`Invite a member to ${tenant}`}>
        <div class="field grow">
          <label for={`invite-${id}-name`}>Member name</label>
          <input id={`invite-${id}-name`} value={name} onInput={(e) => setName(e.currentTarget.value)} required />
        </div>
        <div class="field">
          <label for={`invite-${id}-role`}>Role</label>
          <select id={`invite-${id}-role`} value={role} onChange={(e) => setRole(e.currentTarget.value as 'owner' | 'auditor')}>
            <option value="owner">owner</option>
            <option value="auditor">auditor</option>
          </select>
        </div>
        <button type="submit" disabled={busy}>
          Invite
        </button>
      </form>
      <ErrorBox error={error} />
      {invitation && <Invited invitation={invitation} name={name} />}
    </>
  );
}

/** The enrolment code to hand over; above quorum 1 the invite itself first waits for the owners' approvals. */
function Invited({ invitation, name }: { invitation: Invite | PendingChange; name: string }) {
  const pending = 'approval' in invitation ? invitation.approval : null;
  return (
    <div role="status" class="ok">
      {pending && (
        <p>
          The invite waits for approval <a href={href('approvals', pending.id)}>{pending.operation}</a>: {pending.required} owners must sign
          it; the code works once it is applied.
        </p>
      )}
      {invitation.enrolmentCode && (
        <>
          <p>
            Hand this enrolment code to {name || 'the member'} over a channel you trust. It works once
            {'expiresAt' in invitation ? `, until ${when(invitation.expiresAt)}` : ''}:
          </p>
          <p class="code mono">{invitation.enrolmentCode}</p>
        </>
      )}
    </div>
  );
}
