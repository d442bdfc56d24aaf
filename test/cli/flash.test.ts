/**
 * `dfukit flash | read | erase` as a user runs them (compiled CLI, in-process emulator with its flash in a
 * file): exit codes, the printed plan, --json, user data surviving, --resume across processes, and the
 * errors for devices and usage.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { dfukit } from '../helpers/cli.ts';
import { fixturePath } from '../helpers/corpus.ts';

const dir = mkdtempSync(join(tmpdir(), 'dfukit-cli-flash-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const CM7 = fixturePath('elf', 'h745_cm7.elf');
const CM4 = fixturePath('elf', 'h745_cm4.elf');
const run = (args: string[]) => dfukit(args, { cwd: dir });

/** A 2 MiB H745 flash file, erased, with `user` at flash offset `offset`. */
function flashFile(name: string, user?: { offset: number; bytes: Uint8Array }): string {
  const f = Buffer.alloc(2 * 1024 * 1024, 0xff);
  if (user !== undefined) Buffer.from(user.bytes).copy(f, user.offset);
  writeFileSync(join(dir, name), f);
  return name;
}

describe('dfukit flash', () => {
  test('CM7 + CM4 ELF into the emulator: plan, phases, 3 requests per block; user data in an untouched sector survives', () => {
    const user = new Uint8Array(4096).map((_, i) => (i * 31 + 7) & 0xff);
    const file = flashFile('a.bin', { offset: 0x60000, bytes: user });
    const r = run(['flash', CM7, CM4, '--device', `emulator:stm32h745,flash=${file}`]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^plan for STM32H745xI \(stm32h745\) on the in-process ROM emulator \(flash in a\.bin\)\n/);
    assert.match(r.stdout, /erase {4}4 sector\(s\), 512 KiB \(only the sectors the image touches/);
    assert.match(r.stdout, /bank 2 sector 1 0x08120000\.\.0x08140000/);
    assert.match(r.stdout, /write {4}306 block\(s\) in 2 run\(s\)/);
    assert.match(r.stdout, /flashed STM32H745xI .*311808 \(0x4C200\) bytes written, 4 sector\(s\) erased, 311808 \(0x4C200\) bytes verified/);
    assert.match(r.stdout, /924 write requests = 3\.00 per block \+ 3 per run \(SET_ADDRESS\) x 2/);
    assert.match(r.stderr, /^erase: 4 sectors done, \d+ ms device time$/m, 'plain progress lines when stderr is not a TTY');
    const back = run(['read', '--device', `emulator:stm32h745,flash=${file}`, '--range', '0x08060000:4K', '-o', 'user.bin']);
    assert.equal(back.status, 0, back.stderr);
    assert.deepEqual(new Uint8Array(readFileSync(join(dir, 'user.bin'))), user);
    const flash = readFileSync(join(dir, file));
    const elfStart = flash.subarray(0, 8);
    assert.equal(elfStart.readUInt32LE(4), 0x08000045, 'the flash file holds the CM7 vector table');
  });

  test('--dry-run --chip prints the plan without a device; --json carries plan and estimate', () => {
    const r = run(['flash', CM7, '--chip', 'stm32h745', '--dry-run', '--leave']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /wTransferSize 1024 \(profile\)/);
    assert.match(r.stdout, /leave {4}jump to 0x08000000 \(vector-table\)/);
    const j = JSON.parse(run(['flash', CM7, '--chip', 'stm32h745', '--dry-run', '--json']).stdout);
    assert.equal(j.ok, true);
    assert.equal(j.dryRun, true);
    assert.deepEqual(j.plan.erase.sectors.map((s: { index: number }) => s.index), [0, 1]);
    assert.equal(j.plan.image, undefined);
    assert.ok(j.plan.estimate.floorMs > 0);
  });

  test('--json after a flash: phases with device time, request counts', () => {
    const r = run(['flash', `${CM7}`, '--device', 'emulator:stm32h745', '--json', '--no-verify']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '', '--json keeps stderr quiet');
    const j = JSON.parse(r.stdout);
    assert.deepEqual(j.result.phases.map((p: { phase: string }) => p.phase), ['erase', 'write']);
    const write = j.result.phases[1];
    assert.equal(write.requests, 3 * j.result.blocksWritten + 3);
    assert.equal(j.result.bytesVerified, 0);
    assert.ok(j.result.deviceMs >= j.plan.estimate.eraseMs);
  });

  test('--resume in a second process finishes what the first left (CM7 flashed, CM4 not yet)', () => {
    const file = flashFile('b.bin');
    assert.equal(run(['flash', CM7, '--device', `emulator:stm32h745,flash=${file}`]).status, 0);
    const r = run(['flash', CM7, CM4, '--device', `emulator:stm32h745,flash=${file}`, '--resume']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /resume {3}2 sector\(s\) already matched, 2 completed, 0 erased and rewritten/);
    assert.match(r.stdout, /0 sector\(s\) erased/);
  });

  test('raw binary at an address, read with ADDR..END, erase by sector list and range', () => {
    writeFileSync(join(dir, 'app.bin'), new Uint8Array(3000).fill(0x5a));
    const file = flashFile('c.bin');
    const dev = `emulator:stm32h745,flash=${file}`;
    assert.equal(run(['flash', 'app.bin@0x08040000', '--device', dev]).status, 0);
    const rd = run(['read', '--device', dev, '--range', '0x08040000..0x08040BB8', '-o', 'r.bin']);
    assert.equal(rd.status, 0, rd.stderr);
    assert.deepEqual(readFileSync(join(dir, 'r.bin')), readFileSync(join(dir, 'app.bin')));
    const er = run(['erase', '--device', dev, '--range', '0x08040000:1']);
    assert.equal(er.status, 0, er.stderr);
    assert.match(er.stdout, /^erased 1 sector\(s\), 128 KiB/);
    assert.match(er.stdout, /bank 1 sector 2 0x08040000\.\.0x08060000/);
    assert.ok(readFileSync(join(dir, file)).subarray(0x40000, 0x40000 + 3000).every((b) => b === 0xff));
    const es = run(['erase', '--device', dev, '--sectors', 'bank2:0-1,3', '--json']);
    assert.equal(es.status, 0, es.stderr);
    assert.deepEqual(JSON.parse(es.stdout).sectors.map((s: { index: number }) => s.index), [3, 8, 9]);
  });

  test('device and usage errors: usb without a USB subsystem (exit 4), bad spec and missing choices (exit 2), data outside flash (exit 3)', () => {
    const usb = run(['flash', CM7, '--device', 'usb']);
    assert.equal(usb.status, 4);
    // Without a USB subsystem (this container) the device error says so; with one, no DFU device is found.
    assert.match(usb.stderr, /--device usb: this machine has no USB subsystem.*\[DFU_NOT_AVAILABLE\]|no DFU device found.*\[DFU_NO_DEVICE\]/);
    assert.equal(run(['flash', CM7, '--device', 'emulator']).status, 2);
    assert.equal(run(['flash', CM7]).status, 4, '--device usb is the default');
    assert.equal(run(['erase', '--device', 'emulator:stm32h745']).status, 2);
    assert.equal(run(['read', '--device', 'emulator:stm32h745', '--range', '0x08000000', '-o', 'x.bin']).status, 2);
    assert.ok(!existsSync(join(dir, 'x.bin')));
    writeFileSync(join(dir, 'ram.bin'), new Uint8Array(16));
    const outside = run(['flash', 'ram.bin@0x24000000', '--device', 'emulator:stm32h745']);
    assert.equal(outside.status, 3);
    assert.match(outside.stderr, /PLAN_OUTSIDE_FLASH/);
  });
});
