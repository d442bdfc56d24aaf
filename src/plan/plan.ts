/**
 * image × chip profile (× A/B header ranges) → FlashPlan, before any request:
 *  - erase only the sectors the image touches, so data elsewhere survives (`massErase` on request);
 *  - pad a partial program unit with the erased value (H7 drops a partial 32-byte flash word: image-formats.md
 *    §2, dfu-protocol.md §3 item 7);
 *  - one SET_ADDRESS per contiguous run, then blocks of wTransferSize with wBlockNum 2, 3, … (AN3156 §5.1);
 *  - skip blocks that are all erased value (they already are after the erase);
 *  - header ranges (A/B headers, `headerRanges` from header/) in runs of their own, written after every body
 *    run: an update cut off before the end leaves no valid header, so the bootloader keeps the old slot;
 *  - verify by read-back of every written range; leave to the image's vector table.
 */
import { EXIT_BAD_INPUT, EXIT_USAGE, FwError } from '../core/errors.ts';
import { formatRange, hex32 } from '../core/format.ts';
import { unionRanges, type Range } from '../core/range.ts';
import { MemoryImage } from '../image/memory-image.ts';
import { readVectorTable } from '../image/vector-table.ts';
import type { ChipProfile } from '../layout/chip-types.ts';
import { classifyAddress, rangesOutsideFlash, sectorsTouched } from '../layout/sectors.ts';
import type { FlashPlan, PlanBlock, PlanEstimate, PlanLeave, PlanRun, PlanSector } from './types.ts';

/** Bytes one SET_ADDRESS reaches with wBlockNum 2..0xFFFF (mirrors dfu/dfuse.ts, which plan/ may not import). */
function reachOfPointer(transferSize: number): number {
  return (0xffff - 2 + 1) * transferSize;
}

export interface HeaderRangeInput extends Range {
  readonly slot: string;
  readonly what: string;
}

export interface PlanOptions {
  /** wTransferSize to cut blocks by: the device's descriptor value. Default: the profile's. */
  readonly transferSize?: number;
  readonly transferSizeFrom?: 'descriptor' | 'profile' | 'option';
  /** One mass erase instead of the touched sectors (erases everything, user data included). */
  readonly massErase?: boolean;
  /** Read back and compare after writing. Default true. */
  readonly verify?: boolean;
  /** Leave DFU mode and start the firmware at the end. Default false (the device stays in DFU, as dfu-util). */
  readonly leave?: boolean;
  /** Jump here on leave instead of the image's vector table. */
  readonly leaveAddress?: number;
  /** Header ranges to write last (from `headerRanges(image, layout, slots, { programUnit })`). */
  readonly headerRanges?: readonly HeaderRangeInput[];
  /** Send blocks that are all erased value anyway. Default false. */
  readonly sendErasedBlocks?: boolean;
  /** One SET_ADDRESS per block: when transferSize differs from the device's descriptor wTransferSize (`-t`). */
  readonly addressEveryBlock?: boolean;
}

export function toPlanSector(s: { index: number; bank: number; sector: number; start: number; end: number; size: number }): PlanSector {
  return { index: s.index, bank: s.bank, sector: s.sector, start: s.start, end: s.end, size: s.size };
}

/** The flash alt of the profile (the one whose kind is `flash`). */
export function flashAlt(profile: ChipProfile): number {
  return profile.dfu.alts.find((a) => a.kind === 'flash')?.alt ?? 0;
}

/** `a` minus `b`, both sorted lists of disjoint ranges. */
export function subtractRanges(a: readonly Range[], b: readonly Range[]): Range[] {
  const out: Range[] = [];
  const cuts = unionRanges(b);
  for (const r of a) {
    let at = r.start;
    for (const c of cuts) {
      if (c.end <= at || c.start >= r.end) continue;
      if (c.start > at) out.push({ start: at, end: c.start });
      at = Math.max(at, c.end);
    }
    if (at < r.end) out.push({ start: at, end: r.end });
  }
  return out;
}

/** `a` ∩ `b`. */
export function intersectRanges(a: readonly Range[], b: readonly Range[]): Range[] {
  const out: Range[] = [];
  for (const x of unionRanges(a)) {
    for (const y of unionRanges(b)) {
      const start = Math.max(x.start, y.start);
      const end = Math.min(x.end, y.end);
      if (start < end) out.push({ start, end });
    }
  }
  return out.sort((p, q) => p.start - q.start);
}

/**
 * Runs and blocks for `ranges` of `image`: one run per range (split where one SET_ADDRESS cannot reach), blocks
 * of `transferSize` from the run start. `skip(addr, bytes)` marks blocks that need not be sent.
 */
