/**
 * The hub of dfukit (DESIGN.md "Data flows one way"): a sparse memory image of sorted, non-overlapping
 * segments at unsigned 32-bit addresses. Every format decodes into it and encodes from it. Gaps are never
 * materialised unless a caller asks (`read`, `fillGaps`, `align`), so data at 0x08000000 and 0x64000000 costs
 * only the bytes that exist.
 */
import { FwError } from '../core/errors.ts';
import { formatRange, hex32 } from '../core/format.ts';
import { ADDRESS_LIMIT, alignDown, alignUp, type Range } from '../core/range.ts';

export interface Segment {
  readonly addr: number;
  readonly data: Uint8Array;
  /** Where the bytes came from (`app.hex line 12`, `fw.elf section .text`), for overlap reports. */
  readonly source?: string;
}

/** A range of earlier data replaced by later data under `{ overwrite: true }`. */
export interface Overwrite {
  readonly start: number;
  readonly end: number;
  readonly previousSource: string;
  readonly source: string;
}

/** A run extended to the program unit by `align`. */
export interface Pad {
  readonly start: number;
  readonly end: number;
  readonly fill: number;
  readonly reason: 'align-start' | 'align-end' | 'gap';
}

export interface AddOptions {
  /** Later data wins over earlier data; the result lists what was replaced. Default: overlap is an error. */
  overwrite?: boolean;
}

function describe(s: Segment): string {
  return s.source ?? 'earlier data';
}

export class MemoryImage {
  private segs: Segment[] = [];

  /**
   * Segments in any order, in O(n log n) (adding out-of-order segments one by one costs O(n) each).
   * Overlap is `IMAGE_OVERLAP`, the segment later in input order named as the new data.
   */
  static fromUnsorted(segments: readonly Segment[]): MemoryImage {
    const ov = firstOverlap(segments);
    if (ov !== undefined) throw overlapError(segments[ov.later]!, segments[ov.earlier]!);
    const m = new MemoryImage();
    m.segs = segments.filter((x) => x.data.length > 0).sort((a, b) => a.addr - b.addr);
    for (const x of m.segs) checkFits(x.addr, x.data, x.source);
    return m;
  }

  static from(segments: Iterable<Segment>, opts: AddOptions = {}): MemoryImage {
    const m = new MemoryImage();
    for (const s of segments) m.add(s.addr, s.data, s.source, opts);
    return m;
  }

  /** Sorted, non-overlapping; adjacent segments are not joined (see `runs`). */
  get segments(): readonly Segment[] {
    return this.segs;
  }

  get isEmpty(): boolean {
    return this.segs.length === 0;
  }

  /** Number of bytes that hold data (gaps excluded). */
  get size(): number {
    let n = 0;
    for (const s of this.segs) n += s.data.length;
    return n;
  }

  /** Lowest address holding data (undefined when empty). */
  get start(): number | undefined {
    return this.segs[0]?.addr;
  }

  /** One past the highest address holding data (may be 2^32). */
  get end(): number | undefined {
    const last = this.segs[this.segs.length - 1];
    return last === undefined ? undefined : last.addr + last.data.length;
  }

