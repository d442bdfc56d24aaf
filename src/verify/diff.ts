/**
 * `diffImages(expected, actual)`: what differs between the image meant for the flash and what is there (a
 * read-back or another file), and why. Platform-neutral: no I/O, no console; the CLI (`dfukit diff`) and the
 * flasher (`dfukit flash` verification, `dfukit verify --device`) render the same report.
 *
 * 1. Compare where the expected image has data (or, `whole`, where either side has; gaps of the expected image
 *    are then expected to read erased), by 32-bit words, and merge differing bytes across at most `merge` equal
 *    bytes into ranges. Ranges never span two compared regions, nor a change in which side has data.
 *    A range holding a run of at least 512 bytes that read erased next to bytes that do not is split around it.
 * 2. Classify each range, first rule that holds (shared/reference/image-formats.md §5):
 *    - truncated: the actual image has no data there;
 *    - not-written: every differing byte reads the erased value, and so does a whole program unit of the range
 *      or every unit holding a differing byte (unless the range is confined to the element's last partial
 *      program unit: that is tail-lost);
 *    - tail-lost: every differing byte lies in the last, partial program unit of the expected element;
 *    - shifted: one offset explains the region's differences (detected per compared region, see shift.ts);
 *    - bits-cleared (strong): every differing byte has actual & expected == actual, and there are at least 16 in
 *      the range, or at least 16 over the ranges left at this point, all of them bit-cleared;
 *    - header-only: the range lies inside a header of a known layout the expected image carries;
 *    - bits-cleared (weak): as above with fewer bytes, unless the image is a different build;
 *    - different-build: the image has two or more ranges no rule above explains (or one covering a quarter of
 *      the compared bytes), at least one with a bit set that programming cannot set;
 *    - other.
 *    Fewer than 16 bit-cleared bytes happen by chance in any rebuild (a 0x12 that became 0x10), so weak
 *    bit-clearing yields to the more specific header-only and to the image-level different-build verdict.
 */
import { crc32, crc32Stm32 } from '../core/crc.ts';
import { formatRange, formatSize, hex32, hexN } from '../core/format.ts';
import type { Note } from '../core/notes.ts';
import { alignDown, alignUp, type Range } from '../core/range.ts';
import type { MemoryImage } from '../image/memory-image.ts';
import type { ChipProfile } from '../layout/chip-types.ts';
import { sectorsTouched } from '../layout/sectors.ts';
import { CLASS_INFO, DIFF_CLASSES, type DiffClassName } from './classes.ts';
import { compareImages, readWindow, type RawRange } from './compare.ts';
import { HeaderFinder } from './headers.ts';
import type { DiffRange, DiffReport, DiffSide, Evidence } from './report-schema.ts';
import { detectShift, shiftCount, shiftExplains, type RegionShift } from './shift.ts';

export const DEFAULT_MERGE = 16;
export const DEFAULT_CONTEXT = 8;
export const DEFAULT_PROGRAM_UNIT = 8;
/** Bit-cleared bytes needed before bits-cleared outranks header-only and different-build. */
export const STRONG_BITS_CLEARED = 16;
/** Bytes of a range shown in the context besides the `context` bytes before and after. */
export const CONTEXT_RANGE_BYTES = 16;

/** How the caller names one side (the CLI fills in the file, format and address). */
export interface SideLabel {
  readonly name: string;
  readonly format?: string;
  readonly detectedBy?: string;
  readonly alt?: number;
  readonly address?: number;
}

export interface DiffOptions {
  /** Compare wherever either side has data; gaps of the expected image are expected to read erased. */
  readonly whole?: boolean;
  /** Differing bytes separated by at most this many equal bytes form one range (default 16). */
  readonly merge?: number;
  /** Bytes shown before and after the start of each range (default 8). */
  readonly context?: number;
  /** Chip profile: program unit, erased value, sector names, quirks. */
  readonly chip?: ChipProfile;
  /** Program unit (`--align`); wins over the chip's. Default: the chip's, else 8. */
  readonly programUnit?: number;
  /** Erased value; default the chip's, else 0xFF. */
  readonly erasedValue?: number;
  readonly expected?: SideLabel;
  readonly actual?: SideLabel;
  /** Notes of the caller (inputs), reported first. */
  readonly notes?: readonly Note[];
}

