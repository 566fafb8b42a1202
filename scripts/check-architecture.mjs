#!/usr/bin/env node
// Architecture lint (STYLE.md "Rules of the house"), run by `npm run lint` and `npm test`:
// dependency direction between src/ areas, kysely/pg only in store/, process.env only in config.ts,
// the clock only in clock.ts, no `export *` barrels, no focused or skipped tests.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, dirname, resolve, sep } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const src = join(root, 'src');

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (/\.(ts|mts)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** The area of a src file: its first directory under src/, or the file name for top-level files. */
function areaOf(file) {
  const rel = relative(src, file).split(sep);
  return rel.length === 1 ? rel[0].replace(/\.ts$/, '') : rel[0];
}

// Which areas each area may import. Leaves (errors, encoding, clock, config) import nothing of ours
// except each other where listed. `cli` is the composition root for commands; `service` wires the server.
const ALLOWED = {
  errors: [],
  encoding: [],
  clock: [],
  config: ['errors'],
  log: ['config'],
  evidence: ['errors', 'encoding'],
  policy: ['errors', 'encoding', 'evidence'],
  keys: ['errors', 'encoding'],
  store: ['errors', 'encoding'],
  collateral: ['errors', 'encoding', 'evidence', 'store', 'clock'],
  // dev/ (the simulator) may implement agent/'s evidence-provider interface; agent/ (what ships into TEEs)
  // never imports dev/: the CLI wires the simulator in.
  dev: ['errors', 'encoding', 'evidence', 'keys', 'agent'],
  broker: ['errors', 'encoding', 'evidence', 'policy', 'keys', 'store', 'collateral', 'clock'],
  admin: ['errors', 'encoding', 'broker', 'store', 'keys', 'clock', 'config', 'policy', 'evidence'],
  // http/ is thin: it reaches the domain only through the broker (and admin/), never verifiers or stores.
  http: ['errors', 'encoding', 'broker', 'admin'],
  agent: ['errors', 'encoding', 'evidence', 'keys', 'clock'],
  service: ['errors', 'encoding', 'broker', 'admin', 'http', 'evidence', 'policy', 'keys', 'store', 'collateral', 'clock', 'config', 'log'],
  cli: ['errors', 'encoding', 'service', 'broker', 'evidence', 'policy', 'keys', 'store', 'collateral', 'agent', 'dev', 'clock', 'config', 'log', 'http'],
};

const problems = [];
const files = walk(src);
for (const file of files) {
  const rel = relative(root, file);
  const area = areaOf(file);
  const text = readFileSync(file, 'utf8');
  const allowed = ALLOWED[area];
  if (!allowed) problems.push(`${rel}: area "${area}" is not in the architecture table (scripts/check-architecture.mjs)`);

  // Static imports and re-exports, and dynamic `import('...')` (lazy loading must obey the same table).
  const specs = [
    ...[...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/g)].map((m) => m[1]),
    ...[...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]),
  ];
  for (const spec of specs) {
    if (spec.startsWith('.')) {
      const target = resolve(dirname(file), spec);
      if (!target.startsWith(src)) continue;
      const targetArea = areaOf(target.replace(/\.js$/, '.ts'));
      if (targetArea !== area && allowed && !allowed.includes(targetArea)) {
        problems.push(`${rel}: ${area}/ may not import ${targetArea}/ (${spec})`);
      }
    } else if (/^(kysely|pg|@electric-sql\/pglite)(\/|$)/.test(spec) && area !== 'store') {
      problems.push(`${rel}: only src/store/ may import ${spec}`);
    }
  }
  if (/^\s*export\s+\*\s+from/m.test(text)) problems.push(`${rel}: no \`export *\` barrels`);
  if (/process\.env/.test(text) && rel !== join('src', 'config.ts')) problems.push(`${rel}: only src/config.ts reads process.env`);
  if (/\bDate\.now\(\)|new Date\(\s*\)/.test(text) && rel !== join('src', 'clock.ts')) {
    problems.push(`${rel}: only src/clock.ts reads the wall clock (use a Clock or a \`now\` argument)`);
  }
  if (area === 'evidence' || area === 'policy') {
    if (/(?:from\s+|import\(\s*)['"](node:)?(fs|fs\/promises|net|http|https|http2|child_process|dns|dgram|tls|worker_threads)['"]/.test(text) || /\bfetch\(/.test(text)) {
      problems.push(`${rel}: ${area}/ is pure: no file system or network`);
    }
  }
}

const testDir = join(root, 'test');
for (const file of walk(testDir)) {
  const text = readFileSync(file, 'utf8');
  if (/\b(it|test|describe)\.(only|skip)\(/.test(text)) problems.push(`${relative(root, file)}: focused or skipped test`);
}

if (problems.length > 0) {
  console.error(`architecture check failed (${problems.length}):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`architecture check passed (${files.length} source files)`);
