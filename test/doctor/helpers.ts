/**
 * Minimal firmware files for doctor tests: DfuSe files written field by field (so any field can lie), ELF32 files
 * with program headers only, and program images with a plausible vector table.
 */
import { crc32Jam } from '../../src/core/crc.ts';
import { diagnose, type DoctorOptions } from '../../src/doctor/diagnose.ts';
import type { DoctorReport, Finding } from '../../src/doctor/report-schema.ts';
import { resolveChip } from '../../src/layout/chips.ts';
import type { ChipProfile } from '../../src/layout/chip-types.ts';

export const H743 = resolveChip('stm32h743');
export const H745 = resolveChip('stm32h745');
export const F405 = resolveChip('stm32f405');

export interface RawElement {
  address: number;
  data: Uint8Array;
  /** dwElementSize as written; default data.length. */
  size?: number;
}

export interface RawTarget {
  alt?: number;
  name?: string;
  bTargetNamed?: number;
  /** Bytes written after the name's NUL. */
  nameGarbage?: Uint8Array;
  elements: RawElement[];
  dwTargetSize?: number;
  dwNbElements?: number;
}

export interface RawDfuseOptions {
  bVersion?: number;
  /** 'body' (default), 'file' (dfuse-pack) or a number. */
  imageSize?: 'body' | 'file' | number;
  bTargets?: number;
  trailing?: Uint8Array;
  vid?: number;
  pid?: number;
  bcdDevice?: number;
  bcdDFU?: number;
  /** Extra suffix bytes (bLength = 16 + n). */
  suffixExtra?: number;
  /** Leave out the suffix. */
  noSuffix?: boolean;
  /** XOR into the stored CRC (0: correct CRC). */
  badCrc?: number;
}

/** A DfuSe file written exactly as described: fields may disagree with the data. */
export function rawDfuse(targets: RawTarget[], o: RawDfuseOptions = {}): Uint8Array {
  const parts: number[] = [];
  const u8 = (v: number): void => void parts.push(v & 0xff);
  const u16 = (v: number): void => {
    u8(v);
    u8(v >>> 8);
  };
  const u32 = (v: number): void => {
    u16(v & 0xffff);
    u16(v >>> 16);
  };
  const bytes = (b: Uint8Array): void => {
    for (const x of b) parts.push(x);
  };
  bytes(new TextEncoder().encode('DfuSe'));
  u8(o.bVersion ?? 1);
  u32(0); // patched below
  u8(o.bTargets ?? targets.length);
  for (const t of targets) {
    bytes(new TextEncoder().encode('Target'));
    u8(t.alt ?? 0);
    const named = t.bTargetNamed ?? (t.name !== undefined ? 1 : 0);
    u32(named);
    const name = new Uint8Array(255);
    if (t.name !== undefined) name.set(new TextEncoder().encode(t.name));
    if (t.nameGarbage !== undefined) name.set(t.nameGarbage, (t.name?.length ?? 0) + 1);
    bytes(name);
    const size = t.elements.reduce((n, e) => n + 8 + e.data.length, 0);
    u32(t.dwTargetSize ?? size);
    u32(t.dwNbElements ?? t.elements.length);
    for (const e of t.elements) {
      u32(e.address);
      u32(e.size ?? e.data.length);
      bytes(e.data);
    }
  }
  if (o.trailing !== undefined) bytes(o.trailing);
  const body = parts.length;
  const extra = o.suffixExtra ?? 0;
  const fileLength = o.noSuffix === true ? body : body + 16 + extra;
  const imageSize = o.imageSize === 'file' ? fileLength : typeof o.imageSize === 'number' ? o.imageSize : body;
  parts[6] = imageSize & 0xff;
  parts[7] = (imageSize >>> 8) & 0xff;
  parts[8] = (imageSize >>> 16) & 0xff;
  parts[9] = (imageSize >>> 24) & 0xff;
  if (o.noSuffix !== true) {
    for (let i = 0; i < extra; i++) u8(0);
    u16(o.bcdDevice ?? 0xffff);
    u16(o.pid ?? 0xdf11);
    u16(o.vid ?? 0x0483);
    u16(o.bcdDFU ?? 0x011a);
    bytes(new TextEncoder().encode('UFD'));
    u8(16 + extra);
    u32(0);
  }
  const out = Uint8Array.from(parts);
  if (o.noSuffix !== true) {
    const crc = (crc32Jam(out.subarray(0, out.length - 4)) ^ (o.badCrc ?? 0)) >>> 0;
    new DataView(out.buffer).setUint32(out.length - 4, crc, true);
  }
  return out;
}

