/**
 * A flash over USB/IP whose device dies half way: the emulator process is SIGKILLed in the middle of
 * `dfukit flash --device usbip://...`. dfukit reports the disconnect with the address it had reached (exit 4,
 * and the hint to resume); the emulator's --flash-out file holds every acknowledged block (written through).
 * A restarted emulator loading that file, then `dfukit flash --resume`, completes and verifies without erasing
 * again what was already written.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { dfukit } from '../test/helpers/cli.ts';
import { readLog, ROOT, spawnPeer, startEmulator, waitFor, within, type Emulator } from './libusb-usbip/harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'dfukit-usbip-resume-'));
const running: Emulator[] = [];
after(async () => {
  for (const e of running) await e.kill();
  rmSync(dir, { recursive: true, force: true });
});

function bytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

const SIZE = 1_500_000;
/** Acknowledged blocks before the kill: well inside the 1465 blocks of the image. */
const KILL_AFTER_WRITES = 400;

describe('dfukit flash over USB/IP, emulator killed half way, --resume', () => {
  test('SIGKILL mid-flash: dfukit names the address it reached; a restarted emulator on the written-through file + --resume completes and verifies', async () => {
    const image = bytes(SIZE, 7);
    writeFileSync(join(dir, 'app.bin'), image);
    const flash = join(dir, 'h743.bin');
    const log1 = join(dir, 'run1.jsonl');
    const emu = await startEmulator(['--chip', 'stm32h743', '--flash-out', flash, '--log', log1, '--poll-scale', '0.05']);
    running.push(emu);

    const run = spawnPeer(process.execPath, [join(ROOT, 'bin', 'dfukit.js'), 'flash', 'app.bin@0x08000000', '--device', emu.url], { ...process.env, NO_COLOR: '1' }, dir);
    const writes = (): number => readLog(log1).filter((l) => l.command?.startsWith('WRITE ') === true).length;
    assert.ok(await waitFor(() => writes() >= KILL_AFTER_WRITES, 60_000), `the flash did not get to ${KILL_AFTER_WRITES} writes:\n${run.stdout()}${run.stderr()}`);
    await emu.kill();
    const killedAt = writes();
    const ended = await within(run.done, 60_000);
    assert.notEqual(ended, undefined, 'dfukit did not end after the emulator died');
    assert.ok(killedAt < Math.ceil(SIZE / 1024), 'killed before the last block');

    assert.equal(ended!.code, 4, `exit 4 (device error):\n${run.stdout()}${run.stderr()}`);
    const err = run.stderr();
    const m = /(write|erase|verify) at (0x[0-9A-F]{8})(?: \(wBlockNum \d+\))?: the device disconnected during (\w+) \(usbip:\/\/127\.0\.0\.1:\d+\/1-1: the USB\/IP connection closed/.exec(err);
    assert.ok(m !== null, err);
    assert.equal(m[1], 'write');
    const reached = Number(m[2]);
    assert.match(err, /run the same command with --resume/);

    // Everything acknowledged before the cut is in the file (written through on every program).
    const lastOk = readLog(log1).filter((l) => l.op?.kind === 'write' && l.op.status === 'OK').at(-1)!;
    const acked = lastOk.op!.address! + 1024 - 0x08000000;
    assert.ok(reached >= 0x08000000 + acked - 1024 && reached <= 0x08000000 + acked + 1024, `reported ${m[2]}, last programmed block at 0x${lastOk.op!.address!.toString(16)}`);
    const cut = readFileSync(flash);
    assert.deepEqual(new Uint8Array(cut.subarray(0, acked)), image.subarray(0, acked));
    assert.ok(cut.subarray(acked + 1024, SIZE).every((b) => b === 0xff), 'nothing after the cut');

    // Restart on the same file, resume.
    const log2 = join(dir, 'run2.jsonl');
    const again = await startEmulator(['--chip', 'stm32h743', '--flash-in', flash, '--flash-out', flash, '--log', log2, '--poll-scale', '0.05']);
    running.push(again);
    const r = dfukit(['flash', 'app.bin@0x08000000', '--resume', '--device', again.url], { cwd: dir });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /resume\s+\d+ sector\(s\) already matched, \d+ completed, 0 erased and rewritten/);
    assert.match(r.stdout, /1500000 \(0x16E360\) bytes verified/);
    assert.equal(readLog(log2).filter((l) => l.op?.kind === 'erase').length, 0, 'the interrupted write was completed, no sector erased again');
    assert.equal(await again.stop(), 0);
    const done = readFileSync(flash);
    assert.deepEqual(new Uint8Array(done.subarray(0, SIZE)), image);
    assert.ok(done.subarray(SIZE).every((b) => b === 0xff));
  });
});
