// Compiling a release policy (docs/design.md "Policies"): validate the document, parse and type-check every
// rule once against the claims schema and the policy's own reference values, keep the parsed rules.
import { createHash } from 'node:crypto';
import { ParseError, TypeError as CelTypeError, type Environment } from '@marcbachmann/cel-js';
import { analyzeRule } from './analyze.js';
import type { ReadPath } from './paths.js';
import { baseEnvironment } from './cel-env.js';
import { CLAIM_OBJECT_TYPES } from './claims-schema.js';
import { validatePolicyDocument, type PolicyDocument, type PolicyRule, type RefValue } from './document.js';
import { PolicyError, positionOf, type PolicyErrorCode, type PolicyProblem } from './policy-error.js';
import { celRefTypeName, refTypeOf, toCelRef } from './refs.js';
import { LruMemo } from '../evidence/memo.js';
import { POLICY_LIMITS } from './document-schema.js';

export interface CompiledRule {
  readonly name: string;
  readonly expr: string;
  readonly description?: string;
  /** Worst-case evaluation cost (cost.ts). */
  readonly cost: number;
  /** The claim and reference paths the rule reads, reported with every evaluation. */
  readonly reads: readonly ReadPath[];
  /** The parsed, type-checked expression (cel-js); call with the CEL context. */
  readonly run: (context: Record<string, unknown>) => unknown;
}

export interface CompiledPolicy {
  readonly name: string;
  readonly document: PolicyDocument;
  readonly rules: readonly CompiledRule[];
  readonly refs: Readonly<Record<string, RefValue>>;
  /** Worst-case evaluation cost of all rules together (cost.ts). */
  readonly cost: number;
}

export interface CompileOptions {
  /** Refuse a policy whose estimated worst-case cost is above this (default POLICY_LIMITS.policyCost). */
  readonly maxCost?: number;
}

/**
 * Validates a policy document (parsed YAML/JSON) and compiles it. Throws PolicyError listing every
 * problem: ERR_POLICY_INVALID (shape, limits), ERR_POLICY_SYNTAX, ERR_POLICY_TYPE (with rule and
 * position), ERR_POLICY_TOO_COSTLY (its worst-case cost estimate is above `maxCost`).
 */
export function compilePolicy(value: unknown, options: CompileOptions = {}): CompiledPolicy {
  const document = validatePolicyDocument(value);
  const env = policyEnvironment(document.refs);
  const rules: CompiledRule[] = [];
  const problems: PolicyProblem[] = [];
  document.rules.forEach((rule, index) => {
    const compiled = compileRule(env, rule, index, document.refs);
    if (Array.isArray(compiled)) problems.push(...compiled);
    else rules.push(compiled as CompiledRule);
  });
  if (problems.length > 0) throw new PolicyError(problems);
  const cost = rules.reduce((sum, r) => sum + r.cost, 0);
  const maxCost = options.maxCost ?? POLICY_LIMITS.policyCost;
  if (cost > maxCost) throw new PolicyError([tooCostly(document, rules, cost, maxCost)]);
  return Object.freeze({ name: document.name, document, rules: Object.freeze(rules), refs: document.refs, cost });
}

/** The refusal of a policy over its cost limit, pointing at its most expensive rule. */
function tooCostly(document: PolicyDocument, rules: readonly CompiledRule[], cost: number, limit: number): PolicyProblem {
  const worst = rules.reduce((a, b) => (b.cost > a.cost ? b : a));
  const index = document.rules.findIndex((r) => r.name === worst.name);
  return {
    code: 'ERR_POLICY_TOO_COSTLY',
    path: `/rules/${index}/expr`,
    rule: worst.name,
    message: `too costly: evaluating the policy may take ~${formatCost(cost)} steps (limit ${formatCost(limit)}); this rule alone ~${formatCost(worst.cost)}`,
    estimate: cost,
    limit,
  };
}

function formatCost(n: number): string {
  return n >= 1e15 ? n.toExponential(1) : String(Math.round(n));
}

/** Compiled policies by content, so a policy loaded again (another request, another version) is not recompiled. */
export class CompiledPolicyCache {
  private readonly memo: LruMemo;

  constructor(capacity = 256) {
    this.memo = new LruMemo(capacity);
  }

