// `keyward key ...`: keys over the admin API — create, list, read, change, add a version, refuse or allow
// releases, data keys, and destruction (scheduled, cancelled, or at once). Releases: admin-key-releases.ts.
import { dispatch, intOption, output, parseCommand, printFields, printIfPending, printTable, required, seg, type Subcommand } from './admin-http.js';
import { releasesSubcommand } from './admin-key-releases.js';
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
  destroyAfter?: string | null;
  rateLimit?: { perMinute: number } | null;
  tenant?: string;
  alertHold?: boolean;
  held?: { since: string; alert: string } | null;
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
    ...(key.rateLimit ? [['rate limit', `${key.rateLimit.perMinute} releases/minute`] as const] : []),
    ['created', key.createdAt],
    ['updated', key.updatedAt],
    ...(key.destroyAfter ? [['destroy after', key.destroyAfter] as const] : []),
    ...(key.destroyedAt ? [['destroyed', key.destroyedAt] as const] : []),
    ...(key.alertHold ? [['alert hold', 'on'] as const] : []),
    ...(key.held ? [['held', `since ${key.held.since} by ${key.held.alert} (keyward key lift-hold ${key.id})`] as const] : []),
  ]);
}

/** Prints a key, or the approval a change of it waits for. */
function printKeyOrPending(io: CliIo, what: string): (json: unknown) => void {
  return (json) => {
    if (!printIfPending(io, json, what)) printKey(io, json as Key);
  };
}

/** `K=V` options → labels; a malformed one is a usage error. */
function parseLabels(items: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const item of items) {
    const at = item.indexOf('=');
    if (at <= 0) throw new UsageError(`--label must be KEY=VALUE, got "${item}"`);
    labels[item.slice(0, at)] = item.slice(at + 1);
  }
  return labels;
}

const create: Subcommand = async (args, io, admin) => {
  const { values } = parseCommand(args, { name: { type: 'string' }, kind: { type: 'string' }, description: { type: 'string' }, tenant: { type: 'string' } }, { min: 0, max: 0, names: '' });
  const kind = required(values, 'kind');
  if (!['model', 'dataset', 'generic'].includes(kind)) throw new UsageError('--kind must be model, dataset or generic');
  const body = {
    name: required(values, 'name'),
    kind,
    ...(typeof values['description'] === 'string' ? { description: values['description'] } : {}),
    ...(typeof values['tenant'] === 'string' ? { tenant: values['tenant'] } : {}),
  };
  return output(io, values, await admin.request('POST', '/v1/keys', body), (key: Key) => printKey(io, key));
};

const list: Subcommand = async (args, io, admin) => {
  const { values } = parseCommand(args, { kind: { type: 'string' }, state: { type: 'string' }, limit: { type: 'string' } }, { min: 0, max: 0, names: '' });
  const q = new URLSearchParams({ limit: String(intOption(values, 'limit', 1, 500) ?? 100) });
  if (typeof values['kind'] === 'string') q.set('kind', values['kind']);
  if (typeof values['state'] === 'string') q.set('state', values['state']);
  return output(io, values, await admin.request('GET', `/v1/keys?${q}`), (page: { items: Key[]; nextCursor: string | null }) => {
    printTable(io, ['ID', 'NAME', 'KIND', 'STATE', 'VERSION', 'POLICY'], page.items.map((k) => [k.id, k.name, k.kind, k.state, k.version, k.policyId]));
    if (page.nextCursor) io.out('(more: raise --limit, or use the API with cursor)\n');
  });
};

/** `key SUB ID [--json]` for a request without a body whose answer is a key (or a pending approval). */
function keyAction(method: string, suffix: string, what: string): Subcommand {
  return async (args, io, admin) => {
    const { values, positionals } = parseCommand(args, {}, { min: 1, max: 1, names: 'the key id' });
    return output(io, values, await admin.request(method, `/v1/keys/${seg(positionals[0]!)}${suffix}`), printKeyOrPending(io, what));
  };
}

