/**
 * ROM quirks (dfu-protocol.md §2.5), each against the emulator switched to that ROM behaviour, and each twice:
 * first a plain DfuSe host (this host stack with that recovery switched off) fails or gives up, bounded by a
 * deadline on the virtual clock; then dfukit (recoveries on) flashes, verifies, and reports the recovery.
 * Every case runs over both transports: the emulator's own DfuTransport and the WebUSB adapter over a
 * `USBDevice` test double (the code path browsers and node-usb take).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DfuError } from '../../src/dfu/errors.ts';
import { connect, executePlan } from '../../src/dfu/operations.ts';
import { prepareSession } from '../../src/dfu/quirks-identify.ts';
import type { RecoveryOption } from '../../src/dfu/quirks.ts';
import type { DfuTransport } from '../../src/dfu/transport.ts';
import { fromWebUsbDevice } from '../../src/dfu/webusb.ts';
import { createRomEmulator, type LogEntry, type RomEmulator, type RomEmulatorOptions } from '../../src/emulator/index.ts';
import { MemoryImage } from '../../src/image/memory-image.ts';
import type { ChipProfile } from '../../src/layout/chip-types.ts';
import { resolveChip } from '../../src/layout/chips.ts';
import { setEmulatorBankMode } from '../../src/node/emulator-device.ts';
import { createFlashPlan } from '../../src/plan/plan.ts';
import { emulatorClock, firmware, noise } from './helpers.ts';
import { WebUsbDeviceDouble } from './webusb-double.ts';

type Via = 'emulator' | 'webusb';
const VIAS: readonly Via[] = ['emulator', 'webusb'];

function transportOf(emu: RomEmulator, via: Via): DfuTransport {
  return via === 'emulator' ? emu.device : fromWebUsbDevice(new WebUsbDeviceDouble(emu));
}

function image(...segs: [number, number][]): MemoryImage {
  const m = new MemoryImage();
  segs.forEach(([addr, size], i) => m.add(addr, firmware(addr, size, 7 + i), `seg${i}`));
  return m;
}

interface Run {
  emu: RomEmulator;
  outcome: { ok: true; recoveries: readonly string[]; bytesVerified: number } | { ok: false; error: DfuError };
}

/** One flash of `img` on a fresh emulator of `chip` with `opts`, through `via`, with `recoveries`. */
async function flashOnce(chip: ChipProfile, opts: Omit<RomEmulatorOptions, 'chip'>, img: MemoryImage, via: Via, recoveries: RecoveryOption, planOpts: { massErase?: true } = {}): Promise<Run> {
  const emu = createRomEmulator({ chip, ...opts });
  try {
    const s = await connect(transportOf(emu, via), chip, { clock: emulatorClock(emu), recoveries });
    const r = await executePlan(s, createFlashPlan(img, chip, { transferSize: s.dfuse.transferSize, ...planOpts }));
    return { emu, outcome: { ok: true, recoveries: r.recoveries, bytesVerified: r.bytesVerified } };
  } catch (e) {
    assert.ok(e instanceof DfuError, `a DfuError, got ${String(e)}`);
    return { emu, outcome: { ok: false, error: e } };
  }
}

function holds(emu: RomEmulator, img: MemoryImage): void {
  for (const s of img.segments) assert.deepEqual(emu.readMemory(s.addr, s.data.length), s.data, `flash holds the image at 0x${s.addr.toString(16)}`);
}

function failed(r: Run, code: string, pattern: RegExp): DfuError {
  assert.equal(r.outcome.ok, false, 'the plain host must fail');
  const e = (r.outcome as { error: DfuError }).error;
  assert.equal(e.code, code, e.message);
  assert.match(e.message, pattern);
  return e;
}

function succeeded(r: Run, img: MemoryImage, recovery?: RegExp): readonly string[] {
  assert.ok(r.outcome.ok, r.outcome.ok ? '' : r.outcome.error.message);
  const o = r.outcome as { recoveries: readonly string[]; bytesVerified: number };
  assert.ok(o.bytesVerified > 0, 'verified by read-back');
  holds(r.emu, img);
  if (recovery !== undefined) assert.ok(o.recoveries.some((x) => recovery.test(x)), `recoveries: ${o.recoveries.join(' | ')}`);
  return o.recoveries;
}