  compile(value: unknown): CompiledPolicy {
    let json: string | undefined;
    try {
      json = JSON.stringify(value);
    } catch {
      json = undefined; // not JSON (cycles, BigInt): compilePolicy refuses it with its own error
    }
    if (json === undefined) return compilePolicy(value);
    const key = createHash('sha256').update(json).digest('hex');
    return this.memo.remember(key, () => compilePolicy(value));
  }
}

/** The base environment plus `refs`: an object type whose fields are this policy's reference names. */
function policyEnvironment(refs: Readonly<Record<string, RefValue>>): Environment {
  const Refs = class Refs {};
  const fields: Record<string, string> = {};
  const values = new Refs();
  for (const [name, value] of Object.entries(refs)) {
    fields[name] = celRefTypeName(refTypeOf(value));
    Object.defineProperty(values, name, { value: toCelRef(value), enumerable: true });
  }
  const env = baseEnvironment().clone();
  env.registerType('Refs', { ctor: Refs, fields });
  env.registerConstant('refs', 'Refs', values);
  return env;
}

function compileRule(
  env: Environment,
  rule: PolicyRule,
  index: number,
  refs: Readonly<Record<string, RefValue>>,
): CompiledRule | PolicyProblem[] {
  const at = (code: PolicyErrorCode, message: string, offset: number): PolicyProblem => ({
    code,
    path: `/rules/${index}/expr`,
    rule: rule.name,
    message,
    ...positionOf(rule.expr, offset),
  });
  let parsed: ReturnType<Environment['parse']>;
  try {
    parsed = env.parse(rule.expr);
  } catch (err) {
    return [celProblem(err, rule.expr, at, nameCandidates(refs))];
  }
  const checked = parsed.check();
  if (!checked.valid) return [celProblem(checked.error, rule.expr, at, nameCandidates(refs))];
  if (checked.type !== 'bool') {
    return [at('ERR_POLICY_TYPE', `a rule must evaluate to bool, this one evaluates to ${checked.type}`, 0)];
  }
  const analysis = analyzeRule(parsed.ast, refs);
  if (analysis.problems.length > 0) return analysis.problems.map((p) => at('ERR_POLICY_TYPE', p.message, p.start));
  return {
    name: rule.name,
    expr: rule.expr,
    ...(rule.description !== undefined ? { description: rule.description } : {}),
    cost: analysis.cost,
    reads: analysis.reads,
    run: parsed,
  };
}

type ProblemAt = (code: PolicyErrorCode, message: string, offset: number) => PolicyProblem;

function celProblem(err: unknown, expr: string, at: ProblemAt, candidates: readonly string[]): PolicyProblem {
  if (err instanceof ParseError) {
    const code = err.code === 'limit_exceeded' ? 'ERR_POLICY_INVALID' : 'ERR_POLICY_SYNTAX';
    return at(code, err.summary, err.range?.start ?? 0);
  }
  if (err instanceof CelTypeError) {
    const key = /^No such key: (\w+)$/.exec(err.summary)?.[1];
    const hint = key !== undefined ? didYouMean(key, candidates) : '';
    return at('ERR_POLICY_TYPE', err.summary + hint, err.range?.start ?? 0);
  }
  return at('ERR_POLICY_SYNTAX', `the expression could not be checked (${expr.length} characters)`, 0);
}

const CLAIM_NAMES = [...new Set(Object.values(CLAIM_OBJECT_TYPES).flatMap((fields) => Object.keys(fields)))];

/** Names a misspelt field may have meant: claim fields, reference names and their keys. */
function nameCandidates(refs: Readonly<Record<string, RefValue>>): string[] {
  const refKeys = Object.values(refs).flatMap((v) => (typeof v === 'object' && !Array.isArray(v) ? Object.keys(v) : []));
  return [...Object.keys(refs), ...refKeys, ...CLAIM_NAMES];
}

/** " (did you mean measurement?)" for a name one or two edits away from a known one. */
function didYouMean(name: string, candidates: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const known of candidates) {
    const d = editDistance(name.toLowerCase(), known.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [known, d];
  }
  return best !== undefined && best !== name ? ` (did you mean ${best}?)` : '';
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}
