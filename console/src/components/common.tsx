// Shared pieces: errors, "not available on this server", loading, and a hook for loaded data.
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { describeError } from '../api/problem';
import type { Approval } from '../api/types';
import { href } from '../router';

export function ErrorBox({ error }: { error: unknown }) {
  if (error === null || error === undefined) return null;
  return (
    <p class="error" role="alert">
      {describeError(error)}
    </p>
  );
}

export function Unavailable({ what, routes }: { what: string; routes: readonly string[] }) {
  return (
    <section class="unavailable" aria-label={`${what} unavailable`}>
      <h2>Not available on this server</h2>
      <p>
        {what} needs {routes.length === 1 ? 'the route' : 'the routes'} <code>{routes.join(', ')}</code>, which this keyward does not
        serve yet (its <code>/openapi.yaml</code> does not list {routes.length === 1 ? 'it' : 'them'}).
      </p>
    </section>
  );
}

export function Loading() {
  return (
    <p class="muted" role="status">
      Loading…
    </p>
  );
}

export function Section({ title, children, id }: { title: string; children: ComponentChildren; id?: string }) {
  const headingId = `${id ?? title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-heading`;
  return (
    <section aria-labelledby={headingId} class="card">
      <h2 id={headingId}>{title}</h2>
      {children}
    </section>
  );
}

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` when `deps` change; `reload()` runs it again. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: null, loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error: unknown) => live && setState({ data: undefined, error, loading: false }),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

/** A button whose action runs once at a time and reports its error next to it. */
export function useAction(): [(fn: () => Promise<void>) => Promise<void>, boolean, unknown, (e: unknown) => void] {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = useCallback(async (fn: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }, []);
  return [run, busy, error, setError];
}

/** The approval a 202 answer names (a change above quorum 1), or null when the change applied at once. */
export function approvalOf(answer: unknown): Approval | null {
  return answer !== null && typeof answer === 'object' && 'approval' in answer ? (answer as { approval: Approval }).approval : null;
}

/** Says that a change waits for the owners' approvals, with a link to it. */
export function WaitingApproval({ approval }: { approval: Approval | null }) {
  if (!approval) return null;
  return (
    <p role="status" class="ok">
      This change waits for approval: <a href={href('approvals', approval.id)}>{approval.operation}</a> needs {approval.required} owners to
      approve it with their passkeys.
    </p>
  );
}
