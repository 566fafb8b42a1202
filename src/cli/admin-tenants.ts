// `keyward tenant ...` (docs/admin-cli.md): tenants, their quorum (update), and their members — invite (an enrolment
// code for the member's passkey), list, remove.
import { consoleBase, dispatch, intOption, output, parseCommand, printFields, printIfPending, printTable, required, seg, type Subcommand } from './admin-http.js';
import { UsageError, type CliIo } from './main.js';

interface Tenant {
  id?: string;
  name: string;
  quorum: number;
  role?: string | null;
}

interface Member {
  userId: string;
  name: string;
  role: string;
  state: string;
  passkeys: number;
  inviteOpen: boolean;
  inviteExpiresAt: string | null;
}

function printTenant(io: CliIo, t: Tenant): void {
  printFields(io, [...(t.id !== undefined ? [['id', t.id] as const] : []), ['name', t.name], ['quorum', t.quorum]]);
}

const create: Subcommand = async (args, io, admin) => {
  const { values, positionals } = parseCommand(args, { quorum: { type: 'string' } }, { min: 1, max: 1, names: 'the tenant name' });
  const quorum = intOption(values, 'quorum', 1, 100);
  const body = { name: positionals[0]!, ...(quorum === undefined ? {} : { quorum }) };
  return output(io, values, await admin.request('POST', '/v1/tenants', body), (t: Tenant) => printTenant(io, t));
};

const list: Subcommand = async (args, io, admin) => {
  const { values } = parseCommand(args, {}, { min: 0, max: 0, names: '' });
  return output(io, values, await admin.request('GET', '/v1/tenants'), (page: { items: Tenant[] }) =>
    printTable(io, ['NAME', 'QUORUM', 'ROLE'], page.items.map((t) => [t.name, t.quorum, t.role])),
  );
};

const update: Subcommand = async (args, io, admin) => {
  const { values, positionals } = parseCommand(args, { quorum: { type: 'string' } }, { min: 1, max: 1, names: 'the tenant' });
  const quorum = intOption(values, 'quorum', 1, 16);
  if (quorum === undefined) throw new UsageError('--quorum is required');
  const answer = await admin.request('PUT', `/v1/tenants/${seg(positionals[0]!)}`, { quorum });
  return output(io, values, answer, (json: unknown) => {
    if (!printIfPending(io, json, 'the new quorum')) printTenant(io, json as Tenant);
  });
};

const invite: Subcommand = async (args, io, admin) => {
  const { values, positionals } = parseCommand(args, { name: { type: 'string' }, role: { type: 'string' } }, { min: 1, max: 1, names: 'the tenant' });
  const role = required(values, 'role');
  if (role !== 'owner' && role !== 'auditor') throw new UsageError('--role must be owner or auditor');
  const answer = await admin.request('POST', `/v1/tenants/${seg(positionals[0]!)}/members`, { name: required(values, 'name'), role });
  return output(io, values, answer, (m: { userId: string; enrolmentCode: string; expiresAt: string }) => {
    printIfPending(io, m, 'the invitation');
    printFields(io, [['user', m.userId], ['enrolment code', m.enrolmentCode], ['expires', m.expiresAt]]);
    io.out(`hand the code to the person; they register a passkey with it at ${consoleBase(admin)}/console/ (single use)\n`);
  });
};

const members: Subcommand = async (args, io, admin) => {
  const { values, positionals } = parseCommand(args, {}, { min: 1, max: 1, names: 'the tenant' });
  return output(io, values, await admin.request('GET', `/v1/tenants/${seg(positionals[0]!)}/members`), (page: { items: Member[] }) =>
    printTable(
      io,
      ['USER', 'NAME', 'ROLE', 'STATE', 'PASSKEYS', 'INVITE'],
      page.items.map((m) => [m.userId, m.name, m.role, m.state, m.passkeys, m.inviteOpen ? `open until ${m.inviteExpiresAt}` : null]),
    ),
  );
};

const remove: Subcommand = async (args, io, admin) => {
  const { values, positionals } = parseCommand(args, {}, { min: 2, max: 2, names: 'the tenant and the member\'s user id' });
  const [tenant, userId] = positionals as [string, string];
  const answer = await admin.request('DELETE', `/v1/tenants/${seg(tenant)}/members/${seg(userId)}`);
  if (answer.status === 202) return output(io, values, answer, (json: unknown) => printIfPending(io, json, 'the removal'));
  // 204 has no body: --json prints the outcome as an object of its own.
  io.out(values['json'] ? `${JSON.stringify({ removed: userId, tenant })}\n` : `removed ${userId} from ${tenant} (their open invites and tokens there are revoked)\n`);
  return 0;
};

const SUBCOMMANDS: Record<string, Subcommand> = { create, list, update, invite, members, remove };

export function tenantCommand(args: string[], io: CliIo): Promise<number> {
  return dispatch('tenant', SUBCOMMANDS, args, io);
}
