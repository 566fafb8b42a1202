// `keyward policy ...`: release policies over the admin API — create, validate, list, show, update (a new
// version), delete, bind to a key, and evaluate (a dry run).
import { dispatch, intOption, output, parseCommand, printFields, printIfPending, printTable, readInputFile, readJsonFile, required, seg, type Subcommand } from './admin-http.js';
import { UsageError, type CliIo } from './main.js';

interface Policy {
  id: string;
  name: string;
  version: number;
  description: string;
  sha256: string;
  document: { rules: { name: string; expr: string }[]; refs?: Record<string, unknown> };
  createdAt: string;
  updatedAt: string;
}

interface Decision {
  allowed: boolean;
  policy: string;
  version: number;
  rules: { name: string; outcome: string; message?: string; reads: Record<string, unknown> }[];
}

function printPolicy(io: CliIo, p: Policy): void {
  printFields(io, [
    ['id', p.id],
    ['name', p.name],
    ['version', p.version],
    ['description', p.description],
    ['sha256', p.sha256],
    ['updated', p.updatedAt],
    ['refs', Object.keys(p.document.refs ?? {})],
  ]);
  io.out('rules:\n');
  for (const r of p.document.rules) io.out(`  ${r.name}: ${r.expr}\n`);
}

function printDecision(io: CliIo, d: Decision): void {
  io.out(`${d.allowed ? 'ALLOWED' : 'DENIED'} by ${d.policy} version ${d.version}\n`);
  printTable(io, ['RULE', 'OUTCOME', 'READS'], d.rules.map((r) => [r.name, r.message ? `${r.outcome} (${r.message})` : r.outcome, r.reads]));
}

/** The policy document of `--file FILE`, sent as it is (YAML, or JSON which is YAML): the server parses and type-checks it. */
function policyFile(args: string[], positional: { min: number; max: number; names: string }): { values: Record<string, unknown>; positionals: string[]; text: string } {
  const { values, positionals } = parseCommand(args, { file: { type: 'string', short: 'f' } }, positional);
  return { values, positionals, text: readInputFile(required(values, 'file'), 'the policy file') };
}

const NO_ARGS = { min: 0, max: 0, names: '' };
const POLICY_ID = { min: 1, max: 1, names: 'the policy id' };

const create: Subcommand = async (args, io, admin) => {
  const { values, text } = policyFile(args, NO_ARGS);
  return output(io, values, await admin.request('POST', '/v1/policies', text), (p: Policy) => printPolicy(io, p));
};

const validate: Subcommand = async (args, io, admin) => {
  const { values, text } = policyFile(args, NO_ARGS);
  return output(io, values, await admin.request('POST', '/v1/policies/validate', text), () => io.out(`${String(values['file'])}: valid (nothing was saved)\n`));
};

const update: Subcommand = async (args, io, admin) => {
  const { values, positionals, text } = policyFile(args, POLICY_ID);
  return output(io, values, await admin.request('PUT', `/v1/policies/${seg(positionals[0]!)}`, text), (json: unknown) => {
    if (!printIfPending(io, json, 'the new version')) printPolicy(io, json as Policy);
  });
};

const remove: Subcommand = async (args, io, admin) => {
  const { values, positionals } = parseCommand(args, {}, POLICY_ID);
  await admin.request('DELETE', `/v1/policies/${seg(positionals[0]!)}`);
  // 204 has no body: --json prints the outcome as an object of its own.
  io.out(values['json'] ? `${JSON.stringify({ deleted: positionals[0] })}\n` : `deleted policy ${positionals[0]} (its versions stay for the audit log)\n`);
  return 0;
};

const list: Subcommand = async (args, io, admin) => {
  const { values } = parseCommand(args, { limit: { type: 'string' } }, NO_ARGS);
  const limit = intOption(values, 'limit', 1, 500) ?? 100;
  return output(io, values, await admin.request('GET', `/v1/policies?limit=${limit}`), (page: { items: Policy[] }) =>
    printTable(io, ['ID', 'NAME', 'VERSION', 'RULES', 'DESCRIPTION'], page.items.map((p) => [p.id, p.name, p.version, p.document.rules.length, p.description])),
  );
};

const show: Subcommand = async (args, io, admin) => {
  const { values, positionals } = parseCommand(args, { version: { type: 'string' } }, POLICY_ID);
  const version = intOption(values, 'version', 1, 2 ** 31);
  const path = `/v1/policies/${seg(positionals[0]!)}${version === undefined ? '' : `?version=${version}`}`;
  return output(io, values, await admin.request('GET', path), (p: Policy) => printPolicy(io, p));
};

const bind: Subcommand = async (args, io, admin) => {
  const { values, positionals } = parseCommand(args, { none: { type: 'boolean' } }, { min: 1, max: 2, names: 'the key id and the policy id (or --none)' });
  const [keyId, policyId] = positionals;
  if ((policyId === undefined) === !values['none']) throw new UsageError('give the policy id, or --none to unbind the key');
  const answer = await admin.request('PUT', `/v1/keys/${seg(keyId!)}/policy`, { policyId: policyId ?? null });
  return output(io, values, answer, (json: { id?: string; policyId?: string | null }) => {
    if (printIfPending(io, json, 'the binding')) return;
    io.out(json.policyId ? `key ${json.id} is bound to policy ${json.policyId}\n` : `key ${json.id} is unbound (it will not be released)\n`);
  });
};

const evaluate: Subcommand = async (args, io, admin) => {
  const { values, positionals } = parseCommand(args, { claims: { type: 'string' }, evidence: { type: 'string' }, version: { type: 'string' } }, POLICY_ID);
  if ((values['claims'] === undefined) === (values['evidence'] === undefined)) throw new UsageError('give --claims FILE ({"cpu": ..., "gpus": [...]}) or --evidence FILE (a JSON array of evidence items)');
  const file = (values['claims'] ?? values['evidence']) as string;
  const parsed = readJsonFile(file, 'the input');
  const version = intOption(values, 'version', 1, 2 ** 31);
  const body = { ...(values['claims'] !== undefined ? { claims: parsed } : { evidence: parsed }), ...(version === undefined ? {} : { version }) };
  const answer = await admin.request('POST', `/v1/policies/${seg(positionals[0]!)}/evaluate`, body);
  output(io, values, answer, (d: Decision) => printDecision(io, d));
  return (answer.json as Decision).allowed ? 0 : 1;
};

const SUBCOMMANDS: Record<string, Subcommand> = { create, validate, list, show, update, delete: remove, bind, evaluate };

export function policyCommand(args: string[], io: CliIo): Promise<number> {
  return dispatch('policy', SUBCOMMANDS, args, io);
}
