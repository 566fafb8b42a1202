// "Who received my key": each release and denial of one key, and why a denial happened (the failing rules,
// what each expected — its expression in the deciding policy version — and the values it saw).
import { useState } from 'preact/hooks';
import { api, must } from '../../api/client';
import { has, type Capabilities } from '../../api/capabilities';
import type { AuditEvent, ReleaseRecord } from '../../api/types';
import { ErrorBox, Loading, Section, useLoad } from '../../components/common';
import { short, when } from '../../lib/format';
import { go, href } from '../../router';
import { RulesTable, type RuleOutcome } from '../policies/PoliciesView';

interface Row {
  at: string;
  released: boolean;
  version?: number | undefined;
  code?: string | undefined;
  policyId?: string | undefined;
  policyVersion?: number | undefined;
  reasons: RuleOutcome[];
  extra: [string, string][];
}

function asRules(reasons: unknown): RuleOutcome[] {
  if (!Array.isArray(reasons)) return [];
  return reasons.map((r: Record<string, unknown>, i) => ({
    name: typeof r['name'] === 'string' ? r['name'] : typeof r['rule'] === 'string' ? r['rule'] : `reason ${i + 1}`,
    outcome: r['outcome'] === 'error' ? 'error' : 'fail',
    reads: (r['reads'] && typeof r['reads'] === 'object' ? r['reads'] : {}) as Record<string, unknown>,
    ...(typeof r['message'] === 'string' ? { message: r['message'] } : {}),
  }));
}

function fromAudit(e: AuditEvent): Row {
  const d = e.details as Record<string, unknown>;
  const extra: [string, string][] = [];
  for (const k of ['releaseId', 'what', 'claimsDigest']) if (typeof d[k] === 'string') extra.push([k, d[k] as string]);
  return {
    at: e.at,
    released: e.outcome === 'success',
    version: typeof d['version'] === 'number' ? d['version'] : undefined,
    code: typeof d['code'] === 'string' ? d['code'] : undefined,
    policyId: typeof d['policyId'] === 'string' ? d['policyId'] : undefined,
    policyVersion: typeof d['policyVersion'] === 'number' ? d['policyVersion'] : undefined,
    reasons: asRules(d['reasons']),
    extra,
  };
}

function fromRecord(r: ReleaseRecord): Row {
  const extra: [string, string][] = [];
  for (const k of ['tee', 'chipId', 'platformId', 'measurement', 'attestationTokenId'] as const) {
    const v = r[k];
    if (typeof v === 'string') extra.push([k, v]);
  }
  for (const d of r.evidenceDigests) extra.push(['evidence', d]);
  return {
    at: r.at,
    released: r.outcome === 'released',
    version: r.version ?? undefined,
    code: r.code ?? undefined,
    policyId: r.policyId ?? undefined,
    policyVersion: r.policyVersion ?? undefined,
    reasons: asRules(r.reasons),
    extra,
  };
}

async function loadRows(caps: Capabilities, keyId: string): Promise<{ rows: Row[]; source: string }> {
  if (has(caps, 'releases')) {
    const page = await must(api.GET('/v1/keys/{id}/releases', { params: { path: { id: keyId }, query: { format: 'json' } } }));
    // format=json: the JSON body (the CSV alternative is a string).
    if (typeof page === 'string') throw new Error('The server answered CSV to a JSON request.');
    // The server lists oldest first; the view shows the newest first.
    return { rows: page.items.map(fromRecord).reverse(), source: 'GET /v1/keys/{id}/releases' };
  }
  const events: AuditEvent[] = [];
  let after: number | undefined;
  for (let page = 0; page < 10; page++) {
    const res = await must(api.GET('/v1/audit', { params: { query: { action: 'key.release', target: keyId, limit: 1000, ...(after !== undefined ? { after } : {}) } } }));
    events.push(...res.items);
    if (res.nextAfter === null || res.nextAfter === undefined) break;
    after = res.nextAfter;
  }
  return { rows: events.map(fromAudit).reverse(), source: 'the audit log (this server has no GET /v1/keys/{id}/releases)' };
}

