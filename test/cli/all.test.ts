/**
 * `dfukit flash --all`: every matching device in parallel, one log prefix per serial, a summary table; one
 * failing board does not stop the others. Two emulated F722 boards (`serials=A+B`), B with a persistent
 * program fault: A completes and verifies (its flash file holds the image), the summary reports B with its
 * error, exit 4. Without --all two matching devices are a usage error; --serial picks one.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { firmware } from '../dfu/helpers.ts';
import { dfukit } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'dfukit-cli-all-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const run = (args: string[]) => dfukit(args, { cwd: dir });
const app = firmware(0x08000000, 20_000, 5);
writeFileSync(join(dir, 'app.bin'), app);
const DEVICE = 'emulator:stm32f722,serials=A+B,faults=B:program-fail@0x08002000*5,flash=f722-{serial}.bin';

describe('dfukit flash --all', () => {
  test('two boards, B faulted: A completes and verifies, the summary reports B with its error, exit 4', () => {
    const r = run(['flash', 'app.bin@0x08000000', '--all', '--device', DEVICE]);
    assert.equal(r.status, 4, r.stderr);
    const lines = r.stdout.split('\n');
    assert.equal(lines[0], 'flashed 1 of 2 device(s)');
    assert.match(lines[1]!, /^SERIAL {2}CHIP {9}RESULT {2}WRITTEN {2}VERIFIED {2}DEVICE TIME {2}ERROR$/);
    assert.match(lines[2]!, /^A {7}STM32F722xE {2}ok {6}20000 {4}20000 {5}\d+\.\d\d s$/);
    assert.match(lines[3]!, /^B {7}STM32F722xE {2}FAILED {2}- {8}- {9}- {12}write at 0x08002000 \(wBlockNum 6\): the device reports errPROG in dfuERROR after DNLOAD \(3 attempts\) \[DFU_STATUS\]$/);
    // One log prefix per serial; both ran at the same time (B's retries interleave with A's write).
    assert.match(r.stderr, /^\[A\] erase: 2 sectors$/m);
    assert.match(r.stderr, /^\[B\] retry 1 of write at 0x08002000: /m);
    assert.match(r.stderr, /^\[A\] ok: 20000 bytes written, 20000 verified$/m);
    assert.match(r.stderr, /^\[B\] FAILED: /m);
    const a = readFileSync(join(dir, 'f722-A.bin'));
    assert.deepEqual(new Uint8Array(a.subarray(0, app.length)), app, 'A holds the image');
    const b = readFileSync(join(dir, 'f722-B.bin'));
    assert.notDeepEqual(new Uint8Array(b.subarray(0, app.length)), app, 'B does not');
  });

  test('--json: one entry per device with its result or error', () => {
    const r = run(['flash', 'app.bin@0x08000000', '--all', '--device', DEVICE.replace('flash=f722-{serial}.bin', 'flash=j-{serial}.bin'), '--json']);
    assert.equal(r.status, 4);
    assert.equal(r.stderr, '', '--json keeps stderr quiet');
    const j = JSON.parse(r.stdout);
    assert.equal(j.ok, false);
    assert.deepEqual(j.devices.map((d: { serial: string; ok: boolean }) => [d.serial, d.ok]), [['A', true], ['B', false]]);
    assert.equal(j.devices[0].result.bytesVerified, 20_000);
    assert.equal(j.devices[1].error.code, 'DFU_STATUS');
    assert.equal(j.devices[1].error.dfu.status, 'errPROG');
  });

  test('all boards good: exit 0; without --all two devices are a usage error naming them; --serial picks one', () => {
    const ok = run(['flash', 'app.bin@0x08000000', '--all', '--device', 'emulator:stm32f722,serials=C+D+E']);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /^flashed 3 of 3 device\(s\)\n/);
    const two = run(['flash', 'app.bin@0x08000000', '--device', 'emulator:stm32f722,serials=A+B']);
    assert.equal(two.status, 2);
    assert.match(two.stderr, /2 DFU devices match: serial A, serial B; pick one with --serial or --path \(flash takes --all for every one\) \[DEVICE_AMBIGUOUS\]/);
    const one = run(['flash', 'app.bin@0x08000000', '--device', 'emulator:stm32f722,serials=A+B', '--serial', 'B', '--json']);
    assert.equal(one.status, 0, one.stderr);
    assert.equal(JSON.parse(one.stdout).device.serial, 'B');
  });
});
