/**
 * Read-back verification through the emulator: the `program-drop` fault (writes into one sector acknowledged,
 * nothing stored), a flash's own verify turning that into a VerifyMismatchError carrying the diff that names the
 * sector `not-written`, `verifyDevice` reading exactly the plan's ranges and reporting the same, `--resume`
 * repairing it, the fast path (no diff when equal), tail-lost for a partial flash word another tool dropped,
 * pads that do not read erased, and device errors.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DfuError } from '../../src/dfu/errors.ts';
import { connect, executePlan, VerifyMismatchError } from '../../src/dfu/operations.ts';
import { verifyDevice } from '../../src/dfu/verify-device.ts';
import { createRomEmulator, type RomEmulator } from '../../src/emulator/index.ts';
import { MemoryImage } from '../../src/image/memory-image.ts';
import { resolveChip } from '../../src/layout/chips.ts';
import { createFlashPlan } from '../../src/plan/plan.ts';
import { DiffReportSchema } from '../../src/verify/report-schema.ts';
import { emulatorClock, emulatorSession, firmware } from './helpers.ts';

const H743 = resolveChip('stm32h743');
/** 3 sectors' worth at 0x08000000: sectors 0 and 1 whole, sector 2 in part. */
const SIZE = 0x40000 + 0x9000;
const DROPPED = { start: 0x08020000, end: 0x08040000 };

function app(addr = 0x08000000, size = SIZE): MemoryImage {
  const m = new MemoryImage();
  m.add(addr, firmware(addr, size, 11), 'app');
  return m;
}

async function session(emu: RomEmulator) {
  return connect(emu.device, H743, { clock: emulatorClock(emu) });
}

describe('the program-drop fault', () => {
  test('a write into the sector is acknowledged with OK and the usual program time, and nothing is stored', async () => {
    const { emu, session: s } = await emulatorSession(H743, { faults: [{ kind: 'program-drop', address: DROPPED.start + 0x100 }] });
    const image = app();
    const r = await executePlan(s, createFlashPlan(image, H743, { verify: false }));
    assert.equal(r.blocksWritten, SIZE / 1024);
    const writes = emu.log.filter((e) => e.op?.kind === 'write');
    const dropped = writes.filter((e) => e.op!.address! >= DROPPED.start && e.op!.address! < DROPPED.end);
    assert.equal(dropped.length, 128);
    for (const e of dropped) {
      assert.equal(e.op!.status, 'OK');
      assert.equal(e.op!.durationMs, writes[0]!.op!.durationMs, 'same program time as any block');
      assert.match(e.op!.note ?? '', /^injected program drop: acknowledged, nothing stored/);
    }
    assert.ok(emu.readMemory(DROPPED.start, DROPPED.end - DROPPED.start).every((b) => b === 0xff), 'the sector stays erased');
    assert.deepEqual(emu.readMemory(0x08000000, 0x20000), image.read(0x08000000, 0x20000), 'the sector before is written');
    assert.deepEqual(emu.readMemory(DROPPED.end, SIZE - 0x40000), image.read(DROPPED.end, SIZE - 0x40000), 'the sector after is written');
  });
});

