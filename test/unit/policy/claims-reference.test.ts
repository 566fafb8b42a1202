// docs/design.md "Claims reference" against the claims schema (src/policy/claims-schema.ts): one table per
// TEE and per nested object type, whose claim names and types must be exactly the schema's, both ways.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLAIM_OBJECT_TYPES, TEE_CLAIM_FIELDS, type ClaimType, type Fields } from '../../../src/policy/claims-schema.js';
import { DOCUMENTED_OBJECT_TYPES, DOCUMENTED_TEES, claimTypeNotation, claimsReferenceSkeleton } from '../../../src/policy/claims-reference.js';

const DESIGN_DOC = join(process.cwd(), 'docs', 'design.md');
const SECTION = '## Claims reference';

interface DocRow {
  readonly claim: string;
  /** The type cell as written (markdown). */
  readonly type: string;
  readonly meaning: string;
}

/** The `###` tables of the "Claims reference" section, by heading; problems with the tables' shape. */
function readTables(markdown: string): { tables: Map<string, DocRow[]>; problems: string[] } {
  const tables = new Map<string, DocRow[]>();
  const problems: string[] = [];
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l.trim() === SECTION);
  if (start < 0) return { tables, problems: [`docs/design.md has no "${SECTION}" section`] };
  let heading: string | undefined;
  let inFence = false;
  for (const line of lines.slice(start + 1)) {
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    if (inFence) continue;
    if (/^## /.test(line)) break;
    const sub = /^### (.+)$/.exec(line);
    if (sub) {
      heading = (sub[1] as string).replace(/`/g, '').trim();
      if (tables.has(heading)) problems.push(`${heading}: two sections with this heading`);
      tables.set(heading, []);
      continue;
    }
    if (!line.trimStart().startsWith('|') || heading === undefined) continue;
    const cells = line.trim().replace(/^\|/, '').replace(/(?<!\\)\|$/, '').split(/(?<!\\)\|/).map((c) => c.trim());
    if (cells.every((c) => /^:?-+:?$/.test(c))) continue;
    if (cells.join('|') === 'claim|type|meaning') continue;
    if (cells.length !== 3) {
      problems.push(`${heading}: a row without exactly three cells: ${line.trim()}`);
      continue;
    }
    const [claim, type, meaning] = cells as [string, string, string];
    (tables.get(heading) as DocRow[]).push({ claim: claim.replace(/`/g, ''), type, meaning });
  }
  return { tables, problems };
}

