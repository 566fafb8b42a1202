// The worst-case cost model of a policy rule (docs/design.md "Policies"; docs/policy-cost.md): how many steps
// evaluating it may take and how large the values it builds may grow, known before it ever runs.
//
// Sizes are in cells: a scalar is 1, a string or bytes value 1 per 1024 characters (at least 1), a list or
// map 1 plus its items. Cost counts node visits, comprehension iterations, and every cell copied or
// compared. The model is deliberately pessimistic: `cel.bind(b, a + a, ...)` doubles the size of `a`,
// so a chain of such binds is refused when saved, long before it could take seconds and gigabytes.
import type { ClaimType } from './claims-schema.js';
import { CLAIM_OBJECT_TYPES, CLAIM_VARIABLES } from './claims-schema.js';
import type { RefValue } from './document.js';
import { isPlainObject } from './cel-env.js';

export interface Estimate {
  /** Worst-case evaluation steps. */
  readonly cost: number;
  /** Worst-case size of the value, in cells. */
  readonly size: number;
}

export const SCALAR: Estimate = { cost: 1, size: 1 };

const CHARS_PER_CELL = 1024;
/** The longest claim string the model assumes (hex digests, versions, Nitro's user data). */
export const MAX_CLAIM_STRING = 4096;
/** Items of an `in` scan that count as one step (a native scan, far cheaper than a comprehension step). */
export const IN_ITEMS_PER_STEP = 16;

export function textCells(length: number): number {
  return 1 + Math.floor(length / CHARS_PER_CELL);
}

/** The size of a literal (string, bytes, number, bool, null). */
export function literalSize(value: unknown): number {
  if (typeof value === 'string') return textCells(value.length);
  if (value instanceof Uint8Array) return textCells(value.length);
  return 1;
}

/** The size of a reference value, exactly. */
export function refValueSize(value: RefValue): number {
  if (typeof value === 'string') return textCells(value.length);
  if (typeof value !== 'object') return 1;
  const items = Array.isArray(value) ? value : Object.entries(value).flat();
  return items.reduce<number>((sum, item) => sum + refValueSize(item), 1);
}

const objectSizes = new Map<string, number>();

/** The largest value a claim of this type can be, by the schema's bounds. */
export function claimTypeSize(type: ClaimType | undefined): number {
  if (type === undefined) return 1;
  switch (type.kind) {
    case 'bool':
    case 'int':
      return 1;
    case 'string':
      return type.values ? textCells(Math.max(...type.values.map((v) => v.length))) : textCells(MAX_CLAIM_STRING);
    case 'list':
      return 1 + type.maxItems * claimTypeSize(type.of);
    case 'map':
      return 1 + type.maxItems * (textCells(64) + claimTypeSize(type.of));
    case 'object': {
      let size = objectSizes.get(type.type);
      if (size === undefined) {
        size = Object.values(CLAIM_OBJECT_TYPES[type.type]).reduce((sum, field) => sum + claimTypeSize(field), 1);
        objectSizes.set(type.type, size);
      }
      return size;
    }
  }
}

/** Cost and size of a binary operator over two evaluated operands. */
export function binaryEstimate(op: string, a: Estimate, b: Estimate): Estimate {
  const cost = a.cost + b.cost;
  switch (op) {
    case '+':
      // Concatenation copies both sides (lists, strings, bytes); for numbers this is 2 extra steps.
      return { cost: cost + a.size + b.size, size: a.size + b.size };
    case '==':
    case '!=':
    case '<':
    case '<=':
    case '>':
    case '>=':
      return { cost: cost + Math.min(a.size, b.size), size: 1 };
    case 'in':
      return { cost: cost + a.size + Math.ceil(b.size / IN_ITEMS_PER_STEP), size: 1 };
    case '[]':
    case '[?]':
      return { cost: cost + 1, size: a.size };
    default:
      return { cost: cost + 1, size: 1 };
  }
}

/** Functions whose result is one scalar (a bool, a number, a type) whatever their arguments. */
const SCALAR_RESULTS = new Set([
  'size', 'startsWith', 'endsWith', 'contains', 'indexOf', 'lastIndexOf', 'int', 'uint', 'double', 'bool',
  'type', 'tcbAtLeast', 'versionAtLeast', 'matches', 'at',
]);

/** Cost and size of a function or method call over its evaluated receiver and arguments. */
export function callEstimate(name: string, args: readonly Estimate[]): Estimate {
  const argCost = args.reduce((sum, a) => sum + a.cost, 0);
  const argSize = args.reduce((sum, a) => sum + a.size, 0);
  let size: number;
  if (SCALAR_RESULTS.has(name)) size = 1;
  else if (name === 'split') size = 2 + 2 * CHARS_PER_CELL * (args[0]?.size ?? 1);
  else if (name === 'join') size = argSize;
  // Anything else (conversions, hex(), base64(), lowerAscii(), ...) is assumed to grow its input threefold.
  else size = 1 + 3 * argSize;
  return { cost: 1 + argCost + argSize + size, size };
}

/** Sums estimates (list literals, map literals, argument lists). */
export function sumEstimates(items: readonly Estimate[]): Estimate {
  return items.reduce((sum, e) => ({ cost: sum.cost + e.cost, size: sum.size + e.size }), { cost: 1, size: 1 });
}

/**
 * Whether claims fit the bounds the cost model assumed: lists and maps within their schema's maxItems,
 * strings within MAX_CLAIM_STRING. Verified claims always do; a dry run's uploaded claims may not, and
 * are then evaluated where a time and memory limit applies.
 */
export function claimsWithinBounds(cpu: unknown, gpus: unknown): boolean {
  return withinBounds(cpu ?? null, CLAIM_VARIABLES.cpu, 0) && withinBounds(gpus ?? [], CLAIM_VARIABLES.gpus, 0);
}

function withinBounds(value: unknown, type: ClaimType, depth: number): boolean {
  if (depth > 8) return false;
  if (typeof value === 'string') return value.length <= MAX_CLAIM_STRING;
  if (value === null || typeof value !== 'object') return true;
  if (Array.isArray(value)) {
    if (type.kind !== 'list') return value.length <= 64 && value.every((v) => withinBounds(v, type, depth + 1));
    return value.length <= type.maxItems && value.every((v) => withinBounds(v, type.of, depth + 1));
  }
  if (!isPlainObject(value)) return false;
  const entries = Object.entries(value);
  if (type.kind === 'map') return entries.length <= type.maxItems && entries.every(([, v]) => withinBounds(v, type.of, depth + 1));
  const fields = type.kind === 'object' ? CLAIM_OBJECT_TYPES[type.type] : {};
  // Undeclared fields never reach CEL (toCelClaim copies declared ones only), but they are still input.
  return entries.length <= 256 && entries.every(([k, v]) => withinBounds(v, Object.hasOwn(fields, k) ? fields[k]! : type, depth + 1));
}
