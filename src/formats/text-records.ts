/**
 * Pieces shared by the two line-oriented record formats (Intel HEX and Motorola S-record): hex digit
 * decoding from bytes through a lookup table, line/column locations, the run builder that turns records
 * into contiguous MemoryImage segments with line provenance, and the upper-case text writer.
 */
import { FwError, type Location } from '../core/errors.ts';
import { formatRange, hex32, hexN } from '../core/format.ts';
import type { Note } from '../core/notes.ts';
import { ADDRESS_LIMIT } from '../core/range.ts';
import { firstOverlap, MemoryImage, type Overwrite, type Segment } from '../image/memory-image.ts';
import type { DecodeOptions } from './types.ts';


export const CR = 0x0d;
export const LF = 0x0a;

/** Value of an ASCII hex digit, -1 for any other byte. */
export const HEX_VALUE: Int8Array = (() => {
  const t = new Int8Array(256).fill(-1);
  for (let i = 0; i < 10; i++) t[0x30 + i] = i;
  for (let i = 0; i < 6; i++) {
    t[0x41 + i] = 10 + i;
    t[0x61 + i] = 10 + i;
  }
  return t;
})();

/** The byte spelled by the two hex digits at `i`, negative if either is not a hex digit. Caller checks bounds. */
export function hexByte(b: Uint8Array, i: number): number {
  return (HEX_VALUE[b[i]!]! << 4) | HEX_VALUE[b[i + 1]!]!;
}

/** Index after the line break at `i` (CR LF, LF or CR); `i` itself when there is none. */
export function skipEol(b: Uint8Array, i: number): number {
  if (b[i] === CR) return b[i + 1] === LF ? i + 2 : i + 1;
  return b[i] === LF ? i + 1 : i;
}

/** Index of the first CR or LF at or after `i`, or the input length. */
export function lineEnd(b: Uint8Array, i: number): number {
  while (i < b.length && b[i] !== CR && b[i] !== LF) i++;
  return i;
}

/** `'G'` for printable ASCII, `byte 0x00` otherwise. */
export function describeChar(c: number): string {
  return c > 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `byte ${hexN(c, 2)}`;
}

/**
 * A record that does not parse, explained by its first non-hex character after `from` (column counted from
 * the record mark at `p`), or undefined when every character is a hex digit (then the length is at fault).
 */
export function nonHexError(
  bytes: Uint8Array,
  p: number,
  from: number,
  line: number,
  fail: (code: string, message: string, line: number, column?: number) => FwError,
): FwError | undefined {
  const end = lineEnd(bytes, p);
  for (let i = from; i < end; i++) {
    if (HEX_VALUE[bytes[i]!]! < 0) return fail('BAD_CHAR', `non-hex character ${describeChar(bytes[i]!)} in a record`, line, i - p + 1);
  }
  return undefined;
}

export function textLocation(file: string | undefined, line: number, column?: number, address?: number): Location {
  return {
    ...(file !== undefined ? { file } : {}),
    line,
    ...(column !== undefined ? { column } : {}),
    ...(address !== undefined ? { address } : {}),
  };
}

/**
 * Collects the data records of a text format into a MemoryImage: contiguous records are accumulated and
 * added as one segment when the address jumps. Remembers (address, length, line) of every record, so
 * overlaps name both lines.
 *
 * All runs are carved out of one store sized from the input (a data byte takes two hex digits, so the data
 * is at most half the input): records are decoded in place and a finished run is handed to the image as a
 * view, without copying. Memory is bounded by the input size, never by the address span.
 *
 * Use: `const at = rb.reserve(n)`, decode n bytes into `rb.buf` at `at`, then `rb.commit(addr, n, line)`.
 */
