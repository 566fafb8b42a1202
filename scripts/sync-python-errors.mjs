#!/usr/bin/env node
// Rewrites the Python SDK's error table (python/src/keyward/errors.py, ERROR_STATUS) from src/errors.ts, the
// one source of error codes and statuses. python/tests/test_errors.py fails when the two drift: run `node scripts/sync-python-errors.mjs`.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const ts = readFileSync(join(root, 'src', 'errors.ts'), 'utf8');
const start = ts.indexOf('export const ERROR_STATUS = {');
const end = ts.indexOf('} as const satisfies', start);
const lines = [];
for (const line of ts.slice(start, end).split('\n').slice(1)) {
  const section = /^\s*\/\/ -+ (.+?) -*\s*$/.exec(line);
  const code = /^\s*(ERR_[A-Z0-9_]+): (\d{3}),/.exec(line);
  if (section) lines.push(`    # ${section[1]}`);
  else if (code) lines.push(`    "${code[1]}": ${code[2]},`);
}
const pyPath = join(root, 'python', 'src', 'keyward', 'errors.py');
const py = readFileSync(pyPath, 'utf8');
const open = 'ERROR_STATUS: Final[dict[str, int]] = {\n';
const a = py.indexOf(open) + open.length;
const b = py.indexOf('}', a); // the dict's closing brace (it holds no other braces)
writeFileSync(pyPath, `${py.slice(0, a)}${lines.join('\n')}\n${py.slice(b)}`);
console.log(`python/src/keyward/errors.py: ${lines.filter((l) => l.includes('"ERR_')).length} codes`);
