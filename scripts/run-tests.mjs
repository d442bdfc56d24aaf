#!/usr/bin/env node
// Finds every *.test.ts below the given folder (any depth: Node 20's --test does not expand globs for .ts),
// runs them with node:test through tsx, and prints how many files and tests ran.
// Usage: node scripts/run-tests.mjs <dir> [name-filter]
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const [dir = 'test', filter] = process.argv.slice(2);
function walk(d) {
  const out = [];
  for (const e of readdirSync(d, { withFileTypes: true })) {
    const p = join(d, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else if (e.name.endsWith('.test.ts') && (filter === undefined || p.includes(filter))) out.push(p);
  }
  return out;
}
const files = walk(dir).sort();
if (files.length === 0) {
  console.error(`no test files found under ${dir}/`);
  process.exit(1);
}
const tmp = mkdtempSync(join(tmpdir(), 'dfukit-tests-'));
const counts = join(tmp, 'counts.json');
const reporter = new URL('./count-reporter.mjs', import.meta.url).href;
const args = [
  '--import', 'tsx', '--test', '--test-concurrency=2',
  '--test-reporter=spec', '--test-reporter-destination=stdout',
  `--test-reporter=${reporter}`, `--test-reporter-destination=${counts}`,
  ...files,
];
const child = spawn(process.execPath, args, { stdio: 'inherit' });
child.on('exit', (code, signal) => {
  let c = { pass: 0, fail: 0, skip: 0, todo: 0 };
  try {
    c = JSON.parse(readFileSync(counts, 'utf8'));
  } catch {
    // reporter wrote nothing: the runner itself failed
  }
  rmSync(tmp, { recursive: true, force: true });
  console.log(`\n${dir}/: ${files.length} test files, ${c.pass + c.fail} tests (${c.skip} skipped, ${c.todo} todo)`);
  console.log(`${c.pass} passed, ${c.fail} failed, ${c.skip} skipped`);
  if (files.length > 0 && c.pass + c.fail === 0) process.exit(1);
  process.exit(signal !== null ? 1 : (code ?? 1));
});
