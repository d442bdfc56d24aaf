/**
 * The WebUSB adapter (src/dfu/webusb.ts), the code path a browser (`navigator.usb`) and Node (`usb`'s
 * `WebUSBDevice`) share, run through a `USBDevice` test double over the ROM emulator (webusb-double.ts) in both
 * error flavours. First the adapter itself (error mapping, transfer results, interface names it must read),
 * then the flash suite of e2e.test.ts, failures.test.ts and sweep.test.ts again through it: every chip profile
 * end to end with the same assertions (image, user data kept, at most 3 requests per block, device time within
 * 5 % of the floor), retries, resume after a reconnect, abort, verify mismatch, leave, and the interruption
 * sweep at every request.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readAltLayouts } from '../../src/dfu/descriptors.ts';
import { DfuError } from '../../src/dfu/errors.ts';
import { connect, eraseMemory, executePlan, readMemory, type DfuSession, type FlashEvent } from '../../src/dfu/operations.ts';
import { TransportError, type DfuTransport } from '../../src/dfu/transport.ts';
import { decodeStringDescriptor, fromWebUsbDevice, webUsbDfuDevices, webUsbError, WebUsbTransport } from '../../src/dfu/webusb.ts';
import { createRomEmulator, type Fault, type RomEmulator, type RomEmulatorOptions } from '../../src/emulator/index.ts';
import { MemoryImage } from '../../src/image/memory-image.ts';
import type { ChipProfile } from '../../src/layout/chip-types.ts';
import { listChips, resolveChip } from '../../src/layout/chips.ts';
import { sectorsTouched } from '../../src/layout/sectors.ts';
import { createFlashPlan } from '../../src/plan/plan.ts';
import { emulatorClock, firmware, imageFor, noise, phaseMarks, requestsPerBlock } from './helpers.ts';
import { B, bootedSlot, chip as sweepChip, device as sweepDevice, headerAddr, plan as sweepPlan, userData } from './sweep-helpers.ts';
import { FakeWebUsb, WebUsbDeviceDouble, type DoubleFlavour } from './webusb-double.ts';

const FLAVOURS: readonly DoubleFlavour[] = ['browser', 'node-usb'];

function via(emu: RomEmulator, flavour: DoubleFlavour, names: 'present' | 'missing' = 'present'): DfuTransport {
  return fromWebUsbDevice(new WebUsbDeviceDouble(emu, { flavour, interfaceNames: names }));
}

async function session(chip: ChipProfile, flavour: DoubleFlavour, opts: Omit<RomEmulatorOptions, 'chip'> = {}, transferSize?: number): Promise<{ emu: RomEmulator; s: DfuSession }> {
  const emu = createRomEmulator({ chip, ...opts });
  const s = await connect(via(emu, flavour), chip, { clock: emulatorClock(emu), ...(transferSize !== undefined ? { transferSize } : {}) });
  return { emu, s };
}

function isDfu(code: string, check?: (e: DfuError) => void): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof DfuError, String(e));
    assert.equal(e.code, code, e.message);
    check?.(e);
    return true;
  };
}

describe('the adapter', () => {
  test('errors: DOMExceptions and node-usb messages become TransportError kinds', () => {
    const cases: [unknown, string][] = [
      [new DOMException('The device was disconnected.', 'NotFoundError'), 'disconnected'],
      [new DOMException('The transfer was cancelled.', 'AbortError'), 'disconnected'],
      [new DOMException('The transfer timed out.', 'TimeoutError'), 'timeout'],
      [new DOMException('A transfer error has occurred.', 'NetworkError'), 'io'],
      [new DOMException('The device must be opened first.', 'InvalidStateError'), 'io'],
      [new Error('controlTransferIn error: Error: LIBUSB_ERROR_NO_DEVICE'), 'disconnected'],
      [new Error('controlTransferOut error: Error: LIBUSB_TRANSFER_NO_DEVICE'), 'disconnected'],
      [new Error('controlTransferIn error: Error: LIBUSB_TRANSFER_TIMED_OUT'), 'timeout'],
      [new Error('controlTransferIn error: Error: LIBUSB_ERROR_IO'), 'io'],
    ];
    for (const [e, kind] of cases) {
      const t = webUsbError(e, 'controlTransferIn');
      assert.ok(t instanceof TransportError);
      assert.equal(t.kind, kind, String(e));
    }
    assert.equal(webUsbError(new DOMException('The device was disconnected.', 'NotFoundError'), 'open').message, 'open: NotFoundError: The device was disconnected.');
  });

  test('transfer results: a STALL with data null (browser) or none (node-usb) is a STALL; data comes through', async () => {
    for (const flavour of FLAVOURS) {
      const emu = createRomEmulator({ chip: 'stm32f405' });
      const t = via(emu, flavour);
      await t.open();
      await t.claimInterface(0);
      const stall = await t.controlTransferIn({ requestType: 'class', recipient: 'interface', request: 2, value: 1, index: 0 }, 16); // UPLOAD block 1: reserved
      assert.deepEqual(stall, { status: 'stall', data: undefined });
      const ok = await t.controlTransferIn({ requestType: 'class', recipient: 'interface', request: 3, value: 0, index: 0 }, 6); // GETSTATUS
      assert.equal(ok.status, 'ok');
      assert.equal(ok.data?.byteLength, 6);
    }
  });

  test('interface names missing on the device object: read from the string descriptors after open()', async () => {
    const emu = createRomEmulator({ chip: 'stm32h743' });
    const t = via(emu, 'browser', 'missing');
    assert.deepEqual(readAltLayouts(t)!.alts.map((a) => a.name), ['', '']);
    await t.open();
    assert.deepEqual(readAltLayouts(t)!.alts.map((a) => a.name), ['@Internal Flash   /0x08000000/16*128Kg', '@Option Bytes   /0x5200201C/01*128 e']);
    assert.equal(decodeStringDescriptor(Uint8Array.of(6, 3, 0x41, 0, 0x42, 0)), 'AB');
  });

  test('a vanished device is DFU_DISCONNECTED naming the request and the DOMException', async () => {
    const { emu, s } = await session(resolveChip('stm32h745'), 'browser');
    emu.reconnect(); // unplugged and plugged in again: the old USBDevice object is dead
    await assert.rejects(s.dfu.getStatus({ operation: 'verify', address: 0x08000000 }), isDfu('DFU_DISCONNECTED', (e) => assert.match(e.message, /^verify at 0x08000000: the device disconnected during GETSTATUS \(controlTransferIn: NotFoundError: The device was disconnected\.\)/)));
  });

  test('navigator.usb-like getDevices: DFU devices only, a re-enumerated device is a new object', async () => {
    const a = createRomEmulator({ chip: 'stm32f722', serialNumber: 'A' });
    const b = createRomEmulator({ chip: 'stm32f722', serialNumber: 'B' });
    const usb = new FakeWebUsb([a, b]);
    const first = await webUsbDfuDevices(usb);
    assert.deepEqual(first.map((t) => t.serialNumber), ['A', 'B']);
    assert.ok(first.every((t) => t instanceof WebUsbTransport));
    b.reconnect();
    const second = await webUsbDfuDevices(usb);
    assert.equal(second[0]!.device, first[0]!.device);
    assert.notEqual(second[1]!.device, first[1]!.device);
  });
});

function img(addr: number, size: number): MemoryImage {
  const m = new MemoryImage();
  m.add(addr, firmware(addr, size), 'app');
  return m;
}

for (const flavour of FLAVOURS) {
  describe(`flash suite through the WebUSB adapter (${flavour} USBDevice double), every chip profile`, () => {
    for (const c of listChips()) {
      test(c.name, async () => {
        const p = resolveChip(c.name);
        const { emu, s } = await session(p, flavour);
        const xfer = s.dfuse.transferSize;
        assert.equal(s.info.transferSizeFrom, 'descriptor');
        const image = imageFor(p, xfer);
        const touched = new Set(sectorsTouched(p, image.ranges()).map((x) => x.index));
        const free = p.sectors.filter((x) => !touched.has(x.index));
        const user = (free.length > 0 ? [free[0]!, free.at(-1)!] : []).map((x, i) => ({ addr: x.start + 64, bytes: noise(Math.min(4096, x.size - 64), 100 + i) }));
        for (const u of user) emu.writeMemory(u.addr, u.bytes);
        const plan = createFlashPlan(image, p, { transferSize: xfer });
        const marks = phaseMarks(emu);
        const r = await executePlan(s, plan, { onEvent: marks.onEvent });
        for (const seg of image.segments) assert.deepEqual(emu.readMemory(seg.addr, seg.data.length), seg.data);
        for (const u of user) assert.deepEqual(emu.readMemory(u.addr, u.bytes.length), u.bytes, 'user data survives');
        assert.equal(r.bytesVerified, plan.counts.bytes);
        const write = marks.span('write');
        const perBlock = requestsPerBlock(emu.log.slice(write.from, write.to));
        assert.equal(perBlock.length, plan.counts.blocksToSend);
        assert.ok(Math.max(...perBlock) <= 3, `at most 3 requests per block, got ${Math.max(...perBlock)}`);
        const entries = emu.log.slice(marks.span('erase').from, write.to);
        const floor = entries.reduce((n, e) => n + (e.op?.durationMs ?? 0), 0) + 3 * entries.filter((e) => e.request === 'DNLOAD').length;
        const spent = r.phases.filter((x) => x.phase === 'erase' || x.phase === 'write').reduce((n, x) => n + x.deviceMs, 0);
        assert.ok(spent >= floor && spent <= 1.05 * floor, `device time ${spent} ms vs floor ${floor} ms`);
      });
    }
  });

  describe(`failures through the WebUSB adapter (${flavour})`, () => {
    const H745 = resolveChip('stm32h745');
    const F405 = resolveChip('stm32f405');
    const image8k = img(0x08000000, 8 * 1024);

    for (const [name, fault] of [
      ['an error status', (k: number): Fault => ({ kind: 'status', atRequest: k + 1, status: 'errPROG' })],
      ['a STALL', (k: number): Fault => ({ kind: 'stall', atRequest: k })],
      ['a USB timeout', (k: number): Fault => ({ kind: 'timeout', atRequest: k })],
    ] as const) {
      test(`${name} on the 4th data block is retried after recovery to dfuIDLE`, async () => {
        const ref = await session(H745, flavour);
        await executePlan(ref.s, createFlashPlan(image8k, H745, { transferSize: 1024 }));
        const k = ref.emu.log.find((e) => e.command === 'WRITE 0x08000C00 +1024')!.seq;
        const { emu, s } = await session(H745, flavour, { faults: [fault(k)] });
        const events: FlashEvent[] = [];
        const r = await executePlan(s, createFlashPlan(image8k, H745, { transferSize: 1024 }), { onEvent: (e) => events.push(e) });
        assert.equal(r.retries, 1);
        assert.ok(events.some((e) => e.type === 'retry' && e.address === 0x08000c00));
        assert.deepEqual(emu.readMemory(0x08000000, 8 * 1024), image8k.read(0x08000000, 8 * 1024));
      });
    }

    test('a block half programmed is completed from its first erased unit', async () => {
      const { emu, s } = await session(H745, flavour, { faults: [{ kind: 'program-fail', address: 0x08000d00, status: 'errPROG', times: 1 }] });
      const r = await executePlan(s, createFlashPlan(image8k, H745, { transferSize: 1024 }));
      assert.equal(r.retries, 1);
      assert.ok(emu.log.some((e) => e.command === 'SET_ADDRESS_POINTER 0x08000D00'));
      assert.deepEqual(emu.readMemory(0x08000000, 8 * 1024), image8k.read(0x08000000, 8 * 1024));
    });

    test('a persistent fault is reported with operation, address, state and status; resume on a re-enumerated device finishes', async () => {
      const image = img(0x08000000, 12 * 1024);
      const emu = createRomEmulator({ chip: F405, faults: [{ kind: 'program-fail', address: 0x08001000, status: 'errWRITE', times: 3 }] });
      const plan = createFlashPlan(image, F405, { transferSize: 2048 });
      await assert.rejects(
        executePlan(await connect(via(emu, flavour), F405, { clock: emulatorClock(emu) }), plan),
        isDfu('DFU_STATUS', (e) => assert.equal(e.message, 'write at 0x08001000 (wBlockNum 4): the device reports errWRITE in dfuERROR after DNLOAD (3 attempts)')),
      );
      emu.reconnect();
      const r = await executePlan(await connect(via(emu, flavour), F405, { clock: emulatorClock(emu) }), plan, { resume: true });
      assert.deepEqual(r.resume!.map((x) => x.state), ['program']);
      assert.deepEqual(emu.readMemory(0x08000000, 12 * 1024), image.read(0x08000000, 12 * 1024));
    });

    test('AbortSignal stops between blocks with the device back in dfuIDLE', async () => {
      const { emu, s } = await session(H745, flavour);
      const ac = new AbortController();
      let blocks = 0;
      await assert.rejects(
        executePlan(s, createFlashPlan(img(0x08000000, 16 * 1024), H745, { transferSize: 1024 }), {
          signal: ac.signal,
          onEvent: (e) => {
            if (e.type === 'progress' && e.phase === 'write' && ++blocks === 5) ac.abort(new Error('user pressed Ctrl-C'));
          },
        }),
        isDfu('DFU_ABORTED', (e) => assert.equal(e.message, 'write at 0x08001400 (wBlockNum 7): stopped by the caller: user pressed Ctrl-C')),
      );
      assert.equal(emu.state, 'dfuIDLE');
    });

    test('a bit flipped after a clean write is DFU_VERIFY_MISMATCH, exit 1', async () => {
      const { emu, s } = await session(H745, flavour);
      const plan = createFlashPlan(img(0x08000000, 2048), H745, { transferSize: 1024 });
      await executePlan(s, plan);
      emu.writeMemory(0x08000105, Uint8Array.of(emu.readMemory(0x08000105, 1)[0]! ^ 0x10));
      const again = await connect(via(emu, flavour), H745, { clock: emulatorClock(emu) });
      await assert.rejects(executePlan(again, { ...plan, erase: { mode: 'sectors', sectors: [], bytes: 0 }, runs: [] }), isDfu('DFU_VERIFY_MISMATCH', (e) => assert.equal(e.exitStatus, 1)));
    });

    test('leave: dfuMANIFEST, or the device vanishing after the leave request, is success', async () => {
      const a = await session(H745, flavour);
      const r = await executePlan(a.s, createFlashPlan(img(0x08000000, 4096), H745, { transferSize: 1024, leave: true }));
      assert.ok(['manifest', 'disconnected'].includes(r.leave!.outcome));
      assert.equal(a.emu.lastLeave?.vectorValid, true);
      const b = await session(H745, flavour, { quirks: ['leave-without-status'] });
      const r2 = await executePlan(b.s, createFlashPlan(img(0x08000000, 4096), H745, { transferSize: 1024, leave: true }));
      assert.equal(r2.leave?.outcome, 'disconnected');
    });

    test('read spans banks; erase by sector keeps the neighbours; -t below wTransferSize addresses every block', async () => {
      const { emu, s } = await session(H745, flavour);
      const data = noise(0x3000, 5);
      emu.writeMemory(0x080ff000, data);
      assert.deepEqual((await readMemory(s, 0x080ff000, 0x3000)).bytes, data);
      await eraseMemory(s, { sectors: [{ index: 8, bank: 2, sector: 0, start: 0x08100000, end: 0x08120000, size: 0x20000 }] });
      assert.deepEqual(emu.readMemory(0x080ff000, 0x1000), data.subarray(0, 0x1000));
      const small = await session(H745, flavour, {}, 512);
      const image = img(0x08000000, 5000);
      const plan = createFlashPlan(image, H745, { transferSize: 512, addressEveryBlock: true });
      const r = await executePlan(small.s, plan);
      assert.equal(r.bytesVerified, plan.counts.bytes);
      assert.deepEqual(small.emu.readMemory(0x08000000, 5000), image.read(0x08000000, 5000));
    });

    test('H7 rev V bank-2 erase wedge recovered through the adapter', async () => {
      const { emu, s } = await session(H745, flavour, { quirks: 'profile', bootloaderVersion: 0x90 });
      const image = img(0x08100000, 4096);
      const r = await executePlan(s, createFlashPlan(image, H745, { transferSize: 1024 }));
      assert.match(r.recoveries[0]!, /^erase 0x08100000: the device stayed in dfuDNBUSY/);
      assert.deepEqual(emu.readMemory(0x08100000, 4096), image.read(0x08100000, 4096));
    });
  });

  test(`interruption sweep through the WebUSB adapter (${flavour}): every cut leaves a bootable slot; resume on the re-enumerated device completes`, async () => {
    const ref = sweepDevice();
    await executePlan(await connect(via(ref, flavour), sweepChip, { clock: emulatorClock(ref) }), sweepPlan);
    const N = ref.counters.requests;
    assert.equal(bootedSlot(ref).boot, 'B');
    for (let k = 1; k <= N; k++) {
      const emu = sweepDevice(k);
      let error: unknown;
      try {
        await executePlan(await connect(via(emu, flavour), sweepChip, { clock: emulatorClock(emu) }), sweepPlan);
      } catch (e) {
        error = e;
      }
      assert.equal((error as { code?: string } | undefined)?.code, 'DFU_DISCONNECTED', `cut at ${k}`);
      const headerDone = emu.log.some((e) => e.op?.kind === 'write' && e.op.address === headerAddr && e.op.status === 'OK');
      const sel = bootedSlot(emu);
      assert.ok(sel.boot !== undefined && sel.validPick, `cut at ${k}: a valid slot boots`);
      assert.equal(sel.boot, headerDone ? 'B' : 'A');
      emu.reconnect();
      const r = await executePlan(await connect(via(emu, flavour), sweepChip, { clock: emulatorClock(emu) }), sweepPlan, { resume: true });
      assert.equal(r.bytesVerified, sweepPlan.counts.bytes, `cut at ${k}: resume verifies`);
      assert.equal(bootedSlot(emu).boot, 'B');
      assert.deepEqual(emu.readMemory(userData.addr, userData.bytes.length), userData.bytes);
      assert.deepEqual(emu.readMemory(B.start, 0x400 + 20_000), sweepPlan.image.read(B.start, 0x400 + 20_000));
    }
  });
}
