// The console shell: who is logged in, what this server offers, and one view per route.
import { useEffect, useRef, useState } from 'preact/hooks';
import { loadCapabilities, type Capabilities } from './api/capabilities';
import { auth, restoreAuth, setAuth, type Auth } from './api/session';
import { api, must, onUnauthenticated } from './api/client';
import { has } from './api/capabilities';
import { useRoute, href } from './router';
import { LoginView } from './views/login/LoginView';
import { KeysView } from './views/keys/KeysView';
import { PoliciesView } from './views/policies/PoliciesView';
import { ApprovalsView } from './views/approvals/ApprovalsView';
import { ReleasesView } from './views/releases/ReleasesView';
import { CollateralView } from './views/collateral/CollateralView';
import { AuditView } from './views/audit/AuditView';
import { TenantsView } from './views/tenants/TenantsView';
import { Loading } from './components/common';
import type { Me } from './api/types';

const NAV: { view: string; label: string }[] = [
  { view: 'keys', label: 'Keys' },
  { view: 'policies', label: 'Policies' },
  { view: 'releases', label: 'Releases & denials' },
  { view: 'approvals', label: 'Approvals' },
  { view: 'tenants', label: 'Tenants' },
  { view: 'collateral', label: 'Collateral' },
  { view: 'audit', label: 'Audit log' },
];

export function App() {
  const [caps, setCaps] = useState<Capabilities | null>(null);
  const [who, setWho] = useState<Auth>(restoreAuth());
  const route = useRoute();

  useEffect(() => {
    loadCapabilities().then(setCaps, () => setCaps(new Set()));
    // An expired or revoked credential sends the user back to the login page.
    onUnauthenticated(() => {
      setAuth(null);
      setWho(null);
    });
  }, []);

  // After a navigation (not on the first page load), focus moves to the new view for screen readers.
  const firstView = useRef(true);
  useEffect(() => {
    if (firstView.current) {
      firstView.current = false;
      return;
    }
    document.getElementById('main')?.focus({ preventScroll: true });
  }, [route.view]);

  const [me, setMe] = useState<Me | null>(null);
  useEffect(() => {
    setMe(null);
    if (caps && who?.kind === 'session' && has(caps, 'me')) must(api.GET('/v1/auth/me')).then(setMe, () => undefined);
  }, [caps, who]);

  if (!caps) return <Loading />;
  if (!who) return <LoginView caps={caps} onLogin={setWho} />;

  const logout = async () => {
    if (auth()?.kind === 'session' && has(caps, 'logout')) await must(api.POST('/v1/auth/logout')).catch(() => undefined);
    setAuth(null);
    setWho(null);
  };
  const view = route.view;
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
        Skip to content
      </a>
      <header class="top">
        <span class="brand">keyward console</span>
        <span class="who">
          {who.kind === 'token'
            ? 'API token (automation / development)'
            : `Passkey session${me ? `: ${me.name}${me.tenants.length ? ` (${me.tenants.map((t) => `${t.role} of ${t.tenant}`).join(', ')})` : ''}` : ''}`}
          <button type="button" class="link" onClick={logout}>
            Log out
          </button>
        </span>
      </header>
      <div class="layout">
        <nav aria-label="Main">
          <ul>
            {NAV.map((n) => (
              <li key={n.view}>
                <a href={href(n.view)} aria-current={view === n.view ? 'page' : undefined}>
                  {n.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <main id="main" tabIndex={-1}>
          {view === 'keys' && <KeysView caps={caps} id={route.id} />}
          {view === 'policies' && <PoliciesView id={route.id} />}
          {view === 'releases' && <ReleasesView caps={caps} keyId={route.id} />}
          {view === 'approvals' && <ApprovalsView caps={caps} id={route.id} me={me} />}
          {view === 'tenants' && <TenantsView caps={caps} />}
          {view === 'collateral' && <CollateralView />}
          {view === 'audit' && <AuditView target={route.query.get('target') ?? undefined} />}
          {!NAV.some((n) => n.view === view) && (
            <>
              <h1>Not found</h1>
              <p>
                No view “{view}”. <a href={href('keys')}>Go to keys</a>.
              </p>
            </>
          )}
        </main>
      </div>
    </>
  );
}
