// Collateral health: what keyward holds to verify evidence (certificates, CRLs, TCB info, RIMs), and
// what expires when — the soonest first, stale items flagged.
import { api, must } from '../../api/client';
import type { Collateral } from '../../api/types';
import { ErrorBox, Loading, Section, useLoad } from '../../components/common';
import { relative, when } from '../../lib/format';
import { clockNow } from '../../lib/now';

async function all(): Promise<Collateral[]> {
  const items: Collateral[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 20; page++) {
    const res = await must(api.GET('/v1/collateral', { params: { query: { limit: 500, ...(cursor ? { cursor } : {}) } } }));
    items.push(...res.items);
    if (!res.nextCursor) break;
    cursor = res.nextCursor;
  }
  return items;
}

const SOON_MS = 14 * 86_400_000;

export function CollateralView() {
  const list = useLoad(all, []);
  const now = clockNow();
  const items = [...(list.data ?? [])].sort((a, b) => (a.validUntil ?? '9999') < (b.validUntil ?? '9999') ? -1 : 1);
  const stale = items.filter((c) => c.stale).length;
  const soon = items.filter((c) => !c.stale && c.validUntil && new Date(c.validUntil).getTime() - now < SOON_MS).length;
  return (
    <>
      <h1>Collateral health</h1>
      <ErrorBox error={list.error} />
      {!list.data && !list.error && <Loading />}
      {list.data && (
        <Section title={`${items.length} items · ${stale} stale · ${soon} expiring within 14 days`} id="collateral-summary">
          {items.length === 0 && <p class="muted">No collateral held.</p>}
          {items.length > 0 && (
            <table>
              <caption class="sr-only">Collateral by expiry</caption>
              <thead>
                <tr>
                  <th scope="col">Kind</th>
                  <th scope="col">Label</th>
                  <th scope="col">Source</th>
                  <th scope="col">Valid from</th>
                  <th scope="col">Expires</th>
                  <th scope="col">Health</th>
                </tr>
              </thead>
              <tbody>
                {items.map((c) => {
                  const expSoon = !c.stale && c.validUntil && new Date(c.validUntil).getTime() - now < SOON_MS;
                  return (
                    <tr key={c.id}>
                      <td>{c.kind}</td>
                      <td class="wrap">{c.label}</td>
                      <td>{c.source}</td>
                      <td>{when(c.validFrom)}</td>
                      <td>
                        {when(c.validUntil)} <span class="muted">({relative(c.validUntil, now)})</span>
                      </td>
                      <td>
                        <span class={`badge ${c.stale ? 'fail' : expSoon ? 'warn' : 'pass'}`}>{c.stale ? 'stale' : expSoon ? 'expires soon' : 'ok'}</span>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
        </Section>
      )}
    </>
  );
}
