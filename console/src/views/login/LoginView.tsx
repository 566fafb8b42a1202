// Login: a passkey (people), or an API token (automation and development; kept for this tab only).
import { useState } from 'preact/hooks';
import { api, must } from '../../api/client';
import { has, NEEDS, type Capabilities } from '../../api/capabilities';
import { ApiError } from '../../api/problem';
import { setAuth, type Auth } from '../../api/session';
import { ErrorBox, useAction } from '../../components/common';
import { createCredential, getAssertion, supported } from '../../lib/webauthn';

export function LoginView({ caps, onLogin }: { caps: Capabilities; onLogin: (a: Auth) => void }) {
  const [token, setToken] = useState('');
  const [code, setCode] = useState('');
  const [run, busy, error, setError] = useAction();
  const passkeys = has(caps, 'passkeyLogin');
  const enrol = has(caps, 'passkeyEnrol');

  /** Options → the browser's passkey prompt → the assertion; the server sets the session cookie and answers its CSRF token. */
  const logInWithPasskey = async () => {
    setAuth(null);
    const options = await must(api.POST('/v1/auth/login/options'));
    const response = await getAssertion(options);
    const { csrfToken } = await must(api.POST('/v1/auth/login/verify', { body: { response } }));
    const a: Auth = { kind: 'session', csrf: csrfToken };
    setAuth(a);
    onLogin(a);
  };

  const passkeyLogin = () => run(logInWithPasskey);

  // The enrolment code names the invited user; the server consumes it only once the new passkey verifies.
  const enrolPasskey = (e: Event) => {
    e.preventDefault();
    return run(async () => {
      const options = await must(api.POST('/v1/auth/passkeys/register/options', { body: { enrolmentCode: code.trim() } }));
      const response = await createCredential(options);
      await must(api.POST('/v1/auth/passkeys/register/verify', { body: { response } }));
      setCode('');
      await logInWithPasskey();
    });
  };

  const tokenLogin = (e: Event) => {
    e.preventDefault();
    return run(async () => {
      const value = token.trim();
      if (!value) throw new Error('Enter an API token.');
      setAuth({ kind: 'token', token: value });
      const { response } = await api.GET('/v1/keys', { params: { query: { limit: 1 } } });
      // 403 means the token is valid but may not list keys: it can still use the views it has scopes for.
      if (response.status === 401) {
        setAuth(null);
        throw new ApiError({ status: 401, code: 'ERR_AUTH_INVALID', detail: 'The server did not accept this token.' });
      }
      const a: Auth = { kind: 'token', token: value };
      onLogin(a);
    });
  };

  return (
    <main id="main" class="login" tabIndex={-1}>
      <h1>keyward console</h1>
      <section aria-labelledby="passkey-heading" class="card">
        <h2 id="passkey-heading">Log in with a passkey</h2>
        {passkeys ? (
          <>
            <button type="button" class="primary" onClick={passkeyLogin} disabled={busy || !supported()}>
              Log in with a passkey
            </button>
            {!supported() && <p class="muted">This browser does not support passkeys.</p>}
            {enrol && (
              <form onSubmit={enrolPasskey} class="stack">
                <label for="enrolment-code">Enrolment code (from your invitation)</label>
                <input id="enrolment-code" value={code} onInput={(e) => setCode(e.currentTarget.value)} autoComplete="one-time-code" required />
                <button type="submit" disabled={busy}>
                  Create my passkey
                </button>
              </form>
            )}
          </>
        ) : (
          <p class="muted" id="passkey-unavailable">
            Passkey login is not available on this server yet (it does not serve <code>{NEEDS.passkeyLogin.join(', ')}</code>).
          </p>
        )}
      </section>
      <section aria-labelledby="token-heading" class="card">
        <h2 id="token-heading">API token — for automation and development</h2>
        <p class="muted">
          The token stays in this tab only (session storage) and is sent as a Bearer token. People should use passkeys where the
          server offers them.
        </p>
        <form onSubmit={tokenLogin} class="stack">
          <label for="api-token">API token</label>
          <input id="api-token" type="password" value={token} onInput={(e) => setToken(e.currentTarget.value)} autoComplete="off" spellcheck={false} />
          <button type="submit" class="primary" disabled={busy}>
            Log in with token
          </button>
        </form>
      </section>
      <ErrorBox error={error} />
      {error !== null && (
        <button type="button" class="link" onClick={() => setError(null)}>
          Dismiss
        </button>
      )}
    </main>
  );
}
