#!/usr/bin/env node
// Copies the CLI's USAGE (src/cli/main.ts) into README.md's "Command line" block, which a test keeps equal.
import { readFileSync, writeFileSync } from 'node:fs';

const main = readFileSync(new URL('../src/cli/main.ts', import.meta.url), 'utf8');
const usage = /export const USAGE = `([\s\S]*?)`;/.exec(main)?.[1];
if (!usage) throw new Error('USAGE not found in src/cli/main.ts');
const readmeUrl = new URL('../README.md', import.meta.url);
const readme = readFileSync(readmeUrl, 'utf8');
const start = readme.indexOf('```\n', readme.indexOf('## Command line'));
const end = readme.indexOf('```\n', start + 4);
if (start < 0 || end < 0) throw new Error('README.md has no "Command line" code block');
writeFileSync(readmeUrl, `${readme.slice(0, start + 4)}${usage.replace(/\\`/g, '`').replace(/\n?$/, '\n')}${readme.slice(end)}`);
