// `keyward key releases ID`: who received the key — each release and denial (GET /v1/keys/{id}/releases),
// as a table, the server's JSON (--json) or its CSV (--format csv), filtered by time and outcome.
import { intOption, output, parseCommand, printTable, seg, type Subcommand } from './admin-http.js';
import { UsageError } from './main.js';

interface ReleaseRecord {
  at: string;
  outcome: string;
  version: number | null;
  tee: string | null;
  chipId: string | null;
  measurement: string | null;
  policyId: string | null;
  policyVersion: number | null;
  code: string | null;
  failingRules: string[];
}

/** An RFC 3339 time option, checked here so a typo is a usage error rather than a server 400. */
function timeOption(values: Record<string, unknown>, name: string): string | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^\d{4}-\d\d-\d\dT/.test(v) || Number.isNaN(Date.parse(v))) throw new UsageError(`--${name} must be an RFC 3339 time such as 2026-01-31T00:00:00Z`);
  return v;
}

function releasesQuery(values: Record<string, unknown>): URLSearchParams {
  const q = new URLSearchParams();
  for (const name of ['from', 'to'] as const) {
    const t = timeOption(values, name);
    if (t !== undefined) q.set(name, t);
  }
  const outcome = values['outcome'];
  if (outcome !== undefined && outcome !== 'released' && outcome !== 'denied') throw new UsageError('--outcome must be released or denied');
  if (typeof outcome === 'string') q.set('outcome', outcome);
  const format = values['format'];
  if (format !== undefined && format !== 'json' && format !== 'csv') throw new UsageError('--format must be json or csv');
  if (format === 'csv' && values['json']) throw new UsageError('give --json or --format csv, not both');
  if (typeof format === 'string') q.set('format', format);
  const limit = intOption(values, 'limit', 1, 10_000);
  if (limit !== undefined) q.set('limit', String(limit));
  return q;
}

function short(hex: string | null): string | null {
  return hex && hex.length > 16 ? `${hex.slice(0, 16)}…` : hex;
}

export const releasesSubcommand: Subcommand = async (args, io, admin) => {
  const { values, positionals } = parseCommand(
    args,
    { from: { type: 'string' }, to: { type: 'string' }, outcome: { type: 'string' }, format: { type: 'string' }, limit: { type: 'string' } },
    { min: 1, max: 1, names: 'the key id' },
  );
  const q = releasesQuery(values);
  const answer = await admin.request('GET', `/v1/keys/${seg(positionals[0]!)}/releases${q.size > 0 ? `?${q}` : ''}`);
  // --format csv and --format json print the server's answer as it is, like --json.
  return output(io, { json: values['json'] || values['format'] !== undefined }, answer, (page: { items: ReleaseRecord[] }) =>
    printTable(
      io,
      ['AT', 'OUTCOME', 'VERSION', 'TEE', 'CHIP', 'MEASUREMENT', 'POLICY', 'WHY'],
      page.items.map((r) => [r.at, r.outcome, r.version, r.tee, short(r.chipId), short(r.measurement), r.policyId ? `${r.policyId} v${r.policyVersion}` : null, r.outcome === 'denied' ? [r.code, ...r.failingRules].filter(Boolean) : null]),
    ),
  );
};
