/** Small inputs for convert tests: HEX/DfuSe bytes built with the codecs, deterministic filler data. */
import { encodeDfuse, type DfuseTargetInput } from '../../src/formats/dfuse-file.ts';
import { encodeIhex } from '../../src/formats/ihex.ts';
import { MemoryImage } from '../../src/image/memory-image.ts';

export function filler(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

export function image(...segs: [number, Uint8Array | number][]): MemoryImage {
  const m = new MemoryImage();
  segs.forEach(([addr, d], i) => m.add(addr, typeof d === 'number' ? filler(d, i + 1) : d, `seg${i}`));
  return m;
}

export function hexOf(...segs: [number, Uint8Array | number][]): Uint8Array {
  return encodeIhex(image(...segs));
}

export function dfuseOf(targets: DfuseTargetInput[], suffix = { vid: 0x0483, pid: 0xdf11, bcdDevice: 0xffff }): Uint8Array {
  return encodeDfuse(targets, suffix);
}

/** `addr+size` per segment, hex, for compact layout assertions. */
export function layout(m: MemoryImage): string[] {
  return m.segments.map((s) => `${s.addr.toString(16)}+${s.data.length.toString(16)}`);
}
