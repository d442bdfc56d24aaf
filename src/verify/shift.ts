/**
 * Shifted-copy detection: are the expected bytes of a region in the actual image at a constant offset (a .bin
 * flashed at the wrong base address, a header added or stripped)? Probes of up to 64 expected bytes taken from
 * the largest differing ranges are searched in the actual data; each offset found is then checked against every
 * differing byte of the region, and kept only when it explains at least 90 % of those it can be checked on and
 * can be checked on at least half of them, when it also explains the lowest differing range it can be checked
 * on, and when less than half of the region's first 256 expected bytes are still in place. A function that moved
 * inside a different build explains its own range but not the rest of the region; code shifted by an insertion
 * leaves the vector table in place and the calls below it unexplained: neither is a shift.
 */
import type { Range } from '../core/range.ts';
import type { MemoryImage } from '../image/memory-image.ts';
import type { RawRange } from './compare.ts';
import { readWindow } from './compare.ts';

export interface ShiftCount {
  /** Differing bytes whose shifted counterpart exists. */
  compared: number;
  /** Of those, the ones the shift explains. */
  matched: number;
}

export interface RegionShift {
  readonly offset: number;
  /** Over every data/extra range of the region. */
  readonly total: ShiftCount;
  /** Per range, by the range object. */
  readonly perRange: ReadonlyMap<RawRange, ShiftCount>;
}

const PROBE = 64;
const MIN_PROBE = 16;
const MAX_PROBES = 6;
const MAX_HITS = 8;
const MATCH = 0.9;
const CHUNK = 0x4000;
/** Bytes at the start of a region checked for staying in place. */
const HEAD = 256;

/** Occurrences of `needle` in `hay` (at most `max`). */
export function findAll(hay: Uint8Array, needle: Uint8Array, max: number): number[] {
  const out: number[] = [];
  const n = needle.length;
  if (n === 0 || hay.length < n) return out;
  const b0 = needle[0]!;
  const b1 = needle[1] ?? 0;
  const last = hay.length - n;
  outer: for (let i = 0; i <= last; i++) {
    if (hay[i] !== b0 || (n > 1 && hay[i + 1] !== b1)) continue;
    for (let k = 2; k < n; k++) if (hay[i + k] !== needle[k]) continue outer;
    out.push(i);
    if (out.length >= max) break;
  }
  return out;
}

function distinct(bytes: Uint8Array): number {
  const seen = new Set<number>();
  for (const b of bytes) seen.add(b);
  return seen.size;
}

/** Probe windows inside [start, end) of `image`: at the start, the middle and the end, varied enough to search for. */
function probesIn(image: MemoryImage, start: number, end: number): { addr: number; bytes: Uint8Array }[] {
  const len = Math.min(PROBE, end - start);
  if (len < MIN_PROBE) return [];
  const out: { addr: number; bytes: Uint8Array }[] = [];
  for (const addr of new Set([start, start + ((end - start - len) >> 1), end - len])) {
    if (!image.covers(addr, addr + len)) continue;
    const bytes = image.read(addr, len);
    if (distinct(bytes) >= Math.min(8, len >> 2)) out.push({ addr, bytes });
  }
  return out;
}

/** [start, start + size) of `image`: the segment's own bytes when one segment holds them all, else a copy. */
function view(image: MemoryImage, start: number, size: number, fill: number): Uint8Array {
  const segs = image.slice(start, start + size).segments;
  const s = segs[0];
  return segs.length === 1 && s!.addr === start && s!.data.length === size ? s!.data : image.read(start, size, fill);
}

/**
 * Counts, for one range, how many differing bytes the offset explains, in chunks of 16 KiB. With `early` (the
 * counts of the ranges before), stops as soon as the offset is plainly wrong: more than 10 % of at least 256
 * checked bytes unexplained.
 */
function countRange(
  expected: MemoryImage,
  actual: MemoryImage,
  r: RawRange,
  offset: number,
  erased: number,
  early?: ShiftCount,
): ShiftCount & { stopped: boolean } {
  let compared = 0;
  let matched = 0;
  for (let at = r.start; at < r.end; at += CHUNK) {
    const size = Math.min(CHUNK, r.end - at);
    if (r.kind === 'data') {
      // Differing bytes are where expected != actual at the same address; the shifted actual byte must equal expected.
      const s = readWindow(actual, at + offset, size, erased);
      if (s.any) {
        const e = view(expected, at, size, erased);
        const a = view(actual, at, size, erased);
        for (let i = 0; i < size; i++) {
          if (e[i] === a[i] || (s.present !== undefined && s.present[i] === 0)) continue;
          compared++;
          if (s.bytes[i] === e[i]) matched++;
        }
      }
    } else if (r.kind === 'extra') {
      // The expected image has nothing here: the actual byte should be the expected byte from `offset` lower.
      const s = readWindow(expected, at - offset, size, erased);
      if (s.any) {
        const a = view(actual, at, size, erased);
        for (let i = 0; i < size; i++) {
          if (a[i] === erased || (s.present !== undefined && s.present[i] === 0)) continue;
          compared++;
          if (s.bytes[i] === a[i]) matched++;
        }
      }
    }
    if (early !== undefined) {
      const c = early.compared + compared;
      if (c >= 256 && c - early.matched - matched > (1 - MATCH) * c) return { compared, matched, stopped: true };
    }
  }
  return { compared, matched, stopped: false };
}

