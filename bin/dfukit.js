#!/usr/bin/env node
// Runs the compiled CLI (dist/), not tsx, so start-up stays fast. `npm ci` builds dist/ through `prepare`.
import { main } from '../dist/src/cli/main.js';

// A reader that goes away (`dfukit convert --help | head -1`, `dfukit inspect --json f | less` then q) closes
// the pipe: further writes fail with EPIPE, which Node raises as an unhandled 'error' event and a stack trace.
// Output nobody reads is not an error: stop writing to that stream and finish with the command's own status.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e?.code !== 'EPIPE') throw e;
    stream.write = () => true;
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`dfukit: internal error: ${e?.message ?? e}\n`);
    process.exitCode = 5;
  },
);
