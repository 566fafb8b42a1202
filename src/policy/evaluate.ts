// Evaluating a compiled release policy over verified claims (docs/design.md "Policies"): every rule's outcome
// and the values it read. Pure, and it never throws: a rule that cannot be evaluated is an `error`
// outcome with its reason, and the policy then does not allow the release (fail closed).
import { EvaluationError } from '@marcbachmann/cel-js';
import type { Claims, CpuClaims } from '../evidence/claims.js';
import type { NvidiaGpuClaims } from '../evidence/nvidia/claims.js';
import { EvidenceError } from '../errors.js';
import type { PathSegment, ReadPath } from './paths.js';
import { distinctGpuCount, isPlainObject, toCelContext } from './cel-env.js';
import type { CompiledPolicy, CompiledRule } from './compile.js';
import { positionOf } from './policy-error.js';

/**
 * The claims a policy sees: `cpu` (CPU TEE or Nitro enclave) and `gpus` (empty when none). The CEL
 * variable `gpuCount` is derived from `gpus` here, never taken from the caller.
 */
export interface PolicyInput {
  readonly cpu?: CpuClaims | null;
  readonly gpus?: readonly NvidiaGpuClaims[];
}

export type RuleOutcomeKind = 'pass' | 'fail' | 'error';

export interface RuleOutcome {
  readonly name: string;
  readonly outcome: RuleOutcomeKind;
  /** Path → value the rule read (`null`: absent). JSON-safe: fit for the audit log. */
  readonly reads: Readonly<Record<string, unknown>>;
  /** Why the rule could not be evaluated (outcome `error`), with the position in its expression. */
  readonly message?: string;
}

export interface PolicyDecision {
  /** True only when the policy has rules and every one of them passed. */
  readonly allowed: boolean;
  readonly policy: string;
  readonly rules: readonly RuleOutcome[];
}

/** Evaluates every rule (no short-circuit across rules), so a denial explains all that is wrong. */
export function evaluatePolicy(compiled: CompiledPolicy, input: PolicyInput): PolicyDecision {
  let context: Record<string, unknown> | undefined;
  let contextError: string | undefined;
  let cpu: unknown;
  let gpus: unknown;
  try {
    cpu = (input as { cpu?: unknown } | undefined)?.cpu;
    gpus = (input as { gpus?: unknown } | undefined)?.gpus;
    context = toCelContext(cpu, gpus);
  } catch {
    contextError = 'the claims could not be read';
  }
  const roots = { cpu, gpus: gpus ?? [], gpuCount: safeCount(gpus), refs: compiled.refs };
  const rules = compiled.rules.map((rule) => {
    const reads = readValues(rule.reads, roots);
    if (context === undefined) return { name: rule.name, outcome: 'error' as const, reads, message: contextError };
    return evaluateRule(rule, context, reads);
  });
  return {
    allowed: rules.length > 0 && rules.every((r) => r.outcome === 'pass'),
    policy: compiled.name,
    rules,
  };
}

function safeCount(gpus: unknown): number | undefined {
  try {
    return distinctGpuCount(gpus ?? []);
  } catch {
    return undefined;
  }
}

function evaluateRule(rule: CompiledRule, context: Record<string, unknown>, reads: Record<string, unknown>): RuleOutcome {
  try {
    const value = rule.run(context);
    if (value === true) return { name: rule.name, outcome: 'pass', reads };
    if (value === false) return { name: rule.name, outcome: 'fail', reads };
    return { name: rule.name, outcome: 'error', reads, message: 'the rule did not evaluate to a bool' };
  } catch (err) {
    return { name: rule.name, outcome: 'error', reads, message: describeError(err, rule.expr) };
  }
}

function describeError(err: unknown, expr: string): string {
  if (!(err instanceof EvaluationError)) return 'the rule could not be evaluated';
  if (err.range === undefined) return err.summary;
  const { line, column } = positionOf(expr, err.range.start);
  return `${err.summary} (at ${line}:${column})`;
}

/** Splits verified claims into a policy input; more than one CPU TEE in one evidence set is refused. */
export function policyInputFromClaims(claims: readonly Claims[]): PolicyInput {
  const cpus = claims.filter((c): c is CpuClaims => c.tee !== 'nvidia-gpu');
  if (cpus.length > 1) {
    throw new EvidenceError('ERR_EVIDENCE_SET_INVALID', 'evidence holds more than one CPU TEE');
  }
  return { cpu: cpus[0] ?? null, gpus: claims.filter((c): c is NvidiaGpuClaims => c.tee === 'nvidia-gpu') };
}

const ABSENT = Symbol('absent');

function readValues(paths: readonly ReadPath[], roots: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const path of paths) {
    let value: unknown;
    try {
      value = resolve(roots[path.root], path.segments, 0, roots);
    } catch {
      value = ABSENT;
    }
    // Reference values are validated, frozen JSON; claims may come from anywhere and are copied as JSON.
    out[path.text] = path.root === 'refs' && value !== ABSENT ? value : jsonSafe(value, 0);
  }
  return out;
}

/** The value at a path; `[*]` maps the rest of the path over a list. */
function resolve(value: unknown, segments: readonly PathSegment[], from: number, roots: Record<string, unknown>): unknown {
  let v = value;
  for (let i = from; i < segments.length; i++) {
    const s = segments[i]!;
    if (v === ABSENT || v === undefined || v === null) return ABSENT;
    if (s.kind === 'each') {
      if (!Array.isArray(v)) return ABSENT;
      return v.map((item) => resolve(item, segments, i + 1, roots));
    }
    if (s.kind === 'size') return sizeOf(v);
    if (s.kind === 'lookup') {
      const key = resolve(roots[s.index.root], s.index.segments, 0, roots);
      v = typeof key === 'string' || typeof key === 'number' ? member(v, key) : ABSENT;
    } else v = member(v, s.kind === 'field' ? s.name : s.key);
  }
  return v === undefined ? ABSENT : v;
}

function member(v: unknown, key: string | number): unknown {
  if (Array.isArray(v)) return typeof key === 'number' ? v[key] : ABSENT;
  if (isPlainObject(v) && typeof key === 'string' && Object.hasOwn(v, key)) return v[key];
  return ABSENT;
}

function sizeOf(v: unknown): unknown {
  if (Array.isArray(v) || typeof v === 'string') return v.length;
  return isPlainObject(v) ? Object.keys(v).length : ABSENT;
}

const MAX_READ_DEPTH = 6;

/** Claims are JSON already; anything else (from a malformed input) is reduced to JSON, absent to null. */
function jsonSafe(value: unknown, depth: number): unknown {
  if (value === ABSENT || value === undefined || value === null) return null;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value + 0 : null; // -0 reads as 0 in JSON
    case 'bigint':
      return value.toString();
    case 'object':
      if (depth >= MAX_READ_DEPTH) return null;
      if (Array.isArray(value)) return value.map((item) => jsonSafe(item, depth + 1));
      if (!isPlainObject(value)) return null;
      return Object.fromEntries(Object.entries(value).map(([k, item]) => [k, jsonSafe(item, depth + 1)]));
    default:
      return null;
  }
}
