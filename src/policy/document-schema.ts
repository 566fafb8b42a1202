// The JSON Schema (draft 2020-12) of a release policy document and the size limits it enforces.
//
// policies/schema.json is this object, written out; a test keeps the two identical. The limits keep a
// policy from being a denial of service: bounded text, rules, expressions and reference values.

export const POLICY_LIMITS = {
  /** YAML or JSON text of one document, in UTF-16 code units. */
  textLength: 256 * 1024,
  nameLength: 128,
  descriptionLength: 2048,
  rules: 64,
  ruleNameLength: 64,
  exprLength: 4096,
  refs: 64,
  refNameLength: 64,
  /** All reference values together, as compact JSON. */
  refsJsonLength: 128 * 1024,
  refStringLength: 1024,
  refListItems: 4096,
  refMapEntries: 256,
  /** Nesting of one reference value: 1 = scalar, 2 = list or map of scalars, ... */
  refDepth: 4,
  /** CEL parse limits, per rule expression. */
  astNodes: 1000,
  astDepth: 32,
  /**
   * Default limit of a policy's estimated worst-case evaluation cost, all rules together (cost.ts);
   * KEYWARD_POLICY_MAX_COST overrides it.
   */
  policyCost: 1_000_000,
} as const;

/**
 * Names a reference may not have: CEL reserved words (refs.<name> would not parse), and the JavaScript
 * names that would alter the object holding the references instead of adding a field to it.
 */
const RESERVED_REF_NAMES = [
  'as', 'break', 'const', 'continue', 'else', 'false', 'for', 'function', 'if', 'import', 'in', 'let',
  'loop', 'package', 'namespace', 'null', 'return', 'true', 'var', 'void', 'while',
  '__proto__', 'constructor', 'prototype',
];

const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]*$';
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

export const POLICY_DOCUMENT_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'urn:keyward:schema:policy:1',
  title: 'keyward release policy',
  description:
    'Named CEL rules over the verified claims (variables cpu, gpus, gpuCount, refs), all of which must hold, and named reference values the rules read.',
  type: 'object',
  required: ['name', 'rules'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: POLICY_LIMITS.nameLength, pattern: NAME_PATTERN },
    description: { type: 'string', maxLength: POLICY_LIMITS.descriptionLength },
    rules: {
      type: 'array',
      minItems: 1,
      maxItems: POLICY_LIMITS.rules,
      items: { $ref: '#/$defs/rule' },
    },
    refs: {
      type: 'object',
      maxProperties: POLICY_LIMITS.refs,
      propertyNames: {
        maxLength: POLICY_LIMITS.refNameLength,
        pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
        not: { enum: RESERVED_REF_NAMES },
      },
      additionalProperties: { $ref: '#/$defs/refValue' },
    },
  },
  $defs: {
    rule: {
      type: 'object',
      required: ['name', 'expr'],
      additionalProperties: false,
      properties: {
        name: { type: 'string', minLength: 1, maxLength: POLICY_LIMITS.ruleNameLength, pattern: NAME_PATTERN },
        expr: { type: 'string', minLength: 1, maxLength: POLICY_LIMITS.exprLength },
        description: { type: 'string', maxLength: POLICY_LIMITS.descriptionLength },
      },
    },
    refValue: {
      description: `A string, integer, boolean, list or map of them (no null), nested at most ${POLICY_LIMITS.refDepth} deep.`,
      type: ['string', 'integer', 'boolean', 'array', 'object'],
      maxLength: POLICY_LIMITS.refStringLength,
      minimum: -MAX_SAFE,
      maximum: MAX_SAFE,
      maxItems: POLICY_LIMITS.refListItems,
      items: { $ref: '#/$defs/refValue' },
      maxProperties: POLICY_LIMITS.refMapEntries,
      propertyNames: { maxLength: POLICY_LIMITS.refStringLength },
      additionalProperties: { $ref: '#/$defs/refValue' },
    },
  },
} as const;
