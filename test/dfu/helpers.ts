/** Shared pieces of the device tests: deterministic images, an emulator session, per-phase counters. */
import { connect, type DfuSession, type FlashEvent, type FlashPhase } from '../../src/dfu/operations.ts';
import { createRomEmulator, type LogEntry, type RomEmulator, type RomEmulatorOptions } from '../../src/emulator/index.ts';
import { MemoryImage } from '../../src/image/memory-image.ts';
import type { ChipProfile } from '../../src/layout/chip-types.ts';

/** Deterministic bytes (xorshift32). */
export function noise(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** A firmware-like payload linked at `addr`: SP 0x20020000, reset handler addr + 0x101 (Thumb). */
export function firmware(addr: number, size: number, seed = 3): Uint8Array {
  const b = noise(size, seed);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, 0x20020000, true);
  dv.setUint32(4, (addr + 0x101) >>> 0, true);
  return b;
}

export function emulatorClock(emu: RomEmulator): { now(): number; sleep(ms: number): Promise<void> } {
  return { now: () => emu.clock.nowMs, sleep: (ms) => emu.sleep(ms) };
}

export async function emulatorSession(chip: ChipProfile, opts: Omit<RomEmulatorOptions, 'chip'> = {}): Promise<{ emu: RomEmulator; session: DfuSession }> {
  const emu = createRomEmulator({ chip, ...opts });
  const session = await connect(emu.device, chip, { clock: emulatorClock(emu) });
  return { emu, session };
}

/** Records the emulator's log position at each phase start and end, to look at one phase's requests. */
export function phaseMarks(emu: RomEmulator): { onEvent(e: FlashEvent): void; span(p: FlashPhase): { from: number; to: number } } {
  const marks = new Map<FlashPhase, { from: number; to: number }>();
  return {
    onEvent(e) {
      if (e.type === 'phase') marks.set(e.phase, { from: emu.log.length, to: emu.log.length });
      if (e.type === 'phase-end') marks.get(e.phase)!.to = emu.log.length;
    },
    span(p) {
      const m = marks.get(p);
      if (m === undefined) throw new Error(`no ${p} phase`);
      return m;
    },
  };
}

/** Firmware at the flash start, a run straddling a mid-flash sector boundary with an all-0xFF stretch inside, an unaligned tail. */
export function imageFor(p: ChipProfile, xfer: number): MemoryImage {
  const img = new MemoryImage();
  const base = p.sectors[0]!.start;
  img.add(base, firmware(base, 3 * xfer + 101), 'app');
  // A single-sector part (H750: one 128 KiB sector) gets the second run in the middle of that sector.
  const at = p.sectors.length > 1 ? p.sectors[Math.floor(p.sectors.length / 2)]!.start : base + p.sectors[0]!.size / 2;
  const straddle = noise(500 + 2 * xfer + 700, 11);
  straddle.fill(0xff, 500, 500 + 2 * xfer);
  img.add(at - 500, straddle, 'data');
  return img;
}

/** Requests from each data-block DNLOAD to the next DNLOAD in `entries`. */
export function requestsPerBlock(entries: readonly LogEntry[]): number[] {
  const out: number[] = [];
  let current = -1;
  for (const e of entries) {
    if (e.request === 'DNLOAD') {
      if (current >= 0) out.push(current);
      current = e.command?.startsWith('WRITE') === true ? 1 : -1;
    } else if (current >= 0) current++;
  }
  if (current >= 0) out.push(current);
  return out;
}
