/**
 * What the diff tests share: deterministic bytes, a NOR flash model that produces read-backs the way a device
 * would (erase sets bytes to 0xFF, programming can only clear bits: new = old AND data), corpus loading, and
 * a check that every report matches the published schema.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeFile } from '../../src/formats/decode.ts';
import { MemoryImage } from '../../src/image/memory-image.ts';
import type { Range } from '../../src/core/range.ts';
import { diffImages, type DiffOptions } from '../../src/verify/diff.ts';
import { DiffReportSchema, type DiffRange, type DiffReport } from '../../src/verify/report-schema.ts';

export const FLASH = 0x08000000;

/** Deterministic bytes (xorshift32); `noFF` maps 0xFF to 0xFE, so no byte reads as erased by chance. */
export function noise(n: number, seed = 1, noFF = true): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    const b = x & 0xff;
    out[i] = noFF && b === 0xff ? 0xfe : b;
  }
  return out;
}

export function imageAt(addr: number, bytes: Uint8Array, source = 'test'): MemoryImage {
  const m = new MemoryImage();
  m.add(addr, bytes, source);
  return m;
}

/** A copy of `image` with `bytes` at `addr` replacing what was there. */
export function patched(image: MemoryImage, addr: number, bytes: ArrayLike<number>): MemoryImage {
  const m = image.clone();
  m.add(addr, Uint8Array.from(bytes), 'patch', { overwrite: true });
  return m;
}

/** NOR flash: erase to 0xFF, program ANDs (bits only clear), read back any ranges. */
export class Flash {
  readonly bytes: Uint8Array;
  constructor(
    readonly start: number,
    size: number,
    fill = 0xff,
  ) {
    this.bytes = new Uint8Array(size).fill(fill);
  }
  erase(start: number, end: number): this {
    this.bytes.fill(0xff, start - this.start, end - this.start);
    return this;
  }
  /** Programs every segment of `image`, moved by `offset` (a wrong base address); skips [skipStart, skipEnd). */
  program(image: MemoryImage, opts: { offset?: number; skip?: Range } = {}): this {
    const off = opts.offset ?? 0;
    for (const s of image.segments) {
      for (let i = 0; i < s.data.length; i++) {
        const a = s.addr + off + i;
        if (opts.skip !== undefined && a >= opts.skip.start && a < opts.skip.end) continue;
        const k = a - this.start;
        if (k >= 0 && k < this.bytes.length) this.bytes[k]! &= s.data[i]!;
      }
    }
    return this;
  }
  /** A read-back of `ranges` (default: all of the flash), as a device upload returns it. */
  readBack(ranges?: readonly Range[]): MemoryImage {
    const m = new MemoryImage();
    for (const r of ranges ?? [{ start: this.start, end: this.start + this.bytes.length }]) {
      m.add(r.start, this.bytes.slice(r.start - this.start, r.end - this.start), 'read-back');
    }
    return m;
  }
}

/** diffImages, with the report checked against the published schema. */
export function diff(expected: MemoryImage, actual: MemoryImage, opts: DiffOptions = {}): DiffReport {
  const r = diffImages(expected, actual, opts);
  DiffReportSchema.parse(JSON.parse(JSON.stringify(r)));
  return r;
}

/** Ranges as [start, end, class] triples, compact for assert.deepEqual. */
export function shape(r: DiffReport): [number, number, string][] {
  return r.ranges.map((x) => [x.start, x.end, x.class]);
}

export function only(r: DiffReport): DiffRange {
  assert.equal(r.ranges.length, 1, `expected one range, got ${JSON.stringify(shape(r).map(([s, e, c]) => [s.toString(16), e.toString(16), c]))}`);
  return r.ranges[0]!;
}

/** Alt 0 (or the only target) of a corpus file, raw binaries at `address`; every leniency allowed (ST's own .dfu files need some). */
export function loadFile(path: string, address?: number): MemoryImage {
  const bytes = new Uint8Array(readFileSync(path));
  const { decoded } = decodeFile(bytes, { file: path, lenient: ['all'], ...(address !== undefined ? { address } : {}) });
  const t = decoded.targets.find((x) => x.alt === 0) ?? decoded.targets[0]!;
  return t.image;
}

export function corpusFile(dir: string, ...parts: string[]): string {
  return join(dir, ...parts);
}
