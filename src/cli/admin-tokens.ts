// `keyward token create|list|revoke`: API tokens over the admin API. The secret is printed once.
import { openAdmin, output, parseCommand, printFields, printTable, required, seg } from './admin-http.js';
import { UsageError, type CliIo } from './main.js';

interface Token {
  id: string;
  name: string;
  role: string;
  scopes: string[];
  bootstrap: boolean;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  token?: string;
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** `90d`, `12h`, `30m`, `3600s` or plain seconds → seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(text);
  if (!m) throw new UsageError(`--expires-in must be a number with an optional unit s, m, h or d (e.g. 90d), got "${text}"`);
  return Number(m[1]) * (UNITS[m[2] || 's'] ?? 1);
}

function printToken(io: CliIo, t: Token): void {
  printFields(io, [
    ['id', t.id],
    ['name', t.name],
    ['role', t.role],
    ['scopes', t.scopes.length > 0 ? t.scopes : ['(all of the role)']],
    ['expires', t.expiresAt ?? 'never'],
    ['revoked', t.revokedAt],
  ]);
}

export async function tokenCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  const admin = openAdmin();
  switch (sub) {
    case 'create': {
      const { values } = parseCommand(rest, { name: { type: 'string' }, role: { type: 'string' }, scope: { type: 'string', multiple: true }, 'expires-in': { type: 'string' } }, { min: 0, max: 0, names: '' });
      const role = required(values, 'role');
      if (!['admin', 'owner', 'operator', 'auditor'].includes(role)) throw new UsageError('--role must be admin, owner, operator or auditor');
      const scopes = (values['scope'] as string[] | undefined) ?? [];
      const body = {
        name: required(values, 'name'),
        role,
        ...(scopes.length > 0 ? { scopes } : {}),
        ...(typeof values['expires-in'] === 'string' ? { expiresInSeconds: parseDuration(values['expires-in']) } : {}),
      };
      return output(io, values, await admin.request('POST', '/v1/tokens', body), (t: Token) => {
        printToken(io, t);
        io.out(`token:   ${t.token}\n(shown once: keyward keeps only its hash)\n`);
      });
    }
    case 'list': {
      const { values } = parseCommand(rest, {}, { min: 0, max: 0, names: '' });
      return output(io, values, await admin.request('GET', '/v1/tokens'), (page: { items: Token[] }) =>
        printTable(
          io,
          ['ID', 'NAME', 'ROLE', 'SCOPES', 'EXPIRES', 'STATE'],
          page.items.map((t) => [t.id, t.name + (t.bootstrap ? ' (bootstrap)' : ''), t.role, t.scopes, t.expiresAt ?? 'never', t.revokedAt ? `revoked ${t.revokedAt}` : 'active']),
        ),
      );
    }
    case 'revoke': {
      const { values, positionals } = parseCommand(rest, {}, { min: 1, max: 1, names: 'the token id' });
      return output(io, values, await admin.request('DELETE', `/v1/tokens/${seg(positionals[0]!)}`), (t: Token) => io.out(`revoked token ${t.id} (${t.name}) at ${t.revokedAt}\n`));
    }
    default:
      throw new UsageError('token needs a subcommand: create, list or revoke');
  }
}
