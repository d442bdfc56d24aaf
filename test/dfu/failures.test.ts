/**
 * Failure paths through the emulator's fault injection: a transient error is retried after CLRSTATUS; a
 * half-programmed block is completed from its first erased unit; a persistent fault mid-write is reported with
 * operation, address, DFU state and status (exit 4) and `--resume` then finishes; an AbortSignal stops between
 * requests with the device back in dfuIDLE; a verify mismatch exits 1; the H7 rev V bank-2 wedge is recovered;
 * leave counts a vanished device as success.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DfuError } from '../../src/dfu/errors.ts';
import { connect, eraseMemory, executePlan, readMemory, type FlashEvent } from '../../src/dfu/operations.ts';
import { createRomEmulator, type Fault } from '../../src/emulator/index.ts';
import { MemoryImage } from '../../src/image/memory-image.ts';
import { resolveChip } from '../../src/layout/chips.ts';
import { createFlashPlan } from '../../src/plan/plan.ts';
import { emulatorClock, emulatorSession, firmware, noise } from './helpers.ts';

const H745 = resolveChip('stm32h745');
const F405 = resolveChip('stm32f405');

function img(addr: number, size: number): MemoryImage {
  const m = new MemoryImage();
  m.add(addr, firmware(addr, size), 'app');
  return m;
}

/** The request number (1-based, as faults count) of the first log entry matching `pred` in a fault-free run. */
async function requestNumberOf(chip: typeof H745, image: MemoryImage, pred: (e: { request: string; command?: string }) => boolean): Promise<number> {
  const { emu, session } = await emulatorSession(chip);
  await executePlan(session, createFlashPlan(image, chip, { transferSize: session.dfuse.transferSize }));
  const e = emu.log.find(pred);
  assert.ok(e !== undefined);
  return e.seq;
}

function isDfu(code: string, check?: (e: DfuError) => void): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof DfuError, String(e));
    assert.equal(e.code, code, e.message);
    check?.(e);
    return true;
  };
}

describe('retries', () => {
  const image = img(0x08000000, 8 * 1024);
  for (const [name, fault] of [
    ['an error status (errPROG before the block ran)', (k: number): Fault => ({ kind: 'status', atRequest: k + 1, status: 'errPROG' })],
    ['a STALL', (k: number): Fault => ({ kind: 'stall', atRequest: k })],
    ['a USB timeout', (k: number): Fault => ({ kind: 'timeout', atRequest: k })],
  ] as const) {
    test(`${name} on the 4th data block is retried after recovery to dfuIDLE`, async () => {
      const k = await requestNumberOf(H745, image, (e) => e.command === 'WRITE 0x08000C00 +1024');
      const { emu, session } = await emulatorSession(H745, { faults: [fault(k)] });
      const events: FlashEvent[] = [];
      const r = await executePlan(session, createFlashPlan(image, H745, { transferSize: 1024 }), { onEvent: (e) => events.push(e) });
      assert.equal(r.retries, 1);
      const retry = events.find((e) => e.type === 'retry');
      assert.ok(retry !== undefined && retry.type === 'retry' && retry.address === 0x08000c00 && retry.attempt === 1);
      assert.deepEqual(emu.readMemory(0x08000000, 8 * 1024), image.read(0x08000000, 8 * 1024));
    });
  }

  test('a block half programmed (errPROG at a flash word) is completed from its first erased unit', async () => {
    const { emu, session } = await emulatorSession(H745, { faults: [{ kind: 'program-fail', address: 0x08000d00, status: 'errPROG', times: 1 }] });
    const r = await executePlan(session, createFlashPlan(image, H745, { transferSize: 1024 }));
    assert.equal(r.retries, 1);
    assert.ok(emu.log.some((e) => e.command === 'SET_ADDRESS_POINTER 0x08000D00'), 'the retry starts at the failed unit');
    assert.deepEqual(emu.readMemory(0x08000000, 8 * 1024), image.read(0x08000000, 8 * 1024));
  });

  test('a persistent fault mid-write names operation, address, block, state and status; --resume then finishes', async () => {
    const chip = F405;
    const image4 = img(0x08000000, 12 * 1024);
    const emu = createRomEmulator({ chip, faults: [{ kind: 'program-fail', address: 0x08001000, status: 'errWRITE', times: 3 }] });
    const plan = createFlashPlan(image4, chip, { transferSize: 2048 });
    await assert.rejects(
      executePlan(await connect(emu.device, chip, { clock: emulatorClock(emu) }), plan, { retries: 2 }),
      isDfu('DFU_STATUS', (e) => {
        assert.equal(e.message, 'write at 0x08001000 (wBlockNum 4): the device reports errWRITE in dfuERROR after DNLOAD (3 attempts)');
        assert.deepEqual(e.dfu, { operation: 'write', address: 0x08001000, block: 4, request: 'DNLOAD', state: 'dfuERROR', status: 'errWRITE' });
        assert.equal(e.exitStatus, 4);
      }),
    );
    const r = await executePlan(await connect(emu.reconnect(), chip, { clock: emulatorClock(emu) }), plan, { resume: true });
    assert.deepEqual(r.resume!.map((s) => s.state), ['program']);
    assert.equal(r.sectorsErased, 0, 'the failed blocks were still erased: no erase needed');
    assert.deepEqual(emu.readMemory(0x08000000, 12 * 1024), image4.read(0x08000000, 12 * 1024));
  });

  test('a torn block after the retries are exhausted: DFU_STATE names the address, and --resume erases and rewrites that sector', async () => {
    const { emu, session } = await emulatorSession(H745, { faults: [{ kind: 'program-fail', address: 0x08000d00, status: 'errVERIFY', times: 1 }] });
    const plan = createFlashPlan(image, H745, { transferSize: 1024 });
    await assert.rejects(executePlan(session, plan), isDfu('DFU_STATE', (e) => assert.match(e.message, /^write at 0x08000D00: .*--resume/)));
    const r = await executePlan(await connect(emu.reconnect(), H745, { clock: emulatorClock(emu) }), plan, { resume: true });
    assert.deepEqual(r.resume!.map((s) => s.state), ['erase']);
    assert.deepEqual(emu.readMemory(0x08000000, 8 * 1024), image.read(0x08000000, 8 * 1024));
  });
});

