// Every reference in the project points at something in the repository: relative markdown links (and
// their #anchors) in the docs and in src/ comments resolve; section references such as
// `docs/design.md "Release protocol"` and `test/vectors/nitro/FACTS.md §3` name headings that exist; no file
// cites the old out-of-repo design document, the shared folder it lived in, an unqualified FACTS section or
// an issue number; and docs/design.md's layer table is the one scripts/check-architecture.mjs enforces.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = process.cwd();

/** Directories never scanned: dependencies, build output, local state, and the vendored vectors. */
const SKIPPED_DIRS = new Set(['.git', 'node_modules', 'dist', 'dist-check', '.keyward', 'coverage', '.test-tmp', '.scratch', join('bench', 'results'), join('test', 'vectors')]);
const MAX_SCANNED_BYTES = 1 << 20;

/**
 * Files another branch adds: a link to one is tolerated while the file is missing (and checked like any
 * other link once it exists). Remove an entry when its file lands.
 */

function walk(dir: string, keep: (file: string) => boolean): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(ROOT, dir)).sort()) {
    const rel = dir === '' ? name : join(dir, name);
    if (SKIPPED_DIRS.has(rel)) continue;
    const stat = statSync(join(ROOT, rel));
    if (stat.isDirectory()) out.push(...walk(rel, keep));
    else if (stat.isFile() && keep(rel)) out.push(rel);
  }
  return out;
}

const read = (rel: string): string => readFileSync(join(ROOT, rel), 'utf8');

// --- headings and anchors ----------------------------------------------------------------------------

