/**
 * The real, unmodified dfu-util 0.11 against `dfukit emulate` over USB/IP, through test-peers/libusb-usbip (a
 * libusb-1.0.so.0 that speaks USB/IP, loaded with LD_LIBRARY_PATH; this machine has no kernel USB).
 *
 *  - `dfu-util -l` lists the emulated ROM with every alternate setting and its layout string (F4, F7, H7);
 *  - `dfu-util -a 0 -D` of .dfu files written by `dfukit convert` (single core, dual core with the CM4 element at
 *    0x08100000, odd sizes) and by dfu-util's own `dfuse-pack` exits 0, and the emulator's flash (its
 *    written-through --flash-out file) equals what `dfukit flash` writes for the same file;
 *  - `-s 0x08000000:LEN -U` returns what was flashed; `-s 0x08000000:leave -D fw.bin` ends in dfuMANIFEST and
 *    the emulator's log shows the jump.
 * Every emulator is its own process on its own port (`--listen 127.0.0.1:0`) and is stopped by the test.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createRomEmulator } from '../src/emulator/index.ts';
import { dfukit } from '../test/helpers/cli.ts';
import { fixturePath } from '../test/helpers/corpus.ts';
import { run } from '../test/helpers/peers.ts';
import { buildShim, readLog, runPeer, startEmulator, usbipPeersOrSkip, type Emulator } from './libusb-usbip/harness.ts';

const skip = usbipPeersOrSkip('dfu-util', 'dfuse-pack');
const dir = mkdtempSync(join(tmpdir(), 'dfukit-usbip-dfu-util-'));
let lib = '';
const running: Emulator[] = [];
before(() => {
  if (skip === false) lib = buildShim(join(dir, 'lib'));
});
after(async () => {
  for (const e of running) await e.kill();
  rmSync(dir, { recursive: true, force: true });
});

async function emulator(args: string[]): Promise<Emulator> {
  const e = await startEmulator(args);
  running.push(e);
  return e;
}

const path = (name: string): string => join(dir, name);

function bytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

function cli(args: string[]): string {
  const r = dfukit(args, { cwd: dir });
  assert.equal(r.status, 0, `dfukit ${args.join(' ')}:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** What `dfukit flash FILE` leaves in the in-process emulator's flash (the reference). */
function dfukitFlash(part: string, file: string, extra: string[] = []): Buffer {
  const ref = path(`ref-${part}-${file.replace(/[^\w.]/g, '_')}.bin`);
  rmSync(ref, { force: true });
  cli(['flash', file, '--device', `emulator:${part},flash=${ref}`, ...extra]);
  return readFileSync(ref);
}

/** A progress-bar-free view of dfu-util's output. */
function plain(s: string): string {
  return s.replace(/\r/g, '\n').split('\n').filter((l) => !/\[[ =]*\]/.test(l)).join('\n');
}

/** `dfu-util -a 0 -D FILE` into a fresh emulator of PART; returns the emulator's flash after it exited 0. */
async function dfuUtilDownload(part: string, file: string): Promise<{ flash: Buffer; out: string }> {
  const flashOut = path(`emu-${part}-${file.replace(/[^\w.]/g, '_')}.bin`);
  const emu = await emulator(['--chip', part, '--flash-out', flashOut, '--poll-scale', '0.01']);
  const r = runPeer('dfu-util', ['-a', '0', '-D', file], emu, lib, { cwd: dir });
  const out = plain(r.stdout + r.stderr);
  assert.equal(r.status, 0, `dfu-util -a 0 -D ${file} exited ${r.status}:\n${out}`);
  assert.equal(await emu.stop(), 0);
  return { flash: readFileSync(flashOut), out };
}