const POPCOUNT = (() => {
  const t = new Uint8Array(256);
  for (let i = 1; i < 256; i++) t[i] = (i & 1) + t[i >> 1]!;
  return t;
})();

/** Byte statistics of one range. */
interface Stats {
  differing: number;
  erasedActual: number;
  subset: number;
  bitsSet: number;
  bitsCleared: number;
  uniform: number | null;
}

function dataStats(e: Uint8Array, a: Uint8Array, erased: number): Stats {
  let differing = 0;
  let erasedActual = 0;
  let subset = 0;
  let bitsSet = 0;
  let bitsCleared = 0;
  // -1: no differing byte yet; -2: not all the same.
  let uniform = -1;
  const n = e.length;
  for (let i = 0; i < n; i++) {
    const x = e[i]!;
    const y = a[i]!;
    if (x === y) continue;
    differing++;
    if (y === erased) erasedActual++;
    const set = y & ~x & 0xff;
    if (set === 0) subset++;
    else bitsSet += POPCOUNT[set]!;
    bitsCleared += POPCOUNT[x & ~y & 0xff]!;
    if (uniform !== y) uniform = uniform === -1 ? y : -2;
  }
  return { differing, erasedActual, subset, bitsSet, bitsCleared, uniform: uniform < 0 ? null : uniform };
}

function extraStats(a: Uint8Array, erased: number): Stats {
  let differing = 0;
  let bitsSet = 0;
  let bitsCleared = 0;
  let uniform = -1;
  for (const y of a) {
    if (y === erased) continue;
    differing++;
    bitsSet += POPCOUNT[y & ~erased & 0xff]!;
    bitsCleared += POPCOUNT[erased & ~y & 0xff]!;
    if (uniform !== y) uniform = uniform === -1 ? y : -2;
  }
  return { differing, erasedActual: 0, subset: 0, bitsSet, bitsCleared, uniform: uniform < 0 ? null : uniform };
}

/** [start, start + size) of `image`: the segment's own bytes when one segment holds them all, else a copy. */
function view(image: MemoryImage, start: number, size: number, fill: number): Uint8Array {
  const segs = image.slice(start, start + size).segments;
  const s = segs[0];
  return segs.length === 1 && s!.addr === start && s!.data.length === size ? s!.data : image.read(start, size, fill);
}

/** STM32 CRC over a stream of chunks: whole words only, the last partial word completed with `fill` at the end. */
class Stm32Crc {
  private crc = 0xffffffff;
  private pending = new Uint8Array(0);
  update(data: Uint8Array): void {
    let d = data;
    if (this.pending.length > 0) {
      const joined = new Uint8Array(this.pending.length + data.length);
      joined.set(this.pending);
      joined.set(data, this.pending.length);
      d = joined;
    }
    const whole = d.length & ~3;
    if (whole > 0) this.crc = crc32Stm32(d.subarray(0, whole), this.crc);
    this.pending = d.slice(whole);
  }
  digest(fill: number): number {
    return this.pending.length > 0 ? crc32Stm32(this.pending, this.crc, fill) : this.crc;
  }
}

function sideCrc(image: MemoryImage, regions: readonly Range[], erased: number): { crc: { isoHdlc: number; stm32: number }; complete: boolean } {
  let iso: number | undefined;
  const stm = new Stm32Crc();
  let complete = true;
  for (const r of regions) {
    // One segment holding the whole region is used in place; anything else is read (gaps as the erased value).
    const segs = image.slice(r.start, r.end).segments;
    const one = segs.length === 1 && segs[0]!.addr === r.start && segs[0]!.data.length === r.end - r.start ? segs[0]!.data : undefined;
    const bytes = one ?? image.read(r.start, r.end - r.start, erased);
    iso = crc32(bytes, iso);
    stm.update(bytes);
    if (!image.covers(r.start, r.end)) complete = false;
  }
  return { crc: { isoHdlc: iso ?? 0, stm32: stm.digest(erased) }, complete };
}

