/**
 * Sector math on a resolved chip profile: which erase sector, bank or DFU alt an address belongs to, and
 * which sectors a set of ranges touches. Convert uses it to merge runs within one erase sector; the
 * planner uses it to erase only the sectors an image touches.
 */
import type { Range } from '../core/range.ts';
import type { DfuAlt, DfuAltKind, MemoryKind } from './chip-schema.ts';
import type { ChipProfile, FlashBank, FlashSector } from './chip-types.ts';
import { parseLayoutString, type MemoryLayout } from './layout-string.ts';

/** Index of the last sector whose start is <= addr, or -1. Sectors are sorted and do not overlap. */
function floorIndex(sectors: readonly FlashSector[], addr: number): number {
  let lo = 0;
  let hi = sectors.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (sectors[mid]!.start <= addr) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** The erase sector containing `addr`, or undefined outside the part's flash (including the hole of xG parts). */
export function sectorAt(profile: ChipProfile, addr: number): FlashSector | undefined {
  const i = floorIndex(profile.sectors, addr);
  const s = i < 0 ? undefined : profile.sectors[i];
  return s !== undefined && addr < s.end ? s : undefined;
}

/** The bank containing `addr`, or undefined. */
export function bankOf(profile: ChipProfile, addr: number): FlashBank | undefined {
  return profile.banks.find((b) => addr >= b.start && addr < b.end);
}

/** Whether `addr` is in the part's main flash (as DFU addresses it: 0x08000000...). */
export function isInFlash(profile: ChipProfile, addr: number): boolean {
  return sectorAt(profile, addr) !== undefined;
}

/** Every sector that at least one byte of `ranges` falls in, once, in address order. Bytes outside flash are ignored. */
export function sectorsTouched(profile: ChipProfile, ranges: readonly Range[]): FlashSector[] {
  const hit = new Set<number>();
  const sectors = profile.sectors;
  for (const r of ranges) {
    if (r.end <= r.start) continue;
    let i = Math.max(0, floorIndex(sectors, r.start));
    for (; i < sectors.length && sectors[i]!.start < r.end; i++) {
      const s = sectors[i]!;
      if (s.end > r.start) hit.add(i);
    }
  }
  return [...hit].sort((a, b) => a - b).map((i) => sectors[i]!);
}

/** The parts of `ranges` that are not in the part's flash, merged and sorted. */
export function rangesOutsideFlash(profile: ChipProfile, ranges: readonly Range[]): Range[] {
  const out: { start: number; end: number }[] = [];
  const push = (start: number, end: number): void => {
    if (end <= start) return;
    const last = out[out.length - 1];
    if (last !== undefined && start <= last.end) last.end = Math.max(last.end, end);
    else out.push({ start, end });
  };
  for (const r of [...ranges].sort((a, b) => a.start - b.start)) {
    let cursor = r.start;
    for (const b of profile.banks) {
      if (b.end <= cursor || b.start >= r.end) continue;
      push(cursor, Math.min(b.start, r.end));
      cursor = Math.max(cursor, b.end);
    }
    push(cursor, r.end);
  }
  return out;
}

export interface DfuRegion {
  readonly alt: number;
  readonly kind: DfuAltKind;
  readonly evidence: DfuAlt['evidence'];
  /** The layout string the ROM reports for this alt, parsed. */
  readonly layout: MemoryLayout;
}

const layoutCache = new Map<string, MemoryLayout>();

function layoutOf(raw: string): MemoryLayout {
  let l = layoutCache.get(raw);
  if (l === undefined) {
    l = parseLayoutString(raw);
    layoutCache.set(raw, l);
  }
  return l;
}

/** The DFU alternate setting `alt` as the ROM describes it, or undefined when the profile has no such alt. */
export function flashRegionFor(profile: ChipProfile, alt: number): DfuRegion | undefined {
  const a = profile.dfu.alts.find((x) => x.alt === alt);
  return a === undefined ? undefined : { alt: a.alt, kind: a.kind, evidence: a.evidence, layout: layoutOf(a.layout) };
}

/**
 * The DFU alt whose memory holds `addr`: the flash alt for main flash (judged by the part's real geometry,
 * not the ROM string, which describes the whole die), otherwise the first alt whose layout contains it.
 */
export function altForAddress(profile: ChipProfile, addr: number): number | undefined {
  if (isInFlash(profile, addr)) return profile.dfu.alts.find((a) => a.kind === 'flash')?.alt;
  for (const a of profile.dfu.alts) {
    if (a.kind === 'flash') continue;
    if (layoutOf(a.layout).segments.some((s) => addr >= s.start && addr < s.end)) return a.alt;
  }
  return undefined;
}

export type AddressKind = 'flash' | 'ram' | MemoryKind | 'unknown';

/** What lives at `addr` on this part: main flash, a RAM region, another memory (option bytes, OTP...), or nothing known. */
export function classifyAddress(profile: ChipProfile, addr: number): { kind: AddressKind; name: string } {
  const s = sectorAt(profile, addr);
  if (s !== undefined) return { kind: 'flash', name: `bank ${s.bank} sector ${s.sector}` };
  const r = profile.ram.find((x) => addr >= x.start && addr < x.start + x.size);
  if (r !== undefined) return { kind: 'ram', name: r.name };
  // Memories may nest (the F72x OTP lies inside the system-memory range): the smallest one names it best.
  const m = profile.memories.filter((x) => addr >= x.start && addr < x.start + x.size).sort((a, b) => a.size - b.size)[0];
  if (m !== undefined) return { kind: m.kind, name: m.name };
  return { kind: 'unknown', name: 'unknown' };
}