const update: Subcommand = async (args, io, admin) => {
  const { values, positionals } = parseCommand(
    args,
    { description: { type: 'string' }, label: { type: 'string', multiple: true }, 'no-labels': { type: 'boolean' }, 'rate-limit': { type: 'string' } },
    { min: 1, max: 1, names: 'the key id' },
  );
  const labels = (values['label'] as string[] | undefined) ?? [];
  if (labels.length > 0 && values['no-labels']) throw new UsageError('give --label or --no-labels, not both');
  const rate = values['rate-limit'];
  const body = {
    ...(typeof values['description'] === 'string' ? { description: values['description'] } : {}),
    ...(labels.length > 0 || values['no-labels'] ? { labels: parseLabels(labels) } : {}),
    ...(rate === 'default' ? { rateLimit: null } : rate !== undefined ? { rateLimit: { perMinute: intOption(values, 'rate-limit', 0, 1_000_000)! } } : {}),
  };
  if (Object.keys(body).length === 0) throw new UsageError('nothing to change: give --description, --label, --no-labels or --rate-limit');
  return output(io, values, await admin.request('PATCH', `/v1/keys/${seg(positionals[0]!)}`, body), (key: Key) => printKey(io, key));
};

const scheduleDestroy: Subcommand = async (args, io, admin) => {
  const { values, positionals } = parseCommand(args, { 'pending-days': { type: 'string' } }, { min: 1, max: 1, names: 'the key id' });
  const pendingDays = intOption(values, 'pending-days', 7, 30) ?? 7;
  const answer = await admin.request('POST', `/v1/keys/${seg(positionals[0]!)}/schedule-destroy`, { pendingDays });
  return output(io, values, answer, printKeyOrPending(io, 'the destruction'));
};

const destroy: Subcommand = async (args, io, admin) => {
  const { values, positionals } = parseCommand(args, { yes: { type: 'boolean' } }, { min: 1, max: 1, names: 'the key id' });
  // Why: crypto-shredding cannot be undone; the flag keeps a typo in shell history from erasing a key.
  if (!values['yes']) throw new UsageError('destroying a key erases every version\'s material at once and cannot be undone: add --yes (or use schedule-destroy)');
  return output(io, values, await admin.request('DELETE', `/v1/keys/${seg(positionals[0]!)}`), printKeyOrPending(io, 'the destruction'));
};

const versions: Subcommand = async (args, io, admin) => {
  const { values, positionals } = parseCommand(args, {}, { min: 1, max: 1, names: 'the key id' });
  return output(io, values, await admin.request('GET', `/v1/keys/${seg(positionals[0]!)}/versions`), (page: { items: { version: number; state: string; createdAt: string; destroyedAt: string | null }[] }) =>
    printTable(io, ['VERSION', 'STATE', 'CREATED', 'DESTROYED'], page.items.map((v) => [v.version, v.state, v.createdAt, v.destroyedAt])),
  );
};

const datakey: Subcommand = async (args, io, admin) => {
  const { values, positionals } = parseCommand(args, {}, { min: 1, max: 1, names: 'the key id' });
  return output(io, values, await admin.request('POST', `/v1/keys/${seg(positionals[0]!)}/datakey`), (d: { keyId: string; version: number; plaintext: string; wrapped: string }) => {
    printFields(io, [['key', d.keyId], ['version', d.version], ['plaintext', d.plaintext], ['wrapped', d.wrapped]]);
    io.out('encrypt with the plaintext, then forget it; store only the wrapped form next to the data\n');
  });
};

const SUBCOMMANDS: Record<string, Subcommand> = {
  create,
  list,
  show: keyAction('GET', '', 'the key'),
  update,
  versions,
  rotate: keyAction('POST', '/rotate', 'the rotation'),
  disable: keyAction('POST', '/disable', 'disabling'),
  enable: keyAction('POST', '/enable', 'enabling'),
  datakey,
  releases: releasesSubcommand,
  'schedule-destroy': scheduleDestroy,
  'cancel-destroy': keyAction('POST', '/cancel-destroy', 'the cancellation'),
  destroy,
  'lift-hold': keyAction('POST', '/lift-hold', 'lifting the hold'),
};

export function keyCommand(args: string[], io: CliIo): Promise<number> {
  return dispatch('key', SUBCOMMANDS, args, io);
}