/** The rule expressions of each policy version that decided, to show what a failing rule expected. */
async function expressions(rows: Row[]): Promise<{ exprs: Map<string, Map<string, string>>; names: Map<string, string> }> {
  const out = new Map<string, Map<string, string>>();
  const names = new Map<string, string>();
  for (const r of rows) {
    if (!r.policyId || r.policyVersion === undefined) continue;
    if (r.reasons.length === 0) {
      if (!names.has(r.policyId)) {
        const p = await must(api.GET('/v1/policies/{id}', { params: { path: { id: r.policyId } } })).catch(() => null);
        if (p) names.set(p.id, p.name);
      }
      continue;
    }
    const k = `${r.policyId}@${r.policyVersion}`;
    if (out.has(k)) continue;
    const p = await must(api.GET('/v1/policies/{id}', { params: { path: { id: r.policyId }, query: { version: r.policyVersion } } })).catch(() => null);
    const rules = ((p?.document as { rules?: { name: string; expr: string }[] } | undefined)?.rules ?? []) as { name: string; expr: string }[];
    out.set(k, new Map(rules.map((rule) => [rule.name, rule.expr])));
    if (p) names.set(p.id, p.name);
  }
  return { exprs: out, names };
}

export function ReleasesView({ caps, keyId }: { caps: Capabilities; keyId: string | undefined }) {
  const keys = useLoad(() => must(api.GET('/v1/keys', { params: { query: { limit: 500 } } })), []);
  return (
    <>
      <h1>Releases and denials</h1>
      <div class="row card">
        <div class="field grow">
          <label for="releases-key">Key</label>
          <select id="releases-key" value={keyId ?? ''} onChange={(e) => go('releases', e.currentTarget.value || undefined)}>
            <option value="">— choose a key —</option>
            {keys.data?.items.map((k) => (
              <option key={k.id} value={k.id}>
                {k.name}
              </option>
            ))}
          </select>
        </div>
      </div>
      <ErrorBox error={keys.error} />
      {keyId && <KeyReleases caps={caps} keyId={keyId} />}
    </>
  );
}

function KeyReleases({ caps, keyId }: { caps: Capabilities; keyId: string }) {
  const data = useLoad(async () => {
    const { rows, source } = await loadRows(caps, keyId);
    return { rows, source, ...(await expressions(rows)) };
  }, [keyId]);
  const [onlyDenials, setOnlyDenials] = useState(false);
  if (data.error) return <ErrorBox error={data.error} />;
  if (!data.data) return <Loading />;
  const { rows, source, exprs, names } = data.data;
  const shown = onlyDenials ? rows.filter((r) => !r.released) : rows;
  const released = rows.filter((r) => r.released).length;
  return (
    <Section title={`${released} released, ${rows.length - released} denied`} id="release-history">
      <p class="muted">
        Newest first, from {source}. <a href={href('keys', keyId)}>Key details</a>
      </p>
      <label class="check">
        <input type="checkbox" checked={onlyDenials} onChange={(e) => setOnlyDenials(e.currentTarget.checked)} /> Only denials
      </label>
      {shown.length === 0 && <p class="muted">Nothing yet.</p>}
      <ol class="events">
        {shown.map((r, i) => {
          const map = r.policyId && r.policyVersion !== undefined ? exprs.get(`${r.policyId}@${r.policyVersion}`) : undefined;
          return (
            <li key={i} class={r.released ? 'release' : 'denial'}>
              <p>
                <span class={`badge ${r.released ? 'pass' : 'fail'}`}>{r.released ? 'released' : 'denied'}</span> <time dateTime={r.at}>{when(r.at)}</time>
                {r.version !== undefined && <> · version {r.version}</>}
                {r.policyId && (
                  <>
                    {' '}
                    · policy <a href={href('policies', r.policyId)}>{names.get(r.policyId) ?? short(r.policyId)}</a>
                    {r.policyVersion !== undefined && ` v${r.policyVersion}`}
                  </>
                )}
                {r.code && (
                  <>
                    {' '}
                    · <code>{r.code}</code>
                  </>
                )}
              </p>
              {r.extra.length > 0 && (
                <dl class="facts small">
                  {r.extra.map(([k, v], j) => (
                    <div key={j}>
                      <dt>{k}</dt>
                      <dd class="mono wrap">{v}</dd>
                    </div>
                  ))}
                </dl>
              )}
              {r.reasons.length > 0 && (
                <RulesTable caption="Why it was denied" rules={r.reasons.map((rule) => ({ ...rule, ...(map?.get(rule.name) ? { expr: `expected: ${map.get(rule.name)}` } : {}) }))} />
              )}
            </li>
          );
        })}
      </ol>
    </Section>
  );
}
