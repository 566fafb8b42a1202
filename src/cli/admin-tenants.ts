// `keyward tenant create|list|invite` (docs/design.md "Admin side"): tenants and their invited members.
import { intOption, openAdmin, output, parseCommand, printFields, printTable, required, seg } from './admin-http.js';
import { UsageError, type CliIo } from './main.js';

interface Tenant {
  id?: string;
  name: string;
  quorum: number;
}

export async function tenantCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  const admin = openAdmin();
  switch (sub) {
    case 'create': {
      const { values, positionals } = parseCommand(rest, { quorum: { type: 'string' } }, { min: 1, max: 1, names: 'the tenant name' });
      const quorum = intOption(values, 'quorum', 1, 100);
      const body = { name: positionals[0]!, ...(quorum === undefined ? {} : { quorum }) };
      return output(io, values, await admin.request('POST', '/v1/tenants', body), (t: Tenant) =>
        printFields(io, [...(t.id !== undefined ? [['id', t.id] as const] : []), ['name', t.name], ['quorum', t.quorum]]),
      );
    }
    case 'list': {
      const { values } = parseCommand(rest, {}, { min: 0, max: 0, names: '' });
      return output(io, values, await admin.request('GET', '/v1/tenants'), (page: { items: Tenant[] }) =>
        printTable(io, ['NAME', 'QUORUM'], page.items.map((t) => [t.name, t.quorum])),
      );
    }
    case 'invite': {
      const { values, positionals } = parseCommand(rest, { name: { type: 'string' }, role: { type: 'string' } }, { min: 1, max: 1, names: 'the tenant' });
      const role = required(values, 'role');
      if (role !== 'owner' && role !== 'auditor') throw new UsageError('--role must be owner or auditor');
      const answer = await admin.request('POST', `/v1/tenants/${seg(positionals[0]!)}/members`, { name: required(values, 'name'), role });
      return output(io, values, answer, (m: { userId: string; enrolmentCode: string; expiresAt: string }) => {
        printFields(io, [['user', m.userId], ['enrolment code', m.enrolmentCode], ['expires', m.expiresAt]]);
        io.out(`hand the code to the person; they register a passkey with it at ${admin.baseUrl}/console/ (single use)\n`);
      });
    }
    default:
      throw new UsageError('tenant needs a subcommand: create, list or invite');
  }
}