export class RunBuilder {
  /** Store: finished runs, then the current run at [runBase, used), then a reserved record. */
  buf: Uint8Array;
  /** Overwrite mode only: runs are added as they finish, so later data replaces earlier data. */
  readonly image = new MemoryImage();
  /** Strict mode: finished runs, sorted and checked for overlap once in `finish` (O(n log n) in any order). */
  private runs: { seg: Segment; first: number; end: number }[] = [];
  private runBase = 0;
  private used = 0;
  /** Address of the current run's first byte, and one past its last. */
  private runStart = 0;
  private runEnd = 0;
  /** Index of the current run's first record. */
  private runFirst = 0;
  private recAddr: Uint32Array;
  private recLen: Uint32Array;
  private recLine: Uint32Array;
  private recCount = 0;

  /** `inputSize`: length of the text being decoded, to size the store and the record table. */
  constructor(
    private readonly area: string,
    private readonly opts: DecodeOptions,
    private readonly notes: Note[],
    inputSize: number,
  ) {
    this.buf = new Uint8Array(Math.ceil(inputSize / 2));
    const records = Math.max(64, Math.ceil(inputSize / 40));
    this.recAddr = new Uint32Array(records);
    this.recLen = new Uint32Array(records);
    this.recLine = new Uint32Array(records);
  }

  /** Position in `buf` where the next record's `len` bytes go. */
  reserve(len: number): number {
    if (this.used + len > this.buf.length) {
      // Only when a caller decodes more than its input size promised; finished runs keep the old store.
      const run = this.used - this.runBase;
      const next = new Uint8Array(Math.max(2 * (run + len), 4096));
      next.set(this.buf.subarray(this.runBase, this.used));
      this.buf = next;
      this.runBase = 0;
      this.used = run;
    }
    return this.used;
  }

  /** The `len` bytes decoded at `reserve()` are data at `addr`, read from `line`. */
  commit(addr: number, len: number, line: number): void {
    if (len === 0) return;
    if (addr + len > ADDRESS_LIMIT) {
      throw new FwError(
        `${this.area}_ADDRESS_WRAP`,
        `data at ${hex32(addr)} (${len} bytes) runs past 0xFFFFFFFF; addresses are 32-bit and do not wrap`,
        textLocation(this.opts.file, line, undefined, addr),
      );
    }
    if (addr !== this.runEnd) this.startRun(addr);
    this.used += len;
    this.runEnd += len;
    if (this.recCount === this.recAddr.length) this.growRecords();
    this.recAddr[this.recCount] = addr;
    this.recLen[this.recCount] = len;
    this.recLine[this.recCount] = line;
    this.recCount++;
  }

  /** `reserve` + copy + `commit`, for callers that hold the bytes already. */
  add(addr: number, data: Uint8Array, line: number): void {
    this.buf.set(data, this.reserve(data.length));
    this.commit(addr, data.length, line);
  }

  finish(): MemoryImage {
    this.flush();
    if (this.opts.overwrite === true) return this.image;
    const segs = this.runs.map((r) => r.seg);
    const ov = firstOverlap(segs);
    if (ov !== undefined) this.overlapError(this.runs[ov.earlier]!, this.runs[ov.later]!, ov.start, ov.end);
    return MemoryImage.fromUnsorted(segs);
  }

  /** Ends the current run and starts one at `addr` with the reserved bytes. */
  private startRun(addr: number): void {
    this.flush(); // the reserved bytes now start the new run, in place
    this.runStart = addr;
    this.runEnd = addr;
    this.runFirst = this.recCount;
  }

  private flush(): void {
    if (this.used === this.runBase) return;
    const data = this.buf.subarray(this.runBase, this.used);
    this.runBase = this.used;
    const first = this.recLine[this.runFirst]!;
    const last = this.recLine[this.recCount - 1]!;
    const source = `${this.opts.file ?? ''}${this.opts.file !== undefined ? ' ' : ''}${first === last ? `line ${first}` : `lines ${first}-${last}`}`;
    if (this.opts.overwrite !== true) {
      this.runs.push({ seg: { addr: this.runStart, data, source }, first: this.runFirst, end: this.recCount });
    } else {
      const before = this.image.slice(this.runStart, this.runEnd);
      for (const r of this.image.add(this.runStart, data, source, { overwrite: true })) this.noteOverwrite(r, before, data);
    }
  }

