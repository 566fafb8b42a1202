// Paths a rule reads (`cpu.reportedTcb.snp`, `gpus[*].arch`, `refs.minTcb[cpu.product]`): their shape,
// their text in explanations, and their static resolution against a policy's reference values.
import type { RefValue } from './document.js';

export type PathSegment =
  | { readonly kind: 'field'; readonly name: string }
  | { readonly kind: 'index'; readonly key: string | number }
  | { readonly kind: 'each' }
  | { readonly kind: 'size' }
  /** An index read from another path at run time: `refs.minTcb[cpu.product]`. */
  | { readonly kind: 'lookup'; readonly index: ReadPath };

export type PathRoot = 'cpu' | 'gpus' | 'gpuCount' | 'refs';

export interface Path {
  readonly root: PathRoot;
  readonly segments: readonly PathSegment[];
}

/** A value a rule reads, e.g. `cpu.reportedTcb.snp`, `gpus[*].measurements.matched`, `gpus.size()`. */
export interface ReadPath {
  readonly root: PathRoot;
  readonly segments: readonly PathSegment[];
  readonly text: string;
}

export function renderPath(path: Path): string {
  let text: string = path.root;
  for (const s of path.segments) {
    if (s.kind === 'field') text += `.${s.name}`;
    else if (s.kind === 'index') text += typeof s.key === 'number' ? `[${s.key}]` : `[${JSON.stringify(s.key)}]`;
    else if (s.kind === 'each') text += '[*]';
    else if (s.kind === 'lookup') text += `[${s.index.text}]`;
    else text += '.size()';
  }
  return text;
}

/** The reference values a path denotes (several past a `[*]`), or a message saying where it breaks. */
export function resolveRefs(refs: Readonly<Record<string, RefValue>>, segments: readonly PathSegment[]): RefValue[] | string {
  let values: RefValue[] = [refs];
  for (const [i, s] of segments.entries()) {
    const next: RefValue[] = [];
    for (const v of values) {
      // A run-time lookup may pick any entry: statically it stands for all of them, like [*].
      if (s.kind === 'each' || s.kind === 'lookup') {
        next.push(...(Array.isArray(v) ? v : typeof v === 'object' ? Object.values(v) : []));
      }
      else if (s.kind === 'size') next.push(typeof v === 'object' ? Object.keys(v).length : String(v).length);
      else {
        const key = s.kind === 'field' ? s.name : s.key;
        const found = lookup(v, key);
        if (found === undefined) {
          const at = renderPath({ root: 'refs', segments: segments.slice(0, i) });
          return `${at} has no ${typeof key === 'number' ? `item ${key}` : `key "${key}"`}`;
        }
        next.push(found);
      }
    }
    values = next;
  }
  return values;
}

function lookup(value: RefValue, key: string | number): RefValue | undefined {
  if (Array.isArray(value)) return typeof key === 'number' && key >= 0 ? value[key] : undefined;
  if (typeof value === 'object' && typeof key === 'string' && Object.hasOwn(value, key)) {
    return (value as Record<string, RefValue>)[key];
  }
  return undefined;
}
