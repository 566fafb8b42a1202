// `keyward audit list` (the hash-chained log, one page or --all), `keyward audit export` (a chain with its
// signed checkpoints, every page, to a file), `keyward audit keys` (the checkpoint public keys) and `keyward audit verify` (the server recomputes its chain) or
// `keyward audit verify FILE` (an export, or a plain `audit list --all --json`, checked offline here).
import { readFileSync, writeFileSync } from 'node:fs';
import type { JsonWebKey } from 'node:crypto';
import { findBrokenLink, type AuditEntry } from '../broker/audit.js';
import { EXPORT_FORMAT, verifyAuditExport, type AuditExport, type ExportVerdict } from '../broker/audit-verify.js';
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

function readJson(file: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read ${what} as JSON: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Reads a plain event list: `{"items": [...]}` (audit list --all --json) or an array of events. */
function readItems(parsed: unknown, file: string): AuditEntry[] {
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
    case 'export':
      return exportCommand(rest, io);
    case 'keys': {
      const { values } = parseCommand(rest, {}, { min: 0, max: 0, names: '' });
      return output(io, values, await openAdmin().request('GET', '/v1/audit/checkpoint-keys'), (jwks: { keys: { kid: string; alg: string; crv: string; x: string }[] }) =>
        printTable(io, ['KID', 'ALG', 'CRV', 'X'], jwks.keys.map((k) => [k.kid, k.alg, k.crv, k.x])),
      );
    }
    case 'verify': {
      const { values, positionals } = parseCommand(rest, { key: { type: 'string' } }, { min: 0, max: 1, names: '' });
      if (typeof values['key'] === 'string' && positionals[0] === undefined) throw new UsageError('--key pins the checkpoint key of an exported FILE; name the FILE');
      if (positionals[0] !== undefined) {
        const parsed = readJson(positionals[0], positionals[0]);
        if ((parsed as Partial<AuditExport> | null)?.format === EXPORT_FORMAT) return verifyExportFile(io, positionals[0], parsed as AuditExport, values);
        if (typeof values['key'] === 'string') throw new UsageError(`${positionals[0]} is a plain event list without checkpoints; --key applies to 'keyward audit export' files`);
        const items = readItems(parsed, positionals[0]);
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
      throw new UsageError('audit needs a subcommand: list, export, keys or verify');
  }
}

/** `keyward audit export [--tenant T] [--from N] [--out FILE]`: every page, merged into one export. */
async function exportCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseCommand(args, { tenant: { type: 'string' }, from: { type: 'string' }, out: { type: 'string' } }, { min: 0, max: 0, names: '' });
  const admin = openAdmin();
  const from = intOption(values, 'from', 1, Number.MAX_SAFE_INTEGER) ?? 1;
  const q = new URLSearchParams({ from: String(from) });
  if (typeof values['tenant'] === 'string') q.set('tenant', values['tenant']);
  let merged: AuditExport | undefined;
  for (;;) {
    const page = (await admin.request('GET', `/v1/audit/export?${q}`)).json as AuditExport;
    merged = merged ? mergePages(merged, page) : page;
    if (page.nextFrom === null) break;
    q.set('from', String(page.nextFrom));
  }
  const text = `${JSON.stringify({ ...merged, from, nextFrom: null })}\n`;
  if (typeof values['out'] === 'string') {
    writeFileSync(values['out'], text, { mode: 0o600 });
    io.err(`wrote ${merged.rows.length} events and ${merged.checkpoints.length} checkpoints of ${merged.chain} to ${values['out']}\n`);
  } else {
    io.out(text);
  }
  return 0;
}

function mergePages(a: AuditExport, b: AuditExport): AuditExport {
  const checkpoints = new Map([...a.checkpoints, ...b.checkpoints].map((c) => [c.seq, c]));
  const keys = new Map([...a.keys, ...b.keys].map((k) => [String((k as { kid?: unknown }).kid), k]));
  return { ...a, rows: [...a.rows, ...b.rows], checkpoints: [...checkpoints.values()].sort((x, y) => x.seq - y.seq), keys: [...keys.values()] };
}

/** The keys --key names: a JWK, or a JWK set (`GET /v1/audit/checkpoint-keys`). */
function readPinnedKeys(file: string): JsonWebKey[] {
  const parsed = readJson(file, `--key ${file}`) as { keys?: unknown } | null;
  const keys = Array.isArray(parsed?.keys) ? (parsed.keys as JsonWebKey[]) : [parsed as JsonWebKey];
  if (keys.some((k) => typeof k !== 'object' || k === null || typeof (k as { kid?: unknown }).kid !== 'string')) throw new UsageError(`--key ${file} holds no JWK with a kid`);
  return keys;
}

function printVerdict(io: CliIo, file: string, v: ExportVerdict): void {
  printFields(io, [
    ['file', file],
    ['chain', v.chain],
    ['rows', `${v.rows} (seq ${v.firstSeq ?? '-'} .. ${v.lastSeq ?? '-'})`],
    ['checkpoints', `${v.checkpoints} (${v.keySource === 'pinned' ? 'signed by the pinned key' : 'signed by the key in the file, trusted as given: pin it with --key'})`],
    ['checkpointed', v.lastCheckpointedSeq === null ? 'none' : `up to seq ${v.lastCheckpointedSeq}`],
    ['not yet covered', `${v.notYetCovered} rows after the last checkpoint`],
    ['verdict', v.verified ? 'verified' : `TAMPERED: ${v.error?.message ?? ''}`],
  ]);
}

function verifyExportFile(io: CliIo, file: string, doc: AuditExport, values: Record<string, unknown>): number {
  if (!Array.isArray(doc.rows) || !Array.isArray(doc.checkpoints) || typeof doc.chain !== 'string') throw new UsageError(`${file} is not a complete audit export (rows, checkpoints, chain)`);
  const pinned = typeof values['key'] === 'string' ? readPinnedKeys(values['key']) : undefined;
  const verdict = verifyAuditExport({ ...doc, from: typeof doc.from === 'number' ? doc.from : 1, keys: Array.isArray(doc.keys) ? doc.keys : [] }, pinned);
  if (values['json']) io.out(`${JSON.stringify(verdict)}\n`);
  else printVerdict(io, file, verdict);
  if (!verdict.verified) throw new KeywardError('ERR_CLI_AUDIT_BROKEN', `${file}: ${verdict.error?.message ?? 'does not verify'}`);
  return 0;
}
