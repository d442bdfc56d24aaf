/**
 * The interruption sweep's scenario, shared by test/dfu/sweep.test.ts (selectSlot and --resume at every cut) and
 * test-peers/header-sweep-consumer.test.ts (the C reference consumer on the flash dump of every cut): an A/B
 * update with dfukit-ab-v1 headers on an STM32H745, slot A in bank 1 holding v1, the update writing v2 into
 * slot B in bank 2, header last; user data in another sector that must survive.
 */
import { connect, executePlan } from '../../src/dfu/operations.ts';
import { createRomEmulator, type RomEmulator } from '../../src/emulator/index.ts';
import { injectHeader } from '../../src/header/inject.ts';
import { headerRanges } from '../../src/header/ranges.ts';
import { selectSlot, type SelectResult } from '../../src/header/select.ts';
import type { Slot } from '../../src/header/slots.ts';
import { MemoryImage } from '../../src/image/memory-image.ts';
import { resolveChip } from '../../src/layout/chips.ts';
import { createFlashPlan } from '../../src/plan/plan.ts';
import { emulatorClock, firmware, noise } from './helpers.ts';

export const chip = resolveChip('stm32h745');
export const A: Slot = { name: 'A', start: 0x08020000, size: 0x20000 };
export const B: Slot = { name: 'B', start: 0x08100000, size: 0x20000 };
export const LAYOUT = 'dfukit-ab-v1';

function slotImage(slot: Slot, version: string, size: number, seed: number): MemoryImage {
  const payload = new MemoryImage();
  payload.add(slot.start + 0x400, firmware(slot.start + 0x400, size, seed), `v${version}`);
  return injectHeader(payload, { layout: LAYOUT, slot, options: { version }, programUnit: chip.programUnit }).image;
}

export const v1 = slotImage(A, '1.0.0', 9000, 1);
export const v2 = slotImage(B, '2.0.0', 20_000, 2);
export const ranges = headerRanges(v2, LAYOUT, [A, B], { programUnit: chip.programUnit });
export const plan = createFlashPlan(v2, chip, { headerRanges: ranges });
export const headerAddr = ranges[0]!.start;
export const userData = { addr: 0x08060000, bytes: noise(2048, 77) };

/** A device holding v1 in A and the user data; cut off at request `faultAt` (the request is never served). */
export function device(faultAt?: number): RomEmulator {
  const emu = createRomEmulator({ chip, ...(faultAt !== undefined ? { faults: [{ kind: 'disconnect', atRequest: faultAt }] } : {}) });
  for (const s of v1.segments) emu.writeMemory(s.addr, s.data);
  emu.writeMemory(userData.addr, userData.bytes);
  return emu;
}

/** `selectSlot` on the slots as the device holds them. */
export function selectOn(emu: RomEmulator): SelectResult {
  const flash = new MemoryImage();
  for (const s of [A, B]) flash.add(s.start, emu.readMemory(s.start, s.size));
  return selectSlot(flash, { layout: LAYOUT, slots: [A, B] });
}

export function bootedSlot(emu: RomEmulator): { boot?: string; validPick: boolean } {
  const r = selectOn(emu);
  const pick = r.slots.find((v) => v.slot.name === r.boot);
  return { ...(r.boot !== undefined ? { boot: r.boot } : {}), validPick: pick?.valid === true && pick.verify.ok };
}

/** The fault-free run: N, the number of requests the whole job takes (connect included), and its device. */
export async function referenceRun(): Promise<{ requests: number; emu: RomEmulator }> {
  const emu = device();
  await executePlan(await connect(emu.device, chip, { clock: emulatorClock(emu) }), plan);
  return { requests: emu.counters.requests, emu };
}

export interface Cut {
  /** The request the device vanished at. */
  readonly k: number;
  /** The device as the cut left it (disconnected: `reconnect()` to go on). */
  readonly emu: RomEmulator;
  /** The error the flash ended with. */
  readonly error: unknown;
  /** The header block's write had completed before the cut. */
  readonly headerDone: boolean;
}

/** A fresh device cut off at request `k` while the plan runs. */
export async function cutAt(k: number): Promise<Cut> {
  const emu = device(k);
  let error: unknown;
  try {
    await executePlan(await connect(emu.device, chip, { clock: emulatorClock(emu) }), plan);
  } catch (e) {
    error = e;
  }
  const headerDone = emu.log.some((e) => e.op?.kind === 'write' && e.op.address === headerAddr && e.op.status === 'OK');
  return { k, emu, error, headerDone };
}
