#!/usr/bin/env node
// Runs the compiled CLI (dist/), not tsx, so start-up stays fast. `npm ci` builds dist/ through `prepare`.
import { main } from '../dist/src/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`dfukit: internal error: ${e?.message ?? e}\n`);
    process.exitCode = 5;
  },
);