function side(label: SideLabel | undefined, fallback: string, image: MemoryImage, crc: { crc: { isoHdlc: number; stm32: number }; complete: boolean }): DiffSide {
  return {
    name: label?.name ?? fallback,
    ...(label?.format !== undefined ? { format: label.format } : {}),
    ...(label?.detectedBy !== undefined ? { detectedBy: label.detectedBy } : {}),
    ...(label?.alt !== undefined ? { alt: label.alt } : {}),
    ...(label?.address !== undefined ? { address: label.address } : {}),
    ranges: image.ranges().map((r) => ({ start: r.start, end: r.end })),
    size: image.size,
    crc: crc.crc,
    complete: crc.complete,
  };
}

/** The run of `runs` (sorted, disjoint) holding `addr`. */
function runAt(runs: readonly Range[], addr: number): Range | undefined {
  let lo = 0;
  let hi = runs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const r = runs[mid]!;
    if (addr < r.start) hi = mid - 1;
    else if (addr >= r.end) lo = mid + 1;
    else return r;
  }
  return undefined;
}

function signedHex(n: number): string {
  return `${n < 0 ? '-' : '+'}0x${Math.abs(n).toString(16).toUpperCase()}`;
}

function pct(x: number): string {
  const p = x * 100;
  return p >= 10 || p === 0 ? `${p.toFixed(0)}%` : p >= 0.1 ? `${p.toFixed(1)}%` : `${p.toPrecision(1)}%`;
}

