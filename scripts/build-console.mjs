#!/usr/bin/env node
// Builds the admin web console (console/) into dist/console/: regenerates the typed API client from
// openapi.yaml (console/src/api/schema.d.ts, rewritten only when it changes), bundles with Vite, and
// prints the gzip size of what a browser downloads, failing above the budget. No CDN, no run-time fetch.
import { readFileSync, readdirSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const consoleDir = join(root, 'console');
const outDir = join(root, 'dist', 'console');
const BUDGET_BYTES = 250 * 1024;

/** openapi.yaml → TypeScript types, so the console cannot call a route or send a field the API lacks. */
export const SCHEMA_PATH = join(consoleDir, 'src', 'api', 'schema.d.ts');

/** The text schema.d.ts must hold for the current openapi.yaml. */
export async function renderSchema() {
  const { default: openapiTS, astToString } = await import('openapi-typescript');
  const ast = await openapiTS(new URL(`file://${join(root, 'openapi.yaml')}`), { emptyObjectsUnknown: true, alphabetize: false });
  return `// Generated from openapi.yaml by scripts/build-console.mjs (openapi-typescript). Do not edit.\n${astToString(ast)}`;
}

export async function generateSchema() {
  const text = await renderSchema();
  const target = SCHEMA_PATH;
  if (!existsSync(target) || readFileSync(target, 'utf8') !== text) writeFileSync(target, text);
  return target;
}

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

async function main() {
  await generateSchema();
  const { build } = await import('vite');
  await build({
    configFile: false,
    root: consoleDir,
    base: '/console/',
    logLevel: 'warn',
    publicDir: join(consoleDir, 'public'),
    oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
    resolve: { alias: { react: 'preact/compat' } },
    build: {
      outDir,
      emptyOutDir: true,
      // One flat folder: keyward serves /console/{file}. Nothing inlined as data: (the CSP forbids it).
      assetsDir: '',
      assetsInlineLimit: 0,
      modulePreload: { polyfill: false },
      sourcemap: false,
      target: 'es2022',
      reportCompressedSize: false,
    },
  });
  let total = 0;
  const lines = [];
  for (const file of files(outDir).sort()) {
    const gz = gzipSync(readFileSync(file), { level: 9 }).length;
    total += gz;
    lines.push(`  ${file.slice(outDir.length + 1).padEnd(32)} ${(gz / 1024).toFixed(1).padStart(7)} kB gzip`);
  }
  process.stdout.write(`console: dist/console\n${lines.join('\n')}\n  total ${(total / 1024).toFixed(1)} kB gzip (budget ${BUDGET_BYTES / 1024} kB)\n`);
  if (total > BUDGET_BYTES) {
    process.stderr.write(`console: the bundle is ${(total / 1024).toFixed(1)} kB gzip, over the ${BUDGET_BYTES / 1024} kB budget\n`);
    process.exit(1);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  main().catch((err) => {
    process.stderr.write(`console build failed: ${err?.stack ?? err}\n`);
    process.exit(1);
  });
}
