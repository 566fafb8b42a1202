// The claims reference of docs/design.md ("Claims reference"): the notation claim types are written in
// there, and the skeleton of its tables generated from the claims schema. scripts/claims-reference.mjs
// prints the skeleton; test/unit/policy/claims-reference.test.ts holds the document to the schema.
import { CLAIM_OBJECT_TYPES, TEE_CLAIM_FIELDS, type ClaimType, type Fields, type ObjectTypeName, type TeeName } from './claims-schema.js';

/**
 * The object types with a table of their own: every named type except CpuClaims and GpuClaims, which
 * are the merged `cpu` / element of `gpus` types and are documented through the per-TEE tables.
 */
export const DOCUMENTED_OBJECT_TYPES: readonly ObjectTypeName[] = (Object.keys(CLAIM_OBJECT_TYPES) as ObjectTypeName[]).filter(
  (name) => name !== 'CpuClaims' && name !== 'GpuClaims',
);

export const DOCUMENTED_TEES: readonly TeeName[] = Object.keys(TEE_CLAIM_FIELDS) as TeeName[];

/**
 * A claim type in the reference's notation: `bool`, `int`, `string`, a closed vocabulary as
 * `"a" | "b"`, `list<T>`, `map<string, T>`, or an object type's name. The document may refine `string`
 * to `string (hex)` for byte strings (the schema does not tell the two apart).
 */
export function claimTypeNotation(type: ClaimType): string {
  switch (type.kind) {
    case 'bool':
    case 'int':
      return type.kind;
    case 'string':
      return type.values === undefined ? 'string' : type.values.map((v) => JSON.stringify(v)).join(' | ');
    case 'list':
      return `list<${claimTypeNotation(type.of)}>`;
    case 'map':
      return `map<string, ${claimTypeNotation(type.of)}>`;
    case 'object':
      return type.type;
  }
}

/** GitHub's anchor for a heading made of a bare name (`SnpTcb` → `snptcb`). */
function anchorOf(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_ -]/g, '').replace(/ /g, '-');
}

/** A type cell: the notation with object types linked to their tables and `|` escaped for markdown. */
function typeCell(type: ClaimType): string {
  return claimTypeNotation(type)
    .replace(/\|/g, '\\|')
    .replace(/\b(?:[A-Z][A-Za-z0-9]*)\b/g, (name) => (Object.hasOwn(CLAIM_OBJECT_TYPES, name) ? `[${name}](#${anchorOf(name)})` : name));
}

function table(heading: string, fields: Fields): string {
  const rows = Object.entries(fields).map(([name, type]) => `| \`${name}\` | ${typeCell(type)} |  |`);
  return [`### ${heading}`, '', '| claim | type | meaning |', '|---|---|---|', ...rows].join('\n');
}

/** The `###` sections of "Claims reference" with empty meanings: one table per TEE, then per object type. */
export function claimsReferenceSkeleton(): string {
  const tees = DOCUMENTED_TEES.map((tee) => table(tee, TEE_CLAIM_FIELDS[tee]));
  const objects = DOCUMENTED_OBJECT_TYPES.map((name) => table(name, CLAIM_OBJECT_TYPES[name]));
  return `${[...tees, ...objects].join('\n\n')}\n`;
}
