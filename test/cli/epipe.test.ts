/**
 * A reader that closes the pipe early (`dfukit convert --help | head -1`) must not crash dfukit with an EPIPE
 * stack trace: the CLI stops writing to that stream and exits with the command's own status.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../helpers/corpus.ts';

const BIN = join(ROOT, 'bin', 'dfukit.js');

/** Runs the CLI with the read end of stdout or stderr closed before the child writes anything. */
function withClosedPipe(args: string[], closed: 'stdout' | 'stderr'): Promise<{ status: number | null; signal: string | null; other: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    child[closed].destroy();
    let other = '';
    const open = closed === 'stdout' ? child.stderr : child.stdout;
    open.setEncoding('utf8');
    open.on('data', (s: string) => (other += s));
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ status, signal, other }));
  });
}

test('stdout closed early: --help exits 0 and prints no EPIPE error', async () => {
  const r = await withClosedPipe(['convert', '--help'], 'stdout');
  assert.equal(r.signal, null);
  assert.equal(r.status, 0, r.other);
  assert.doesNotMatch(r.other, /EPIPE|Unhandled|internal error/);
});

test('stdout closed early: a large --json report exits 0 quietly', async () => {
  const r = await withClosedPipe(['inspect', '--json', join(ROOT, 'golden-images', 'h745-dual-hex', 'cm7-cm4.hex'), join(ROOT, 'test', 'fixtures', 'elf', 'h745_cm7.elf')], 'stdout');
  assert.equal(r.status, 0, r.other);
  assert.equal(r.other, '');
});

test('stderr closed early: the command keeps its own exit status (3 for an unreadable file)', async () => {
  const r = await withClosedPipe(['inspect', join(ROOT, 'no-such-file.hex')], 'stderr');
  assert.equal(r.signal, null);
  assert.equal(r.status, 3);
});

test('in a shell pipeline: dfukit convert --help | head -1', () => {
  const r = spawnSync('bash', ['-c', `"${process.execPath}" "${BIN}" convert --help | head -1; echo "status=\${PIPESTATUS[0]}"`], { cwd: ROOT, encoding: 'utf8' });
  assert.match(r.stdout, /^Usage: dfukit convert/);
  assert.match(r.stdout, /status=0\n$/);
  assert.doesNotMatch(r.stderr, /EPIPE|Unhandled/);
});