const H743 = resolveChip('stm32h743');
const L476 = resolveChip('stm32l476');
const F405 = resolveChip('stm32f405');
const F722 = resolveChip('stm32f722');

for (const via of VIAS) {
  describe(`ROM quirks via ${via === 'emulator' ? 'the emulator transport' : 'the WebUSB adapter over a USBDevice double'}`, () => {
    test('Q1 H74x/H75x rev V (bootloader 0x90): bank-2 erase answers dfuDNBUSY forever; CLRSTATUS pair, then read-back', async () => {
      const rom = { quirks: 'profile' as const, bootloaderVersion: 0x90 };
      const img = image([0x08000000, 8192], [0x08100000, 8192]);
      // Plain: the erase never leaves dfuDNBUSY; the host gives up at the deadline (bounded, virtual clock).
      const plain = await flashOnce(H743, rom, img, via, { wedgedBusyErase: false, wedgedBusyWrite: false });
      failed(plain, 'DFU_TIMEOUT', /^erase at 0x08100000: the device is still in dfuDNBUSY after \d+ ms/);
      assert.ok(plain.emu.clock.nowMs < 60_000, `bounded: ${plain.emu.clock.nowMs} ms of device time`);

      const r = await flashOnce(H743, rom, img, via, true);
      succeeded(r, img, /^erase 0x08100000: the device stayed in dfuDNBUSY past the deadline; cleared with CLRSTATUS ×2/);
      const log = r.emu.log;
      // Bank 1 was written.
      assert.ok(log.some((e) => e.op?.kind === 'write' && e.op.address! >= 0x08000000 && e.op.address! < 0x08100000 && e.op.status === 'OK'), 'bank 1 written');
      // The erase at 0x08100000 happened (the GETSTATUS that ran it), then at least 5 dfuDNBUSY answers...
      const erase = log.findIndex((e) => e.op?.kind === 'erase' && e.op.address === 0x08100000);
      assert.ok(erase >= 0, 'erase at 0x08100000');
      assert.equal(log[erase]!.op!.status, 'OK');
      const clr = log.findIndex((e, i) => i > erase && e.request === 'CLRSTATUS');
      const busy = log.slice(erase, clr).filter((e) => e.request === 'GETSTATUS' && e.stateAfter === 'dfuDNBUSY');
      assert.ok(busy.length >= 5, `${busy.length} dfuDNBUSY answers before the recovery`);
      assert.ok(busy.slice(1).every((e) => e.quirk === 'h7-revV-bank2-erase-hang' && e.pollTimeoutMs === 1000));
      // ...then the recovery: CLRSTATUS -> (errUNKNOWN, dfuERROR) -> CLRSTATUS -> (OK, dfuIDLE), then the sector read back.
      const after = log.slice(clr, clr + 4).map((e: LogEntry) => `${e.request} ${e.stateAfter} ${e.status}`);
      assert.deepEqual(after, ['CLRSTATUS dfuERROR errUNKNOWN', 'GETSTATUS dfuERROR errUNKNOWN', 'CLRSTATUS dfuIDLE OK', 'GETSTATUS dfuIDLE OK']);
      assert.ok(log.slice(clr).some((e) => e.command === 'READ 0x08100000 +1024'), 'the erased sector is read back');
    });

    test('Q1 variant: writes to bank 2 wedge as well (emulator hook h7-revV-bank2-write-hang); each block read back', async () => {
      const rom = { quirks: ['h7-revV-bank2-write-hang'] };
      const img = image([0x08000000, 4096], [0x08100000, 2500]);
      const plain = await flashOnce(H743, rom, img, via, { wedgedBusyErase: false, wedgedBusyWrite: false });
      failed(plain, 'DFU_TIMEOUT', /^write at 0x08100000 \(wBlockNum 2\): the device is still in dfuDNBUSY/);
      const r = await flashOnce(H743, rom, img, via, true);
      const rec = succeeded(r, img, /^write 0x08100000: the device stayed in dfuDNBUSY after the block/);
      assert.equal(rec.filter((x) => x.startsWith('write 0x081')).length, 3, 'one recovery per bank-2 block');
      assert.ok(!rec.some((x) => x.startsWith('write 0x080')), 'bank 1 writes are not affected');
    });

    test('Q2 STM32L4: a GETSTATUS sent before the operation ends is STALLed; re-poll after the last bwPollTimeout', async () => {
      const rom = { quirks: ['l4-getstatus-stall-early'] };
      const img = image([0x08000000, 8192]);
      const plain = await flashOnce(L476, rom, img, via, { earlyPollStall: false });
      failed(plain, 'DFU_STALL', /^erase at 0x08000000: the device STALLed GETSTATUS \(last state dfuDNBUSY\)/);
      const r = await flashOnce(L476, rom, img, via, true);
      succeeded(r, img, /^GETSTATUS STALLed while the operation runs, in \d+ operation\(s\): poll again after the last bwPollTimeout.*l4-getstatus-stall-early/);
      const stalls = r.emu.log.filter((e) => e.request === 'GETSTATUS' && e.result === 'stall');
      assert.ok(stalls.length > 0 && stalls.every((e) => e.quirk === 'l4-getstatus-stall-early'));
    });

    test('Q3 F405: mass erase reports bwPollTimeout 100 ms but takes 32 s; a 5 s USB timeout does not end it', async () => {
      const rom = { quirks: ['f4-mass-erase-polltimeout'], nakTimeoutMs: 5000 };
      const img = image([0x08000000, 8192]);
      const plain = await flashOnce(F405, rom, img, via, { busyTimeout: false }, { massErase: true });
      failed(plain, 'DFU_TRANSPORT', /^mass erase: GETSTATUS failed: .*(NAKed for 5000 ms|timed out)/);
      const r = await flashOnce(F405, rom, img, via, true, { massErase: true });
      succeeded(r, img, /^GETSTATUS times out \(EP0 NAKed\) while the operation runs.*f4-mass-erase-polltimeout/);
      const op = r.emu.log.find((e) => e.op?.kind === 'mass-erase')!.op!;
      assert.deepEqual([op.reportedPollMs, op.durationMs], [100, 32000]);
    });

    test('Q7 bwPollTimeout 0 while busy: back-off instead of 100 flat-out polls; a device busy forever ends in a clear, bounded error', async () => {
      const rom = { quirks: ['polltimeout-zero'] };
      const img = image([0x08000000, 8192]);
      const plain = await flashOnce(F405, rom, img, via, { zeroPollBackoff: false });
      failed(plain, 'DFU_TIMEOUT', /^erase at 0x08000000: the device answered dfuDNBUSY with bwPollTimeout 0 100 times in a row/);
      const r = await flashOnce(F405, rom, img, via, true);
      succeeded(r, img, /^bwPollTimeout 0 while dfuDNBUSY/);
      // The 16 KiB sector erase takes its datasheet time; dfukit polls a few dozen times for it, not once per millisecond.
      const erase = r.emu.log.findIndex((e) => e.op?.kind === 'erase');
      const polls = r.emu.log.slice(erase).findIndex((e) => e.request === 'GETSTATUS' && e.stateAfter === 'dfuDNLOAD_IDLE');
      assert.ok(polls < 40, `${polls} polls for a ${r.emu.log[erase]!.op!.durationMs} ms erase`);
      // Busy forever with bwPollTimeout 0 (rev V wedge on a zero-timeout ROM), recovery off: bounded, and the error says why.
      const forever = await flashOnce(H743, { quirks: ['h7-revV-bank2-erase-hang', 'polltimeout-zero'] }, image([0x08100000, 4096]), via, { wedgedBusyErase: false, wedgedBusyWrite: false });
      failed(forever, 'DFU_TIMEOUT', /still in dfuDNBUSY after \d+ ms \(deadline \d+ ms, last bwPollTimeout 0 ms; bwPollTimeout 0 in \d+ busy answer\(s\): the device never said how long to wait\)/);
      assert.ok(forever.emu.clock.nowMs < 60_000);
      // With the Q1 recovery on, the same ROM is recovered.
      const both = await flashOnce(H743, { quirks: ['h7-revV-bank2-erase-hang', 'polltimeout-zero'] }, image([0x08100000, 4096]), via, true);
      succeeded(both, image([0x08100000, 4096]), /^erase 0x08100000: the device stayed in dfuDNBUSY/);
    });

    test('Q4 a ROM that STALLs CLRSTATUS outside dfuERROR: dfukit sends it only in dfuERROR', async () => {
      const img = image([0x08000000, 8192]);
      // The emulator's default ROM is strict: CLRSTATUS outside dfuERROR is STALLed (DFU 1.1 Appendix A).
      const plain = await flashOnce(F722, {}, img, via, { clrStatusByState: false });
      failed(plain, 'DFU_STALL', /^connect: the device STALLed CLRSTATUS/);
      // dfukit, with an error status injected mid-write so that a CLRSTATUS is due once.
      const probe = await flashOnce(F722, {}, img, via, true);
      const k = probe.emu.log.find((e) => e.command === 'WRITE 0x08000800 +2048')!.seq;
      const r = await flashOnce(F722, { faults: [{ kind: 'status', atRequest: k + 1, status: 'errPROG' }] }, img, via, true);
      succeeded(r, img);
      const clr = r.emu.log.filter((e) => e.request === 'CLRSTATUS');
      assert.ok(clr.length >= 1, 'the error was cleared');
      assert.ok(clr.every((e) => e.stateBefore === 'dfuERROR' && e.result === 'ok'), 'CLRSTATUS only in dfuERROR, never STALLed');
    });

    test('Q6 F76x dual bank: the ROM reports the single-bank map; nDBANK from the option bytes gives the real one', async () => {
      const dual = resolveChip('stm32f767', { bankMode: 'dual' });
      const old = noise(0x20000, 99);
      const device = (): RomEmulator => {
        const emu = createRomEmulator({ chip: dual });
        setEmulatorBankMode(emu, dual); // nDBANK = 0, as on a part switched to dual bank
        emu.writeMemory(0x08100000, old); // old firmware in bank 2 (sectors 12..19)
        return emu;
      };
      const img = image([0x08100000, 40 * 1024]); // sectors 12, 13, 14 (16 KiB each) in dual-bank mode
      // Plain: the factory (single-bank) map, which is what the ROM's string describes: "sector 8" at 0x08100000 is 256 KiB.
      const e1 = device();
      const p1 = await prepareSession(transportOf(e1, via), { chip: 'stm32f767', clock: emulatorClock(e1), recoveries: { bankModeFromOptionBytes: false } });
      assert.equal(p1.profile.bankMode, 'single');
      assert.equal(p1.layout.source, 'agree', 'the ROM string and the single-bank map agree');
      const plan1 = createFlashPlan(img, p1.profile, { transferSize: p1.session.dfuse.transferSize });
      assert.deepEqual(plan1.erase.sectors.map((s) => s.size), [0x40000]);
      await assert.rejects(executePlan(p1.session, plan1), (e: unknown) => e instanceof DfuError && ['DFU_STATUS', 'DFU_STATE', 'DFU_VERIFY_MISMATCH'].includes(e.code));
      assert.notDeepEqual(e1.readMemory(0x08104000, 0x1000), img.read(0x08104000, 0x1000), 'only the first 16 KiB were erased: the rest is not written');

      const e2 = device();
      const p2 = await prepareSession(transportOf(e2, via), { chip: 'stm32f767', clock: emulatorClock(e2) });
      assert.equal(p2.profile.bankMode, 'dual');
      assert.equal(p2.layout.source, 'profile-documented');
      assert.equal(p2.layout.quirk, 'f76x-dual-bank-rom-reports-single-map');
      assert.ok(p2.notes.some((n) => /^bank mode dual from nDBANK = 0 in the option bytes/.test(n)), p2.notes.join(' | '));
      const plan2 = createFlashPlan(img, p2.profile, { transferSize: p2.session.dfuse.transferSize });
      assert.deepEqual(plan2.erase.sectors.map((s) => [s.bank, s.sector, s.size]), [[2, 12, 0x4000], [2, 13, 0x4000], [2, 14, 0x4000]]);
      const r = await executePlan(p2.session, plan2);
      assert.equal(r.bytesVerified, plan2.counts.bytes);
      holds(e2, img);
      assert.deepEqual(e2.readMemory(0x0810c000, 0x14000), old.subarray(0xc000), 'bank-2 sectors 15.. keep their data');
    });
  });
}

