// Policy documents (docs/design.md "Policies"): YAML/JSON text → a validated PolicyDocument, or a PolicyError
// that names the path (and for YAML the line and column) of every problem.
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { parseDocument } from 'yaml';
import { POLICY_DOCUMENT_SCHEMA, POLICY_LIMITS } from './document-schema.js';
import { PolicyError, type PolicyProblem } from './policy-error.js';

export type RefValue = string | number | boolean | readonly RefValue[] | { readonly [key: string]: RefValue };

export interface PolicyRule {
  readonly name: string;
  /** A CEL expression over `cpu`, `gpus` and `refs` that must evaluate to true. */
  readonly expr: string;
  readonly description?: string;
}

export interface PolicyDocument {
  readonly name: string;
  readonly description?: string;
  readonly rules: readonly PolicyRule[];
  readonly refs: Readonly<Record<string, RefValue>>;
}

/** At most this many problems are reported for one document. */
const MAX_PROBLEMS = 20;

let validator: ReturnType<Ajv2020['compile']> | undefined;

function schemaValidator(): ReturnType<Ajv2020['compile']> {
  validator ??= new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true }).compile(POLICY_DOCUMENT_SCHEMA);
  return validator;
}

/**
 * Parses a policy document from YAML or JSON text (JSON is read as YAML 1.2, of which it is a subset)
 * and validates it. Duplicate keys, aliases beyond a small count and oversized text are refused.
 */
export function parsePolicyText(text: string): PolicyDocument {
  if (text.length > POLICY_LIMITS.textLength) {
    throw new PolicyError([
      { code: 'ERR_POLICY_INVALID', path: '', message: `document is longer than ${POLICY_LIMITS.textLength} characters` },
    ]);
  }
  let value: unknown;
  try {
    const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true, strict: true, logLevel: 'silent' });
    const error = doc.errors[0];
    if (error !== undefined) {
      const pos = error.linePos?.[0];
      throw new PolicyError([
        {
          code: 'ERR_POLICY_MALFORMED',
          path: '',
          message: `not valid YAML/JSON: ${firstLine(error.message)}`,
          ...(pos !== undefined ? { offset: error.pos[0], line: pos.line, column: pos.col } : {}),
        },
      ]);
    }
    value = doc.toJS({ maxAliasCount: 32 });
  } catch (err) {
    if (err instanceof PolicyError) throw err;
    // Alias bombs, excessive nesting (RangeError) and the like: refused, not crashed on.
    throw new PolicyError([{ code: 'ERR_POLICY_MALFORMED', path: '', message: 'not valid YAML/JSON' }], { cause: err });
  }
  return validatePolicyDocument(value);
}

/** Validates a parsed document (e.g. a JSON request body) and returns a normalized copy of it. */
export function validatePolicyDocument(value: unknown): PolicyDocument {
  const shapeProblem = checkPlainJson(value, '', 0);
  if (shapeProblem !== undefined) throw new PolicyError([shapeProblem]);

  const validate = schemaValidator();
  if (!validate(value)) {
    const problems = toProblems(validate.errors ?? []);
    throw new PolicyError(problems.length > 0 ? problems : [{ code: 'ERR_POLICY_INVALID', path: '', message: 'does not match the policy schema' }]);
  }
  const doc = value as unknown as PolicyDocument;

  const problems: PolicyProblem[] = [];
  const seen = new Map<string, number>();
  doc.rules.forEach((rule, i) => {
    const prior = seen.get(rule.name);
    if (prior !== undefined) {
      problems.push({
        code: 'ERR_POLICY_INVALID',
        path: `/rules/${i}/name`,
        message: `duplicate rule name "${rule.name}" (also /rules/${prior}/name)`,
      });
    } else seen.set(rule.name, i);
  });
  const refsJson = JSON.stringify(doc.refs ?? {});
  if (refsJson.length > POLICY_LIMITS.refsJsonLength) {
    problems.push({
      code: 'ERR_POLICY_INVALID',
      path: '/refs',
      message: `reference values are larger than ${POLICY_LIMITS.refsJsonLength} characters of JSON`,
    });
  }
  if (problems.length > 0) throw new PolicyError(problems);

  return deepFreeze({
    name: doc.name,
    ...(doc.description !== undefined ? { description: doc.description } : {}),
    rules: doc.rules.map((r) => ({
      name: r.name,
      expr: r.expr,
      ...(r.description !== undefined ? { description: r.description } : {}),
    })),
    refs: JSON.parse(refsJson) as Record<string, RefValue>,
  });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}

/** Deepest nesting of containers a document may have: document → refs → a reference value. */
const MAX_DEPTH = 2 + POLICY_LIMITS.refDepth;

/** Only plain JSON (no undefined, NaN, Date, Map, class instances), nested at most MAX_DEPTH deep. */
function checkPlainJson(value: unknown, path: string, depth: number): PolicyProblem | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : notJson(path);
  const isArray = Array.isArray(value);
  if (!isArray && (typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype)) {
    return notJson(path);
  }
  if (depth >= MAX_DEPTH) {
    return { code: 'ERR_POLICY_INVALID', path, message: `nested deeper than ${POLICY_LIMITS.refDepth} levels in a reference value` };
  }
  const entries: [string, unknown][] = isArray
    ? (value as unknown[]).map((v, i) => [String(i), v])
    : Object.entries(value as Record<string, unknown>);
  for (const [key, item] of entries) {
    const problem = checkPlainJson(item, `${path}/${escapePointer(key)}`, depth + 1);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function notJson(path: string): PolicyProblem {
  return { code: 'ERR_POLICY_INVALID', path, message: 'not a JSON value' };
}

function toProblems(errors: readonly ErrorObject[]): PolicyProblem[] {
  // ajv reports a bad property name twice: once for the inner keyword (with `propertyName`), once for
  // `propertyNames`. Keep the latter.
  return errors.filter((e) => e.propertyName === undefined).slice(0, MAX_PROBLEMS).map(toProblem);
}

function toProblem(error: ErrorObject): PolicyProblem {
  const params = error.params as Record<string, unknown>;
  let path = error.instancePath;
  let message = error.message ?? 'is invalid';
  switch (error.keyword) {
    case 'required':
      path += `/${escapePointer(String(params['missingProperty']))}`;
      message = 'is required';
      break;
    case 'additionalProperties':
      path += `/${escapePointer(String(params['additionalProperty']))}`;
      message = 'is not a known property';
      break;
    case 'propertyNames':
      path += `/${escapePointer(String(params['propertyName']))}`;
      message =
        error.instancePath === '/refs'
          ? `is not a usable reference name: a CEL identifier (letters, digits, _; not a reserved word) of at most ${POLICY_LIMITS.refNameLength} characters`
          : `key is longer than ${POLICY_LIMITS.refStringLength} characters`;
      break;
    case 'pattern':
      message = 'must start with a letter or digit and hold only letters, digits, ".", "_" and "-"';
      break;
    case 'type':
      if (path.startsWith('/refs/')) message = 'must be a string, integer, boolean, list or map (no null, no fractions)';
      break;
  }
  return { code: 'ERR_POLICY_INVALID', path, message };
}

function escapePointer(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** The first line of a YAML error message, without its trailing "at line L, column C:". */
function firstLine(text: string): string {
  return (text.split('\n', 1)[0] ?? text).replace(/ at line \d+, column \d+:?$/, '');
}
