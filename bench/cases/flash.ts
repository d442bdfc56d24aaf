/**
 * Flashing 2 MiB (the whole flash) into the in-process ROM emulator, with `executePlan` as `dfukit flash` runs
 * it (erase the touched sectors, write, verify by read-back), on an STM32H743 (1024-byte blocks, 32-byte flash
 * words, 128 KiB sectors) and an STM32F767 (2048-byte blocks, byte-wise ROM programming, 32/128/256 KiB sectors):
 *
 * - requests per block in the write phase (target ≤ 3: DNLOAD, GETSTATUS busy, GETSTATUS idle; the run's
 *   SET_ADDRESS is counted apart);
 * - device time of erase + write on the emulator's virtual clock against the datasheet floor (target ≤ 1.05 ×):
 *     floor = Σ typical erase time of the touched sectors + program units written × typical program time
 *             + 3 ms per block sent (one USB frame per request),
 *   computed here from the profile's `timing` as defined, and checked against the planner's own estimate;
 * - where device time and floor differ, a note row says why, from the emulator's log: its model time (the
 *   operations' durations + one `transferMs` per request) and what the host adds on top of it;
 * - wall time of the whole flash (verify included), median of N.
 *
 * The table has no note column (bench/run.ts prints five), so each profile's explanation is its own row.
 */
import { connect, executePlan, type FlashResult } from '../../src/dfu/operations.ts';
import { createRomEmulator, type RomEmulator } from '../../src/emulator/index.ts';
import { MemoryImage } from '../../src/image/memory-image.ts';
import type { ChipProfile } from '../../src/layout/chip-types.ts';
import { resolveChip } from '../../src/layout/chips.ts';
import { sectorsTouched } from '../../src/layout/sectors.ts';
import { createFlashPlan } from '../../src/plan/plan.ts';
import type { FlashPlan } from '../../src/plan/types.ts';
import { fmtMs, median, type BenchCase, type BenchContext, type BenchRow } from '../lib.ts';

const SIZE = 2 * 1024 * 1024;
const BASE = 0x08000000;
const REQUESTS_PER_BLOCK_TARGET = 3;
const FLOOR_RATIO_TARGET = 1.05;
const USB_MS_PER_BLOCK = 3;

/** Firmware-like bytes: xorshift32, never 0xFF (so no block is skipped as erased), a vector table at the start. */
function firmware(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = (x & 0xff) === 0xff ? 0xfe : x & 0xff;
  }
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 0x20020000, true);
  dv.setUint32(4, BASE + 0x101, true);
  return out;
}

function sec(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : fmtMs(ms);
}

/** Typical erase time of one sector, as the datasheet table gives it (the bank mode's row first). */
function eraseTyp(profile: ChipProfile, size: number): number {
  const rows = profile.timing.sectorEraseMs;
  const row = rows.find((x) => x.size === size && (x.bankMode === undefined || x.bankMode === profile.bankMode)) ?? rows.find((x) => x.size === size);
  if (row === undefined) throw new Error(`${profile.profile}: no erase time for ${size}-byte sectors`);
  return row.typ;
}

interface Floor {
  eraseMs: number;
  programMs: number;
  usbMs: number;
  totalMs: number;
  sectors: number;
  units: number;
  blocks: number;
}

/** The floor exactly as defined, from the image and the profile's datasheet timing (not from the plan). */
function datasheetFloor(profile: ChipProfile, image: MemoryImage, transferSize: number): Floor {
  const ranges = image.ranges();
  const sectors = sectorsTouched(profile, ranges);
  const eraseMs = sectors.reduce((n, s) => n + eraseTyp(profile, s.size), 0);
  let units = 0;
  let blocks = 0;
  for (const r of ranges) {
    for (let a = r.start; a < r.end; a += transferSize) {
      blocks++;
      units += Math.ceil(Math.min(transferSize, r.end - a) / profile.programUnit);
    }
  }
  const programMs = (units * profile.timing.programUs.typ) / 1000;
  const usbMs = USB_MS_PER_BLOCK * blocks;
  return { eraseMs, programMs, usbMs, totalMs: eraseMs + programMs + usbMs, sectors: sectors.length, units, blocks };
}

