// `keyward policy create|list|show|bind|evaluate`: release policies over the admin API.
import { readFileSync } from 'node:fs';
import { intOption, openAdmin, output, parseCommand, printFields, printTable, required, seg } from './admin-http.js';
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

function readFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
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

export async function policyCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  const admin = openAdmin();
  switch (sub) {
    case 'create': {
      const { values } = parseCommand(rest, { file: { type: 'string', short: 'f' } }, { min: 0, max: 0, names: '' });
      // The file goes as it is (YAML, or JSON which is YAML): the server parses and type-checks it.
      const text = readFile(required(values, 'file'), 'the policy file');
      return output(io, values, await admin.request('POST', '/v1/policies', text), (p: Policy) => printPolicy(io, p));
    }
    case 'list': {
      const { values } = parseCommand(rest, { limit: { type: 'string' } }, { min: 0, max: 0, names: '' });
      const limit = intOption(values, 'limit', 1, 500) ?? 100;
      return output(io, values, await admin.request('GET', `/v1/policies?limit=${limit}`), (page: { items: Policy[] }) =>
        printTable(io, ['ID', 'NAME', 'VERSION', 'RULES', 'DESCRIPTION'], page.items.map((p) => [p.id, p.name, p.version, p.document.rules.length, p.description])),
      );
    }
    case 'show': {
      const { values, positionals } = parseCommand(rest, { version: { type: 'string' } }, { min: 1, max: 1, names: 'the policy id' });
      const version = intOption(values, 'version', 1, 2 ** 31);
      const path = `/v1/policies/${seg(positionals[0]!)}${version === undefined ? '' : `?version=${version}`}`;
      return output(io, values, await admin.request('GET', path), (p: Policy) => printPolicy(io, p));
    }
    case 'bind': {
      const { values, positionals } = parseCommand(rest, { none: { type: 'boolean' } }, { min: 1, max: 2, names: 'the key id and the policy id (or --none)' });
      const [keyId, policyId] = positionals;
      if ((policyId === undefined) === !values['none']) throw new UsageError('give the policy id, or --none to unbind the key');
      const answer = await admin.request('PUT', `/v1/keys/${seg(keyId!)}/policy`, { policyId: policyId ?? null });
      return output(io, values, answer, (json: { id?: string; policyId?: string | null; approval?: { id: string } }) => {
        if (json.approval) io.out(`the binding needs approvals: approval ${json.approval.id} (keyward approval show ${json.approval.id})\n`);
        else io.out(json.policyId ? `key ${json.id} is bound to policy ${json.policyId}\n` : `key ${json.id} is unbound (it will not be released)\n`);
      });
    }
    case 'evaluate': {
      const { values, positionals } = parseCommand(rest, { claims: { type: 'string' }, evidence: { type: 'string' }, version: { type: 'string' } }, { min: 1, max: 1, names: 'the policy id' });
      if ((values['claims'] === undefined) === (values['evidence'] === undefined)) throw new UsageError('give --claims FILE ({"cpu": ..., "gpus": [...]}) or --evidence FILE (a JSON array of evidence items)');
      const file = (values['claims'] ?? values['evidence']) as string;
      let parsed: unknown;
      try {
        parsed = JSON.parse(readFile(file, 'the input'));
      } catch (err) {
        if (err instanceof UsageError) throw err;
        throw new UsageError(`${file} is not JSON`);
      }
      const version = intOption(values, 'version', 1, 2 ** 31);
      const body = { ...(values['claims'] !== undefined ? { claims: parsed } : { evidence: parsed }), ...(version === undefined ? {} : { version }) };
      const answer = await admin.request('POST', `/v1/policies/${seg(positionals[0]!)}/evaluate`, body);
      output(io, values, answer, (d: Decision) => printDecision(io, d));
      return (answer.json as Decision).allowed ? 0 : 1;
    }
    default:
      throw new UsageError('policy needs a subcommand: create, list, show, bind or evaluate');
  }
}
