#!/usr/bin/env node
// `npm run bench [-- --quick] [-- name...]`: runs every bench/*.bench.mjs against the built dist/ and
// prints one JSON object per line. Each figure is shown next to the ceiling measured in the same run.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.filter((a) => !a.startsWith('--'));

const suites = readdirSync(here)
  .filter((f) => f.endsWith('.bench.mjs'))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
  .sort();

for (const file of suites) {
  const mod = await import(join(here, file));
  await mod.run({ quick });
}