  /** `earlier`/`later` in file order; [start, end) is where they overlap. Names both lines. */
  private overlapError(
    earlier: { seg: Segment; first: number; end: number },
    later: { seg: Segment; first: number; end: number },
    start: number,
    end: number,
  ): never {
    const part = (r: { seg: Segment }): Uint8Array => r.seg.data.subarray(start - r.seg.addr, end - r.seg.addr);
    const same = equalBytes(part(earlier), part(later));
    throw new FwError(
      `${this.area}_OVERLAP`,
      `data at ${hex32(start)} overlaps data from line ${this.lineOf(start, earlier.first, earlier.end)} ` +
        `(${end - start} bytes, ${same ? 'same values' : 'different values'})`,
      textLocation(this.opts.file, this.lineOf(start, later.first, later.end), undefined, start),
    );
  }

  private noteOverwrite(r: Overwrite, before: MemoryImage, data: Uint8Array): void {
    const old = before.read(r.start, r.end - r.start);
    const same = equalBytes(old, data.subarray(r.start - this.runStart, r.end - this.runStart));
    const line = this.lineOf(r.start, this.runFirst, this.recCount);
    this.notes.push({
      code: `${this.area}_OVERLAP`,
      severity: 'warning',
      message:
        `data at ${formatRange(r.start, r.end)} replaces ${same ? 'identical' : 'different'} data from ` +
        `line ${this.lineOf(r.start, 0, this.runFirst)} (later data wins)`,
      location: textLocation(this.opts.file, line, undefined, r.start),
      leniency: 'overwrite',
    });
  }

  /** Line of the last record in [from, to) that holds `addr` (the one whose bytes are in the image). */
  private lineOf(addr: number, from: number, to: number): number {
    for (let i = to - 1; i >= from; i--) {
      const a = this.recAddr[i]!;
      if (addr >= a && addr < a + this.recLen[i]!) return this.recLine[i]!;
    }
    return 0;
  }

  private growRecords(): void {
    const grow = (a: Uint32Array): Uint32Array => {
      const b = new Uint32Array(a.length * 2);
      b.set(a);
      return b;
    };
    this.recAddr = grow(this.recAddr);
    this.recLen = grow(this.recLen);
    this.recLine = grow(this.recLine);
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const UPPER_DIGITS = new TextEncoder().encode('0123456789ABCDEF');

/** Growable ASCII output for record-based text formats: upper-case hex, running byte sum for checksums. */
export class TextWriter {
  private buf: Uint8Array;
  private len = 0;
  /** Sum of the bytes written with `byte()` since `begin()`. */
  sum = 0;
  private readonly crlf: boolean;

  constructor(crlf: boolean, sizeHint: number) {
    this.crlf = crlf;
    this.buf = new Uint8Array(Math.max(256, sizeHint));
  }

  /** Starts a record of at most `maxBytes` bytes after `prefix` (e.g. ':' or 'S3'). */
  begin(prefix: string, maxBytes: number): void {
    const need = this.len + prefix.length + 2 * maxBytes + 2;
    if (need > this.buf.length) {
      const next = new Uint8Array(Math.max(need, this.buf.length * 2));
      next.set(this.buf.subarray(0, this.len));
      this.buf = next;
    }
    for (let i = 0; i < prefix.length; i++) this.buf[this.len++] = prefix.charCodeAt(i);
    this.sum = 0;
  }

  byte(v: number): void {
    this.buf[this.len++] = UPPER_DIGITS[v >>> 4]!;
    this.buf[this.len++] = UPPER_DIGITS[v & 15]!;
    this.sum += v;
  }

  bytes(data: Uint8Array): void {
    for (let i = 0; i < data.length; i++) this.byte(data[i]!);
  }

  /** Writes the checksum byte and the line break. */
  end(checksum: number): void {
    this.byte(checksum & 0xff);
    if (this.crlf) this.buf[this.len++] = CR;
    this.buf[this.len++] = LF;
  }

  toBytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

// ---------------------------------------------------------------------------------------------------
// Intel HEX reader.

/** Leniencies `decodeIhex` understands (see the module comment). */
