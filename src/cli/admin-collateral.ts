// `keyward collateral list|upload|delete|trust`: the certificates, CRLs, TCB Info, RIMs and JWK sets the
// verifiers use (docs/trust.md), over the admin API. Upload sends files as the JSON envelope
// {"items": [{"name", "data": base64}]}; the server recognizes each by its content.
import { basename } from 'node:path';
import { dispatch, intOption, output, parseCommand, printFields, printTable, readInputBytes, seg, type Subcommand } from './admin-http.js';
import { UsageError, type CliIo } from './main.js';

interface Collateral {
  id: string;
  kind: string;
  label: string;
  validFrom: string | null;
  validUntil: string | null;
  stale: boolean;
  source: string;
  name: string | null;
  trustedBy: string | null;
  trustedAt: string | null;
  duplicate?: boolean;
}

const KINDS = ['certificate', 'crl', 'ocsp', 'tcb-info', 'qe-identity', 'rim', 'jwks'];
const SOURCES = ['upload', 'kds', 'pcs', 'dir'];

function printItems(io: CliIo, items: readonly Collateral[]): void {
  printTable(
    io,
    ['ID', 'KIND', 'SOURCE', 'VALID UNTIL', 'STATE', 'LABEL'],
    items.map((c) => [c.id.slice(0, 16), c.kind, c.source, c.validUntil, [c.stale ? 'stale' : 'fresh', ...(c.trustedBy ? ['trusted'] : []), ...(c.duplicate ? ['already held'] : [])].join(','), c.label]),
  );
}

function printItem(io: CliIo, c: Collateral): void {
  printFields(io, [
    ['id', c.id],
    ['kind', c.kind],
    ['label', c.label],
    ['source', c.source],
    ['name', c.name],
    ['valid', `${c.validFrom ?? '-'} .. ${c.validUntil ?? '-'}${c.stale ? ' (STALE)' : ''}`],
    ['trusted', c.trustedBy ? `by ${c.trustedBy} at ${c.trustedAt}` : 'no (material only)'],
  ]);
}

function choice(values: Record<string, unknown>, name: string, allowed: readonly string[]): string | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !allowed.includes(v)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}`);
  return v;
}

const list: Subcommand = async (args, io, admin) => {
  const { values } = parseCommand(args, { kind: { type: 'string' }, source: { type: 'string' }, stale: { type: 'boolean' }, limit: { type: 'string' } }, { min: 0, max: 0, names: '' });
  const q = new URLSearchParams({ limit: String(intOption(values, 'limit', 1, 500) ?? 100) });
  const kind = choice(values, 'kind', KINDS);
  const source = choice(values, 'source', SOURCES);
  if (kind) q.set('kind', kind);
  if (source) q.set('source', source);
  if (values['stale']) q.set('stale', 'true');
  return output(io, values, await admin.request('GET', `/v1/collateral?${q}`), (page: { items: Collateral[]; nextCursor: string | null }) => {
    printItems(io, page.items);
    if (page.nextCursor) io.out('(more: raise --limit, or use the API with cursor)\n');
  });
};

const upload: Subcommand = async (args, io, admin) => {
  const { values, positionals } = parseCommand(args, {}, { min: 1, max: 64, names: 'the files to upload' });
  const items = positionals.map((file) => ({ name: basename(file), data: readInputBytes(file, 'the collateral file').toString('base64') }));
  return output(io, values, await admin.request('POST', '/v1/collateral', { items }), (page: { items: Collateral[] }) => printItems(io, page.items));
};

/** `collateral SUB ID`: a request on one item whose answer is the item. */
function itemAction(method: string, suffix: string): Subcommand {
  return async (args, io, admin) => {
    const { values, positionals } = parseCommand(args, {}, { min: 1, max: 1, names: 'the collateral id (its SHA-256)' });
    return output(io, values, await admin.request(method, `/v1/collateral/${seg(positionals[0]!)}${suffix}`), (c: Collateral) => printItem(io, c));
  };
}

const SUBCOMMANDS: Record<string, Subcommand> = { list, upload, delete: itemAction('DELETE', ''), trust: itemAction('POST', '/trust') };

export function collateralCommand(args: string[], io: CliIo): Promise<number> {
  return dispatch('collateral', SUBCOMMANDS, args, io);
}
