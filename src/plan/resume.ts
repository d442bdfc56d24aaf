/**
 * `--resume`: what is left of a plan, judged from what the device holds (read back), not from a journal, so it
 * works after a cut cable, a crash or another machine. Per erase sector:
 *  - `match`: every planned byte is already there: nothing to do;
 *  - `program`: some program units differ, but each of them is still erased on the device: write just those
 *    (NOR flash can program an erased unit without an erase);
 *  - `erase`: a differing unit holds something other than the erased value (a torn or older write): erase the
 *    sector and write all of its planned data again.
 * Header ranges stay last, as in the full plan, so a resumed A/B update still publishes its header only after
 * the payload is complete.
 */
import type { Range } from '../core/range.ts';
import type { MemoryImage } from '../image/memory-image.ts';
import type { ChipProfile } from '../layout/chip-types.ts';
import { sectorsTouched } from '../layout/sectors.ts';
import { blocksFor, estimate, intersectRanges, subtractRanges, toPlanSector } from './plan.ts';
import type { FlashPlan, PlanSector } from './types.ts';

export type SectorState = 'match' | 'program' | 'erase';

export interface ResumeSector extends PlanSector {
  readonly state: SectorState;
  /** Program units of the plan in this sector that differ from the device. */
  readonly unitsDiffering: number;
}

export interface ResumeAnalysis {
  readonly sectors: readonly ResumeSector[];
  /** The remaining work as a plan (erase only `erase` sectors, write only differing units). */
  readonly plan: FlashPlan;
}

/**
 * `device` holds the read-back of (at least) the plan's ranges. Returns the plan of what is left.
 */
export function resumePlan(plan: FlashPlan, device: MemoryImage, profile: ChipProfile): ResumeAnalysis {
  const u = plan.programUnit;
  const erased = plan.erasedValue;
  const allErased = (b: Uint8Array): boolean => b.every((x) => x === erased);
  const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

  const sectors = sectorsTouched(profile, plan.ranges).map(toPlanSector);
  const states: ResumeSector[] = sectors.map((s) => {
    let differ = 0;
    let needsErase = false;
    for (const r of intersectRanges(plan.ranges, [s])) {
      for (let a = r.start; a < r.end; a += u) {
        const n = Math.min(u, r.end - a);
        const want = plan.image.read(a, n, erased);
        const have = device.read(a, n, erased);
        if (same(want, have)) continue;
        differ++;
        if (!allErased(have)) needsErase = true;
      }
    }
    return { ...s, state: differ === 0 ? 'match' : needsErase ? 'erase' : 'program', unitsDiffering: differ };
  });
  const toErase = states.filter((s) => s.state === 'erase');
  const inErased = (a: number): boolean => toErase.some((s) => a >= s.start && a < s.end);
  /** What a unit will hold before writing: erased in a sector we erase, else the read-back. */
  const before = (a: number, n: number): Uint8Array => (inErased(a) ? new Uint8Array(n).fill(erased) : device.read(a, n, erased));

  // Writable units: those that differ, plus erased ones the plan wants erased (harmless to send), so a run is
  // not broken by every 0xFF unit; runs are trimmed to start and end on a differing unit.
  const write: Range[] = [];
  for (const r of plan.ranges) {
    let runStart: number | undefined;
    let lastDiff: number | undefined;
    const close = (): void => {
      if (runStart !== undefined && lastDiff !== undefined) write.push({ start: runStart, end: lastDiff });
      runStart = undefined;
      lastDiff = undefined;
    };
    for (let a = r.start; a < r.end; a += u) {
      const n = Math.min(u, r.end - a);
      const want = plan.image.read(a, n, erased);
      const have = before(a, n);
      if (!same(want, have)) {
        runStart ??= a;
        lastDiff = a + n;
      } else if (!(allErased(have) && runStart !== undefined)) close();
    }
    close();
  }
  const headers = intersectRanges(write, plan.headerRanges);
  const body = subtractRanges(write, plan.headerRanges);
  const unitDiffers = (a: number, bytes: Uint8Array): boolean => {
    for (let o = 0; o < bytes.length; o += u) {
      const n = Math.min(u, bytes.length - o);
      if (!same(bytes.subarray(o, o + n), before(a + o, n))) return true;
    }
    return false;
  };
  const skip = (a: number, bytes: Uint8Array): boolean => !unitDiffers(a, bytes);
  const runs = [
    ...blocksFor(plan.image, body, plan.transferSize, 'body', skip, undefined, plan.addressEveryBlock),
    ...blocksFor(
      plan.image,
      headers,
      plan.transferSize,
      'header',
      skip,
      (r) => {
        const h = plan.headerRanges.find((x) => x.start <= r.start && r.start < x.end);
        return h !== undefined ? `slot ${h.slot} ${h.what}` : undefined;
      },
      plan.addressEveryBlock,
    ),
  ];
  const erase = { mode: 'sectors' as const, sectors: toErase.map(toPlanSector), bytes: toErase.reduce((n, s) => n + s.size, 0) };
  const blocks = runs.reduce((n, r) => n + r.blocks.length, 0);
  const skipped = runs.reduce((n, r) => n + r.blocks.filter((b) => b.skip !== undefined).length, 0);
  const rest = {
    ...plan,
    erase,
    runs,
    counts: { bytes: plan.counts.bytes, blocks, blocksToSend: blocks - skipped, blocksSkipped: skipped, runs: runs.length },
    notes: [...plan.notes, `resume: ${states.filter((s) => s.state === 'match').length} sector(s) already match, ${states.filter((s) => s.state === 'program').length} to complete, ${toErase.length} to erase and rewrite`],
  };
  return { sectors: states, plan: { ...rest, estimate: estimate(profile, rest) } };
}
