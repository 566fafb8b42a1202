import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse as parseYaml } from 'yaml';
import { parsePolicyText, validatePolicyDocument } from '../../../src/policy/document.js';
import { POLICY_DOCUMENT_SCHEMA, POLICY_LIMITS } from '../../../src/policy/document-schema.js';
import { compilePolicy } from '../../../src/policy/compile.js';
import { PolicyError } from '../../../src/policy/policy-error.js';
import { POLICIES_DIR } from './fixtures.js';

function problemsOf(fn: () => unknown): { code: string; status: number; problems: PolicyError['problems'] } {
  try {
    fn();
  } catch (err) {
    if (err instanceof PolicyError) return { code: err.code, status: err.status, problems: err.problems };
    throw err;
  }
  throw new Error('no PolicyError');
}

const valid = { name: 'llama-prod', rules: [{ name: 'no-debug', expr: '!cpu.debug' }], refs: { llamaImages: ['ab'] } };

describe('policies/schema.json', () => {
  const fileSchema = JSON.parse(readFileSync(join(POLICIES_DIR, 'schema.json'), 'utf8'));

  it('is exactly the schema the service validates with', () => {
    expect(fileSchema).toEqual(JSON.parse(JSON.stringify(POLICY_DOCUMENT_SCHEMA)));
  });

  it('accepts every example policy as an independent draft 2020-12 validator reads it', () => {
    const validate = new Ajv2020({ strict: true, allowUnionTypes: true }).compile(fileSchema);
    for (const f of readdirSync(POLICIES_DIR).filter((n) => n.endsWith('.yaml'))) {
      const doc = parseYaml(readFileSync(join(POLICIES_DIR, f), 'utf8'));
      expect(validate(doc), `${f}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });
});

describe('validatePolicyDocument', () => {
  it('returns a frozen normalized copy (refs default to {})', () => {
    const doc = validatePolicyDocument({ name: 'p', rules: [{ name: 'r', expr: 'true' }] });
    expect(doc).toEqual({ name: 'p', rules: [{ name: 'r', expr: 'true' }], refs: {} });
    expect(Object.isFrozen(doc.rules[0])).toBe(true);
    const input = structuredClone(valid);
    const copy = validatePolicyDocument(input);
    input.refs.llamaImages.push('cd');
    expect(copy.refs['llamaImages']).toEqual(['ab']);
  });

  it.each([
    ['a missing name', { rules: valid.rules }, '/name', 'is required'],
    ['no rules', { name: 'p', rules: [] }, '/rules', 'must NOT have fewer than 1 items'],
    ['a rule without expr', { name: 'p', rules: [{ name: 'r' }] }, '/rules/0/expr', 'is required'],
    ['an unknown top-level field', { ...valid, rule: [] }, '/rule', 'is not a known property'],
    ['an unknown rule field', { name: 'p', rules: [{ name: 'r', expr: 'true', exp: 'x' }] }, '/rules/0/exp', 'is not a known property'],
    ['a rule name with spaces', { name: 'p', rules: [{ name: 'no debug', expr: 'true' }] }, '/rules/0/name', undefined],
    ['a non-string expr', { name: 'p', rules: [{ name: 'r', expr: true }] }, '/rules/0/expr', 'must be string'],
    ['a null reference', { ...valid, refs: { x: null } }, '/refs/x', undefined],
    ['a fractional reference', { ...valid, refs: { x: [1.5] } }, '/refs/x/0', undefined],
    ['a reserved reference name', { ...valid, refs: { in: 1 } }, '/refs/in', undefined],
    ['a prototype-altering reference name', { ...valid, refs: JSON.parse('{"__proto__": 1}') }, '/refs/__proto__', undefined],
    ['a reference name that is not an identifier', { ...valid, refs: { 'llama-images': [] } }, '/refs/llama-images', undefined],
    ['an unsafe integer', { ...valid, refs: { x: 2 ** 60 } }, '/refs/x', 'must be <= 9007199254740991'],
  ])('refuses %s as ERR_POLICY_INVALID at %s', (_what, doc, path, message) => {
    const { code, status, problems } = problemsOf(() => validatePolicyDocument(doc));
    expect(code).toBe('ERR_POLICY_INVALID');
    expect(status).toBe(400);
    expect(problems[0]!.path).toBe(path);
    if (message !== undefined) expect(problems[0]!.message).toBe(message);
  });

  it('refuses duplicate rule names, naming both', () => {
    const doc = { name: 'p', rules: [{ name: 'a', expr: 'true' }, { name: 'b', expr: 'true' }, { name: 'a', expr: 'false' }] };
    const { problems } = problemsOf(() => validatePolicyDocument(doc));
    expect(problems).toEqual([{ code: 'ERR_POLICY_INVALID', path: '/rules/2/name', message: 'duplicate rule name "a" (also /rules/0/name)' }]);
  });

  it('enforces the size limits', () => {
    const rule = (i: number) => ({ name: `r${i}`, expr: 'true' });
    const cases: [unknown, string][] = [
      [{ name: 'p', rules: Array.from({ length: POLICY_LIMITS.rules + 1 }, (_, i) => rule(i)) }, '/rules'],
      [{ name: 'p', rules: [{ name: 'r', expr: 'true || '.repeat(600) + 'true' }] }, '/rules/0/expr'],
      [{ name: 'p', rules: [rule(0)], refs: { l: Array(POLICY_LIMITS.refListItems + 1).fill('a') } }, '/refs/l'],
      [{ name: 'p', rules: [rule(0)], refs: { s: 'a'.repeat(POLICY_LIMITS.refStringLength + 1) } }, '/refs/s'],
      [{ name: 'p', rules: [rule(0)], refs: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`r${i}`, 1])) }, '/refs'],
      [{ name: 'p', rules: [rule(0)], refs: { deep: [[[[['x']]]]] } }, '/refs/deep/0/0/0/0'],
      [
        { name: 'p', rules: [rule(0)], refs: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`r${i}`, Array(4000).fill('x')])) },
        '/refs',
      ],
    ];
    for (const [doc, path] of cases) {
      const { code, problems } = problemsOf(() => validatePolicyDocument(doc));
      expect(code, path).toBe('ERR_POLICY_INVALID');
      expect(problems[0]!.path, path).toBe(path);
    }
  });

  it('refuses values that are not JSON', () => {
    for (const refs of [{ d: new Date(0) }, { m: new Map() }, { n: Number.NaN }, { f: () => 1 }, { u: undefined }]) {
      expect(problemsOf(() => validatePolicyDocument({ ...valid, refs })).code).toBe('ERR_POLICY_INVALID');
    }
    const cyclic: Record<string, unknown> = { name: 'p', rules: valid.rules };
    cyclic['refs'] = { self: cyclic };
    expect(problemsOf(() => validatePolicyDocument(cyclic)).code).toBe('ERR_POLICY_INVALID');
  });
});

describe('parsePolicyText', () => {
  it('reads YAML and JSON to the same document', () => {
    const yaml = 'name: llama-prod\nrules:\n  - name: no-debug\n    expr: "!cpu.debug"\nrefs:\n  llamaImages: [ab]\n';
    expect(parsePolicyText(yaml)).toEqual(parsePolicyText(JSON.stringify(valid)));
  });

  it('refuses text that is not YAML, with line and column', () => {
    const { code, status, problems } = problemsOf(() => parsePolicyText('name: p\nrules:\n  - name: r\n    expr: [unclosed\n'));
    expect(code).toBe('ERR_POLICY_MALFORMED');
    expect(status).toBe(400);
    expect(problems[0]!.line).toBeGreaterThanOrEqual(4);
    expect(problems[0]!.column).toBeGreaterThanOrEqual(1);
  });

  it('refuses duplicate keys', () => {
    const { code, problems } = problemsOf(() => parsePolicyText('name: a\nname: b\nrules: []\n'));
    expect(code).toBe('ERR_POLICY_MALFORMED');
    expect(problems[0]).toMatchObject({ line: 2, column: 1 });
  });

  it('refuses alias bombs and oversized text without working through them', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdefgh'.split('').map((k, i) => `${k}: &${k} [*${'abcdefgh'[i]}, *${'abcdefgh'[i]}, *${'abcdefgh'[i]}, *${'abcdefgh'[i]}, *${'abcdefgh'[i]}, *${'abcdefgh'[i]}, *${'abcdefgh'[i]}, *${'abcdefgh'[i]}]`)].join('\n');
    expect(problemsOf(() => parsePolicyText(bomb)).code).toBe('ERR_POLICY_MALFORMED');
    expect(problemsOf(() => parsePolicyText(`name: p\n#${'x'.repeat(POLICY_LIMITS.textLength)}`)).code).toBe('ERR_POLICY_INVALID');
  });

  it('refuses deep nesting without overflowing the stack', () => {
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    const { code } = problemsOf(() => parsePolicyText(`name: p\nrules: []\nrefs:\n  x: ${deep}\n`));
    expect(['ERR_POLICY_MALFORMED', 'ERR_POLICY_INVALID']).toContain(code);
  });

  it('a parsed example compiles to the same policy as its JSON form', () => {
    const text = readFileSync(join(POLICIES_DIR, 'snp-production.yaml'), 'utf8');
    const doc = parsePolicyText(text);
    expect(compilePolicy(JSON.parse(JSON.stringify(doc))).document).toEqual(doc);
  });
});

describe('parsePolicyText and compilePolicy properties', () => {
  const examples = readdirSync(POLICIES_DIR)
    .filter((n) => n.endsWith('.yaml'))
    .map((n) => readFileSync(join(POLICIES_DIR, n), 'utf8'));

  /** Parses and compiles; returns the error code, or 'ok'. Anything but a PolicyError fails the property. */
  function outcome(text: string): string {
    try {
      compilePolicy(parsePolicyText(text));
      return 'ok';
    } catch (err) {
      if (err instanceof PolicyError) return err.code;
      throw err;
    }
  }

  it('random text only ever yields a document or a PolicyError', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (text) => void outcome(text)), { numRuns: 300 });
  });

  it('mutations of the example policies only ever yield a policy or a PolicyError', () => {
    const mutation = fc.tuple(fc.constantFrom(...examples), fc.nat(), fc.nat({ max: 40 }), fc.string({ maxLength: 6 }));
    fc.assert(
      fc.property(mutation, ([text, at, cut, insert]) => {
        const i = at % text.length;
        void outcome(text.slice(0, i) + insert + text.slice(i + cut));
      }),
      { numRuns: 300 },
    );
  });

  it('random rule expressions only ever compile or yield a PolicyError', () => {
    const tokens = fc.constantFrom(
      'cpu', 'gpus', 'refs', '.', 'measurement', 'vmpl', 'reportedTcb', 'snp', 'all', 'exists', '(', ')', '[', ']',
      'g', ',', '==', '!=', '&&', '||', '!', ' in ', '0', '"snp"', 'true', 'size()', 'tcbAtLeast', 'x', '?', ':', '{', '}',
    );
    const refs = { x: ['a'], m: { snp: 1 } };
    fc.assert(
      fc.property(fc.array(tokens, { maxLength: 25 }), (parts) => {
        try {
          compilePolicy({ name: 'p', rules: [{ name: 'r', expr: parts.join('') || 'x' }], refs });
        } catch (err) {
          if (!(err instanceof PolicyError)) throw err;
          expect(['ERR_POLICY_SYNTAX', 'ERR_POLICY_TYPE', 'ERR_POLICY_INVALID']).toContain(err.code);
        }
      }),
      { numRuns: 500 },
    );
  });
});
