/**
 * Bounds-checked little/big-endian reads over a Uint8Array. Every read names the field it reads, so a
 * truncated or lying file fails with "needs N bytes at offset X for <field>, file has M" rather than a
 * RangeError, and no length field is trusted before it is checked against the bytes that remain.
 */
import { FwError } from './errors.ts';
import { hex32 } from './format.ts';

export class ByteReader {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly file: string | undefined;
  /** Prefix for error codes, e.g. `ELF` gives `ELF_TRUNCATED`. */
  readonly area: string;

  constructor(bytes: Uint8Array, area: string, file?: string) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.file = file;
    this.area = area;
  }

  get length(): number {
    return this.bytes.length;
  }

  /** Throws `<AREA>_TRUNCATED` unless [offset, offset+size) lies inside the input. */
  need(offset: number, size: number, what: string): void {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(size) || offset < 0 || size < 0 || offset + size > this.bytes.length) {
      throw this.error(
        `${this.area}_TRUNCATED`,
        `${what} needs ${size} bytes at offset ${hex32(offset)}, but the file has ${this.bytes.length} bytes`,
        offset,
      );
    }
  }

  u8(offset: number, what: string): number {
    this.need(offset, 1, what);
    return this.bytes[offset]!;
  }

  u16(offset: number, le: boolean, what: string): number {
    this.need(offset, 2, what);
    return this.view.getUint16(offset, le);
  }

  u32(offset: number, le: boolean, what: string): number {
    this.need(offset, 4, what);
    return this.view.getUint32(offset, le);
  }

  /** 64-bit field as a number; values above 2^53 are errors (no file offset or address we accept is that large). */
  u64(offset: number, le: boolean, what: string): number {
    this.need(offset, 8, what);
    const v = this.view.getBigUint64(offset, le);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw this.error(`${this.area}_VALUE_RANGE`, `${what} is 0x${v.toString(16)}, beyond what any file or address can be`, offset);
    }
    return Number(v);
  }

  /** A view (no copy) of [offset, offset+size). */
  slice(offset: number, size: number, what: string): Uint8Array {
    this.need(offset, size, what);
    return this.bytes.subarray(offset, offset + size);
  }

  error(code: string, message: string, offset?: number, address?: number): FwError {
    return new FwError(code, message, {
      ...(this.file !== undefined ? { file: this.file } : {}),
      ...(offset !== undefined ? { offset } : {}),
      ...(address !== undefined ? { address } : {}),
    });
  }
}

/** Growable little-endian writer for encoders. */
export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  private len = 0;

  constructor(initial = 4096) {
    this.buf = new Uint8Array(Math.max(16, initial));
    this.view = new DataView(this.buf.buffer);
  }

  get length(): number {
    return this.len;
  }

  private reserve(n: number): number {
    const at = this.len;
    if (at + n > this.buf.length) {
      let cap = this.buf.length * 2;
      while (cap < at + n) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(this.buf.subarray(0, at));
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
    this.len += n;
    return at;
  }

  u8(v: number): this {
    this.buf[this.reserve(1)] = v & 0xff;
    return this;
  }

  u16le(v: number): this {
    this.view.setUint16(this.reserve(2), v, true);
    return this;
  }

  u32le(v: number): this {
    this.view.setUint32(this.reserve(4), v >>> 0, true);
    return this;
  }

  bytes(b: Uint8Array): this {
    this.buf.set(b, this.reserve(b.length));
    return this;
  }

  /** `n` copies of `value`. */
  fill(value: number, n: number): this {
    const at = this.reserve(n);
    this.buf.fill(value, at, at + n);
    return this;
  }

  /** Overwrite a u32 at an earlier offset (sizes known only after the body is written). */
  patchU32le(offset: number, v: number): this {
    this.view.setUint32(offset, v >>> 0, true);
    return this;
  }

  toBytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** ASCII text of a byte range (latin1 for non-ASCII bytes; no decoding surprises). */
export function ascii(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
  return s;
}

export function fromAscii(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff;
  return b;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