interface Run {
  result: FlashResult;
  emu: RomEmulator;
  wallMs: number;
}

async function flashOnce(profile: ChipProfile, image: MemoryImage): Promise<Run> {
  const t0 = performance.now();
  const emu = createRomEmulator({ chip: profile });
  const s = await connect(emu.device, profile, { clock: { now: () => emu.clock.nowMs, sleep: (ms) => emu.sleep(ms) } });
  const plan: FlashPlan = createFlashPlan(image, profile, { transferSize: s.dfuse.transferSize });
  const result = await executePlan(s, plan);
  const wallMs = performance.now() - t0;
  if (result.bytesVerified !== image.size) throw new Error(`${profile.profile}: verified ${result.bytesVerified} of ${image.size} bytes`);
  return { result, emu, wallMs };
}

/** Virtual time the emulator's model needs for the erase and write phases: operation durations + one transfer per request. */
function modelTime(run: Run): { opsMs: number; transfersMs: number; programRoundingMs: number; writes: number } {
  const first = run.emu.log.findIndex((e) => e.op?.kind === 'erase' || e.op?.kind === 'mass-erase');
  let last = run.emu.log.length - 1;
  while (last >= 0 && run.emu.log[last]!.op?.kind !== 'write') last--;
  let opsMs = 0;
  let writes = 0;
  let exactProgramMs = 0;
  const p = run.emu.chip;
  for (const e of run.emu.log.slice(first, last + 1)) {
    if (e.op === undefined) continue;
    opsMs += e.op.durationMs;
    if (e.op.kind === 'write') {
      writes++;
      exactProgramMs += (Math.ceil((e.op.length ?? 0) / p.programUnit) * p.timing.programUs.typ) / 1000;
    }
  }
  const requests = run.result.phases.filter((x) => x.phase === 'erase' || x.phase === 'write').reduce((n, x) => n + x.requests, 0);
  const programMs = run.emu.log.slice(first, last + 1).reduce((n, e) => n + (e.op?.kind === 'write' ? e.op.durationMs : 0), 0);
  // transferMs is 1 (the emulator's default): one ms per request.
  return { opsMs, transfersMs: requests, programRoundingMs: programMs - exactProgramMs, writes };
}

