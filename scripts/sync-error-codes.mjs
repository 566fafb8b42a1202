#!/usr/bin/env node
// Rewrites the ErrorCode enum at the end of openapi.yaml from src/errors.ts (the contract test checks
// they are equal; run this after adding a code).
import { readFileSync, writeFileSync } from 'node:fs';

const codes = [...readFileSync('src/errors.ts', 'utf8').matchAll(/^\s+(ERR_[A-Z0-9_]+):/gm)].map((m) => m[1]);
const yaml = readFileSync('openapi.yaml', 'utf8');
const marker = /( {4}ErrorCode:\n[\s\S]*? {6}enum:\n)(?: {8}- ERR_[A-Z0-9_]+\n?)*/;
if (!marker.test(yaml)) throw new Error('openapi.yaml: ErrorCode enum not found');
writeFileSync('openapi.yaml', yaml.replace(marker, (_m, head) => `${head}${codes.map((c) => `        - ${c}\n`).join('')}`));
console.log(`openapi.yaml: ${codes.length} error codes`);
