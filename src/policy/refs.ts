// Reference values of a policy (docs/design.md "Policies"): typed from their JSON values so rules are
// type-checked against them, and converted once to the CEL values every evaluation reads.
//
// `refs` is an object type whose fields are the reference names (so `refs.typo` is a type error);
// a list is list<T> when its items share a type T, a map map<string, T> likewise, otherwise dyn.
import type { RefValue } from './document.js';

export type RefType =
  | { readonly kind: 'string' | 'int' | 'bool' | 'dyn' }
  | { readonly kind: 'list' | 'map'; readonly of: RefType };

const DYN: RefType = { kind: 'dyn' };

export function refTypeOf(value: RefValue): RefType {
  if (typeof value === 'string') return { kind: 'string' };
  if (typeof value === 'boolean') return { kind: 'bool' };
  if (typeof value === 'number') return Number.isSafeInteger(value) ? { kind: 'int' } : DYN;
  const items = Array.isArray(value) ? value : Object.values(value);
  let of: RefType | undefined;
  for (const item of items) {
    const t = refTypeOf(item);
    of = of === undefined ? t : unify(of, t);
  }
  return { kind: Array.isArray(value) ? 'list' : 'map', of: of ?? DYN };
}

function unify(a: RefType, b: RefType): RefType {
  if ((a.kind === 'list' || a.kind === 'map') && b.kind === a.kind) {
    return { kind: a.kind, of: unify(a.of, (b as typeof a).of) };
  }
  return a.kind === b.kind && a.kind !== 'list' && a.kind !== 'map' ? a : DYN;
}

export function celRefTypeName(type: RefType): string {
  if (type.kind === 'list') return `list<${celRefTypeName(type.of)}>`;
  if (type.kind === 'map') return `map<string, ${celRefTypeName(type.of)}>`;
  return type.kind;
}

/** A reference value as CEL reads it: integers as BigInt, maps as Map. */
export function toCelRef(value: RefValue): unknown {
  if (typeof value === 'number') return BigInt(value);
  if (typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(toCelRef);
  return new Map(Object.entries(value).map(([k, v]) => [k, toCelRef(v)]));
}
