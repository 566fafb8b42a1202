#!/usr/bin/env node
// keyward command-line entry point: runs the compiled CLI (built by `npm install` / `npm run build`).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
