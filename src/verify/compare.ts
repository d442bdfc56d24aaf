/**
 * The byte comparison under the diff: walks the compared regions piece by piece (a piece is a stretch where
 * each side either has data throughout or has none), compares by 32-bit words where both sides have data,
 * and merges differing bytes into ranges across at most `merge` equal bytes. Nothing here classifies.
 */
import type { Range } from '../core/range.ts';
import type { MemoryImage, Segment } from '../image/memory-image.ts';

/**
 * `data`: both sides have data and bytes differ; `missing`: the expected image has data, the actual none;
 * `extra` (--whole only): the expected image has no data (erased flash expected), the actual holds non-erased bytes.
 */
export type RawKind = 'data' | 'missing' | 'extra';

export interface RawRange {
  readonly kind: RawKind;
  readonly start: number;
  readonly end: number;
  /** Differing (or missing) bytes inside [start, end). */
  readonly differing: number;
  /** Index of the compared region that holds it. */
  readonly region: number;
}

export interface Comparison {
  readonly regions: readonly Range[];
  readonly ranges: readonly RawRange[];
  readonly comparedBytes: number;
  readonly differingBytes: number;
  readonly missingBytes: number;
}

export interface CompareOptions {
  readonly whole: boolean;
  readonly merge: number;
  readonly erased: number;
}

class Merger {
  readonly out: RawRange[] = [];
  private kind: RawKind | undefined;
  private start = 0;
  private end = 0;
  private count = 0;
  private region = -1;
  /** Kind of the piece being walked: ranges merge only across equal bytes of pieces of their own kind. */
  private pieceKind: RawKind | undefined;

  constructor(private readonly merge: number) {}

  piece(kind: RawKind, region: number): void {
    if (this.kind !== undefined && (kind !== this.kind || region !== this.region)) this.flush();
    this.pieceKind = kind;
    this.region = region;
  }

  add(start: number, end: number): void {
    const kind = this.pieceKind!;
    if (this.kind !== undefined && start - this.end <= this.merge) {
      this.end = end;
      this.count += end - start;
      return;
    }
    this.flush();
    this.kind = kind;
    this.start = start;
    this.end = end;
    this.count = end - start;
  }

  flush(): void {
    if (this.kind !== undefined) this.out.push({ kind: this.kind, start: this.start, end: this.end, differing: this.count, region: this.region });
    this.kind = undefined;
  }
}

const CHUNK = 0x10000;
let scratchA: Uint8Array | undefined;
let scratchB: Uint8Array | undefined;

/**
 * Runs of differing bytes between `a` and `b` (same length), reported as absolute [start, end) from `base`.
 * Whole 32-bit words are compared where the two arrays share their alignment; otherwise both are copied in
 * 64 KiB chunks into aligned scratch buffers first (a copy is far cheaper than a byte loop).
 */
export function diffRuns(a: Uint8Array, b: Uint8Array, base: number, emit: (start: number, end: number) => void): void {
  if ((a.byteOffset & 3) === (b.byteOffset & 3)) {
    diffAligned(a, b, base, emit);
    return;
  }
  scratchA ??= new Uint8Array(CHUNK);
  scratchB ??= new Uint8Array(CHUNK);
  // A run that crosses a chunk boundary is reported in two pieces; the merger joins them (gap 0).
  for (let off = 0; off < a.length; off += CHUNK) {
    const n = Math.min(CHUNK, a.length - off);
    scratchA.set(a.subarray(off, off + n));
    scratchB.set(b.subarray(off, off + n));
    diffAligned(scratchA.subarray(0, n), scratchB.subarray(0, n), base + off, emit);
  }
}

function diffAligned(a: Uint8Array, b: Uint8Array, base: number, emit: (start: number, end: number) => void): void {
  const n = a.length;
  let run = -1;
  const byteAt = (i: number): void => {
    if (a[i] !== b[i]) {
      if (run < 0) run = i;
    } else if (run >= 0) {
      emit(base + run, base + i);
      run = -1;
    }
  };
  const head = Math.min(n, (4 - (a.byteOffset & 3)) & 3);
  let i = 0;
  for (; i < head; i++) byteAt(i);
  const words = (n - i) >>> 2;
  if (words > 0) {
    const wa = new Uint32Array(a.buffer, a.byteOffset + i, words);
    const wb = new Uint32Array(b.buffer, b.byteOffset + i, words);
    let w = 0;
    while (w < words) {
      if (wa[w] === wb[w]) {
        if (run >= 0) {
          emit(base + run, base + i + w * 4);
          run = -1;
        }
        w++;
        while (w < words && wa[w] === wb[w]) w++;
        continue;
      }
      const at = i + w * 4;
      const x = wa[w]! ^ wb[w]!;
      if (((x - 0x01010101) & ~x & 0x80808080) === 0) {
        // No zero byte in the XOR: all four bytes differ, the run goes on.
        if (run < 0) run = at;
      } else {
        byteAt(at);
        byteAt(at + 1);
        byteAt(at + 2);
        byteAt(at + 3);
      }
      w++;
    }
    i += words * 4;
  }
  for (; i < n; i++) byteAt(i);
  if (run >= 0) emit(base + run, base + n);
}

