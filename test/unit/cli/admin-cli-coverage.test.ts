// The admin CLI covers every admin route: each route of openapi.yaml has a row in docs/admin-cli.md's
// "Every admin route and its command" table (or is excluded below, with its reason), each row names a
// route the API has, and each row's command is one `keyward --help` lists.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { USAGE } from '../../../src/cli/main.js';

const METHODS = ['get', 'put', 'post', 'patch', 'delete'];

/** Routes no admin command calls, and why (docs/admin-cli.md lists them too). */
const EXCLUDED: Record<string, string> = {
  'POST /v1/challenge': 'workload release protocol (keyward agent, unseal)',
  'POST /v1/attest': 'workload release protocol (keyward agent, unseal)',
  'POST /v1/keys/{id}/release': 'workload release protocol (keyward agent, unseal)',
  'POST /v1/release': 'workload release protocol (keyward agent, unseal)',
  'GET /.well-known/jwks.json': 'workload release protocol: the attestation token signers',
  'POST /v1/auth/passkeys/register/options': 'WebAuthn ceremony: a passkey in a browser',
  'POST /v1/auth/passkeys/register/verify': 'WebAuthn ceremony: a passkey in a browser',
  'POST /v1/auth/login/options': 'WebAuthn ceremony: a passkey in a browser',
  'POST /v1/auth/login/verify': 'WebAuthn ceremony: a passkey in a browser',
  'POST /v1/approvals/{id}/approve/options': 'WebAuthn ceremony: a passkey in a browser',
  'POST /v1/auth/logout': 'ends a console session cookie; tokens end with token revoke',
  'GET /console/': "the web console's files",
  'GET /console/{file}': "the web console's files",
  'GET /openapi.yaml': 'the contract itself, read by tools',
  'POST /v1/keys/import': "tenant default's shared import: keyward import uses per-key single-use parameters",
  'GET /v1/import-key': "tenant default's shared import: keyward import uses per-key single-use parameters",
};


function apiRoutes(): string[] {
  const doc = parse(readFileSync('openapi.yaml', 'utf8')) as { paths: Record<string, Record<string, unknown>> };
  return Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).filter((m) => METHODS.includes(m)).map((m) => `${m.toUpperCase()} ${path}`));
}

/** `route → command` of the docs table: rows `| \`METHOD /path\` | \`keyward ...\` | notes |`. */
function documentedRoutes(): Map<string, string> {
  const docs = readFileSync('docs/admin-cli.md', 'utf8');
  const table = docs.slice(docs.indexOf('## Every admin route and its command'));
  const rows = new Map<string, string>();
  for (const m of table.matchAll(/^\| `((?:GET|PUT|POST|PATCH|DELETE) [^`]+)` \| `keyward ([^`]+)` \|/gm)) rows.set(m[1]!, m[2]!);
  return rows;
}

/** `group sub` (or `group`) for every command line of USAGE: `  key show|versions ID` → key show, key versions. */
function usageCommands(): Set<string> {
  const commands = new Set<string>();
  for (const m of USAGE.matchAll(/^ {2}([a-z][a-z-]*)(?: ([a-z][a-z|-]*))?/gm)) {
    if (m[2] === undefined) commands.add(m[1]!);
    else for (const sub of m[2].split('|')) commands.add(`${m[1]} ${sub}`);
  }
  return commands;
}

describe('the admin CLI covers every admin route', () => {
  const routes = apiRoutes();
  const documented = documentedRoutes();

  it('reads a real table and a real API (the parsers find what they should)', () => {
    expect(routes).toContain('GET /v1/keys/{id}/releases');
    expect(documented.get('GET /v1/keys/{id}/releases')).toBe('key releases ID');
    expect(documented.size).toBeGreaterThan(40);
    expect(usageCommands()).toContain('key cancel-destroy');
  });

  it('every admin route of openapi.yaml has a command row in docs/admin-cli.md', () => {
    const missing = routes.filter((r) => !documented.has(r) && !(r in EXCLUDED));
    expect(missing, 'add a command and a row in docs/admin-cli.md, or an exclusion with its reason').toEqual([]);
  });

  it('no row or exclusion names a route the API does not have; no route is both documented and excluded', () => {
    expect([...documented.keys(), ...Object.keys(EXCLUDED)].filter((r) => !routes.includes(r))).toEqual([]);
    expect([...documented.keys()].filter((r) => r in EXCLUDED)).toEqual([]);
  });

  it("every row's command is one `keyward --help` lists", () => {
    const commands = usageCommands();
    const unknown = [...documented.values()].filter((command) => {
      const [group, sub] = command.split(' ');
      return !(commands.has(`${group} ${sub}`) || (commands.has(group!) && (sub === undefined || sub.startsWith('-') || /^[A-Z]/.test(sub))));
    });
    expect(unknown).toEqual([]);
  });

  it('the exclusions are documented in docs/admin-cli.md', () => {
    const docs = readFileSync('docs/admin-cli.md', 'utf8');
    expect([...Object.keys(EXCLUDED)].filter((route) => !docs.includes(`\`${route}\``))).toEqual([]);
  });
});
