// `keyward key create|list|show|rotate|disable|enable|schedule-destroy|lift-hold`: keys over the admin API.
import { intOption, openAdmin, output, parseCommand, printFields, printTable, required, seg } from './admin-http.js';
import { UsageError, type CliIo } from './main.js';

interface Key {
  id: string;
  name: string;
  kind: string;
  state: string;
  version: number;
  description: string;
  origin: string;
  policyId: string | null;
  labels: Record<string, string>;
  createdAt: string;
  updatedAt: string;
  destroyedAt?: string | null;
  tenant?: string;
  alertHold?: boolean;
  held?: { since: string; alert: string } | null;
}

/** A sensitive change's answer: the key, or the approval it waits for. */
function printKeyOrApproval(io: CliIo, what: string): (json: Key | { approval?: { id: string } }) => void {
  return (json) => {
    if ('approval' in json && json.approval) io.out(`${what} needs approvals: approval ${json.approval.id} (keyward approval show ${json.approval.id})\n`);
    else printKey(io, json as Key);
  };
}

function printKey(io: CliIo, key: Key): void {
  printFields(io, [
    ['id', key.id],
    ...(key.tenant !== undefined ? [['tenant', key.tenant] as const] : []),
    ['name', key.name],
    ['kind', key.kind],
    ['state', key.state],
    ['version', key.version],
    ['origin', key.origin],
    ['policy', key.policyId],
    ['description', key.description],
    ['labels', Object.entries(key.labels ?? {}).map(([k, v]) => `${k}=${v}`)],
    ['created', key.createdAt],
    ['updated', key.updatedAt],
    ...(key.destroyedAt ? [['destroyed', key.destroyedAt] as const] : []),
    ...(key.alertHold ? [['alert hold', 'on'] as const] : []),
    ...(key.held ? [['held', `since ${key.held.since} by ${key.held.alert} (keyward key lift-hold ${key.id})`] as const] : []),
  ]);
}

const ACTIONS = ['rotate', 'disable', 'enable'] as const;

export async function keyCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  const admin = openAdmin();
  switch (sub) {
    case 'create': {
      const { values } = parseCommand(rest, { name: { type: 'string' }, kind: { type: 'string' }, description: { type: 'string' }, tenant: { type: 'string' } }, { min: 0, max: 0, names: '' });
      const kind = required(values, 'kind');
      if (!['model', 'dataset', 'generic'].includes(kind)) throw new UsageError('--kind must be model, dataset or generic');
      const body = {
        name: required(values, 'name'),
        kind,
        ...(typeof values['description'] === 'string' ? { description: values['description'] } : {}),
        ...(typeof values['tenant'] === 'string' ? { tenant: values['tenant'] } : {}),
      };
      return output(io, values, await admin.request('POST', '/v1/keys', body), (key: Key) => printKey(io, key));
    }
    case 'list': {
      const { values } = parseCommand(rest, { kind: { type: 'string' }, state: { type: 'string' }, limit: { type: 'string' } }, { min: 0, max: 0, names: '' });
      const q = new URLSearchParams({ limit: String(intOption(values, 'limit', 1, 500) ?? 100) });
      if (typeof values['kind'] === 'string') q.set('kind', values['kind']);
      if (typeof values['state'] === 'string') q.set('state', values['state']);
      return output(io, values, await admin.request('GET', `/v1/keys?${q}`), (page: { items: Key[]; nextCursor: string | null }) => {
        printTable(io, ['ID', 'NAME', 'KIND', 'STATE', 'VERSION', 'POLICY'], page.items.map((k) => [k.id, k.name, k.kind, k.state, k.version, k.policyId]));
        if (page.nextCursor) io.out('(more: raise --limit, or use the API with cursor)\n');
      });
    }
    case 'show': {
      const { values, positionals } = parseCommand(rest, {}, { min: 1, max: 1, names: 'the key id' });
      return output(io, values, await admin.request('GET', `/v1/keys/${seg(positionals[0]!)}`), (key: Key) => printKey(io, key));
    }
    case 'schedule-destroy': {
      const { values, positionals } = parseCommand(rest, { 'pending-days': { type: 'string' } }, { min: 1, max: 1, names: 'the key id' });
      const pendingDays = intOption(values, 'pending-days', 7, 30) ?? 7;
      const answer = await admin.request('POST', `/v1/keys/${seg(positionals[0]!)}/schedule-destroy`, { pendingDays });
      return output(io, values, answer, printKeyOrApproval(io, 'the destruction'));
    }
    case 'lift-hold': {
      const { values, positionals } = parseCommand(rest, {}, { min: 1, max: 1, names: 'the key id' });
      return output(io, values, await admin.request('POST', `/v1/keys/${seg(positionals[0]!)}/lift-hold`), printKeyOrApproval(io, 'lifting the hold'));
    }
    default: {
      const action = ACTIONS.find((a) => a === sub);
      if (!action) throw new UsageError('key needs a subcommand: create, list, show, rotate, disable, enable, schedule-destroy or lift-hold');
      const { values, positionals } = parseCommand(rest, {}, { min: 1, max: 1, names: 'the key id' });
      return output(io, values, await admin.request('POST', `/v1/keys/${seg(positionals[0]!)}/${action}`), (key: Key) => printKey(io, key));
    }
  }
}
