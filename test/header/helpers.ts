/** Images and slots for the header tests: small Cortex-M-like payloads with a vector table. */
import assert from 'node:assert/strict';
import { FwError } from '../../src/core/errors.ts';
import { MemoryImage } from '../../src/image/memory-image.ts';
import type { Slot } from '../../src/header/slots.ts';

export const A: Slot = { name: 'A', start: 0x08020000, size: 0x20000 };
export const B: Slot = { name: 'B', start: 0x08040000, size: 0x20000 };

/** Deterministic bytes (xorshift32). */
export function noise(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** A payload linked at `addr`: SP 0x20020000, reset handler at addr + 0x1C1 (Thumb), then noise. */
export function payload(addr: number, size = 5001, seed = 7, reset = addr + 0x1c1): Uint8Array {
  const p = noise(size, seed);
  const dv = new DataView(p.buffer);
  dv.setUint32(0, 0x20020000, true);
  dv.setUint32(4, reset >>> 0, true);
  return p;
}

export function imageAt(addr: number, bytes: Uint8Array, source = 'app'): MemoryImage {
  const m = new MemoryImage();
  m.add(addr, bytes, source);
  return m;
}

/** An app image linked to run at `addr` (the payload start). */
export function app(addr: number, size = 5001, seed = 7, reset?: number): MemoryImage {
  return imageAt(addr, payload(addr, size, seed, reset));
}

/** assert.throws matcher for an FwError with this code (and exit status). */
export function fwError(code: string, exitStatus?: number, check?: (e: FwError) => void): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof FwError, `expected FwError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (exitStatus !== undefined) assert.equal(e.exitStatus, exitStatus, e.message);
    check?.(e);
    return true;
  };
}

/** The image with bytes replaced at `addr` (a corrupted copy; the original is untouched). */
export function patched(image: MemoryImage, addr: number, bytes: ArrayLike<number>): MemoryImage {
  const m = image.clone();
  m.add(addr, Uint8Array.from(bytes), 'patch', { overwrite: true });
  return m;
}

export function u32le(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}