export function blocksFor(
  image: MemoryImage,
  ranges: readonly Range[],
  transferSize: number,
  phase: 'body' | 'header',
  skip: (addr: number, bytes: Uint8Array) => boolean,
  what?: (r: Range) => string | undefined,
  addressEveryBlock = false,
): PlanRun[] {
  const runs: PlanRun[] = [];
  // Skipped blocks keep their wBlockNum: the ROM computes a block's address from it (AN3156 §3), so the block
  // after a skipped one needs no new SET_ADDRESS.
  const reach = addressEveryBlock ? transferSize : reachOfPointer(transferSize);
  for (const r of ranges) {
    for (let start = r.start; start < r.end; start += reach) {
      const end = Math.min(r.end, start + reach);
      const blocks: PlanBlock[] = [];
      for (let addr = start; addr < end; addr += transferSize) {
        const size = Math.min(transferSize, end - addr);
        const block = 2 + (addr - start) / transferSize;
        blocks.push(skip(addr, image.read(addr, size)) ? { addr, size, block, skip: 'erased' } : { addr, size, block });
      }
      const w = what?.(r);
      runs.push(w !== undefined ? { start, end, phase, what: w, blocks } : { start, end, phase, blocks });
    }
  }
  return runs;
}

/** Leave address: `--leave-address`, else a plausible vector table (boot core's image base first, then each run start). */
export function chooseLeave(image: MemoryImage, profile: ChipProfile, leaveAddress: number | undefined): { leave: PlanLeave; note?: string } {
  if (leaveAddress !== undefined) return { leave: { address: leaveAddress, from: 'option' } };
  const boot = profile.cores[0]!.imageBase;
  const candidates = [boot, ...image.ranges().map((r) => r.start)];
  for (const a of candidates) {
    if (readVectorTable(image, a)?.plausible === true) return { leave: { address: a, from: 'vector-table' } };
  }
  return {
    leave: { address: boot, from: 'boot-address' },
    note: `the image holds no vector table at ${hex32(boot)} or at the start of a run: leave jumps to ${hex32(boot)}, the ${profile.cores[0]!.name} boot address (what a reset runs: the bootloader already in flash)`,
  };
}

function eraseTimeMs(profile: ChipProfile, size: number): number {
  const e = profile.timing.sectorEraseMs.find((x) => x.size === size && (x.bankMode === undefined || x.bankMode === profile.bankMode)) ?? profile.timing.sectorEraseMs.find((x) => x.size === size);
  return e?.typ ?? 0;
}

export function estimate(profile: ChipProfile, plan: Pick<FlashPlan, 'erase' | 'runs' | 'verify' | 'transferSize' | 'programUnit' | 'leave'>): PlanEstimate {
  const eraseMs =
    plan.erase.mode === 'mass'
      ? (profile.timing.massEraseMs?.typ ?? profile.sectors.reduce((n, s) => n + eraseTimeMs(profile, s.size), 0))
      : plan.erase.sectors.reduce((n, s) => n + eraseTimeMs(profile, s.size), 0);
  let units = 0;
  let sent = 0;
  let runsSent = 0;
  for (const r of plan.runs) {
    const blocks = r.blocks.filter((b) => b.skip === undefined);
    if (blocks.length > 0) runsSent++;
    sent += blocks.length;
    for (const b of blocks) units += Math.ceil(b.size / plan.programUnit);
  }
  const programMs = (units * profile.timing.programUs.typ) / 1000;
  let requests = 1 + 3 * (plan.erase.mode === 'mass' ? 1 : plan.erase.sectors.length) + 3 * runsSent + 3 * sent;
  for (const v of plan.verify) requests += 3 + 2 + Math.ceil((v.end - v.start) / plan.transferSize);
  if (plan.leave !== undefined) requests += 5;
  return { eraseMs, programMs, floorMs: eraseMs + programMs + 3 * sent, requests };
}

/** Throws PLAN_OUTSIDE_FLASH naming what lives at each range outside the part's flash. */
function checkInFlash(image: MemoryImage, profile: ChipProfile): void {
  const outside = rangesOutsideFlash(profile, image.ranges());
  if (outside.length === 0) return;
  const list = outside
    .slice(0, 4)
    .map((r) => `${formatRange(r.start, r.end)} (${classifyAddress(profile, r.start).name})`)
    .join(', ');
  const flash = unionRanges(profile.banks).map((b) => formatRange(b.start, b.end)).join(' + ');
  throw new FwError(
    'PLAN_OUTSIDE_FLASH',
    `the image has data outside the internal flash of ${profile.displayName} (${flash}): ${list}${outside.length > 4 ? ` and ${outside.length - 4} more` : ''}; flash writes internal flash only (option bytes, OTP and RAM are not written)`,
    { address: outside[0]!.start },
    EXIT_BAD_INPUT,
  );
}