describe('abort, verify, quirks, leave', () => {
  test('AbortSignal: stops between blocks, the device is back in dfuIDLE, the error says where', async () => {
    const { emu, session } = await emulatorSession(H745);
    const ac = new AbortController();
    let blocks = 0;
    const plan = createFlashPlan(img(0x08000000, 16 * 1024), H745, { transferSize: 1024 });
    await assert.rejects(
      executePlan(session, plan, {
        signal: ac.signal,
        onEvent: (e) => {
          if (e.type === 'progress' && e.phase === 'write' && ++blocks === 5) ac.abort(new Error('user pressed Ctrl-C'));
        },
      }),
      isDfu('DFU_ABORTED', (e) => assert.equal(e.message, 'write at 0x08001400 (wBlockNum 7): stopped by the caller: user pressed Ctrl-C')),
    );
    assert.equal(emu.state, 'dfuIDLE');
    assert.equal(emu.log.filter((e) => e.op?.kind === 'write').length, 5);
  });

  test('a read-back that differs is DFU_VERIFY_MISMATCH, exit 1, with the first address and both bytes', async () => {
    const { session } = await emulatorSession(H745, { faults: [{ kind: 'program-fail', address: 0x08000105, status: 'errVERIFY', times: 1 }] });
    // A device that checks its own writes reports errVERIFY: a DFU_STATUS error naming it.
    const plan = createFlashPlan(img(0x08000000, 2048), H745, { transferSize: 1024 });
    await assert.rejects(executePlan(session, plan, { retries: 0 }), isDfu('DFU_STATUS', (e) => assert.equal(e.dfu.status, 'errVERIFY')));
    const emu2 = createRomEmulator({ chip: H745 });
    const s2 = await connect(emu2.device, H745, { clock: emulatorClock(emu2) });
    // A silent bit flip after a clean write is caught by the read-back.
    const noVerify = createFlashPlan(img(0x08000000, 2048), H745, { transferSize: 1024 });
    await executePlan(s2, noVerify);
    emu2.writeMemory(0x08000105, Uint8Array.of(emu2.readMemory(0x08000105, 1)[0]! ^ 0x10));
    const again = await connect(emu2.device, H745, { clock: emulatorClock(emu2) });
    const verifyOnly = { ...noVerify, erase: { mode: 'sectors' as const, sectors: [], bytes: 0 }, runs: [] };
    await assert.rejects(
      executePlan(again, verifyOnly),
      isDfu('DFU_VERIFY_MISMATCH', (e) => {
        assert.equal(e.exitStatus, 1);
        assert.match(e.message, /^verify: 1 byte\(s\) read back differ from the image in 1 range\(s\) \(0x08000105\.\.0x08000106\); first at 0x08000105: expected 0x[0-9A-F]{2}, read 0x[0-9A-F]{2}$/);
      }),
    );
  });

  test('H7 rev V (bootloader 0x90) bank-2 erase wedge: recovered with the CLRSTATUS pair and checked by read-back', async () => {
    const { emu, session } = await emulatorSession(H745, { quirks: 'profile', bootloaderVersion: 0x90 });
    assert.ok(emu.quirks.includes('h7-revV-bank2-erase-hang'));
    const image = img(0x08100000, 4096);
    const r = await executePlan(session, createFlashPlan(image, H745, { transferSize: 1024 }));
    assert.equal(r.recoveries.length, 1);
    assert.match(r.recoveries[0]!, /^erase 0x08100000: the device stayed in dfuDNBUSY/);
    assert.deepEqual(emu.readMemory(0x08100000, 4096), image.read(0x08100000, 4096));
  });

  test('leave jumps to the vector table; the device vanishing after the leave request is success', async () => {
    const { emu, session } = await emulatorSession(H745);
    const r = await executePlan(session, createFlashPlan(img(0x08000000, 4096), H745, { transferSize: 1024, leave: true }));
    assert.equal(r.leave?.address, 0x08000000);
    assert.ok(['manifest', 'disconnected'].includes(r.leave!.outcome));
    assert.equal(emu.lastLeave?.address, 0x08000000);
    assert.equal(emu.lastLeave?.vectorValid, true);
    const q = await emulatorSession(H745, { quirks: ['leave-without-status'] });
    const r2 = await executePlan(q.session, createFlashPlan(img(0x08000000, 4096), H745, { transferSize: 1024, leave: true }));
    assert.equal(r2.leave?.outcome, 'disconnected');
  });

  test('read spans sectors and banks; erase by sector keeps the neighbours', async () => {
    const { emu, session } = await emulatorSession(H745);
    const data = noise(0x3000, 5);
    emu.writeMemory(0x080ff000, data.subarray(0, 0x3000));
    const r = await readMemory(session, 0x080ff000, 0x3000);
    assert.deepEqual(r.bytes, data);
    await eraseMemory(session, { sectors: [{ index: 8, bank: 2, sector: 0, start: 0x08100000, end: 0x08120000, size: 0x20000 }] });
    assert.deepEqual(emu.readMemory(0x080ff000, 0x1000), data.subarray(0, 0x1000), 'bank 1 kept');
    assert.ok(emu.readMemory(0x08100000, 0x2000).every((b) => b === 0xff), 'bank 2 sector 0 erased');
  });
});

