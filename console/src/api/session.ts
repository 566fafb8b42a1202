// How the console authenticates. A passkey login gives an HttpOnly session cookie (the browser sends it)
// and a CSRF token the console echoes on writes; an API token (automation, development) is kept for this
// tab only (sessionStorage) and sent as a Bearer token. The server decides what either may do.
const KEY = 'keyward.auth';

export type Auth = { kind: 'token'; token: string } | { kind: 'session'; csrf: string } | null;

let current: Auth = null;

export function restoreAuth(): Auth {
  try {
    const saved = JSON.parse(sessionStorage.getItem(KEY) ?? 'null') as Auth;
    current = saved && (saved.kind === 'token' || saved.kind === 'session') ? saved : null;
  } catch {
    current = null;
  }
  return current;
}

/** Keeps the credential for this tab only; the session cookie itself is HttpOnly and never readable here. */
export function setAuth(auth: Auth): void {
  current = auth;
  if (auth) sessionStorage.setItem(KEY, JSON.stringify(auth));
  else sessionStorage.removeItem(KEY);
}

export function auth(): Auth {
  return current;
}

/** Headers that authenticate a request of `method`. */
export function authHeaders(method: string): Record<string, string> {
  if (current?.kind === 'token') return { authorization: `Bearer ${current.token}` };
  if (current?.kind === 'session' && !['GET', 'HEAD'].includes(method.toUpperCase())) return { 'x-keyward-csrf': current.csrf };
  return {};
}
