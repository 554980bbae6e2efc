#!/usr/bin/env node
// Thin entry: the CLI lives in lib/cli (compiled to dist/cli by `npm install` / `npm run build`).
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('meshperf: dist/ is missing; run `npm install` (or `npm run build`) first\n');
  process.exit(2);
}
const { main: run } = await import(main.href);
process.exitCode = await run(process.argv.slice(2));