/**
 * The offset at which the region's expected bytes are in the actual image, when there is one. `ranges` are the
 * data/extra ranges of the region (missing ones have nothing to explain).
 */
export function detectShift(
  expected: MemoryImage,
  actual: MemoryImage,
  actualRuns: readonly { addr: number; data: Uint8Array }[],
  region: Range,
  ranges: readonly RawRange[],
  erased: number,
): RegionShift | undefined {
  const usable = ranges.filter((r) => r.kind !== 'missing');
  const differing = usable.reduce((n, r) => n + r.differing, 0);
  if (differing < MIN_PROBE) return undefined;
  // The start of the image: a copy at the wrong place leaves little of it in place; a rebuild keeps most of its
  // vector table and start-up code where they were.
  const first = expected.slice(region.start, region.end).segments[0];
  if (first !== undefined) {
    const n = Math.min(HEAD, first.data.length);
    const a = readWindow(actual, first.addr, n, erased);
    let same = 0;
    for (let i = 0; i < n; i++) if ((a.present === undefined || a.present[i] === 1) && a.bytes[i] === first.data[i]) same++;
    if (same >= n / 2) return undefined;
  }
  const tried = new Set<number>([0]);
  const verify = (offset: number): RegionShift | undefined => {
    const perRange = new Map<RawRange, ShiftCount>();
    let compared = 0;
    let matched = 0;
    for (const r of usable) {
      const c = countRange(expected, actual, r, offset, erased, { compared, matched });
      perRange.set(r, { compared: c.compared, matched: c.matched });
      compared += c.compared;
      matched += c.matched;
      if (c.stopped) return undefined;
    }
    if (compared === 0 || matched < MATCH * compared || compared < 0.5 * differing) return undefined;
    // A copy written at the wrong place is shifted from its first byte on. A rebuild that moved code is not: its
    // lowest difference (a vector, a call) is not explained by the offset that explains the moved block.
    const lowest = usable.find((r) => (perRange.get(r)?.compared ?? 0) > 0);
    if (lowest === undefined || !shiftExplains(perRange.get(lowest), lowest.differing)) return undefined;
    return { offset, total: { compared, matched }, perRange };
  };
  // Candidate offsets, each verified as soon as it is found: expected bytes of the largest data ranges searched in
  // the actual image, and actual bytes of the largest extra ranges (--whole: data where the expected image has
  // none) searched in the expected image.
  const search = (runs: readonly { addr: number; data: Uint8Array }[], probe: { addr: number; bytes: Uint8Array }, sign: 1 | -1): RegionShift | undefined => {
    let hits = 0;
    for (const run of runs) {
      for (const at of findAll(run.data, probe.bytes, MAX_HITS - hits)) {
        hits++;
        const off = sign * (run.addr + at - probe.addr);
        if (tried.has(off)) continue;
        tried.add(off);
        const v = verify(off);
        if (v !== undefined) return v;
      }
      if (hits >= MAX_HITS) break;
    }
    return undefined;
  };
  const big = usable.filter((r) => r.differing >= MIN_PROBE).sort((x, y) => y.differing - x.differing || x.start - y.start);
  let probes = 0;
  let expectedRuns: { addr: number; data: Uint8Array }[] | undefined;
  for (const r of big) {
    for (const p of probesIn(r.kind === 'data' ? expected : actual, r.start, r.end)) {
      if (probes++ >= MAX_PROBES) return undefined;
      const found = r.kind === 'data' ? search(actualRuns, p, 1) : search((expectedRuns ??= expected.runs()), p, -1);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** How many of the range's differing bytes `offset` explains (every one checked). */
export function shiftCount(expected: MemoryImage, actual: MemoryImage, r: RawRange, offset: number, erased: number): ShiftCount {
  const c = countRange(expected, actual, r, offset, erased);
  return { compared: c.compared, matched: c.matched };
}

/** Whether the region's shift explains this range. */
export function shiftExplains(c: ShiftCount | undefined, differing: number): boolean {
  return c !== undefined && c.compared > 0 && c.matched >= MATCH * c.compared && c.compared >= 0.5 * differing;
}