describe('transfer size and reconnect', () => {
  test('a transfer size below the descriptor\'s (dfu-util -t): one SET_ADDRESS per block, data lands right', async () => {
    const emu = createRomEmulator({ chip: H745 });
    const session = await connect(emu.device, H745, { clock: emulatorClock(emu), transferSize: 512 });
    assert.equal(session.dfuse.addressPerBlock, true);
    const image = img(0x08000000, 5000);
    await assert.rejects(executePlan(session, createFlashPlan(image, H745, { transferSize: 512 })), (e: unknown) => (e as { code?: string }).code === 'PLAN_TRANSFER_SIZE');
    const plan = createFlashPlan(image, H745, { transferSize: 512, addressEveryBlock: true });
    assert.equal(plan.runs.length, plan.counts.blocks);
    const r = await executePlan(session, plan);
    assert.equal(r.bytesVerified, plan.counts.bytes);
    assert.deepEqual(emu.readMemory(0x08000000, 5000), image.read(0x08000000, 5000));
    assert.deepEqual((await readMemory(session, 0x08000000, 5000)).bytes, image.read(0x08000000, 5000));
  });

  test('connect to a ROM still wedged in dfuDNBUSY (Q1) clears it with CLRSTATUS', async () => {
    const emu = createRomEmulator({ chip: H745, quirks: ['h7-revV-bank2-erase-hang'] });
    const t = emu.device;
    // Leave the ROM wedged: an erase in bank 2 sent by hand, the first GETSTATUS starts it.
    const s0 = await connect(t, H745, { clock: emulatorClock(emu) });
    await s0.dfu.dnload(0, Uint8Array.of(0x41, 0x00, 0x00, 0x10, 0x08), { operation: 'erase' });
    await s0.dfu.getStatus({ operation: 'erase' });
    assert.equal(emu.state, 'dfuDNBUSY');
    const s = await connect(t, H745, { clock: emulatorClock(emu) });
    assert.equal(emu.state, 'dfuIDLE');
    assert.ok(s.dfu.counts.CLRSTATUS! >= 1);
  });
});
