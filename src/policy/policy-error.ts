// Typed errors of policy documents (docs/design.md "Policies"): every problem names where it is.
import { KeywardError, type ErrorCode } from '../errors.js';

export type PolicyErrorCode = Extract<ErrorCode, `ERR_POLICY_${string}`>;

/** One thing wrong with a policy document. Public: shown to the policy author, holds no secrets. */
export interface PolicyProblem {
  readonly code: PolicyErrorCode;
  /** JSON Pointer into the document (`/rules/2/expr`, `/refs/minTcb`), or `` for the whole document. */
  readonly path: string;
  /** The rule the problem is in, when it is in one. */
  readonly rule?: string;
  readonly message: string;
  /** Position in the rule's `expr` (or in the YAML text): 0-based offset, 1-based line and column. */
  readonly offset?: number;
  readonly line?: number;
  readonly column?: number;
  /** ERR_POLICY_TOO_COSTLY: the estimated worst-case cost and the limit it is above. */
  readonly estimate?: number;
  readonly limit?: number;
}

/** A policy document was refused; `problems` lists every problem found (the first one sets `code`). */
export class PolicyError extends KeywardError {
  declare readonly code: PolicyErrorCode;
  readonly problems: readonly PolicyProblem[];

  constructor(problems: readonly PolicyProblem[], options: { cause?: unknown } = {}) {
    const first = problems[0];
    if (first === undefined) throw new RangeError('PolicyError needs at least one problem');
    super(first.code, summarize(problems), { cause: options.cause, extra: { problems } });
    this.problems = problems;
  }
}

function summarize(problems: readonly PolicyProblem[]): string {
  const first = problems[0]!;
  const where = first.rule !== undefined ? `rule "${first.rule}"` : first.path === '' ? 'document' : first.path;
  const at = first.line !== undefined ? ` at ${first.line}:${first.column}` : '';
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  return `policy ${where}${at}: ${first.message}${more}`;
}

/** 1-based line and column of a 0-based offset in `text`. */
export function positionOf(text: string, offset: number): { offset: number; line: number; column: number } {
  const clamped = Math.max(0, Math.min(offset, text.length));
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < clamped; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { offset: clamped, line, column: clamped - lineStart + 1 };
}
