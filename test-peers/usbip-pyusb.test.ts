/**
 * A second, independent host: test-peers/pyusb-dfuse.py, run with Debian's /usr/bin/python3 and python3-usb
 * (pyusb 1.2.1, libusb1 backend), finds `dfukit emulate` through test-peers/libusb-usbip (LD_LIBRARY_PATH), reads
 * the DFU functional descriptor from the configuration's extra descriptors, and downloads a dual-core .dfu with
 * DfuSe requests of its own; the emulator's flash equals what `dfukit flash` writes for the same file.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createRomEmulator } from '../src/emulator/index.ts';
import { dfukit } from '../test/helpers/cli.ts';
import { fixturePath } from '../test/helpers/corpus.ts';
import { buildShim, ROOT, runPeer, startEmulator, SYSTEM_PYTHON, usbipPeersOrSkip, type Emulator } from './libusb-usbip/harness.ts';

const skip = usbipPeersOrSkip(SYSTEM_PYTHON);
const dir = mkdtempSync(join(tmpdir(), 'dfukit-usbip-pyusb-'));
const SCRIPT = join(ROOT, 'test-peers', 'pyusb-dfuse.py');
let lib = '';
const running: Emulator[] = [];
before(() => {
  if (skip === false) lib = buildShim(join(dir, 'lib'));
});
after(async () => {
  for (const e of running) await e.kill();
  rmSync(dir, { recursive: true, force: true });
});

function cli(args: string[]): string {
  const r = dfukit(args, { cwd: dir });
  assert.equal(r.status, 0, `dfukit ${args.join(' ')}:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

interface PyReport {
  library: string;
  device: { idVendor: number; idProduct: number; bcdDevice: number; manufacturer: string; product: string; serial: string; configuration: number };
  functional: { raw: string; wTransferSize: number; bcdDFUVersion: number; bmAttributes: number };
  alts: { alt: number; name: string }[];
  written?: { alt: number; address: number; size: number }[];
  erased?: number[];
  verified?: boolean;
  requests?: Record<string, number>;
  error?: string;
}

function pyusb(emu: Emulator, args: string[]): PyReport {
  const r = runPeer(SYSTEM_PYTHON, [SCRIPT, ...args], emu, lib, { cwd: dir, timeoutMs: 120_000 });
  assert.equal(r.status, 0, `pyusb-dfuse.py ${args.join(' ')} exited ${r.status}:\n${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout) as PyReport;
}

describe('pyusb (python3-usb) against dfukit emulate over USB/IP', { skip }, () => {
  test('finds the ROM through libusb-usbip and reads its DFU functional descriptor and layout strings', async () => {
    const emu = await startEmulator(['--chip', 'stm32f405']);
    running.push(emu);
    const r = pyusb(emu, []);
    assert.equal(r.library, join(lib, 'libusb-1.0.so.0'), 'pyusb loaded the USB/IP libusb, not the system one');
    const d = createRomEmulator({ chip: 'stm32f405' }).descriptors;
    assert.equal(r.functional.raw, Buffer.from(d.functional).toString('hex'));
    assert.equal(r.functional.bcdDFUVersion, 0x011a);
    assert.equal(r.functional.wTransferSize, 2048);
    assert.deepEqual(
      r.alts.map((a) => a.name),
      d.strings.slice(4),
    );
    assert.deepEqual([r.device.idVendor, r.device.idProduct, r.device.bcdDevice], [0x0483, 0xdf11, 0x2200]);
    assert.equal(r.device.product, 'STM32  BOOTLOADER');
    assert.equal(r.device.serial, d.strings[3]);
    assert.equal(r.device.configuration, 1);
    await emu.stop();
  });

  test('downloads a dual-core .dfu (CM4 element at 0x08100000) with DfuSe requests: flash equals dfukit flash', async () => {
    cli(['convert', fixturePath('elf', 'h745_cm7.elf'), fixturePath('elf', 'h745_cm4.elf'), '--chip', 'stm32h745', '-o', 'h745.dfu']);
    const flashOut = join(dir, 'py-h745.bin');
    const emu = await startEmulator(['--chip', 'stm32h745', '--flash-out', flashOut, '--poll-scale', '0.01']);
    running.push(emu);
    const r = pyusb(emu, ['--download', 'h745.dfu']);
    assert.equal(r.verified, true);
    assert.deepEqual(
      r.written!.map((w) => [w.alt, w.address]),
      [
        [0, 0x08000000],
        [0, 0x08100000],
      ],
    );
    assert.deepEqual(r.erased, [0x08000000, 0x08020000, 0x08100000, 0x08120000]);
    assert.equal(await emu.stop(), 0);
    const ref = join(dir, 'ref-h745.bin');
    cli(['flash', 'h745.dfu', '--device', `emulator:stm32h745,flash=${ref}`]);
    assert.deepEqual(readFileSync(flashOut), readFileSync(ref));
    // Its own request pattern: SET_ADDRESS once per element, then incrementing blocks (3 requests per block at least).
    assert.ok(r.requests!.DNLOAD! >= 4 + 306);
  });
});
