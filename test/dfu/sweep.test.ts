/**
 * Interruption sweep, every cut point, no sampling: an A/B update with dfukit-ab-v1 headers on an STM32H745
 * (slot A in bank 1 holds v1; the update writes v2 into slot B in bank 2, header last). The reference run
 * counts its requests N (connect included). For every k in 1..N a fresh device is cut off at request k (the
 * emulator's disconnect fault: the request is never served). Then, on the flash as the cut left it:
 *  - `selectSlot` never picks a slot whose checks fail (the pick is a valid slot, and one always exists: A);
 *  - it picks B exactly when the header block's write had completed before the cut;
 * and after a reconnect, `--resume` (executePlan with resume) completes, verifies, and B boots.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect, executePlan } from '../../src/dfu/operations.ts';
import { createRomEmulator, type RomEmulator } from '../../src/emulator/index.ts';
import { injectHeader } from '../../src/header/inject.ts';
import { headerRanges } from '../../src/header/ranges.ts';
import { selectSlot } from '../../src/header/select.ts';
import type { Slot } from '../../src/header/slots.ts';
import { MemoryImage } from '../../src/image/memory-image.ts';
import { resolveChip } from '../../src/layout/chips.ts';
import { createFlashPlan } from '../../src/plan/plan.ts';
import { emulatorClock, firmware, noise } from './helpers.ts';

const chip = resolveChip('stm32h745');
const A: Slot = { name: 'A', start: 0x08020000, size: 0x20000 };
const B: Slot = { name: 'B', start: 0x08100000, size: 0x20000 };
const LAYOUT = 'dfukit-ab-v1';

function slotImage(slot: Slot, version: string, size: number, seed: number): MemoryImage {
  const payload = new MemoryImage();
  payload.add(slot.start + 0x400, firmware(slot.start + 0x400, size, seed), `v${version}`);
  return injectHeader(payload, { layout: LAYOUT, slot, options: { version }, programUnit: chip.programUnit }).image;
}

const v1 = slotImage(A, '1.0.0', 9000, 1);
const v2 = slotImage(B, '2.0.0', 20_000, 2);
const ranges = headerRanges(v2, LAYOUT, [A, B], { programUnit: chip.programUnit });
const plan = createFlashPlan(v2, chip, { headerRanges: ranges });
const headerAddr = ranges[0]!.start;
const userData = { addr: 0x08060000, bytes: noise(2048, 77) };

function device(faultAt?: number): RomEmulator {
  const emu = createRomEmulator({ chip, ...(faultAt !== undefined ? { faults: [{ kind: 'disconnect', atRequest: faultAt }] } : {}) });
  for (const s of v1.segments) emu.writeMemory(s.addr, s.data);
  emu.writeMemory(userData.addr, userData.bytes);
  return emu;
}

function bootedSlot(emu: RomEmulator): { boot?: string; validPick: boolean } {
  const flash = new MemoryImage();
  for (const s of [A, B]) flash.add(s.start, emu.readMemory(s.start, s.size));
  const r = selectSlot(flash, { layout: LAYOUT, slots: [A, B] });
  const pick = r.slots.find((v) => v.slot.name === r.boot);
  return { ...(r.boot !== undefined ? { boot: r.boot } : {}), validPick: pick?.valid === true && pick.verify.ok };
}

test('A/B update cut at every request: the bootloader never boots a broken slot; --resume completes', async () => {
  assert.deepEqual(plan.runs.map((r) => r.phase), ['body', 'header'], 'the header goes last');
  const ref = device();
  const session = await connect(ref.device, chip, { clock: emulatorClock(ref) });
  await executePlan(session, plan);
  const N = ref.counters.requests;
  assert.equal(bootedSlot(ref).boot, 'B');
  assert.ok(N > 30 && N < 200, `small sweep: N = ${N}`);

  let beforeHeader = 0;
  let afterHeader = 0;
  for (let k = 1; k <= N; k++) {
    const emu = device(k);
    await assert.rejects(
      (async () => executePlan(await connect(emu.device, chip, { clock: emulatorClock(emu) }), plan))(),
      (e: unknown) => (e as { code?: string }).code === 'DFU_DISCONNECTED',
      `cut at request ${k}`,
    );
    const headerDone = emu.log.some((e) => e.op?.kind === 'write' && e.op.address === headerAddr && e.op.status === 'OK');
    const sel = bootedSlot(emu);
    assert.ok(sel.boot !== undefined && sel.validPick, `cut at ${k}: the bootloader boots a valid slot (got ${sel.boot})`);
    assert.equal(sel.boot, headerDone ? 'B' : 'A', `cut at ${k}: B only once its header write completed`);
    if (headerDone) afterHeader++;
    else beforeHeader++;

    // Reconnect (a new process would do the same) and resume.
    const again = await connect(emu.reconnect(), chip, { clock: emulatorClock(emu) });
    const r = await executePlan(again, plan, { resume: true });
    assert.equal(r.bytesVerified, plan.counts.bytes, `cut at ${k}: resume verifies`);
    assert.deepEqual(emu.readMemory(B.start, 0x400 + 20_000), plan.image.read(B.start, 0x400 + 20_000));
    assert.equal(bootedSlot(emu).boot, 'B', `cut at ${k}: after resume B boots`);
    assert.deepEqual(emu.readMemory(userData.addr, userData.bytes.length), userData.bytes, 'user data survives');
  }
  assert.equal(beforeHeader + afterHeader, N);
  assert.ok(beforeHeader > 0 && afterHeader > 0);
});