/** Runs of bytes of `a` that are not `value`. */
function runsNot(a: Uint8Array, value: number, base: number, emit: (start: number, end: number) => void): void {
  let run = -1;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== value) {
      if (run < 0) run = i;
    } else if (run >= 0) {
      emit(base + run, base + i);
      run = -1;
    }
  }
  if (run >= 0) emit(base + run, base + a.length);
}

/** The regions compared: where the expected image has data, or (whole) where either side has. */
export function comparedRegions(expected: MemoryImage, actual: MemoryImage, whole: boolean): Range[] {
  const exp = expected.ranges();
  if (!whole) return exp;
  const all = [...exp, ...actual.ranges()].sort((x, y) => x.start - y.start);
  const out: { start: number; end: number }[] = [];
  for (const r of all) {
    const last = out[out.length - 1];
    if (last !== undefined && r.start <= last.end) last.end = Math.max(last.end, r.end);
    else out.push({ start: r.start, end: r.end });
  }
  return out;
}

export function compareImages(expected: MemoryImage, actual: MemoryImage, opts: CompareOptions): Comparison {
  const regions = comparedRegions(expected, actual, opts.whole);
  const merger = new Merger(opts.merge);
  let compared = 0;
  let differing = 0;
  let missing = 0;
  const emitDiff = (start: number, end: number): void => {
    differing += end - start;
    merger.add(start, end);
  };
  regions.forEach((region, index) => {
    compared += region.end - region.start;
    const es = expected.slice(region.start, region.end).segments;
    const as = actual.slice(region.start, region.end).segments;
    let i = 0;
    let j = 0;
    let pos = region.start;
    while (pos < region.end) {
      while (i < es.length && end(es[i]!) <= pos) i++;
      while (j < as.length && end(as[j]!) <= pos) j++;
      const e = es[i];
      const a = as[j];
      const eHas = e !== undefined && e.addr <= pos;
      const aHas = a !== undefined && a.addr <= pos;
      const eNext = e === undefined ? region.end : eHas ? end(e) : e.addr;
      const aNext = a === undefined ? region.end : aHas ? end(a) : a.addr;
      const to = Math.min(eNext, aNext, region.end);
      if (eHas && aHas) {
        merger.piece('data', index);
        diffRuns(e.data.subarray(pos - e.addr, to - e.addr), a.data.subarray(pos - a.addr, to - a.addr), pos, emitDiff);
      } else if (eHas) {
        merger.piece('missing', index);
        missing += to - pos;
        merger.add(pos, to);
      } else if (aHas) {
        merger.piece('extra', index);
        runsNot(a.data.subarray(pos - a.addr, to - a.addr), opts.erased, pos, emitDiff);
      }
      pos = to;
    }
    merger.flush();
  });
  merger.flush();
  return { regions, ranges: merger.out, comparedBytes: compared, differingBytes: differing, missingBytes: missing };
}

function end(s: Segment): number {
  return s.addr + s.data.length;
}

/**
 * Bytes of [start, start + size) with which of them `image` holds: `present` is undefined when it holds them
 * all. Addresses outside the 32-bit space count as absent.
 */
export interface Window {
  readonly start: number;
  readonly bytes: Uint8Array;
  readonly present: Uint8Array | undefined;
  readonly any: boolean;
}

export function readWindow(image: MemoryImage, start: number, size: number, fill: number): Window {
  const lo = Math.max(0, start);
  const hi = Math.min(0x1_0000_0000, start + size);
  if (hi <= lo) return { start, bytes: new Uint8Array(size).fill(fill), present: new Uint8Array(size), any: false };
  if (lo === start && hi === start + size && image.covers(lo, hi)) {
    // One segment holding it all is viewed in place (callers only read).
    const segs = image.slice(lo, hi).segments;
    const bytes = segs.length === 1 ? segs[0]!.data : image.read(start, size, fill);
    return { start, bytes, present: undefined, any: true };
  }
  const bytes = new Uint8Array(size).fill(fill);
  const present = new Uint8Array(size);
  let any = false;
  for (const s of image.slice(lo, hi).segments) {
    bytes.set(s.data, s.addr - start);
    present.fill(1, s.addr - start, s.addr - start + s.data.length);
    any = true;
  }
  return { start, bytes, present, any };
}