async function measure(ctx: BenchContext, part: string): Promise<BenchRow[]> {
  const profile = resolveChip(part);
  const image = new MemoryImage();
  image.add(BASE, firmware(Math.min(SIZE, profile.flashSize), 0xf1a5));
  const runs = Math.max(3, Math.ceil(ctx.runs / 2));
  ctx.log(`flash: ${profile.displayName}, ${image.size} bytes, ${runs} runs after a warm-up`);
  const first = await flashOnce(profile, image);
  const walls: number[] = [];
  for (let i = 0; i < runs; i++) walls.push((await flashOnce(profile, image)).wallMs);

  const r = first.result;
  const x = r.executed;
  const floor = datasheetFloor(profile, image, x.transferSize);
  if (Math.abs(floor.totalMs - x.estimate.floorMs) > 1e-6) {
    throw new Error(`${part}: the planner's floor ${x.estimate.floorMs} ms is not the datasheet floor ${floor.totalMs} ms`);
  }
  const phase = (name: string): { deviceMs: number; requests: number } => r.phases.find((p) => p.phase === name) ?? { deviceMs: 0, requests: 0 };
  const write = phase('write');
  const erase = phase('erase');
  const runsSent = x.runs.filter((run) => run.blocks.some((b) => b.skip === undefined)).length;
  const perBlock = (write.requests - 3 * runsSent) / r.blocksWritten;
  const deviceMs = erase.deviceMs + write.deviceMs;
  const ratio = deviceMs / floor.totalMs;
  const model = modelTime(first);
  const modelMs = model.opsMs + model.transfersMs;
  const host = deviceMs - modelMs;
  const label = `flash ${(image.size / 1024 / 1024).toFixed(0)} MiB into the emulator, ${profile.displayName}`;

  const rows: BenchRow[] = [
    {
      what: `${label}: write requests per block (${r.blocksWritten} blocks of ${x.transferSize} bytes, ${runsSent} run(s))`,
      ours: `${perBlock.toFixed(2)} per block + 3 per run (SET_ADDRESS); ${write.requests} in all`,
      peer: '-',
      ratio: '-',
      target: `≤ ${REQUESTS_PER_BLOCK_TARGET}: ${perBlock <= REQUESTS_PER_BLOCK_TARGET ? 'met' : 'NOT met'}`,
    },
    {
      what: `${label}: device time of erase + write (virtual clock) vs the datasheet floor (peer column)`,
      ours: `${sec(deviceMs)} (erase ${sec(erase.deviceMs)}, write ${sec(write.deviceMs)}); verify ${sec(phase('verify').deviceMs)} more`,
      peer: `floor ${sec(floor.totalMs)} = ${floor.sectors} sectors erase ${sec(floor.eraseMs)} + ${floor.units} units × ${profile.timing.programUs.typ} µs ${sec(floor.programMs)} + ${floor.blocks} blocks × 3 ms ${sec(floor.usbMs)}`,
      ratio: `${ratio.toFixed(3)}x`,
      target: `≤ ${FLOOR_RATIO_TARGET} × floor: ${ratio <= FLOOR_RATIO_TARGET ? 'met' : 'NOT met'}`,
    },
  ];
  if (Math.abs(deviceMs - floor.totalMs) >= 0.5) {
    const parts: string[] = [];
    const perBlockUs = (x.transferSize / profile.programUnit) * profile.timing.programUs.typ;
    if (Math.abs(model.programRoundingMs) >= 0.5) {
      parts.push(
        `a block's program time counts in whole ms (bwPollTimeout is in ms, the GETSTATUS after it goes in a later 1 ms frame): ${x.transferSize / profile.programUnit} units × ${profile.timing.programUs.typ} µs = ${(perBlockUs / 1000).toFixed(3)} ms → ${Math.ceil(perBlockUs / 1000)} ms, +${sec(model.programRoundingMs)} over ${model.writes} blocks`,
      );
    }
    const usbExtra = model.transfersMs - floor.usbMs;
    if (Math.abs(usbExtra) >= 0.5) parts.push(`${model.transfersMs - floor.blocks * 3} requests beyond 3 per block (erase commands and their polls, SET_ADDRESS) at 1 ms each: +${sec(usbExtra)}`);
    if (Math.abs(host) >= 0.5) parts.push(`host waits beyond the reported bwPollTimeouts: +${sec(host)} (at least 1 ms after a 0 ms bwPollTimeout, e.g. the run's SET_ADDRESS)`);
    const rounded = floor.totalMs + model.programRoundingMs;
    rows.push({
      what: `${label}: note on device time vs floor`,
      ours: `${parts.join('; ')}. Against the floor with whole-ms block program times (${sec(rounded)}) the ratio is ${(deviceMs / rounded).toFixed(3)}x; against the emulator's model (${sec(modelMs)}: operation durations + 1 ms per request) ${(deviceMs / modelMs).toFixed(3)}x`,
      peer: '-',
      ratio: '-',
      target: '-',
    });
  }
  const wall = median(walls);
  rows.push({
    what: `${label}: wall time of the whole flash (erase, write, verify; ${r.requestCount} requests), in-process, median of ${runs}`,
    ours: `${fmtMs(wall)} (${((image.size / 1024 / 1024) / (wall / 1000)).toFixed(1)} MiB/s)`,
    peer: '-',
    ratio: '-',
    target: '-',
  });
  return rows;
}

export const benchCase: BenchCase = {
  name: 'flash',
  order: 50,
  async run(ctx) {
    ctx.log('flash: 2 MiB into the in-process emulator (H743 and F767)');
    return [...(await measure(ctx, 'stm32h743')), ...(await measure(ctx, 'stm32f767'))];
  },
};
