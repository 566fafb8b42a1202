#!/usr/bin/env node
// Prints the table skeletons of docs/design.md "Claims reference" from the claims schema
// (src/policy/claims-schema.ts, compiled to dist/): one table per TEE and per nested object type, with
// the claim names and types filled in and the meanings left empty. After adding a claim, run
// `npm run build && node scripts/claims-reference.mjs` and copy the new rows into the document;
// test/unit/policy/claims-reference.test.ts fails until the document and the schema agree.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/policy/claims-reference.js', import.meta.url);
if (!existsSync(compiled)) {
  console.error('claims-reference: dist/ is missing; run `npm run build` first.');
  process.exit(1);
}
const { claimsReferenceSkeleton } = await import(compiled.href);
process.stdout.write(claimsReferenceSkeleton());
