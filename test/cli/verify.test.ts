/**
 * `dfukit verify FILE --device D` and `dfukit flash`'s verification as a user runs them (compiled CLI, the
 * emulator's flash in a file): a flash that silently lost one sector (the emulator's `program-drop` fault, run
 * in this process, its flash dumped to the file) is reported with that sector's range `not written`; `--json`
 * is the diff report schema; `flash --resume` then repairs it and verify says EQUAL; exit codes 0/1/2/3/4; and a
 * flash whose read-back differs prints the diff in brief and exits 1.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect, executePlan } from '../../src/dfu/operations.ts';
import { createRomEmulator } from '../../src/emulator/index.ts';
import { MemoryImage } from '../../src/image/memory-image.ts';
import { resolveChip } from '../../src/layout/chips.ts';
import { createFlashPlan } from '../../src/plan/plan.ts';
import { DiffReportSchema } from '../../src/verify/report-schema.ts';
import { emulatorClock, firmware, noise } from '../dfu/helpers.ts';
import { dfukit } from '../helpers/cli.ts';
import { fixturePath } from '../helpers/corpus.ts';

const dir = mkdtempSync(join(tmpdir(), 'dfukit-cli-verify-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const run = (args: string[]) => dfukit(args, { cwd: dir });
const H743 = resolveChip('stm32h743');
const SIZE = 0x48000;
const app = firmware(0x08000000, SIZE, 21);

describe('dfukit verify --device', () => {
  const dev = 'emulator:stm32h743,flash=lost.bin';
  before(async () => {
    writeFileSync(join(dir, 'app.bin'), app);
    // A flash that ran without an error and without its verify, on a device that dropped every write into bank 1
    // sector 1; the emulator's flash, as it left it, is the device of the commands below.
    const emu = createRomEmulator({ chip: H743, faults: [{ kind: 'program-drop', address: 0x08020000 }] });
    const image = new MemoryImage();
    image.add(0x08000000, app);
    const r = await executePlan(await connect(emu.device, H743, { clock: emulatorClock(emu) }), createFlashPlan(image, H743, { verify: false }));
    assert.equal(r.bytesWritten, SIZE);
    writeFileSync(join(dir, 'lost.bin'), emu.readFlash());
  });

  test('names the sector the flash lost: not written, exit 1; nothing is written to the device', () => {
    const flashBefore = readFileSync(join(dir, 'lost.bin'));
    const r = run(['verify', 'app.bin@0x08000000', '--device', dev]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /^expected {2}app\.bin@0x08000000: 1 range 0x08000000\.\.0x08048000, 294912 \(0x48000\) bytes$/m);
    assert.match(r.stdout, /^actual {4}emulator:stm32h743,flash=lost\.bin \(read-back\): 1 range 0x08000000\.\.0x08048000/m);
    assert.match(r.stdout, /^info: read back 294912 \(0x48000\) bytes in 1 range\(s\) through alt 0, wTransferSize 1024: \d+ ms device time, \d+ requests \[VERIFY_READ_BACK\]$/m);
    assert.match(r.stdout, /^DIFFERENT: .* in 1 range; first difference at 0x08020000 \(expected [0-9A-F]{2}, actual FF\)$/m);
    assert.match(r.stdout, /^#1 {2}0x08020000\.\.0x08040000 {2}131072 \(0x20000\) bytes, \d+ \(0x[0-9A-F]+\) differ {2}\[bank 1 sector 1\]$/m);
    assert.match(r.stdout, /^ {4}NOT WRITTEN: all \d+ \(0x[0-9A-F]+\) differing bytes read 0xFF \(erased\); bank 1 sector 1 0x08020000\.\.0x08040000 reads entirely erased$/m);
    assert.match(r.stdout, /^ {2}not written: the flash there is still erased/m);
    assert.match(r.stderr, /^verify: 288\.0 KiB done, \d+ ms device time$/m);
    assert.deepEqual(readFileSync(join(dir, 'lost.bin')), flashBefore, 'verify only reads');
  });

  test('--json: the diff report schema, quiet stderr', () => {
    const r = run(['verify', 'app.bin@0x08000000', '--device', dev, '--json']);
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr, '');
    const report = DiffReportSchema.parse(JSON.parse(r.stdout));
    assert.equal(report.equal, false);
    assert.deepEqual(
      report.ranges.map((x) => [x.start, x.end, x.class, x.sectors]),
      [[0x08020000, 0x08040000, 'not-written', ['bank 1 sector 1']]],
    );
    assert.deepEqual(report.compared, { ranges: [{ start: 0x08000000, end: 0x08000000 + SIZE }], bytes: SIZE });
    assert.equal(report.actual.format, 'read-back');
    assert.equal(report.settings.chip, 'STM32H743xI');
  });

  test('flash --resume rewrites the lost sector; then verify is EQUAL (exit 0)', () => {
    const f = run(['flash', 'app.bin@0x08000000', '--device', dev, '--resume']);
    assert.equal(f.status, 0, f.stderr);
    assert.match(f.stdout, /resume {3}2 sector\(s\) already matched, 1 completed, 0 erased and rewritten/);
    const r = run(['verify', 'app.bin@0x08000000', '--device', dev]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^EQUAL: all 294912 \(0x48000\) compared bytes match$/m);
  });

  test('several inputs of any format, as flash takes them (CM7 + CM4 ELF on an H745)', () => {
    const cm7 = fixturePath('elf', 'h745_cm7.elf');
    const cm4 = fixturePath('elf', 'h745_cm4.elf');
    assert.equal(run(['flash', cm7, cm4, '--device', 'emulator:stm32h745,flash=h745.bin', '--no-verify']).status, 0);
    const r = run(['verify', cm7, cm4, '--device', 'emulator:stm32h745,flash=h745.bin', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const report = DiffReportSchema.parse(JSON.parse(r.stdout));
    assert.equal(report.equal, true);
    assert.equal(report.compared.ranges.length, 2);
    assert.match(report.expected.name, /h745_cm7\.elf \+ .*h745_cm4\.elf$/);
  });

  test('exit codes: no input 2, unreadable or unflashable input 3, device error 4', () => {
    assert.equal(run(['verify', '--device', 'emulator:stm32h743']).status, 2);
    assert.equal(run(['verify', 'app.bin@0x08000000', '--device', 'emulator']).status, 2);
    const missing = run(['verify', 'nope.hex', '--device', 'emulator:stm32h743']);
    assert.equal(missing.status, 3, missing.stderr);
    writeFileSync(join(dir, 'ram.bin'), new Uint8Array(16));
    const outside = run(['verify', 'ram.bin@0x24000000', '--device', 'emulator:stm32h743']);
    assert.equal(outside.status, 3);
    assert.match(outside.stderr, /PLAN_OUTSIDE_FLASH/);
    // No USB device here (or no usb package): a device error, as JSON with --json.
    const usb = run(['verify', 'app.bin@0x08000000', '--device', 'usb', '--json']);
    assert.equal(usb.status, 4, usb.stderr);
    assert.equal(JSON.parse(usb.stdout).ok, false);
  });
});

describe('dfukit flash: verification by the diff', () => {
  // STM32F429 in dual-bank mode with the ROM bug f42x-dfu-bank2-erase-broken (a bank-2 erase reports OK and
  // erases nothing): settings left in bank 2 where the new image is all 0xFF (a block the flasher does not send).
  before(() => {
    const img = new Uint8Array(16 * 1024);
    img.set(noise(8192, 5), 0);
    img.fill(0xff, 8192, 10240);
    img.set(noise(6144, 6), 10240);
    writeFileSync(join(dir, 'bank2.bin'), img);
    const flash = new Uint8Array(2 * 1024 * 1024).fill(0xff);
    flash.set(noise(256, 9), 0x100000 + 8192 + 512);
    writeFileSync(join(dir, 'f429.bin'), flash);
    writeFileSync(join(dir, 'f429-json.bin'), flash);
  });
  const dev = (file: string): string[] => ['--device', `emulator:stm32f429,flash=${file},quirks=f42x-dfu-bank2-erase-broken`, '--bank-mode', 'dual'];

  test('a read-back that differs: the diff in brief (class, sector, cause), exit 1', () => {
    const r = run(['flash', 'bank2.bin@0x08100000', ...dev('f429.bin')]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /^verify FAILED: 255 \(0xFF\) of 16384 \(0x4000\) bytes read back differ in 1 range\(s\); first at 0x08102200$/m);
    assert.match(r.stdout, /^ {2}#1 0x08102200\.\.0x08102300 programmed over unerased flash \[bank 2 sector 12\]: every differing byte is the expected byte with bits cleared/m);
    assert.match(r.stdout, /^ {2}cause {4}programmed over unerased flash: the sector was not erased before programming/m);
    assert.match(r.stderr, /^dfukit: error: addr 0x08102200: verify: 255 byte\(s\) read back differ from the image in \d+ range\(s\) \(0x08102200\.\.[^)]*\); first at 0x08102200: expected 0xFF, read 0x[0-9A-F]{2} \[DFU_VERIFY_MISMATCH\]$/m);
    assert.doesNotMatch(r.stderr, /flash is incomplete/);
  });

  test('--json: ok false, the error, the plan and the diff report', () => {
    const r = run(['flash', 'bank2.bin@0x08100000', ...dev('f429-json.bin'), '--json']);
    assert.equal(r.status, 1, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.ok, false);
    assert.equal(j.error.code, 'DFU_VERIFY_MISMATCH');
    assert.ok(j.plan !== undefined);
    const report = DiffReportSchema.parse(j.diff);
    assert.deepEqual(
      report.ranges.map((x) => [x.start, x.end, x.class]),
      [[0x08102200, 0x08102300, 'bits-cleared']],
    );
  });

  test('a clean flash prints no diff', () => {
    const r = run(['flash', 'app.bin@0x08000000', '--device', 'emulator:stm32h743']);
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /verify FAILED/);
    assert.match(r.stdout, /294912 \(0x48000\) bytes verified/);
  });
});