/** Reads a type cell's notation ("string (hex)" is a string; links and backticks are markup). */
function parseNotation(cell: string): ClaimType {
  const text = cell
    .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1')
    .replace(/`/g, '')
    .replace(/\\\|/g, '|')
    .replace(/\s+/g, ' ')
    .trim();
  return parseType(text);
}

function parseType(text: string): ClaimType {
  if (text.startsWith('list<') && text.endsWith('>')) return { kind: 'list', of: parseType(text.slice(5, -1).trim()), maxItems: 0 };
  if (text.startsWith('map<string,') && text.endsWith('>')) return { kind: 'map', of: parseType(text.slice(11, -1).trim()), maxItems: 0 };
  if (text === 'bool' || text === 'int') return { kind: text };
  if (text === 'string' || text === 'string (hex)') return { kind: 'string' };
  if (/^"[^"]*"(?: ?\| ?"[^"]*")*$/.test(text)) return { kind: 'string', values: [...text.matchAll(/"([^"]*)"/g)].map((m) => m[1] as string) };
  if (/^[A-Z][A-Za-z0-9]*$/.test(text)) return { kind: 'object', type: text as never };
  throw new Error(`cannot read the type "${text}"`);
}

/** A comparable form of a type: the reference notation with vocabularies in sorted order. */
function canonical(type: ClaimType): string {
  switch (type.kind) {
    case 'string':
      return type.values === undefined ? 'string' : claimTypeNotation({ kind: 'string', values: [...type.values].sort() });
    case 'list':
      return `list<${canonical(type.of)}>`;
    case 'map':
      return `map<string, ${canonical(type.of)}>`;
    default:
      return claimTypeNotation(type);
  }
}

const EXPECTED_SECTIONS: ReadonlyMap<string, Fields> = new Map<string, Fields>([
  ...DOCUMENTED_TEES.map((tee): [string, Fields] => [tee, TEE_CLAIM_FIELDS[tee]]),
  ...DOCUMENTED_OBJECT_TYPES.map((name): [string, Fields] => [name, CLAIM_OBJECT_TYPES[name]]),
]);

/** Every disagreement between one documented table and the schema's fields, each naming the claim. */
function tableProblems(section: string, rows: readonly DocRow[], fields: Fields): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    const where = `${section}.${row.claim}`;
    if (seen.has(row.claim)) problems.push(`${where}: documented twice`);
    seen.add(row.claim);
    if (row.meaning === '') problems.push(`${where}: no meaning given`);
    const declared = Object.hasOwn(fields, row.claim) ? fields[row.claim] : undefined;
    if (declared === undefined) {
      problems.push(`${where}: documented in docs/design.md but not in the claims schema`);
      continue;
    }
    let documented: string;
    try {
      documented = canonical(parseNotation(row.type));
    } catch (err) {
      problems.push(`${where}: ${(err as Error).message}`);
      continue;
    }
    if (documented !== canonical(declared)) {
      problems.push(`${where}: documented as ${documented}, but the claims schema says ${canonical(declared)}`);
    }
  }
  for (const [name, type] of Object.entries(fields)) {
    if (!seen.has(name)) problems.push(`${section}.${name}: in the claims schema (${claimTypeNotation(type)}) but not documented in docs/design.md`);
  }
  return problems;
}

/** Every disagreement between a "Claims reference" text and the claims schema. */
function referenceProblems(markdown: string): string[] {
  const { tables, problems } = readTables(markdown);
  for (const [section, fields] of EXPECTED_SECTIONS) {
    const rows = tables.get(section);
    if (rows === undefined) problems.push(`${section}: no "### ${section}" table in docs/design.md "Claims reference"`);
    else problems.push(...tableProblems(section, rows, fields));
  }
  for (const section of tables.keys()) {
    if (!EXPECTED_SECTIONS.has(section)) problems.push(`${section}: a table for a TEE or object type the claims schema does not have`);
  }
  return problems;
}

const design = readFileSync(DESIGN_DOC, 'utf8');
/** The document as a whole, with only the "Claims reference" section replaced by `section`. */
function withReference(section: string): string {
  const start = design.indexOf(`${SECTION}\n`);
  const end = design.indexOf('\n## ', start + SECTION.length);
  return `${design.slice(0, start)}${section}${design.slice(end)}`;
}
const reference = design.slice(design.indexOf(`${SECTION}\n`), design.indexOf('\n## ', design.indexOf(`${SECTION}\n`) + SECTION.length));

describe('docs/design.md "Claims reference"', () => {
  it('has one table for every TEE and every nested object type, and no other', () => {
    const { tables } = readTables(design);
    expect([...tables.keys()].sort()).toEqual([...EXPECTED_SECTIONS.keys()].sort());
    expect(DOCUMENTED_OBJECT_TYPES).not.toContain('CpuClaims');
    expect(DOCUMENTED_OBJECT_TYPES).not.toContain('GpuClaims');
  });

  it.each([...EXPECTED_SECTIONS.keys()])('%s: the documented claims and types are exactly the schema’s', (section) => {
    const { tables, problems } = readTables(design);
    expect(problems).toEqual([]);
    const rows = tables.get(section);
    expect(rows, `no "### ${section}" table`).toBeDefined();
    expect(tableProblems(section, rows ?? [], EXPECTED_SECTIONS.get(section) as Fields)).toEqual([]);
  });

  it('agrees with the skeleton scripts/claims-reference.mjs prints from the schema', () => {
    const skeleton = claimsReferenceSkeleton();
    const { tables, problems } = readTables(`${SECTION}\n\n${skeleton}`);
    expect(problems).toEqual([]);
    for (const [section, fields] of EXPECTED_SECTIONS) {
      // The skeleton leaves meanings empty; everything else must already agree.
      const rows = (tables.get(section) ?? []).map((r) => ({ ...r, meaning: 'x' }));
      expect(tableProblems(section, rows, fields), section).toEqual([]);
    }
  });
});

describe('the claims reference check', () => {
  it('names a claim the document leaves out', () => {
    const text = withReference(reference.replace(/^\| `vmpl` \|.*\n/m, ''));
    expect(referenceProblems(text)).toEqual(['snp.vmpl: in the claims schema (int) but not documented in docs/design.md']);
  });

  it('names a claim the schema does not have, in a TEE table and in an object table', () => {
    const text = withReference(
      reference
        .replace('| `vmpl` | int |', '| `vmplLevel` | int | Invented. |\n| `vmpl` | int |')
        .replace('| `fmc` | int |', '| `fmc` | int | Invented too. |\n| `spl` | int |'),
    );
    expect(referenceProblems(text)).toEqual([
      'snp.vmplLevel: documented in docs/design.md but not in the claims schema',
      'SnpTcb.spl: documented in docs/design.md but not in the claims schema',
    ]);
  });

  it('names a claim documented with another type, another vocabulary or another object type', () => {
    const text = withReference(
      reference
        .replace('| `vmpl` | int |', '| `vmpl` | string |')
        .replace('| `signer` | "vcek" \\| "vlek" |', '| `signer` | "vcek" \\| "vlek" \\| "none" |')
        .replace('| `reportedTcb` | [SnpTcb](#snptcb) |', '| `reportedTcb` | [SnpCpuid](#snpcpuid) |')
        .replace('| `rtmr` | list<string (hex)> |', '| `rtmr` | list<int> |'),
    );
    expect(referenceProblems(text)).toEqual([
      'snp.signer: documented as "none" | "vcek" | "vlek", but the claims schema says "vcek" | "vlek"',
      'snp.vmpl: documented as string, but the claims schema says int',
      'snp.reportedTcb: documented as SnpCpuid, but the claims schema says SnpTcb',
      'tdx.rtmr: documented as list<int>, but the claims schema says list<string>',
    ]);
  });

  it('accepts a vocabulary in another order, and refuses an unreadable type or an empty meaning', () => {
    const reordered = withReference(reference.replace('| `signer` | "vcek" \\| "vlek" |', '| `signer` | "vlek" \\| "vcek" |'));
    expect(referenceProblems(reordered)).toEqual([]);
    const broken = withReference(reference.replace(/^\| `vmpl` \| int \|.*$/m, '| `vmpl` | integer |  |'));
    expect(referenceProblems(broken)).toEqual(['snp.vmpl: no meaning given', 'snp.vmpl: cannot read the type "integer"']);
  });

  it('names a missing table and a table for something the schema does not have', () => {
    const text = withReference(reference.replace('### GpuRim', '### GpuRimIds'));
    expect(referenceProblems(text)).toEqual([
      'GpuRim: no "### GpuRim" table in docs/design.md "Claims reference"',
      'GpuRimIds: a table for a TEE or object type the claims schema does not have',
    ]);
  });
});
