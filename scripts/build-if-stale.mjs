#!/usr/bin/env node
// `npm start`'s pre-step (and, with --always, `npm run build`): compiles src/ to dist/ and builds the admin
// console (console/ → dist/console/) only when a source (or a tsconfig) is newer than the last
// build, so a second start on a built tree does not spend ~12 s in tsc. An installed package (no src/)
// never builds.
import { existsSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const stamp = join(root, 'dist', '.build-stamp');

function newestMtime(path) {
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

/** Marks dist/ as built from the sources as they were at `at` (a source edited during the build stays newer). */
function writeStamp(at) {
  writeFileSync(stamp, `${at.toISOString()}\n`);
  utimesSync(stamp, at, at);
}

if (!existsSync(join(root, 'src'))) process.exit(0);
// `--always` (npm run build): compile regardless, and record it.
if (process.argv[2] !== '--always') {
  const inputs = ['src', 'console', 'openapi.yaml', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'].map((p) => join(root, p)).filter(existsSync);
  const sourceTime = Math.max(...inputs.map(newestMtime));
  if (existsSync(stamp) && statSync(stamp).mtimeMs >= sourceTime) process.exit(0);
  process.stderr.write('keyward: sources changed since the last build; compiling...\n');
}
const started = Date.now();
const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
// The console needs its build tools (devDependencies); an image pruned of them keeps the dist/console it built.
if (existsSync(join(root, 'console')) && existsSync(join(root, 'node_modules', 'vite'))) {
  const ui = spawnSync(process.execPath, [join(root, 'scripts', 'build-console.mjs')], { stdio: 'inherit' });
  if (ui.status !== 0) process.exit(ui.status ?? 1);
}
writeStamp(new Date(started));