  /** Index of the first segment whose end is above `addr`. */
  private firstEndingAfter(addr: number): number {
    let lo = 0;
    let hi = this.segs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const s = this.segs[mid]!;
      if (s.addr + s.data.length <= addr) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Add bytes at `addr`. The bytes are kept by reference (callers hand over ownership).
   * Overlap with existing data is an `IMAGE_OVERLAP` error naming both sources and ranges, unless
   * `overwrite` is set: then the later data wins and the replaced ranges are returned.
   */
  add(addr: number, data: Uint8Array, source?: string, opts: AddOptions = {}): Overwrite[] {
    checkFits(addr, data, source);
    if (data.length === 0) return [];
    const seg: Segment = source === undefined ? { addr, data } : { addr, data, source };
    const end = addr + data.length;
    // Fast path: appending in address order (every decoder's common case).
    const last = this.segs[this.segs.length - 1];
    if (last === undefined || last.addr + last.data.length <= addr) {
      this.segs.push(seg);
      return [];
    }
    const i = this.firstEndingAfter(addr);
    const hit = this.segs[i];
    if (hit === undefined || hit.addr >= end) {
      this.segs.splice(i, 0, seg);
      return [];
    }
    if (opts.overwrite !== true) throw overlapError(seg, hit);
    // Overwrite: cut every overlapped segment around [addr, end).
    const replaced: Overwrite[] = [];
    const keep: Segment[] = [];
    let j = i;
    for (; j < this.segs.length; j++) {
      const s = this.segs[j]!;
      const sEnd = s.addr + s.data.length;
      if (s.addr >= end) break;
      replaced.push({ start: Math.max(s.addr, addr), end: Math.min(sEnd, end), previousSource: describe(s), source: source ?? 'new data' });
      if (s.addr < addr) keep.push(withData(s, s.addr, s.data.subarray(0, addr - s.addr)));
      if (sEnd > end) keep.push(withData(s, end, s.data.subarray(end - s.addr)));
    }
    const before = keep.filter((s) => s.addr < addr);
    const after = keep.filter((s) => s.addr >= end);
    this.segs.splice(i, j - i, ...before, seg, ...after);
    return replaced;
  }

  /** Copy of every segment of `other` into this image (same overlap rules). */
  addImage(other: MemoryImage, opts: AddOptions = {}): Overwrite[] {
    const out: Overwrite[] = [];
    for (const s of other.segs) out.push(...this.add(s.addr, s.data, s.source, opts));
    return out;
  }

  /** Contiguous runs: adjacent segments joined (copying only where two or more join). */
  runs(): Segment[] {
    const out: Segment[] = [];
    let group: Segment[] = [];
    const flush = (): void => {
      if (group.length === 0) return;
      const first = group[0]!;
      if (group.length === 1) out.push(first);
      else {
        const total = group.reduce((n, s) => n + s.data.length, 0);
        const data = new Uint8Array(total);
        let o = 0;
        for (const s of group) {
          data.set(s.data, o);
          o += s.data.length;
        }
        const sources = [...new Set(group.map((s) => s.source).filter((x): x is string => x !== undefined))];
        out.push(sources.length > 0 ? { addr: first.addr, data, source: sources.join(' + ') } : { addr: first.addr, data });
      }
      group = [];
    };
    for (const s of this.segs) {
      const prev = group[group.length - 1];
      if (prev !== undefined && prev.addr + prev.data.length !== s.addr) flush();
      group.push(s);
    }
    flush();
    return out;
  }

  /** Ranges of the contiguous runs. */
  ranges(): Range[] {
    const out: { start: number; end: number }[] = [];
    for (const s of this.segs) {
      const last = out[out.length - 1];
      if (last !== undefined && last.end === s.addr) last.end = s.addr + s.data.length;
      else out.push({ start: s.addr, end: s.addr + s.data.length });
    }
    return out;
  }

  /** Byte at `addr`, or undefined in a gap. */
  byteAt(addr: number): number | undefined {
    const s = this.segs[this.firstEndingAfter(addr)];
    if (s === undefined || s.addr > addr) return undefined;
    return s.data[addr - s.addr];
  }

  /** True when every byte of [start, end) holds data. */
  covers(start: number, end: number): boolean {
    let at = start;
    for (let i = this.firstEndingAfter(start); i < this.segs.length && at < end; i++) {
      const s = this.segs[i]!;
      if (s.addr > at) return false;
      at = s.addr + s.data.length;
    }
    return at >= end;
  }

  /** `size` bytes from `addr`, gaps as `fill`. Allocates exactly `size` bytes. */
  read(addr: number, size: number, fill = 0xff): Uint8Array {
    const out = new Uint8Array(size);
    out.fill(fill);
    const end = addr + size;
    for (let i = this.firstEndingAfter(addr); i < this.segs.length; i++) {
      const s = this.segs[i]!;
      if (s.addr >= end) break;
      const from = Math.max(s.addr, addr);
      const to = Math.min(s.addr + s.data.length, end);
      out.set(s.data.subarray(from - s.addr, to - s.addr), from - addr);
    }
    return out;
  }

  /** The part of the image inside [start, end), sharing bytes with this one. */
  slice(start: number, end: number): MemoryImage {
    const m = new MemoryImage();
    for (let i = this.firstEndingAfter(start); i < this.segs.length; i++) {
      const s = this.segs[i]!;
      if (s.addr >= end) break;
      const from = Math.max(s.addr, start);
      const to = Math.min(s.addr + s.data.length, end);
      m.segs.push(withData(s, from, s.data.subarray(from - s.addr, to - s.addr)));
    }
    return m;
  }

  /** Every byte of [start, end) that is a gap becomes `fill`; one contiguous segment results. */
  fillGaps(start: number, end: number, fill: number): { image: MemoryImage; pads: Pad[] } {
    const pads: Pad[] = this.gaps(start, end).map((g) => ({ ...g, fill, reason: 'gap' as const }));
    const m = this.slice(0, start);
    m.segs.push({ addr: start, data: this.read(start, end - start, fill), source: this.slice(start, end).sourceSummary() });
    m.segs.push(...this.slice(end, ADDRESS_LIMIT).segs);
    return { image: m, pads };
  }

  /**
   * Each contiguous run extended down and up to multiples of `unit`, new bytes set to `fill`; runs that
   * then touch or share a unit are joined. Returns the pads applied. `unit` 1 is the identity.
   */
  align(unit: number, fill: number): { image: MemoryImage; pads: Pad[] } {
    if (!Number.isInteger(unit) || unit < 1) throw new FwError('IMAGE_ALIGN', `alignment must be a positive integer, got ${unit}`, {}, 2);
    const pads: Pad[] = [];
    if (unit === 1) return { image: this.clone(), pads };
    const spans: { start: number; end: number }[] = [];
    for (const r of this.ranges()) {
      const start = alignDown(r.start, unit);
      const end = Math.min(alignUp(r.end, unit), ADDRESS_LIMIT);
      const last = spans[spans.length - 1];
      if (last !== undefined && start <= last.end) last.end = Math.max(last.end, end);
      else spans.push({ start, end });
    }
    const m = new MemoryImage();
    for (const s of spans) {
      const src = this.slice(s.start, s.end);
      for (const gap of src.gaps(s.start, s.end)) {
        const reason = gap.start === s.start ? 'align-start' : gap.end === s.end ? 'align-end' : 'gap';
        pads.push({ start: gap.start, end: gap.end, fill, reason });
      }
      if (src.covers(s.start, s.end)) for (const seg of src.segs) m.segs.push(seg);
      else m.segs.push({ addr: s.start, data: this.read(s.start, s.end - s.start, fill), source: src.sourceSummary() });
    }
    return { image: m, pads };
  }

  /** The ranges inside [start, end) that hold no data. */
  gaps(start: number, end: number): Range[] {
    const out: Range[] = [];
    let at = start;
    for (const r of this.slice(start, end).ranges()) {
      if (r.start > at) out.push({ start: at, end: r.start });
      at = r.end;
    }
    if (at < end) out.push({ start: at, end });
    return out;
  }

  clone(): MemoryImage {
    const m = new MemoryImage();
    m.segs = [...this.segs];
    return m;
  }

  private sourceSummary(): string {
    const names = [...new Set(this.segs.map((s) => s.source).filter((x): x is string => x !== undefined))];
    return names.length === 0 ? 'padding' : names.length <= 3 ? names.join(' + ') : `${names.slice(0, 3).join(' + ')} + ${names.length - 3} more`;
  }
}

function checkFits(addr: number, data: Uint8Array, source: string | undefined): void {
  if (!Number.isInteger(addr) || addr < 0 || addr + data.length > ADDRESS_LIMIT) {
    throw new FwError(
      'IMAGE_ADDRESS_RANGE',
      `${source ?? 'data'} at ${hex32(Math.max(0, addr))} (+${data.length} bytes) does not fit in the 32-bit address space`,
      { address: addr },
    );
  }
}

/** `IMAGE_OVERLAP`: `added` overlaps `hit`, both named with their ranges. */
export function overlapError(added: Segment, hit: Segment): FwError {
  const end = added.addr + added.data.length;
  const oStart = Math.max(added.addr, hit.addr);
  const oEnd = Math.min(end, hit.addr + hit.data.length);
  return new FwError(
    'IMAGE_OVERLAP',
    `${added.source ?? 'new data'} ${formatRange(added.addr, end)} overlaps ${describe(hit)} ${formatRange(hit.addr, hit.addr + hit.data.length)} ` +
      `at ${formatRange(oStart, oEnd)}`,
    { address: oStart },
  );
}

/**
 * The first pair of overlapping segments by address, as indices into `segments` (`later` is the one later in
 * input order), with the overlapping range. O(n log n): sort by address, then compare each segment with the
 * furthest-reaching one before it.
 */
export function firstOverlap(segments: readonly Segment[]): { earlier: number; later: number; start: number; end: number } | undefined {
  const order = segments.map((_, i) => i).filter((i) => segments[i]!.data.length > 0);
  order.sort((a, b) => segments[a]!.addr - segments[b]!.addr || a - b);
  let reach = -1;
  let reachEnd = 0;
  for (const i of order) {
    const x = segments[i]!;
    if (reach >= 0 && x.addr < reachEnd) {
      const end = Math.min(reachEnd, x.addr + x.data.length);
      return { earlier: Math.min(i, reach), later: Math.max(i, reach), start: x.addr, end };
    }
    const xEnd = x.addr + x.data.length;
    if (xEnd > reachEnd) {
      reach = i;
      reachEnd = xEnd;
    }
  }
  return undefined;
}

function withData(s: Segment, addr: number, data: Uint8Array): Segment {
  return s.source === undefined ? { addr, data } : { addr, data, source: s.source };
}