describe('dfu-util 0.11 against dfukit emulate over USB/IP', { skip }, () => {
  for (const part of ['stm32f405', 'stm32f722', 'stm32h743']) {
    test(`dfu-util -l lists the emulated ${part} ROM: every alt setting with its layout string`, async () => {
      const emu = await emulator(['--chip', part]);
      const r = runPeer('dfu-util', ['-l'], emu, lib, { timeoutMs: 30_000 });
      assert.equal(r.status, 0, r.stderr);
      const d = createRomEmulator({ chip: part }).descriptors;
      const ver = d.bcdDevice.toString(16).padStart(4, '0');
      const found = r.stdout.split('\n').filter((l) => l.startsWith('Found DFU: '));
      const alts = d.strings.slice(4);
      assert.equal(found.length, alts.length, r.stdout);
      alts.forEach((name, alt) => {
        const line = `Found DFU: [0483:df11] ver=${ver}, devnum=2, cfg=1, intf=0, path="1-1", alt=${alt}, name="${name}", serial="${d.strings[3]}"`;
        assert.ok(found.includes(line), `missing: ${line}\nin:\n${r.stdout}`);
      });
      assert.match(alts[0]!, /^@Internal Flash {2,3}\/0x08000000\//);
      await emu.stop();
    });
  }

  test('single core (F722 ELF → dfukit convert): dfu-util -D exits 0; flash equals dfukit flash; -U reads it back', async () => {
    cli(['convert', fixturePath('elf', 'f722.elf'), '--chip', 'stm32f722', '-o', 'f722.dfu']);
    const { flash, out } = await dfuUtilDownload('stm32f722', 'f722.dfu');
    assert.match(out, /Image for alternate setting 0, \(\d+ elements?, total size = \d+\)/);
    assert.match(out, /Done parsing DfuSe file/);
    assert.deepEqual(flash, dfukitFlash('stm32f722', 'f722.dfu'));
    assert.notEqual(flash.readUInt32LE(4), 0xffffffff, 'the vector table is in flash');

    // Upload: from a fresh emulator that loads the flash dfu-util wrote.
    writeFileSync(path('f722-in.bin'), flash);
    const emu = await emulator(['--chip', 'stm32f722', '--flash-in', path('f722-in.bin')]);
    const len = 0x3c20;
    const r = runPeer('dfu-util', ['-a', '0', '-s', `0x08000000:${len}`, '-U', 'f722-up.bin'], emu, lib, { cwd: dir });
    assert.equal(r.status, 0, plain(r.stdout + r.stderr));
    assert.match(plain(r.stdout + r.stderr), /Upload done\./);
    assert.deepEqual(readFileSync(path('f722-up.bin')), flash.subarray(0, len));
    await emu.stop();
  });

  test('dual core (H745 CM7 + CM4 ELF → dfukit convert, CM4 element at 0x08100000): flash equals dfukit flash', async () => {
    const report = cli(['convert', fixturePath('elf', 'h745_cm7.elf'), fixturePath('elf', 'h745_cm4.elf'), '--chip', 'stm32h745', '-o', 'h745.dfu']);
    assert.match(report, /0x08100000/);
    const { flash, out } = await dfuUtilDownload('stm32h745', 'h745.dfu');
    assert.match(out, /Parsing element 2, address = 0x08100000, size = \d+/);
    assert.deepEqual(flash, dfukitFlash('stm32h745', 'h745.dfu'));
    const bank2 = flash.subarray(0x100000);
    assert.notEqual(bank2.readUInt32LE(4), 0xffffffff, 'the CM4 vector table is at 0x08100000');
  });

  test('odd sizes (H743: 1001 bytes, 77 bytes in the same sector, 130001 bytes across sectors): flash equals dfukit flash', async () => {
    writeFileSync(path('odd1.bin'), bytes(1001, 1));
    writeFileSync(path('odd2.bin'), bytes(77, 2));
    writeFileSync(path('odd3.bin'), bytes(130001, 3));
    cli(['convert', 'odd1.bin@0x08000000', 'odd2.bin@0x08010000', 'odd3.bin@0x08040010', '--chip', 'stm32h743', '-o', 'odd.dfu']);
    const { flash } = await dfuUtilDownload('stm32h743', 'odd.dfu');
    const ref = dfukitFlash('stm32h743', 'odd.dfu');
    assert.deepEqual(flash, ref);
    assert.deepEqual(new Uint8Array(flash.subarray(0x40010, 0x40010 + 130001)), bytes(130001, 3));
    assert.deepEqual(new Uint8Array(flash.subarray(0x10000, 0x10000 + 77)), bytes(77, 2), 'the element sharing sector 0 survived: dfukit convert merged it (dfu-util remembers only the last erased page)');
  });

  test('a dfuse-pack file (F405, odd sizes, two elements): dfu-util and dfukit flash (lenient DFUImageSize) write the same flash', async () => {
    writeFileSync(path('p1.bin'), bytes(1001, 4));
    writeFileSync(path('p2.bin'), bytes(77, 5));
    const pack = run('dfuse-pack', ['-b', '0x08000000:p1.bin', '-b', '0x08040000:p2.bin', 'pack.dfu'], { cwd: dir });
    assert.equal(pack.status, 0, pack.stderr);
    const { flash } = await dfuUtilDownload('stm32f405', 'pack.dfu');
    assert.deepEqual(new Uint8Array(flash.subarray(0, 1001)), bytes(1001, 4));
    assert.deepEqual(new Uint8Array(flash.subarray(0x40000, 0x40000 + 77)), bytes(77, 5));
    assert.deepEqual(flash, dfukitFlash('stm32f405', 'pack.dfu', ['--lenient', 'image-size-includes-suffix']));
  });

  test('dfu-util -s 0x08000000:leave -D fw.bin: ends in dfuMANIFEST; the log shows the jump to 0x08000000 with a valid vector', async () => {
    cli(['convert', fixturePath('elf', 'f722.elf'), '--to', 'bin', '-o', 'fw.bin']);
    const log = path('leave.jsonl');
    const emu = await emulator(['--chip', 'stm32f722', '--log', log, '--poll-scale', '0.01']);
    const r = runPeer('dfu-util', ['-a', '0', '-s', '0x08000000:leave', '-D', 'fw.bin'], emu, lib, { cwd: dir });
    const out = plain(r.stdout + r.stderr);
    assert.equal(r.status, 0, out);
    assert.match(out, /File downloaded successfully\nSubmitting leave request\.\.\.\nTransitioning to dfuMANIFEST state/);
    const lines = readLog(log);
    const jump = lines.filter((l) => l.jump !== undefined);
    assert.equal(jump.length, 1, 'one leave');
    assert.equal(jump[0]!.jump, '0x08000000');
    assert.equal(jump[0]!.leave!.vectorValid, true);
    assert.equal(jump[0]!.request, 'GETSTATUS');
    assert.equal(jump[0]!.stateBefore, 'dfuMANIFEST_SYNC');
    const before = lines[lines.indexOf(jump[0]!) - 1]!;
    assert.equal(before.request, 'DNLOAD');
    assert.equal(before.command, 'LEAVE');
    const setAddress = lines.filter((l) => l.command === 'SET_ADDRESS_POINTER 0x08000000').at(-1)!;
    assert.ok(setAddress.seq < before.seq, 'dfu-util set the address before the leave request');
    // The ROM enumerates again after the jump (as a board held in the bootloader does): the next device number.
    const l = runPeer('dfu-util', ['-l'], emu, lib, { timeoutMs: 30_000 });
    assert.match(l.stdout, /devnum=3, cfg=1, intf=0, path="1-1", alt=0/);
    await emu.stop();
    assert.match(emu.stdout(), /1 leaves \(0x08000000\)/);
    assert.ok(existsSync(log));
  });
});
