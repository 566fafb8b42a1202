// Policies: list; an editor type-checked live by the server (POST /v1/policies/validate) with each problem
// shown on its rule; a dry run over pasted claims or uploaded evidence; binding to a key.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, must } from '../../api/client';
import { ApiError, type PolicyProblem } from '../../api/problem';
import type { Approval, Policy, PolicyDecision } from '../../api/types';
import { approvalOf, ErrorBox, Loading, Section, useAction, useLoad, WaitingApproval } from '../../components/common';
import { show, when } from '../../lib/format';
import { go, href } from '../../router';

export function PoliciesView({ id }: { id: string | undefined }) {
  if (id === 'new') return <PolicyEditor policy={undefined} />;
  return id ? <PolicyPage id={id} /> : <PolicyList />;
}

function PolicyList() {
  const list = useLoad(() => must(api.GET('/v1/policies', { params: { query: { limit: 500 } } })), []);
  return (
    <>
      <h1>Policies</h1>
      <p>
        <a class="button primary" href={href('policies', 'new')}>
          New policy
        </a>
      </p>
      <Section title="All policies">
        <ErrorBox error={list.error} />
        {list.loading && !list.data && <Loading />}
        {list.data?.items.length === 0 && <p class="muted">No policies yet.</p>}
        {list.data && list.data.items.length > 0 && (
          <table>
            <caption class="sr-only">Policies</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Version</th>
                <th scope="col">Rules</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((p) => (
                <tr key={p.id}>
                  <th scope="row">
                    <a href={href('policies', p.id)}>{p.name}</a>
                  </th>
                  <td>{p.version}</td>
                  <td>{rulesOf(p).length}</td>
                  <td>{when(p.updatedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
    </>
  );
}

interface Rule {
  name: string;
  expr: string;
}

function rulesOf(p: Policy): Rule[] {
  const rules = (p.document as { rules?: Rule[] }).rules;
  return Array.isArray(rules) ? rules.map((r) => ({ name: String(r.name ?? ''), expr: String(r.expr ?? '') })) : [];
}

function PolicyPage({ id }: { id: string }) {
  const policy = useLoad(() => must(api.GET('/v1/policies/{id}', { params: { path: { id } } })), [id]);
  if (policy.error) return <ErrorBox error={policy.error} />;
  if (!policy.data) return <Loading />;
  return (
    <>
      <PolicyEditor key={`${policy.data.id}:${policy.data.version}`} policy={policy.data} onSaved={policy.reload} />
      <DryRun policy={policy.data} />
      <Bind policy={policy.data} />
    </>
  );
}

/** Where a problem belongs: a rule (by its index), refs, or the document as a whole. */
function placeProblems(problems: PolicyProblem[], rules: Rule[]): { byRule: Map<number, PolicyProblem[]>; refs: PolicyProblem[]; other: PolicyProblem[] } {
  const byRule = new Map<number, PolicyProblem[]>();
  const refs: PolicyProblem[] = [];
  const other: PolicyProblem[] = [];
  for (const p of problems) {
    const m = /^\/rules\/(\d+)/.exec(p.path ?? '');
    let index = m?.[1] !== undefined ? Number(m[1]) : -1;
    if (index < 0 && p.rule !== undefined) index = rules.findIndex((r) => r.name === p.rule);
    if (index >= 0 && index < rules.length) byRule.set(index, [...(byRule.get(index) ?? []), p]);
    else if ((p.path ?? '').startsWith('/refs')) refs.push(p);
    else other.push(p);
  }
  return { byRule, refs, other };
}

function problemText(p: PolicyProblem): string {
  const at = p.line !== undefined ? ` (line ${p.line}, column ${p.column})` : p.offset !== undefined ? ` (at character ${p.offset + 1})` : '';
  return `${p.message}${at} — ${p.code}`;
}

type Check = { state: 'idle' | 'checking' | 'valid' } | { state: 'invalid'; problems: PolicyProblem[] } | { state: 'error'; error: unknown };

function PolicyEditor({ policy, onSaved }: { policy: Policy | undefined; onSaved?: () => void }) {
  const doc = (policy?.document ?? {}) as { name?: string; description?: string; refs?: unknown };
  const [name, setName] = useState(policy?.name ?? '');
  const [description, setDescription] = useState(doc.description ?? '');
  const [rules, setRules] = useState<Rule[]>(policy ? rulesOf(policy) : [{ name: 'no-debug', expr: '!cpu.debug' }]);
  const [refsText, setRefsText] = useState(doc.refs !== undefined ? JSON.stringify(doc.refs, null, 2) : '{}');
  const [check, setCheck] = useState<Check>({ state: 'idle' });
  const [run, busy, error] = useAction();

  const refs = useMemo((): { ok: true; value: unknown } | { ok: false; message: string } => {
    try {
      const value: unknown = JSON.parse(refsText || '{}');
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, message: 'Reference values must be a JSON object.' };
      return { ok: true, value };
    } catch (err) {
      return { ok: false, message: `Not valid JSON: ${(err as Error).message}` };
    }
  }, [refsText]);

  const document = useMemo(
    () => ({ name: name.trim(), ...(description ? { description } : {}), rules, ...(refs.ok ? { refs: refs.value } : {}) }),
    [name, description, rules, refs],
  );

  // Live type-check: the server's own checks, 400 ms after the last edit; a newer edit wins.
  useEffect(() => {
    if (!refs.ok) return;
    let live = true;
    setCheck({ state: 'checking' });
    const timer = setTimeout(() => {
      api.POST('/v1/policies/validate', { body: document }).then(({ response, error: problem }) => {
        if (!live) return;
        if (response.ok) setCheck({ state: 'valid' });
        else {
          const err = new ApiError({ status: response.status, ...(problem as object) } as never);
          const problems = err.problem.problems;
          setCheck(problems && problems.length > 0 ? { state: 'invalid', problems } : { state: 'error', error: err });
        }
      }, (e: unknown) => live && setCheck({ state: 'error', error: e }));
    }, 400);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [document, refs.ok]);

  const placed = placeProblems(check.state === 'invalid' ? check.problems : [], rules);
  const setRule = (i: number, patch: Partial<Rule>) => setRules((rs) => rs.map((r, j) => (j === i ? { ...r, ...patch } : r)));

  const [waiting, setWaiting] = useState<Approval | null>(null);
  const save = (e: Event) => {
    e.preventDefault();
    return run(async () => {
      if (!refs.ok) throw new Error(refs.message);
      if (policy) {
        // A new version of a bound policy re-pins its keys: above quorum 1 that waits for approval (202).
        const pending = approvalOf(await must(api.PUT('/v1/policies/{id}', { params: { path: { id: policy.id } }, body: document })));
        setWaiting(pending);
        if (!pending) onSaved?.();
      } else {
        const created = await must(api.POST('/v1/policies', { body: document }));
        go('policies', created.id);
      }
    });
  };

  return (
    <>
      <p>
        <a href={href('policies')}>← All policies</a>
      </p>
      <h1>{policy ? `Policy ${policy.name} (version ${policy.version})` : 'New policy'}</h1>
      <WaitingApproval approval={waiting} />
      <form onSubmit={save} aria-describedby="check-status" class="card editor">
        <h2 id="editor-heading">Editor</h2>
        <div class="row">
          <div class="field">
            <label for="policy-name">Name</label>
            <input id="policy-name" value={name} onInput={(e) => setName(e.currentTarget.value)} required readOnly={!!policy} />
          </div>
          <div class="field grow">
            <label for="policy-description">Description</label>
            <input id="policy-description" value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
          </div>
        </div>
        <fieldset>
          <legend>Rules (all must hold; CEL over cpu, gpus and refs)</legend>
          <ol class="rules">
            {rules.map((r, i) => {
              const problems = placed.byRule.get(i) ?? [];
              const errId = `rule-${i}-problems`;
              return (
                <li key={i} class={problems.length > 0 ? 'rule has-problem' : 'rule'} data-rule={r.name}>
                  <div class="row">
                    <div class="field">
                      <label for={`rule-${i}-name`}>Rule {i + 1} name</label>
                      <input id={`rule-${i}-name`} value={r.name} onInput={(e) => setRule(i, { name: e.currentTarget.value })} required />
                    </div>
                    <div class="field grow">
                      <label for={`rule-${i}-expr`}>Rule {i + 1} expression</label>
                      <input
                        id={`rule-${i}-expr`}
                        class="mono"
                        value={r.expr}
                        spellcheck={false}
                        aria-invalid={problems.length > 0 ? 'true' : undefined}
                        aria-describedby={problems.length > 0 ? errId : undefined}
                        onInput={(e) => setRule(i, { expr: e.currentTarget.value })}
                        required
                      />
                    </div>
                    <button type="button" class="link" aria-label={`Remove rule ${r.name || i + 1}`} onClick={() => setRules((rs) => rs.filter((_, j) => j !== i))}>
                      Remove
                    </button>
                  </div>
                  {problems.length > 0 && (
                    <ul id={errId} class="problems" aria-label={`Problems in rule ${r.name}`}>
                      {problems.map((p, k) => (
                        <li key={k}>{problemText(p)}</li>
                      ))}
                    </ul>
                  )}
                </li>
              );
            })}
          </ol>
          <button type="button" onClick={() => setRules((rs) => [...rs, { name: `rule-${rs.length + 1}`, expr: 'true' }])}>
            Add rule
          </button>
        </fieldset>
        <div class="field">
          <label for="policy-refs">Reference values (JSON object; rules read them as refs.NAME)</label>
          <textarea
            id="policy-refs"
            class="mono"
            rows={6}
            value={refsText}
            spellcheck={false}
            aria-invalid={!refs.ok || placed.refs.length > 0 ? 'true' : undefined}
            aria-describedby="refs-problems"
            onInput={(e) => setRefsText(e.currentTarget.value)}
          />
          <ul id="refs-problems" class="problems">
            {!refs.ok && <li>{refs.message}</li>}
            {placed.refs.map((p, k) => (
              <li key={k}>{problemText(p)}</li>
            ))}
          </ul>
        </div>
        {placed.other.length > 0 && (
          <ul class="problems" aria-label="Problems in the document">
            {placed.other.map((p, k) => (
              <li key={k}>
                {p.path ? <code>{p.path}</code> : 'Document'}: {problemText(p)}
              </li>
            ))}
          </ul>
        )}
        <p id="check-status" role="status" class={`check ${check.state}`}>
          {check.state === 'checking' && 'Type-checking…'}
          {check.state === 'valid' && '✓ The server accepts this policy.'}
          {check.state === 'invalid' && `✗ ${check.problems.length} problem${check.problems.length === 1 ? '' : 's'} — fix before saving.`}
          {check.state === 'error' && 'Could not type-check.'}
        </p>
        {check.state === 'error' && <ErrorBox error={check.error} />}
        <button type="submit" class="primary" disabled={busy || check.state === 'invalid' || !refs.ok}>
          {policy ? 'Save new version' : 'Create policy'}
        </button>
        <ErrorBox error={error} />
      </form>
    </>
  );
}

function parseEvidenceFile(text: string): unknown[] {
  const value: unknown = JSON.parse(text);
  if (Array.isArray(value)) return value;
  if (value && typeof value === 'object' && Array.isArray((value as { evidence?: unknown }).evidence)) return (value as { evidence: unknown[] }).evidence;
  return [value];
}

function DryRun({ policy }: { policy: Policy }) {
  const [claimsText, setClaimsText] = useState('{\n  "cpu": {},\n  "gpus": []\n}');
  const [evidence, setEvidence] = useState<{ name: string; items: unknown[] } | null>(null);
  const [decision, setDecision] = useState<PolicyDecision | null>(null);
  const [run, busy, error] = useAction();

  const evaluate = (e: Event) => {
    e.preventDefault();
    return run(async () => {
      setDecision(null);
      const body = evidence ? { evidence: evidence.items as { [k: string]: unknown }[] } : { claims: JSON.parse(claimsText) as { cpu?: Record<string, unknown> | null; gpus?: Record<string, unknown>[] } };
      setDecision(await must(api.POST('/v1/policies/{id}/evaluate', { params: { path: { id: policy.id } }, body })));
    });
  };

  const onFile = (e: Event) => {
    const file = (e.currentTarget as HTMLInputElement).files?.[0];
    if (!file) return setEvidence(null);
    void run(async () => setEvidence({ name: file.name, items: parseEvidenceFile(await file.text()) }));
  };

  return (
    <Section title="Dry run" id="dry-run">
      <p class="muted">Evaluates version {policy.version} over claims or evidence; nothing is released or recorded.</p>
      <form onSubmit={evaluate} class="stack">
        <label for="dry-claims">Claims (JSON: cpu, gpus)</label>
        <textarea id="dry-claims" class="mono" rows={8} value={claimsText} spellcheck={false} onInput={(e) => setClaimsText(e.currentTarget.value)} disabled={!!evidence} />
        <label for="dry-evidence">…or evidence (a JSON file of evidence items, as sent to /v1/attest)</label>
        <input id="dry-evidence" type="file" accept=".json,application/json" onChange={onFile} />
        {evidence && (
          <p>
            Using {evidence.items.length} evidence item(s) from {evidence.name}.{' '}
            <button type="button" class="link" onClick={() => setEvidence(null)}>
              Use claims instead
            </button>
          </p>
        )}
        <button type="submit" disabled={busy}>
          Run dry run
        </button>
      </form>
      <ErrorBox error={error} />
      {decision && <DecisionTable decision={decision} />}
    </Section>
  );
}

export function DecisionTable({ decision }: { decision: PolicyDecision }) {
  return (
    <div class="decision" aria-live="polite">
      <p class={decision.allowed ? 'verdict allowed' : 'verdict denied'}>
        {decision.allowed ? 'Allowed' : 'Denied'} by {decision.policy} version {decision.version}
      </p>
      <RulesTable rules={decision.rules} caption="Rule outcomes" />
    </div>
  );
}

export interface RuleOutcome {
  name: string;
  outcome: 'pass' | 'fail' | 'error';
  reads: { [path: string]: unknown };
  message?: string;
  expr?: string;
}

/** Each rule's outcome and the values it read: the same explanation as a denial in the audit log. */
export function RulesTable({ rules, caption }: { rules: RuleOutcome[]; caption: string }) {
  return (
    <table class="rules-table">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Rule</th>
          <th scope="col">Outcome</th>
          <th scope="col">Values it saw</th>
        </tr>
      </thead>
      <tbody>
        {rules.map((r) => (
          <tr key={r.name} class={`outcome-${r.outcome}`}>
            <th scope="row">
              {r.name}
              {r.expr && <div class="mono muted">{r.expr}</div>}
            </th>
            <td>
              <span class={`badge ${r.outcome}`}>{r.outcome}</span>
              {r.message && <div>{r.message}</div>}
            </td>
            <td>
              {Object.keys(r.reads ?? {}).length === 0 ? (
                <span class="muted">—</span>
              ) : (
                <dl class="reads">
                  {Object.entries(r.reads).map(([path, value]) => (
                    <div key={path}>
                      <dt class="mono">{path}</dt>
                      <dd class="mono">{value === null ? 'absent' : show(value)}</dd>
                    </div>
                  ))}
                </dl>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Bind({ policy }: { policy: Policy }) {
  const keys = useLoad(() => must(api.GET('/v1/keys', { params: { query: { limit: 500, state: 'active' } } })), []);
  const [keyId, setKeyId] = useState('');
  const [done, setDone] = useState<string | null>(null);
  const [waiting, setWaiting] = useState<Approval | null>(null);
  const [run, busy, error] = useAction();
  const bound = keys.data?.items.filter((k) => k.policyId === policy.id) ?? [];
  const bind = (e: Event) => {
    e.preventDefault();
    return run(async () => {
      const res = await must(api.PUT('/v1/keys/{id}/policy', { params: { path: { id: keyId } }, body: { policyId: policy.id } }));
      // Above quorum 1 the binding waits for the owners' approvals (the server decides; see the Approvals view).
      const pending = approvalOf(res);
      setWaiting(pending);
      setDone('approval' in res ? null : `Key ${res.name} is now bound to ${policy.name}.`);
      keys.reload();
    });
  };
  return (
    <Section title="Bind to a key" id="bind">
      <p>
        Bound keys:{' '}
        {bound.length === 0
          ? 'none'
          : bound.map((k, i) => (
              <span key={k.id}>
                {i > 0 && ', '}
                <a href={href('keys', k.id)}>{k.name}</a>
              </span>
            ))}
      </p>
      <form onSubmit={bind} class="row">
        <div class="field grow">
          <label for="bind-key">Key</label>
          <select id="bind-key" value={keyId} onChange={(e) => setKeyId(e.currentTarget.value)} required>
            <option value="">— choose a key —</option>
            {keys.data?.items.map((k) => (
              <option key={k.id} value={k.id}>
                {k.name}
                {k.policyId && k.policyId !== policy.id ? ' (bound to another policy)' : ''}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" class="primary" disabled={busy || !keyId}>
          Bind
        </button>
      </form>
      {done && (
        <p role="status" class="ok">
          {done}
        </p>
      )}
      <WaitingApproval approval={waiting} />
      <ErrorBox error={error} />
    </Section>
  );
}