/** Markdown without fenced code blocks (their `#` lines are not headings, their brackets not links). */
function withoutFences(markdown: string): string {
  let inFence = false;
  return markdown
    .split('\n')
    .map((line) => {
      if (/^\s*(```|~~~)/.test(line)) {
        inFence = !inFence;
        return '';
      }
      return inFence ? '' : line;
    })
    .join('\n');
}

/** A heading's visible text: links become their text, inline markup goes. */
function headingText(raw: string): string {
  return raw
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/`/g, '')
    .replace(/\s+#+\s*$/, '')
    .trim();
}

/** GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to `-`. */
export function githubSlug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-');
}

interface Headings {
  readonly texts: readonly string[];
  readonly anchors: ReadonlySet<string>;
}

const headingCache = new Map<string, Headings>();

function headingsOf(rel: string): Headings {
  const cached = headingCache.get(rel);
  if (cached) return cached;
  const texts: string[] = [];
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of withoutFences(read(rel)).split('\n')) {
    const m = /^#{1,6}\s+(.+)$/.exec(line);
    if (!m) continue;
    const text = headingText(m[1] as string);
    texts.push(text);
    const base = githubSlug(text);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  const result = { texts, anchors };
  headingCache.set(rel, result);
  return result;
}

// --- what to check -----------------------------------------------------------------------------------

/** A file mentioned from `from`: relative to its directory first, then to the repository root. */
function resolveMention(from: string, target: string): string | undefined {
  for (const base of [dirname(from), '']) {
    const rel = relative(ROOT, resolve(ROOT, base, target)).split(sep).join('/');
    if (!rel.startsWith('..') && existsSync(join(ROOT, rel))) return rel;
  }
  return undefined;
}

/** Relative markdown links `[text](target)` outside code, with their line numbers. */
function markdownLinks(text: string): { target: string; line: number }[] {
  const links: { target: string; line: number }[] = [];
  withoutFences(text)
    .split('\n')
    .forEach((line, i) => {
      const prose = line.replace(/`[^`]*`/g, '');
      for (const m of prose.matchAll(/\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
        links.push({ target: m[1] as string, line: i + 1 });
      }
    });
  return links.filter((l) => !/^[a-z][a-z0-9+.-]*:/i.test(l.target));
}

/** What a link's `#anchor` must match, or a problem. */
export function linkProblems(from: string, text: string): string[] {
  const problems: string[] = [];
  for (const { target, line } of markdownLinks(text)) {
    const hash = target.indexOf('#');
    const path = decodeURIComponent(hash < 0 ? target : target.slice(0, hash));
    const anchor = hash < 0 ? undefined : decodeURIComponent(target.slice(hash + 1));
    const file = path === '' ? from : relative(ROOT, resolve(ROOT, dirname(from), path)).split(sep).join('/');
    if (!existsSync(join(ROOT, file))) {
      problems.push(`${from}:${line}: link to a missing file: ${target}`);
      continue;
    }
    if (anchor !== undefined && file.endsWith('.md') && !headingsOf(file).anchors.has(anchor)) {
      problems.push(`${from}:${line}: link to a missing heading: ${target} (${file} has no heading with the anchor #${anchor})`);
    }
  }
  return problems;
}

/** True when a `"quoted"` section reference names a heading of `file` (the whole text, or its part before a colon). */
function hasSection(file: string, section: string): boolean {
  return headingsOf(file).texts.some((t) => t === section || t.split(':')[0] === section);
}

/**
 * Section references in prose and comments: `path.md "Section"` (and `"A" and "B"`) must name headings of
 * that file; `.../FACTS.md §N` must name its `## N.` heading; src/ comments may name docs only if they exist.
 */
export function sectionProblems(from: string, text: string): string[] {
  const problems: string[] = [];
  const flat = text.replace(/\n\s*(?:\/\/|\*(?!\/))?\s*/g, ' ');
  for (const m of flat.matchAll(/((?:[\w.-]+\/)*[\w.-]+\.md)\)?((?:,? (?:and )?"[^"]+")+)/g)) {
    const [, path, refs] = m as unknown as [string, string, string];
    const file = resolveMention(from, path);
    if (!file) {
      problems.push(`${from}: refers to ${path}, which does not exist`);
      continue;
    }
    for (const [, section] of refs.matchAll(/"([^"]+)"/g)) {
      if (!hasSection(file, section as string)) problems.push(`${from}: refers to ${file} "${section}", which has no such heading`);
    }
  }
  for (const m of flat.matchAll(/((?:[\w.-]+\/)*FACTS\.md),? §\s?(\d+)/g)) {
    const [, path, n] = m as unknown as [string, string, string];
    const file = resolveMention(from, path);
    if (!file) problems.push(`${from}: refers to ${path}, which does not exist`);
    else if (!headingsOf(file).texts.some((t) => t.startsWith(`${n}. `))) problems.push(`${from}: refers to ${file} §${n}, which has no such section`);
  }
  return problems;
}

/** Paths of docs named in src/ comments must exist. */
function mentionedFileProblems(from: string, comments: string): string[] {
  const problems: string[] = [];
  for (const m of comments.matchAll(/\b((?:docs|test\/vectors|policies)\/[\w./-]*\.(?:md|yaml|json))\b/g)) {
    const path = m[1] as string;
    if (!existsSync(join(ROOT, path))) problems.push(`${from}: names ${path}, which does not exist`);
  }
  return problems;
}

/** The comments of a TypeScript file, one line each (code lines are blank, so links in code are not read). */
function commentsOf(source: string): string {
  let inBlock = false;
  return source
    .split('\n')
    .map((line) => {
      const t = line.trim();
      if (inBlock || t.startsWith('/*')) {
        inBlock = !t.includes('*/') || (t.startsWith('/*') && t.indexOf('*/') < 2);
        return t.replace(/^\/\*+|\*+\/$|^\*/g, '').trim();
      }
      const slash = line.indexOf('//');
      return t.startsWith('//') ? t.slice(2).trim() : slash > 0 && /\s\/\/\s/.test(line) ? line.slice(slash + 2).trim() : '';
    })
    .join('\n');
}

// Built from parts so that this file does not match itself.
const FORBIDDEN: readonly { readonly what: string; readonly pattern: RegExp }[] = [
  { what: 'the out-of-repo design document (use docs/design.md)', pattern: new RegExp(['DESIGN', '\\.md'].join(''), 'g') },
  { what: 'the shared folder outside the repository', pattern: new RegExp(['\\.\\.', '/shared'].join(''), 'g') },
  { what: 'an unqualified FACTS section (name the file: test/vectors/<set>/FACTS.md §N)', pattern: new RegExp(['FACTS', '\\s*§'].join(''), 'g') },
  { what: 'an issue number (say what it means instead)', pattern: new RegExp(['\\bissues?', '\\s+#?\\d+'].join(''), 'gi') },
];

/** Every mention of something outside the repository, or of an issue number. */
export function forbiddenMentions(from: string, text: string): string[] {
  const problems: string[] = [];
  text.split('\n').forEach((line, i) => {
    for (const { what, pattern } of FORBIDDEN) {
      for (const m of line.matchAll(pattern)) problems.push(`${from}:${i + 1}: cites ${what}: "${m[0]}"`);
    }
  });
  return problems;
}

// --- the repository ----------------------------------------------------------------------------------

const MARKDOWN = ['README.md', 'SECURITY.md', 'CONTRIBUTING.md', 'policies/README.md', ...walk('docs', (f) => f.endsWith('.md'))].filter((f) =>
  existsSync(join(ROOT, f)),
);
const SOURCES = walk('src', (f) => f.endsWith('.ts'));

function isText(rel: string): boolean {
  if (statSync(join(ROOT, rel)).size > MAX_SCANNED_BYTES) return false;
  return !readFileSync(join(ROOT, rel)).subarray(0, 8000).includes(0);
}

describe('references point into the repository', () => {
  it('scans the docs and the sources', () => {
    expect(MARKDOWN).toEqual(expect.arrayContaining(['README.md', 'docs/design.md', 'policies/README.md']));
    expect(SOURCES.length).toBeGreaterThan(100);
  });

  it.each(MARKDOWN)('%s: relative links and their anchors resolve; section references name real headings', (file) => {
    const text = read(file);
    // Code spans are examples (`docs/design.md "Section"`), not references.
    expect([...linkProblems(file, text), ...sectionProblems(file, withoutFences(text).replace(/`[^`\n]*`/g, ''))]).toEqual([]);
  });

  it('src/ comments: links, section references and named docs resolve', () => {
    const problems = SOURCES.flatMap((file) => {
      const comments = commentsOf(read(file));
      return [...linkProblems(file, comments), ...sectionProblems(file, comments), ...mentionedFileProblems(file, comments)];
    });
    expect(problems).toEqual([]);
  });

  it('no file outside test/vectors/ cites the old design document, the shared folder, a bare FACTS section or an issue number', () => {
    const files = walk('', isText);
    expect(files).toEqual(expect.arrayContaining(['README.md', 'openapi.yaml', 'src/broker/release.ts', 'bench/run.mjs']));
    expect(files.some((f) => f.startsWith(join('test', 'vectors')))).toBe(false);
    expect(files.flatMap((file) => forbiddenMentions(file, read(file)))).toEqual([]);
  });

  it('docs/design.md lists exactly the layers and imports scripts/check-architecture.mjs enforces', () => {
    const script = read('scripts/check-architecture.mjs');
    const block = /const ALLOWED = \{([\s\S]*?)\n\};/.exec(script)?.[1];
    expect(block, 'ALLOWED table in scripts/check-architecture.mjs').toBeDefined();
    const enforced = new Map<string, string[]>();
    for (const m of (block ?? '').matchAll(/^\s*(\w+): \[([^\]]*)\],?$/gm)) {
      enforced.set(m[1] as string, [...(m[2] as string).matchAll(/'(\w+)'/g)].map((x) => x[1] as string).sort());
    }
    const design = read('docs/design.md');
    const section = design.slice(design.indexOf('## Layers and allowed imports'), design.indexOf('\n## ', design.indexOf('## Layers and allowed imports') + 3));
    const documented = new Map<string, string[]>();
    for (const line of section.split('\n')) {
      const cells = line.split('|').map((c) => c.trim());
      const area = /^`(\w+)`$/.exec(cells[1] ?? '')?.[1];
      if (area === undefined || cells.length < 5) continue;
      documented.set(area, [...(cells[3] as string).matchAll(/`(\w+)`/g)].map((x) => x[1] as string).sort());
    }
    expect(enforced.size).toBeGreaterThan(10);
    expect(Object.fromEntries(documented)).toEqual(Object.fromEntries(enforced));
  });
});

describe('the reference checks', () => {
  it('slugs headings as GitHub does', () => {
    expect(githubSlug('Walkthrough: seal a model, unseal it inside a (simulated) TEE')).toBe('walkthrough-seal-a-model-unseal-it-inside-a-simulated-tee');
    expect(githubSlug(headingText('`keyward verify` — offline evidence verification'))).toBe('keyward-verify--offline-evidence-verification');
    expect(githubSlug('3. TCB_VERSION (8 bytes, LE u64) - layout depends on the product')).toBe('3-tcb_version-8-bytes-le-u64---layout-depends-on-the-product');
  });

  it('reports a link to a missing file or heading, and accepts good ones', () => {
    const text = [
      'See [design](design.md#release-protocol), [vectors](../test/vectors/snp/FACTS.md#5-report_data-binding) and [top](#keyward--design).',
      'Broken: [a](design.md#release-protocols), [b](nowhere.md), [c](../README.md#no-such-heading).',
      'Not checked: `[code](nowhere.md)`, [web](https://example.com/x.md).',
    ].join('\n');
    expect(linkProblems('docs/design.md', text)).toEqual([
      'docs/design.md:2: link to a missing heading: design.md#release-protocols (docs/design.md has no heading with the anchor #release-protocols)',
      'docs/design.md:2: link to a missing file: nowhere.md',
      'docs/design.md:2: link to a missing heading: ../README.md#no-such-heading (README.md has no heading with the anchor #no-such-heading)',
    ]);
  });

  it('reports section references to missing headings, files and FACTS sections', () => {
    const comments = [
      'The protocol (docs/design.md "Release protocol", step 2) and (docs/design.md "Keys" and "Storage").',
      'Wrong: (docs/design.md "Release protocols"), (docs/designs.md "Keys"), test/vectors/nitro/FACTS.md §3 and',
      'test/vectors/nitro/FACTS.md §9, README.md "Walkthrough".',
    ].join('\n');
    expect(sectionProblems('src/broker/example.ts', comments)).toEqual([
      'src/broker/example.ts: refers to docs/design.md "Release protocols", which has no such heading',
      'src/broker/example.ts: refers to docs/designs.md, which does not exist',
      'src/broker/example.ts: refers to test/vectors/nitro/FACTS.md §9, which has no such section',
    ]);
  });

  it('reads comments, not code, of a TypeScript file', () => {
    const source = ['// one [a](x.md)', 'const y = f[0](1); // two', '/**', ' * three', ' */', "const s = 'http://x';"].join('\n');
    expect(commentsOf(source).split('\n')).toEqual(['one [a](x.md)', 'two', '', 'three', '', '']);
  });

  it('reports every kind of forbidden mention with its line', () => {
    const text = ['ok: docs/design.md, issues are welcome, design.md', ['see ', 'DESIGN', '.md and ', '..', '/shared/x'].join(''), ['FACTS', ' §2; ', 'Issue', ' #12'].join('')].join('\n');
    expect(forbiddenMentions('x.md', text)).toEqual([
      `x.md:2: cites the out-of-repo design document (use docs/design.md): "${['DESIGN', '.md'].join('')}"`,
      `x.md:2: cites the shared folder outside the repository: "${['..', '/shared'].join('')}"`,
      `x.md:3: cites an unqualified FACTS section (name the file: test/vectors/<set>/FACTS.md §N): "${['FACTS', ' §'].join('')}"`,
      `x.md:3: cites an issue number (say what it means instead): "${['Issue', ' #12'].join('')}"`,
    ]);
  });
});