describe('chip identification and layout reconciliation', () => {
  test('several profiles fit (H743/H745/H750 report the same strings): --chip is required and the message lists them', async () => {
    const emu = createRomEmulator({ chip: 'stm32h745' });
    await assert.rejects(prepareSession(emu.device, { clock: emulatorClock(emu) }), (e: unknown) => {
      assert.equal((e as { code?: string }).code, 'CHIP_AMBIGUOUS');
      assert.match((e as Error).message, /several chip profiles fit this device's layout strings: stm32h743, stm32h745, stm32h750;.*--chip/);
      assert.equal((e as { exitStatus?: number }).exitStatus, 2);
      return true;
    });
    const p = await prepareSession(emu.device, { chip: 'stm32h745', clock: emulatorClock(emu) });
    assert.equal(p.profile.displayName, 'STM32H745xI');
  });

  test('one profile fits: identified from strings and bcdDevice; the flash size register picks the variant', async () => {
    const emu = createRomEmulator({ chip: 'stm32f405xe' });
    const p = await prepareSession(emu.device, { clock: emulatorClock(emu) });
    assert.equal(p.chipFrom, 'device');
    assert.equal(p.profile.displayName, 'STM32F405xE');
    assert.ok(p.notes.some((n) => /identified from the device's layout strings and bcdDevice 0x2200/.test(n)));
    assert.ok(p.notes.some((n) => /flash size 512 KiB from the flash size register at 0x1FFF7A22/.test(n)), p.notes.join(' | '));
  });

  test('the profile wins where it documents the ROM string as wrong (H750 reports 2 MiB)', async () => {
    const emu = createRomEmulator({ chip: 'stm32h750' });
    const p = await prepareSession(emu.device, { chip: 'stm32h750', clock: emulatorClock(emu) });
    assert.equal(p.layout.source, 'profile-documented');
    assert.equal(p.layout.quirk, 'h750-rom-layout-reports-2m');
    assert.equal(p.profile.flashSize, 128 * 1024);
  });

  test('an undocumented disagreement stops with both maps; --layout profile or device decides', async () => {
    const real = resolveChip('stm32f405');
    const wrong = '@Internal Flash  /0x08000000/08*016Kg,01*064Kg,07*128Kg';
    const chip: ChipProfile = { ...real, dfu: { ...real.dfu, alts: real.dfu.alts.map((a) => (a.alt === 0 ? { ...a, layout: wrong } : a)) } };
    const emu = createRomEmulator({ chip });
    await assert.rejects(prepareSession(emu.device, { chip: 'stm32f405', clock: emulatorClock(emu) }), (e: unknown) => {
      assert.equal((e as { code?: string }).code, 'LAYOUT_MISMATCH');
      const m = (e as Error).message;
      assert.match(m, /the device's flash layout and the STM32F405xG profile disagree/);
      assert.match(m, /device alt 0 "@Internal Flash {2}\/0x08000000\/08\*016Kg,01\*064Kg,07\*128Kg":\n {2}0x08000000\.\.0x08020000 {2}8 x 16 KiB/);
      assert.match(m, /profile STM32F405xG \(stm32f405\):\n {2}0x08000000\.\.0x08010000 {2}4 x 16 KiB\n {2}0x08010000\.\.0x08020000 {2}1 x 64 KiB/);
      assert.match(m, /--layout device .* --layout profile/);
      assert.equal((e as { exitStatus?: number }).exitStatus, 4);
      return true;
    });
    const p = await prepareSession(emu.device, { chip: 'stm32f405', layout: 'profile', clock: emulatorClock(emu) });
    assert.equal(p.layout.source, 'profile');
    const img = image([0x08000000, 20_000]);
    const r = await executePlan(p.session, createFlashPlan(img, p.profile, { transferSize: p.session.dfuse.transferSize }));
    assert.equal(r.bytesVerified, 20_000);
    holds(emu, img);
    const d = await prepareSession(emu.device, { chip: 'stm32f405', layout: 'device', clock: emulatorClock(emu) });
    assert.equal(d.layout.source, 'device');
    assert.deepEqual(d.profile.sectors.slice(0, 9).map((s) => s.size / 1024), [16, 16, 16, 16, 16, 16, 16, 16, 64]);
  });
});