/** Sizes as `16384 (0x4000)`; small counts plain. */
function sz(n: number): string {
  return n >= 256 ? formatSize(n) : String(n);
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${sz(n)} ${n === 1 ? one : many}`;
}

/**
 * Erased runs at least this long split a range, so what was not written is told apart from what was: shorter
 * than any DfuSe transfer block (1-2 KiB) or flash sector or page, longer than the erased padding a copy of
 * firmware usually holds.
 */
export const ERASED_SPLIT = 512;

/**
 * A data range holding a run of at least ERASED_SPLIT bytes that read erased, next to bytes that do not, is split
 * around the run (each piece trimmed to its differing bytes): a write that stopped on top of unerased or shifted
 * data leaves both, and each has its own cause.
 */
function splitErased(expected: MemoryImage, actual: MemoryImage, r: RawRange, erased: number): RawRange[] {
  const size = r.end - r.start;
  if (r.kind !== 'data' || size < 2 * ERASED_SPLIT) return [r];
  const a = view(actual, r.start, size, erased);
  const cuts: number[] = [];
  let run = -1;
  for (let i = 0; i <= size; i++) {
    if (i < size && a[i] === erased) {
      if (run < 0) run = i;
      continue;
    }
    if (run >= 0 && i - run >= ERASED_SPLIT && (run > 0 || i < size)) cuts.push(run, i);
    run = -1;
  }
  if (cuts.length === 0) return [r];
  const e = view(expected, r.start, size, erased);
  const out: RawRange[] = [];
  const bounds = [0, ...cuts, size];
  for (let k = 0; k + 1 < bounds.length; k++) {
    let lo = bounds[k]!;
    let hi = bounds[k + 1]!;
    while (lo < hi && e[lo] === a[lo]) lo++;
    while (hi > lo && e[hi - 1] === a[hi - 1]) hi--;
    // A piece is kept when it holds a differing byte; its count comes with its statistics (pass 1).
    if (lo < hi) out.push({ kind: 'data', start: r.start + lo, end: r.start + hi, differing: -1, region: r.region });
  }
  return out;
}

interface Work {
  raw: RawRange;
  stats: Stats;
  cls?: DiffClassName;
  evidence?: Evidence;
  summary?: string;
}

export function diffImages(expected: MemoryImage, actual: MemoryImage, opts: DiffOptions = {}): DiffReport {
  const whole = opts.whole === true;
  const merge = opts.merge ?? DEFAULT_MERGE;
  const context = opts.context ?? DEFAULT_CONTEXT;
  const chip = opts.chip;
  const programUnitFrom = opts.programUnit !== undefined ? 'align' : chip !== undefined ? 'chip' : 'default';
  const unit = opts.programUnit ?? (chip !== undefined ? Math.max(chip.programUnit, chip.bootloaderWriteAlignment) : DEFAULT_PROGRAM_UNIT);
  const erased = opts.erasedValue ?? chip?.erasedValue ?? 0xff;
  const unitSource = programUnitFrom === 'chip' ? `unit of the ${chip!.displayName}` : programUnitFrom === 'align' ? 'unit as given' : 'default unit';

  const cmp = compareImages(expected, actual, { whole, merge, erased });
  const regions = cmp.regions;
  const expectedRuns = expected.ranges();

  // Pass 1: statistics, and the classes that need no knowledge of the other ranges.
  const work: Work[] = cmp.ranges.flatMap((r) => splitErased(expected, actual, r, erased)).map((raw) => {
    const size = raw.end - raw.start;
    const stats =
      raw.kind === 'data'
        ? dataStats(view(expected, raw.start, size, erased), view(actual, raw.start, size, erased), erased)
        : raw.kind === 'extra'
          ? extraStats(view(actual, raw.start, size, erased), erased)
          : { differing: size, erasedActual: 0, subset: 0, bitsSet: 0, bitsCleared: 0, uniform: null };
    return { raw: raw.differing === stats.differing ? raw : { ...raw, differing: stats.differing }, stats };
  });
  const set = (w: Work, cls: DiffClassName, evidence: Evidence, summary: string): void => {
    w.cls = cls;
    w.evidence = evidence;
    w.summary = summary;
  };

  // Per expected run: the first and last byte that is not the erased value (for "the whole element").
  const significant = new Map<Range, { first: number; last: number } | null>();
  const significantOf = (run: Range): { first: number; last: number } | null => {
    if (!significant.has(run)) {
      const bytes = expected.read(run.start, run.end - run.start, erased);
      let first = 0;
      while (first < bytes.length && bytes[first] === erased) first++;
      let last = bytes.length - 1;
      while (last >= first && bytes[last] === erased) last--;
      significant.set(run, first < bytes.length ? { first: run.start + first, last: run.start + last } : null);
    }
    return significant.get(run)!;
  };

  // Per erase sector: whether every byte the actual image holds in it reads erased (and it holds some).
  const erasedSector = new Map<number, boolean>();
  const sectorErased = (start: number, end: number): boolean => {
    let v = erasedSector.get(start);
    if (v === undefined) {
      const win = readWindow(actual, start, end - start, erased);
      v = win.any && win.bytes.every((b) => b === erased);
      erasedSector.set(start, v);
    }
    return v;
  };

  /**
   * Flash is written a program unit at a time: an erased byte inside a unit that holds programmed bytes was
   * written (as 0xFF, or torn), not skipped. "Not written" needs a whole program unit of the range to read
   * erased, or else every unit holding a differing byte to read erased throughout (as far as the actual image
   * has it). The first admits a write's last unit, padded with 0xFF, at the edge of an unwritten area; the second
   * a short range in units of its own.
   */
  const unitsErased = (r: RawRange): boolean => {
    const lo = alignDown(r.start, unit);
    const win = readWindow(actual, lo, alignUp(r.end, unit) - lo, erased);
    const isErased = (k: number): boolean => win.bytes[k] === erased || (win.present !== undefined && win.present[k] === 0);
    for (let u = alignUp(r.start, unit) - lo; u + unit <= r.end - lo; u += unit) {
      let all = true;
      for (let k = u; k < u + unit && all; k++) all = isErased(k);
      if (all) return true;
    }
    const e = expected.read(r.start, r.end - r.start, erased);
    for (let u = 0; u < win.bytes.length; u += unit) {
      let differs = false;
      for (let k = Math.max(u, r.start - lo); k < Math.min(u + unit, r.end - lo) && !differs; k++) differs = win.bytes[k] !== e[k - (r.start - lo)];
      if (!differs) continue;
      for (let k = u; k < u + unit; k++) if (!isErased(k)) return false;
    }
    return true;
  };

  for (const w of work) {
    const r = w.raw;
    const size = r.end - r.start;
    if (r.kind === 'missing') {
      const below = actual.slice(0, r.start).end;
      const above = actual.slice(r.end, 0x1_0000_0000).start;
      const eb = expected.read(r.start, size, erased);
      let erasedExpected = 0;
      for (const b of eb) if (b === erased) erasedExpected++;
      const where =
        above === undefined
          ? below === undefined
            ? 'the actual image has no data here at all'
            : `the actual image ends early, at ${hex32(below)}`
          : below === undefined || below <= regions[r.region]!.start
            ? `the actual data starts late, at ${hex32(above)}`
            : `a hole in the actual data, ${formatRange(r.start, r.end)}`;
      const ff = erasedExpected === size ? `; every missing byte is ${hexN(erased, 2)} in the expected image (erased flash would read the same)` : '';
      set(
        w,
        'truncated',
        { class: 'truncated', missingBytes: size, actualEndsAt: below ?? null, actualResumesAt: above ?? null, expectedErasedBytes: erasedExpected },
        `${where}: ${plural(size, 'expected byte')} ${size === 1 ? 'has' : 'have'} no counterpart${ff}`,
      );
      continue;
    }
    if (r.kind !== 'data') continue;
    const run = runAt(expectedRuns, r.start)!;
    const partial = run.end % unit !== 0;
    const unitStart = Math.max(run.start, alignDown(run.end, unit));
    const inTail = partial && r.start >= unitStart && r.end <= run.end;
    const allErased = w.stats.erasedActual === r.differing;
    if (allErased && !inTail && unitsErased(r)) {
      const sig = significantOf(run);
      const wholeElement = sig !== null && r.start <= sig.first && r.end > sig.last;
      const erasedSectors: { name: string; start: number; end: number }[] = [];
      const quirks: { id: string; summary: string }[] = [];
      if (chip !== undefined) {
        for (const s of sectorsTouched(chip, [r])) {
          if (sectorErased(s.start, s.end)) erasedSectors.push({ name: `bank ${s.bank} sector ${s.sector}`, start: s.start, end: s.end });
        }
        for (const q of chip.quirks) {
          if ((q.kind === 'erase' || q.kind === 'write') && (q.ranges ?? []).some((x) => x.start < r.end && r.start < x.start + x.size)) {
            quirks.push({ id: q.id, summary: q.summary.split(/(?<=\.)\s/)[0]!.trim() });
          }
        }
      }
      let summary = `all ${plural(r.differing, 'differing byte')} read ${hexN(erased, 2)} (erased)`;
      if (wholeElement) summary += `: the whole element ${formatRange(run.start, run.end)} was not written`;
      if (erasedSectors.length > 0) summary += `; ${erasedSectors.map((s) => `${s.name} ${formatRange(s.start, s.end)}`).join(', ')} ${erasedSectors.length === 1 ? 'reads' : 'read'} entirely erased`;
      if (quirks.length > 0) summary += `; chip quirk ${quirks.map((q) => q.id).join(', ')} applies here`;
      const h7Tail = alignDown(run.end, 32);
      if (programUnitFrom === 'default' && r.end === run.end && run.end % 32 !== 0 && r.start >= h7Tail) {
        summary += `; with a 16- or 32-byte program unit (STM32H7 writes 32-byte flash words; U5 and H7R/S 16) this would be a tail lost to alignment: give the chip or the unit`;
      }
      set(w, 'not-written', { class: 'not-written', erasedValue: erased, wholeElement, erasedSectors, quirks }, summary);
      continue;
    }
    if (inTail) {
      set(
        w,
        'tail-lost',
        { class: 'tail-lost', programUnit: unit, unitStart, elementEnd: run.end, tailBytes: run.end - unitStart, erased: allErased },
        `the differences lie only in the last ${plural(run.end - unitStart, 'byte')} of the element ${formatRange(run.start, run.end)}${allErased ? ` and read ${hexN(erased, 2)}` : ''}: ` +
          `a partial ${unit}-byte program unit (${unitSource}) at ${hex32(alignDown(run.end, unit))}, which the writer dropped`,
      );
    }
  }

  // Pass 2: shifted copies, per compared region, over the ranges not yet explained.
  let actualRuns: { addr: number; data: Uint8Array }[] | undefined;
  const byRegion = new Map<number, Work[]>();
  for (const w of work) if (w.cls === undefined) byRegion.set(w.raw.region, [...(byRegion.get(w.raw.region) ?? []), w]);
  for (const [region, ws] of byRegion) {
    if (ws.reduce((n, w) => n + w.raw.differing, 0) < 16 || !ws.some((w) => w.raw.differing >= 16)) continue;
    actualRuns ??= actual.runs();
    const shift: RegionShift | undefined = detectShift(expected, actual, actualRuns, regions[region]!, ws.map((w) => w.raw), erased);
    if (shift === undefined) continue;
    const off = shift.offset;
    const reg = regions[region]!;
    const meant = expected.slice(reg.start, reg.end).start ?? reg.start;
    const where = `${plural(Math.abs(off), 'byte')} ${off > 0 ? 'higher' : 'lower'}`;
    for (const w of ws) {
      const c = shift.perRange.get(w.raw);
      if (!shiftExplains(c, w.raw.differing)) continue;
      set(
        w,
        'shifted',
        { class: 'shifted', offset: off, compared: c!.compared, matched: c!.matched, elementCompared: shift.total.compared, elementMatched: shift.total.matched },
        `the expected bytes are ${where} in the actual image (offset ${signedHex(off)}): what was meant for ${hex32(meant)} is at ${hex32(meant + off)}; ` +
          `${c!.matched} of ${c!.compared} differing bytes checked here match, ${shift.total.matched} of ${shift.total.compared} over the element`,
      );
    }
    // Erased ranges the copy explains keep their class (not-written comes first) and say where their bytes went.
    for (const w of work) {
      if (w.cls !== 'not-written' || w.raw.region !== region || w.evidence?.class !== 'not-written') continue;
      if (!shiftExplains(shiftCount(expected, actual, w.raw, off, erased), w.raw.differing)) continue;
      w.evidence = { ...w.evidence, shiftedBy: off };
      w.summary += `; these bytes were written ${where} instead (offset ${signedHex(off)}, the shifted copy)`;
    }
  }

  // Pass 3: strong bit-clearing, then headers.
  const bitsCleared = (w: Work, strong: boolean): void =>
    set(
      w,
      'bits-cleared',
      { class: 'bits-cleared', bytes: w.raw.differing, bitsCleared: w.stats.bitsCleared, strong },
      `every differing byte is the expected byte with bits cleared (${plural(w.stats.bitsCleared, 'bit')} in ${plural(w.raw.differing, 'byte')}, none set): ` +
        `programmed over flash that was not erased${strong ? '' : ' (few bytes: could also be bit errors)'}`,
    );
  // Strong: at least 16 bit-cleared bytes in the range, or every range left is bit-cleared and together they
  // hold at least 16 (a sector programmed over old data leaves many small ranges, all of them bit-cleared).
  const left = work.filter((w) => w.cls === undefined && w.raw.kind === 'data');
  const leftBytes = left.reduce((n, w) => n + w.raw.differing, 0);
  const imageCleared = left.every((w) => w.stats.subset === w.raw.differing) && leftBytes >= STRONG_BITS_CLEARED;
  const headers = new HeaderFinder(expected, actual, erased);
  for (const w of left) {
    const subset = w.stats.subset === w.raw.differing;
    if (subset && (w.raw.differing >= STRONG_BITS_CLEARED || imageCleared)) {
      bitsCleared(w, true);
      continue;
    }
    const h = headers.holding(w.raw.start, w.raw.end);
    if (h === undefined) continue;
    const d = headers.explain(h, w.raw.start, w.raw.end);
    const fields = d.fields.map((f) => `${f.name} ${f.expected} -> ${f.actual}`);
    if (d.paddingBytes > 0) fields.push(`${plural(d.paddingBytes, 'byte')} of header padding`);
    set(
      w,
      'header-only',
      { class: 'header-only', layout: d.layout, headerAddress: d.headerAddress, headerSize: d.headerSize, fields: d.fields, paddingBytes: d.paddingBytes, actualHeader: d.actualHeader },
      `inside the ${d.layout} header at ${hex32(d.headerAddress)}: ${fields.join('; ')}; the actual header is ${d.actualHeader.valid ? 'valid' : `invalid (${d.actualHeader.reason ?? 'see header verify'})`}`,
    );
  }

  // Pass 4: the image-level verdict for what is left.
  const content = work.filter((w) => w.cls === undefined && w.raw.kind === 'data');
  const contentBytes = content.reduce((n, w) => n + w.raw.differing, 0);
  const anySet = content.some((w) => w.stats.subset < w.raw.differing);
  const differentBuild = anySet && (content.length >= 2 || contentBytes >= 0.25 * cmp.comparedBytes);
  const imageFraction = cmp.comparedBytes === 0 ? 0 : cmp.differingBytes / cmp.comparedBytes;
  for (const w of work) {
    if (w.cls !== undefined) continue;
    const s = w.stats;
    if (w.raw.kind === 'data' && s.subset === w.raw.differing && !differentBuild) {
      bitsCleared(w, false);
      continue;
    }
    if (w.raw.kind === 'data' && differentBuild) {
      set(
        w,
        'different-build',
        { class: 'different-build', imageFraction, contentRanges: content.length, bitsSet: s.bitsSet, bitsCleared: s.bitsCleared },
        `${pct(imageFraction)} of the compared bytes differ, in ${plural(content.length, 'range')} no other class explains: another build (this range: ${plural(w.raw.differing, 'byte')})`,
      );
      continue;
    }
    const outside = w.raw.kind === 'extra';
    const why: string[] = [];
    if (outside) {
      why.push(`the expected image has no data here, so erased flash (${hexN(erased, 2)}) was expected; the actual holds ${plural(w.raw.differing, 'other byte')}`);
      why.push(s.uniform !== null ? `all ${hexN(s.uniform, 2)}: padding filled with ${hexN(s.uniform, 2)} instead of left erased?` : 'data left from earlier firmware (the sector was not erased)?');
    } else {
      why.push(`${plural(w.raw.differing, 'byte')} differ`);
      if (s.uniform === erased) why.push(`they all read ${hexN(erased, 2)}, but the program units holding them also hold programmed bytes: written as ${hexN(erased, 2)} or torn, not skipped`);
      else if (s.uniform !== null) why.push(`the actual bytes all read ${hexN(s.uniform, 2)}`);
      if (s.bitsSet > 0) why.push(`${plural(s.bitsSet, 'bit')} set that programming cannot set: these bytes were not written with this image`);
      if (s.bitsSet + s.bitsCleared <= 2 * w.raw.differing && w.raw.differing <= 4) why.push(`only ${plural(s.bitsSet + s.bitsCleared, 'bit')} flipped: a bit error?`);
    }
    set(w, 'other', { class: 'other', bitsSet: s.bitsSet, bitsCleared: s.bitsCleared, uniformActual: s.uniform, outsideImage: outside }, why.join('; '));
  }

  // The report.
  const byte = (image: MemoryImage, addr: number): number | null => image.byteAt(addr) ?? null;
  const ranges: DiffRange[] = work
    .sort((x, y) => x.raw.start - y.raw.start)
    .map((w, i) => {
      const r = w.raw;
      const region = regions[r.region]!;
      // At least `context` bytes before and after the first CONTEXT_RANGE_BYTES of the range, rounded up to whole
      // rows of 16 for the human dump.
      const cStart = Math.max(region.start, r.start - context);
      const want = context + Math.min(r.end - r.start, CONTEXT_RANGE_BYTES) + context;
      const cEnd = Math.min(region.end, cStart + (context > 0 ? alignUp(want, 16) : want));
      const ew = readWindow(expected, cStart, cEnd - cStart, erased);
      const aw = readWindow(actual, cStart, cEnd - cStart, erased);
      const list = (win: ReturnType<typeof readWindow>): (number | null)[] => Array.from(win.bytes, (b, k) => (win.present !== undefined && win.present[k] === 0 ? null : b));
      const sectors = chip !== undefined ? sectorsTouched(chip, [r]).map((s) => `bank ${s.bank} sector ${s.sector}`) : undefined;
      return {
        index: i + 1,
        start: r.start,
        end: r.end,
        size: r.end - r.start,
        differing: r.differing,
        class: w.cls!,
        summary: w.summary!,
        element: { start: region.start, end: region.end },
        first: { address: r.start, expected: byte(expected, r.start), actual: byte(actual, r.start) },
        ...(sectors !== undefined ? { sectors } : {}),
        evidence: w.evidence!,
        context: { start: cStart, expected: list(ew), actual: list(aw) },
      };
    });

  const causes = DIFF_CLASSES.map((c) => {
    const rs = ranges.filter((r) => r.class === c);
    return { class: c, ranges: rs.length, bytes: rs.reduce((n, r) => n + r.differing, 0) };
  }).filter((c) => c.ranges > 0);

  let actualInside = 0;
  for (const reg of regions) for (const s of actual.slice(reg.start, reg.end).segments) actualInside += s.data.length;
  const actualOutside = actual.size - actualInside;
  const notes: Note[] = [...(opts.notes ?? [])];
  if (actualOutside > 0) {
    notes.push({
      code: 'DIFF_ACTUAL_OUTSIDE',
      severity: 'info',
      message: `the actual image holds ${formatSize(actualOutside)} bytes outside the compared ranges: not compared (--whole compares them against erased flash)`,
      location: {},
    });
  }
  if (expected.isEmpty) notes.push({ code: 'DIFF_EXPECTED_EMPTY', severity: 'warning', message: 'the expected image holds no data: nothing was compared', location: {} });

  // Equal over the compared ranges (nothing differs, nothing missing): the same bytes, the same CRCs.
  const expectedCrc = sideCrc(expected, regions, erased);
  const actualCrc = ranges.length === 0 ? expectedCrc : sideCrc(actual, regions, erased);
  if (ranges.length > 0 && actualCrc.crc.isoHdlc === expectedCrc.crc.isoHdlc) {
    notes.push({
      code: 'DIFF_CRC_EQUAL',
      severity: 'info',
      message: 'the CRC-32s are equal although bytes differ: a CRC-32 stored right after the bytes it covers (a self-checking header) cancels out; compare bytes, not CRCs',
      location: {},
    });
  }
  const first = ranges[0];
  return {
    equal: ranges.length === 0,
    expected: side(opts.expected, 'expected', expected, expectedCrc),
    actual: side(opts.actual, 'actual', actual, actualCrc),
    settings: { whole, merge, context, programUnit: unit, programUnitFrom, erasedValue: erased, ...(chip !== undefined ? { chip: chip.displayName } : {}) },
    compared: { ranges: regions.map((r) => ({ start: r.start, end: r.end })), bytes: cmp.comparedBytes },
    differingBytes: cmp.differingBytes,
    missingBytes: cmp.missingBytes,
    fraction: cmp.comparedBytes === 0 ? 0 : (cmp.differingBytes + cmp.missingBytes) / cmp.comparedBytes,
    ...(first !== undefined ? { firstDifference: first.first } : {}),
    actualOutside,
    causes,
    ranges,
    notes,
  };
}

/** One line: `equal` or the classes found, e.g. `not written (1 range, 131072 bytes); tail lost ... (1 range, 8 bytes)`. */
export function diffVerdict(report: DiffReport): string {
  if (report.equal) return 'equal';
  return report.causes.map((c) => `${CLASS_INFO[c.class].title} (${plural(c.ranges, 'range')}, ${plural(c.bytes, 'byte')})`).join('; ');
}