describe('flash verify uses the diff', () => {
  test('equal: the byte compare passes, no report is made', async () => {
    const { session: s } = await emulatorSession(H743);
    const r = await executePlan(s, createFlashPlan(app(), H743));
    assert.equal(r.bytesVerified, SIZE);
  });

  test('a dropped sector: DFU_VERIFY_MISMATCH (exit 1) carrying the diff that names the sector not written', async () => {
    const { session: s } = await emulatorSession(H743, { faults: [{ kind: 'program-drop', address: DROPPED.start }] });
    const err = await executePlan(s, createFlashPlan(app(), H743)).then(
      () => assert.fail('verify passed'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof VerifyMismatchError, String(err));
    assert.ok(err instanceof DfuError);
    assert.equal(err.code, 'DFU_VERIFY_MISMATCH');
    assert.equal(err.exitStatus, 1);
    // The byte compare's message is as before (its ranges are exact bytes; the diff merges them across equal bytes).
    assert.match(err.message, /^verify: \d+ byte\(s\) read back differ from the image in \d+ range\(s\) \(0x08020000\.\.0x[0-9A-F]{8}, .*; first at 0x08020000: expected 0x[0-9A-F]{2}, read 0xFF$/);
    const report = DiffReportSchema.parse(err.report);
    assert.equal(report.equal, false);
    assert.deepEqual(
      report.ranges.map((r) => [r.start, r.end, r.class]),
      [[DROPPED.start, DROPPED.end, 'not-written']],
    );
    const ev = report.ranges[0]!.evidence;
    assert.ok(ev.class === 'not-written');
    assert.deepEqual(ev.erasedSectors, [{ name: 'bank 1 sector 1', start: DROPPED.start, end: DROPPED.end }]);
    assert.deepEqual(report.ranges[0]!.sectors, ['bank 1 sector 1']);
    assert.equal(report.settings.programUnit, 32);
    assert.equal(report.actual.name, 'device read-back');
  });
});

describe('verifyDevice', () => {
  test('after a --no-verify flash that lost a sector: reads exactly the plan\'s ranges and names the sector not written; --resume repairs it', async () => {
    const emu = createRomEmulator({ chip: H743, faults: [{ kind: 'program-drop', address: DROPPED.start + 0x8000 }] });
    // An unaligned end: the plan pads the last flash word; verify reads it and compares the image's bytes.
    const image = app(0x08000000, SIZE - 5);
    await executePlan(await session(emu), createFlashPlan(image, H743, { verify: false }));

    const events: string[] = [];
    const v = await verifyDevice(await session(emu), image, { onEvent: (e) => events.push(e.type === 'phase' || e.type === 'phase-end' ? `${e.type} ${e.phase}` : e.type) });
    assert.deepEqual(v.ranges, [{ start: 0x08000000, end: 0x08000000 + SIZE }], 'the image range aligned to the 32-byte flash word');
    assert.equal(v.bytesRead, SIZE);
    assert.deepEqual(events.filter((e) => e.startsWith('phase')), ['phase verify', 'phase-end verify']);
    assert.ok(v.requestCount > SIZE / 1024, 'one UPLOAD per block at least');
    const report = DiffReportSchema.parse(v.report);
    assert.equal(report.equal, false);
    assert.deepEqual(report.compared, { ranges: [{ start: 0x08000000, end: 0x08000000 + SIZE - 5 }], bytes: SIZE - 5 });
    assert.deepEqual(
      report.ranges.map((r) => [r.start, r.end, r.class, r.summary]),
      [[DROPPED.start, DROPPED.end, 'not-written', 'all 130569 (0x1FE09) differing bytes read 0xFF (erased); bank 1 sector 1 0x08020000..0x08040000 reads entirely erased']],
    );
    assert.deepEqual(
      report.notes.map((n) => n.code),
      ['VERIFY_READ_BACK', 'VERIFY_PADS_ERASED'],
    );

    // What a second process does: the flash as the first left it, no fault, `flash --resume`, then verify again.
    const fresh = createRomEmulator({ chip: H743, flash: emu.readFlash() });
    const r = await executePlan(await session(fresh), createFlashPlan(image, H743), { resume: true });
    assert.deepEqual(r.resume!.map((x) => x.state), ['match', 'program', 'match']);
    const again = await verifyDevice(await session(fresh), image);
    assert.equal(again.report.equal, true);
    assert.deepEqual(again.report.ranges, []);
  });

  test('a partial flash word another tool dropped is tail-lost (the image is compared without the planner\'s pads)', async () => {
    const emu = createRomEmulator({ chip: H743 });
    const image = app(0x08000000, 1000);
    // A writer that sends the 1000 bytes as they are: the H7 ROM programs whole 32-byte words only (1000 = 31 × 32 + 8).
    await executePlan(await session(emu), createFlashPlan(image, H743, { verify: false }));
    emu.writeMemory(0x08000000 + 992, new Uint8Array(8).fill(0xff));
    const { report } = await verifyDevice(await session(emu), image, { expected: { name: 'app.bin' }, actual: { name: 'emulator:stm32h743' } });
    assert.deepEqual(
      report.ranges.map((r) => [r.start, r.end, r.class]),
      [[0x08000000 + 992, 0x08000000 + 1000, 'tail-lost']],
    );
    assert.equal(report.expected.name, 'app.bin');
    assert.equal(report.actual.name, 'emulator:stm32h743');
  });

  test('pad bytes that do not read erased are compared (through the padded image), with a warning', async () => {
    const emu = createRomEmulator({ chip: H743 });
    const image = app(0x08000000, 1000);
    await executePlan(await session(emu), createFlashPlan(image, H743));
    emu.writeMemory(0x08000000 + 1020, Uint8Array.of(0x00));
    const { report } = await verifyDevice(await session(emu), image);
    assert.equal(report.equal, false);
    assert.ok(report.notes.some((n) => n.code === 'VERIFY_PADS_DIFFER' && n.severity === 'warning'));
    assert.deepEqual(report.compared.ranges, [{ start: 0x08000000, end: 0x08000000 + 1024 }]);
    assert.deepEqual(
      report.ranges.map((r) => [r.start, r.end]),
      [[0x08000000 + 1020, 0x08000000 + 1021]],
    );
  });

  test('the device vanishing during the read-back is a device error (exit 4)', async () => {
    const ok = createRomEmulator({ chip: H743 });
    await executePlan(await session(ok), createFlashPlan(app(), H743, { verify: false }));
    const emu = createRomEmulator({ chip: H743, flash: ok.readFlash(), faults: [{ kind: 'disconnect', atRequest: 40 }] });
    await assert.rejects(verifyDevice(await session(emu), app()), (e: unknown) => {
      assert.ok(e instanceof DfuError);
      assert.equal(e.code, 'DFU_DISCONNECTED');
      assert.equal(e.exitStatus, 4);
      assert.equal(e.dfu.operation, 'verify');
      return true;
    });
  });

  test('data outside the internal flash is refused before any request (exit 3)', async () => {
    const emu = createRomEmulator({ chip: H743 });
    const s = await session(emu);
    const before = emu.counters.requests;
    const ram = new MemoryImage();
    ram.add(0x24000000, new Uint8Array(64));
    await assert.rejects(verifyDevice(s, ram), (e: unknown) => (e as { code?: string; exitStatus?: number }).code === 'PLAN_OUTSIDE_FLASH' && (e as { exitStatus: number }).exitStatus === 3);
    assert.equal(emu.counters.requests, before);
  });
});
