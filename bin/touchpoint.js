#!/usr/bin/env node
// The command line. It runs the compiled code in dist/, which `npm install` builds (npm run build).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/index.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('Touchpoint is not built yet: run "npm run build" (npm install does it) and try again.');
  process.exit(1);
}
await import(entry.href);
