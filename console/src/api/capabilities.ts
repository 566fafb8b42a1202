// Which routes this server has: read from its own openapi.yaml (public, and kept equal to the served routes
// by the server's contract test), so the console never probes a route with a request that could 404.
export type Capabilities = ReadonlySet<string>;

/** `METHOD /path/{param}` of every operation in an OpenAPI document's `paths` (block-style YAML). */
export function operationsOf(yaml: string): Set<string> {
  const out = new Set<string>();
  let inPaths = false;
  let path: string | null = null;
  for (const line of yaml.split('\n')) {
    if (/^paths:\s*$/.test(line)) {
      inPaths = true;
      continue;
    }
    if (!inPaths) continue;
    if (/^\S/.test(line)) break;
    const p = /^ {2}(\/[^\s:]*):\s*$/.exec(line) ?? /^ {2}'(\/[^']*)':\s*$/.exec(line);
    if (p?.[1]) {
      path = p[1];
      continue;
    }
    const m = /^ {4}(get|put|post|patch|delete):/.exec(line);
    if (m?.[1] && path) out.add(`${m[1].toUpperCase()} ${path}`);
  }
  return out;
}

export async function loadCapabilities(): Promise<Capabilities> {
  const res = await fetch('/openapi.yaml', { credentials: 'omit' });
  return res.ok ? operationsOf(await res.text()) : new Set();
}

/** The operations each optional part of the console needs. */
export const NEEDS = {
  passkeyLogin: ['POST /v1/auth/login/options', 'POST /v1/auth/login/verify'],
  passkeyEnrol: ['POST /v1/auth/passkeys/register/options', 'POST /v1/auth/passkeys/register/verify'],
  me: ['GET /v1/auth/me'],
  logout: ['POST /v1/auth/logout'],
  tenants: ['GET /v1/tenants', 'POST /v1/tenants'],
  members: ['POST /v1/tenants/{t}/members'],
  approvals: ['GET /v1/approvals', 'GET /v1/approvals/{id}', 'POST /v1/approvals/{id}/approve/options', 'POST /v1/approvals/{id}/approve', 'POST /v1/approvals/{id}/reject'],
  releases: ['GET /v1/keys/{id}/releases'],
  scheduleDestroy: ['POST /v1/keys/{id}/schedule-destroy', 'POST /v1/keys/{id}/cancel-destroy'],
  destroyNow: ['DELETE /v1/keys/{id}'],
  alertHold: ['POST /v1/keys/{id}/lift-hold'],
} as const satisfies Record<string, readonly string[]>;

export type Feature = keyof typeof NEEDS;

export function has(caps: Capabilities, feature: Feature): boolean {
  return NEEDS[feature].every((op) => caps.has(op) || caps.has(op.replace('{t}', '{tenant}')));
}
