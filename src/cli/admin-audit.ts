// `keyward audit list` (the hash-chained log, one page or --all) and `keyward audit verify` (the server
// recomputes its chain) or `keyward audit verify FILE` (an exported log, checked offline here).
import { readFileSync } from 'node:fs';
import { findBrokenLink, type AuditEntry } from '../broker/audit.js';
import { KeywardError } from '../errors.js';
import { intOption, openAdmin, output, parseCommand, printFields, printTable } from './admin-http.js';
import { UsageError, type CliIo } from './main.js';

interface Page {
  items: AuditEntry[];
  nextAfter: number | null;
}

function printEvents(io: CliIo, items: readonly AuditEntry[]): void {
  printTable(
    io,
    ['SEQ', 'AT', 'ACTOR', 'ACTION', 'TARGET', 'OUTCOME'],
    items.map((e) => [e.seq, e.at, e.actor, e.action, e.target, e.outcome]),
  );
}

/** Reads an exported log: `{"items": [...]}` (audit list --json) or a plain array of events. */
function readExport(file: string): AuditEntry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read ${file} as JSON: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const items = Array.isArray(parsed) ? parsed : (parsed as Partial<Page> | null)?.items;
  if (!Array.isArray(items)) throw new UsageError(`${file} holds no audit events (expected the output of 'keyward audit list --all --json')`);
  return items as AuditEntry[];
}

export async function auditCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'list': {
      const { values } = parseCommand(
        rest,
        { action: { type: 'string' }, target: { type: 'string' }, outcome: { type: 'string' }, after: { type: 'string' }, limit: { type: 'string' }, all: { type: 'boolean' } },
        { min: 0, max: 0, names: '' },
      );
      const admin = openAdmin();
      const q = new URLSearchParams({ limit: String(intOption(values, 'limit', 1, 1000) ?? 100) });
      for (const name of ['action', 'target', 'outcome'] as const) if (typeof values[name] === 'string') q.set(name, values[name]);
      const after = intOption(values, 'after', 0, Number.MAX_SAFE_INTEGER);
      if (after !== undefined) q.set('after', String(after));
      if (!values['all']) return output(io, values, await admin.request('GET', `/v1/audit?${q}`), (page: Page) => printEvents(io, page.items));
      // --all: every page, as one {"items": [...]} (what `audit verify FILE` reads).
      const items: AuditEntry[] = [];
      for (;;) {
        const page = (await admin.request('GET', `/v1/audit?${q}`)).json as Page;
        items.push(...page.items);
        if (page.nextAfter === null || page.items.length === 0) break;
        q.set('after', String(page.nextAfter));
      }
      const all = { items, nextAfter: null };
      return output(io, values, { text: JSON.stringify(all), json: all }, () => printEvents(io, items));
    }
    case 'verify': {
      const { values, positionals } = parseCommand(rest, {}, { min: 0, max: 1, names: '' });
      if (positionals[0] !== undefined) {
        const items = readExport(positionals[0]);
        const broken = findBrokenLink(items);
        const result = { ok: broken === undefined, events: items.length, firstSeq: items[0]?.seq ?? null, lastSeq: items[items.length - 1]?.seq ?? null, brokenAt: broken ?? null };
        if (values['json']) io.out(`${JSON.stringify(result)}\n`);
        else printFields(io, [['file', positionals[0]], ['events', result.events], ['seq', `${result.firstSeq ?? '-'} .. ${result.lastSeq ?? '-'}`], ['chain', result.ok ? 'intact' : `BROKEN at seq ${broken}`]]);
        if (broken !== undefined) throw new KeywardError('ERR_CLI_AUDIT_BROKEN', `the hash chain of ${positionals[0]} breaks at seq ${broken}`);
        return 0;
      }
      const answer = await openAdmin().request('GET', '/v1/audit/verify');
      const result = answer.json as { ok: boolean; events: number; headSeq: number; headHash: string; brokenAt: number | null };
      output(io, values, answer, () =>
        printFields(io, [['chain', result.ok ? 'intact' : `BROKEN at seq ${result.brokenAt}`], ['events', result.events], ['head', `seq ${result.headSeq} ${result.headHash}`]]),
      );
      return result.ok ? 0 : 1;
    }
    default:
      throw new UsageError('audit needs a subcommand: list or verify');
  }
}