export function createFlashPlan(input: MemoryImage, profile: ChipProfile, opts: PlanOptions = {}): FlashPlan {
  if (input.isEmpty) throw new FwError('PLAN_EMPTY', 'the image holds no data: nothing to flash', {}, EXIT_BAD_INPUT);
  const transferSize = opts.transferSize ?? profile.dfu.wTransferSize;
  if (!Number.isInteger(transferSize) || transferSize < 1 || transferSize % profile.programUnit !== 0) {
    throw new FwError('PLAN_TRANSFER_SIZE', `wTransferSize ${transferSize} is not a multiple of the ${profile.programUnit}-byte program unit`, {}, EXIT_USAGE);
  }
  checkInFlash(input, profile);
  const erased = profile.erasedValue;
  const { image, pads } = input.align(profile.programUnit, erased);
  checkInFlash(image, profile);
  const ranges = image.ranges();
  const headerRanges = intersectRanges(opts.headerRanges ?? [], ranges).map((r) => {
    const h = (opts.headerRanges ?? []).find((x) => x.start <= r.start && r.end <= x.end)!;
    return { start: r.start, end: r.end, slot: h.slot, what: h.what };
  });
  const massErase = opts.massErase === true;
  const sectors = sectorsTouched(profile, ranges).map(toPlanSector);
  const erasedBlock = (_addr: number, bytes: Uint8Array): boolean => opts.sendErasedBlocks !== true && bytes.every((b) => b === erased);
  const perBlock = opts.addressEveryBlock === true;
  const body = blocksFor(image, subtractRanges(ranges, headerRanges), transferSize, 'body', erasedBlock, undefined, perBlock);
  const header = blocksFor(
    image,
    headerRanges,
    transferSize,
    'header',
    () => false,
    (r) => {
      const h = headerRanges.find((x) => x.start <= r.start && r.start < x.end)!;
      return `slot ${h.slot} ${h.what}`;
    },
    perBlock,
  );
  const runs = [...body, ...header];
  const notes: string[] = [];
  let leave: PlanLeave | undefined;
  if (opts.leave === true) {
    const l = chooseLeave(image, profile, opts.leaveAddress);
    leave = l.leave;
    if (l.note !== undefined) notes.push(l.note);
  }
  const erase = massErase
    ? { mode: 'mass' as const, sectors: profile.sectors.map(toPlanSector), bytes: profile.flashSize }
    : { mode: 'sectors' as const, sectors, bytes: sectors.reduce((n, s) => n + s.size, 0) };
  const verify = opts.verify === false ? [] : ranges;
  const blocks = runs.reduce((n, r) => n + r.blocks.length, 0);
  const skipped = runs.reduce((n, r) => n + r.blocks.filter((b) => b.skip !== undefined).length, 0);
  const base = {
    erase,
    runs,
    verify,
    transferSize,
    programUnit: profile.programUnit,
    ...(leave !== undefined ? { leave } : {}),
  };
  return {
    chip: { profile: profile.profile, part: profile.part, displayName: profile.displayName },
    alt: flashAlt(profile),
    transferSize,
    transferSizeFrom: opts.transferSizeFrom ?? (opts.transferSize !== undefined ? 'option' : 'profile'),
    addressEveryBlock: perBlock,
    programUnit: profile.programUnit,
    erasedValue: erased,
    image,
    ranges,
    pads,
    erase,
    runs,
    headerRanges,
    verify,
    ...(leave !== undefined ? { leave } : {}),
    counts: { bytes: image.size, blocks, blocksToSend: blocks - skipped, blocksSkipped: skipped, runs: runs.length },
    estimate: estimate(profile, base),
    notes,
  };
}

/** The plan as JSON-ready data (everything but the image bytes). */
export function planToJson(plan: FlashPlan): Record<string, unknown> {
  const { image: _image, ...rest } = plan;
  return {
    ...rest,
    runs: plan.runs.map((r) => ({
      start: r.start,
      end: r.end,
      phase: r.phase,
      ...(r.what !== undefined ? { what: r.what } : {}),
      firstBlock: r.blocks[0]?.block ?? 2,
      blocks: r.blocks.length,
      skipped: r.blocks.filter((b) => b.skip !== undefined).length,
    })),
  };
}
