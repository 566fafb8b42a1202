// The audit log, with the hash chain's verification status (the server recomputes every link).
import { useState } from 'preact/hooks';
import { api, must } from '../../api/client';
import type { AuditEvent } from '../../api/types';
import { ErrorBox, Loading, Section, useAction, useLoad } from '../../components/common';
import { short, when } from '../../lib/format';

type Outcome = 'success' | 'failure' | 'denied';

export function AuditView({ target }: { target: string | undefined }) {
  const chain = useLoad(() => must(api.GET('/v1/audit/verify')), []);
  const [filter, setFilter] = useState<{ action: string; target: string; outcome: '' | Outcome }>({ action: '', target: target ?? '', outcome: '' });
  const [applied, setApplied] = useState(filter);
  const [more, setMore] = useState<AuditEvent[]>([]);
  const [next, setNext] = useState<number | null>(null);
  const [run, busy, error] = useAction();

  const query = (after?: number) => ({
    limit: 100,
    ...(applied.action ? { action: applied.action } : {}),
    ...(applied.target ? { target: applied.target } : {}),
    ...(applied.outcome ? { outcome: applied.outcome } : {}),
    ...(after !== undefined ? { after } : {}),
  });
  const first = useLoad(async () => {
    const page = await must(api.GET('/v1/audit', { params: { query: query() } }));
    setMore([]);
    setNext(page.nextAfter);
    return page.items;
  }, [applied.action, applied.target, applied.outcome]);

  const loadMore = () =>
    run(async () => {
      if (next === null) return;
      const page = await must(api.GET('/v1/audit', { params: { query: query(next) } }));
      setMore((m) => [...m, ...page.items]);
      setNext(page.nextAfter);
    });

  const events = [...(first.data ?? []), ...more];
  return (
    <>
      <h1>Audit log</h1>
      <section aria-labelledby="chain-heading" class="card">
        <h2 id="chain-heading">Hash chain</h2>
        <ErrorBox error={chain.error} />
        {chain.data ? (
          <p role="status" class={chain.data.ok ? 'verdict allowed' : 'verdict denied'} id="chain-status">
            {chain.data.ok
              ? `Chain verified: ${chain.data.events} events, head #${chain.data.headSeq} (${short(chain.data.headHash, 16)})`
              : `Chain BROKEN at event #${chain.data.brokenAt ?? '?'} — the log was altered outside keyward.`}
          </p>
        ) : (
          !chain.error && <Loading />
        )}
        <button type="button" onClick={chain.reload}>
          Verify again
        </button>
      </section>
      <form
        class="row card"
        aria-label="Filter events"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied(filter);
        }}
      >
        <div class="field">
          <label for="audit-action">Action</label>
          <input id="audit-action" value={filter.action} placeholder="key.release" onInput={(e) => setFilter({ ...filter, action: e.currentTarget.value })} />
        </div>
        <div class="field grow">
          <label for="audit-target">Target</label>
          <input id="audit-target" value={filter.target} onInput={(e) => setFilter({ ...filter, target: e.currentTarget.value })} />
        </div>
        <div class="field">
          <label for="audit-outcome">Outcome</label>
          <select id="audit-outcome" value={filter.outcome} onChange={(e) => setFilter({ ...filter, outcome: e.currentTarget.value as '' | Outcome })}>
            <option value="">any</option>
            <option value="success">success</option>
            <option value="failure">failure</option>
            <option value="denied">denied</option>
          </select>
        </div>
        <button type="submit">Filter</button>
      </form>
      <Section title="Events (oldest first)" id="audit-events">
        <ErrorBox error={first.error} />
        {first.loading && !first.data && <Loading />}
        {first.data && events.length === 0 && <p class="muted">No events match.</p>}
        {events.length > 0 && (
          <table>
            <caption class="sr-only">Audit events</caption>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Time</th>
                <th scope="col">Actor</th>
                <th scope="col">Action</th>
                <th scope="col">Target</th>
                <th scope="col">Outcome</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {events.map((e) => (
                <tr key={e.seq}>
                  <td>{e.seq}</td>
                  <td>{when(e.at)}</td>
                  <td class="mono small">{e.actor}</td>
                  <td class="mono">{e.action}</td>
                  <td class="mono small">{e.target ?? '—'}</td>
                  <td>
                    <span class={`badge ${e.outcome === 'success' ? 'pass' : 'fail'}`}>{e.outcome}</span>
                  </td>
                  <td>
                    <details>
                      <summary>details</summary>
                      <pre class="mono small">{JSON.stringify(e.details, null, 2)}</pre>
                    </details>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {next !== null && (
          <button type="button" onClick={loadMore} disabled={busy}>
            Load more
          </button>
        )}
        <ErrorBox error={error} />
      </Section>
    </>
  );
}