/** A program image: vector table (SP, reset inside the image unless given), then filler bytes. */
export function program(base: number, size: number, o: { sp?: number; reset?: number; seed?: number } = {}): Uint8Array {
  const b = new Uint8Array(size);
  let x = (o.seed ?? 1) >>> 0;
  for (let i = 0; i < size; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  const dv = new DataView(b.buffer);
  if (size >= 8) {
    dv.setUint32(0, o.sp ?? 0x20020000, true);
    dv.setUint32(4, o.reset ?? base + (size > 0x200 ? 0x201 : 0x11), true);
  }
  return b;
}

/** Filler bytes without a vector table. */
export function filler(size: number, seed = 7): Uint8Array {
  const b = program(0, size, { seed });
  if (size >= 8) new DataView(b.buffer).setUint32(0, 0x12345678, true);
  return b;
}

export interface ElfSegment {
  type?: number;
  vaddr: number;
  paddr: number;
  data?: Uint8Array;
  memsz?: number;
}

/** ELF32 little-endian ARM executable with program headers only (the reader loads PT_LOAD by p_paddr). */
export function elf32(segments: ElfSegment[], entry = 0x08000201): Uint8Array {
  const phoff = 52;
  const dataStart = phoff + 32 * segments.length;
  const total = dataStart + segments.reduce((n, s) => n + (s.data?.length ?? 0), 0);
  const b = new Uint8Array(total);
  const dv = new DataView(b.buffer);
  b.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1, 0]);
  dv.setUint16(16, 2, true); // ET_EXEC
  dv.setUint16(18, 40, true); // EM_ARM
  dv.setUint32(20, 1, true);
  dv.setUint32(24, entry, true);
  dv.setUint32(28, phoff, true);
  dv.setUint32(32, 0, true);
  dv.setUint32(36, 0x05000400, true);
  dv.setUint16(40, 52, true);
  dv.setUint16(42, 32, true);
  dv.setUint16(44, segments.length, true);
  dv.setUint16(46, 40, true);
  dv.setUint16(48, 0, true);
  dv.setUint16(50, 0, true);
  let off = dataStart;
  segments.forEach((s, i) => {
    const p = phoff + 32 * i;
    const n = s.data?.length ?? 0;
    dv.setUint32(p, s.type ?? 1, true);
    dv.setUint32(p + 4, n > 0 ? off : 0, true);
    dv.setUint32(p + 8, s.vaddr, true);
    dv.setUint32(p + 12, s.paddr, true);
    dv.setUint32(p + 16, n, true);
    dv.setUint32(p + 20, s.memsz ?? n, true);
    dv.setUint32(p + 24, 5, true);
    dv.setUint32(p + 28, 4, true);
    if (s.data !== undefined) b.set(s.data, off);
    off += n;
  });
  return b;
}

export function doctor(bytes: Uint8Array, chip?: ChipProfile, o: Omit<DoctorOptions, 'chip'> = {}): DoctorReport {
  return diagnose(bytes, { file: 'test.bin', ...(chip !== undefined ? { chip } : {}), ...o }).report;
}

export function codes(r: DoctorReport): string[] {
  return [...new Set(r.findings.map((f) => f.code))].sort();
}

export function findings(r: DoctorReport, code: string): Finding[] {
  return r.findings.filter((f) => f.code === code);
}

export function one(r: DoctorReport, code: string): Finding {
  const f = findings(r, code);
  if (f.length !== 1) throw new Error(`expected one ${code}, got ${f.length}: ${JSON.stringify(r.findings.map((x) => x.code))}`);
  return f[0]!;
}

/** A well-formed single-element H743 DfuSe file at 0x08000000 with a valid vector table, `size` bytes (multiple of 32). */
export function goodH743(size = 1024): Uint8Array {
  return rawDfuse([{ name: 'ST...', elements: [{ address: 0x08000000, data: program(0x08000000, size) }] }]);
}
