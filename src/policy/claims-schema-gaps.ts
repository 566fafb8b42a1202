// Where a claims object and the policy claims schema (claims-schema.ts) disagree: the check verifier tests
// run so that a claim a verifier emits is always one a policy can be type-checked against.
import { CLAIM_OBJECT_TYPES, TEE_CLAIM_FIELDS, type ClaimType, type Fields, type TeeName } from './claims-schema.js';

/**
 * Where a claims object (as a verifier returns it) and this schema disagree: a field the schema does
 * not declare, a value of another kind, a word outside a declared vocabulary. Empty when they agree.
 * Verifier tests can assert `claimsSchemaGaps(claims)` is `[]` so the policy schema keeps up.
 */
export function claimsSchemaGaps(claims: unknown): string[] {
  const gaps: string[] = [];
  const tee = isRecord(claims) ? claims['tee'] : undefined;
  if (typeof tee !== 'string' || !Object.hasOwn(TEE_CLAIM_FIELDS, tee)) {
    return [`tee: ${JSON.stringify(tee)} is not a TEE the schema knows`];
  }
  checkFields(claims, TEE_CLAIM_FIELDS[tee as TeeName], tee, gaps);
  return gaps;
}

function checkFields(value: unknown, fields: Fields, path: string, gaps: string[]): void {
  if (!isRecord(value)) {
    gaps.push(`${path}: expected an object`);
    return;
  }
  for (const [key, item] of Object.entries(value)) {
    const type = Object.hasOwn(fields, key) ? fields[key] : undefined;
    if (type === undefined) gaps.push(`${path}.${key}: not declared in the policy claims schema`);
    else checkValue(item, type, `${path}.${key}`, gaps);
  }
}

function checkValue(value: unknown, type: ClaimType, path: string, gaps: string[]): void {
  switch (type.kind) {
    case 'bool':
      if (typeof value !== 'boolean') gaps.push(`${path}: expected bool`);
      return;
    case 'int':
      if (!Number.isSafeInteger(value)) gaps.push(`${path}: expected int`);
      return;
    case 'string':
      if (typeof value !== 'string') gaps.push(`${path}: expected string`);
      else if (type.values !== undefined && !type.values.includes(value)) {
        gaps.push(`${path}: "${value}" is not a declared value (${type.values.join(', ')})`);
      }
      return;
    case 'list':
      if (!Array.isArray(value)) gaps.push(`${path}: expected list`);
      else value.forEach((item, i) => checkValue(item, type.of, `${path}[${i}]`, gaps));
      return;
    case 'map':
      if (!isRecord(value)) gaps.push(`${path}: expected map`);
      else for (const [k, item] of Object.entries(value)) checkValue(item, type.of, `${path}[${JSON.stringify(k)}]`, gaps);
      return;
    case 'object':
      checkFields(value, CLAIM_OBJECT_TYPES[type.type], path, gaps);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
