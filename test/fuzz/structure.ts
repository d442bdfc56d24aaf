/**
 * Where the interesting bytes of a seed file are: its length, count, offset and index fields (to set to 0,
 * all-ones and the file length ± 1), the boundaries between its structures (to truncate at), and for text
 * formats its records (to edit field by field with the checksum recomputed).
 *
 * The walkers read the seed files with their own plain code, written from the specs (gABI tables, UM0391,
 * DFU 1.1 appendix B, Intel's HEX spec, the S-record man page), not through src/formats: a decoder bug must
 * not shape the mutations meant to find it. Seeds are valid files; the walkers stop quietly where one is not.
 */
import type { FormatName } from '../../src/formats/types.ts';

export interface Field {
  /** `e_shnum`, `section 3 sh_size`, `target 0 element 1 dwElementSize`, ... */
  name: string;
  offset: number;
  width: 1 | 2 | 4 | 8;
  le: boolean;
  /** Values worth trying that depend on the rest of the file (e.g. an address that makes two elements overlap). */
  extra?: bigint[];
}

/** A record of a text file: byte ranges of its parts. Positions are file offsets; `end` excludes the line break. */
export interface TextRecord {
  line: number;
  start: number;
  end: number;
  /** Record type: Intel HEX 0..5, S-record 0..9; -1 when the line is not a record. */
  type: number;
  /** Offset of the byte-count digits. */
  countAt: number;
  /** Offset and digit count of the address field. */
  addressAt: number;
  addressDigits: number;
  /** First data digit, and the checksum digits (the last two of the line). */
  dataAt: number;
  checksumAt: number;
}

export interface Structure {
  fields: Field[];
  /** Offsets where one structure ends and the next begins (sorted, unique, within [0, length]). */
  boundaries: number[];
  /** DFU suffix CRC at the end that a mutation may reseal. */
  crc: boolean;
  records: TextRecord[];
}

export function readField(b: Uint8Array, f: Field): bigint {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (f.offset + f.width > b.length) return 0n;
  switch (f.width) {
    case 1:
      return BigInt(b[f.offset]!);
    case 2:
      return BigInt(v.getUint16(f.offset, f.le));
    case 4:
      return BigInt(v.getUint32(f.offset, f.le));
    case 8:
      return v.getBigUint64(f.offset, f.le);
  }
}

/** Writes `value` truncated to the field width (two's complement for negative values). */
export function writeField(b: Uint8Array, f: Field, value: bigint): void {
  if (f.offset + f.width > b.length) return;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const masked = BigInt.asUintN(8 * f.width, value);
  switch (f.width) {
    case 1:
      b[f.offset] = Number(masked);
      break;
    case 2:
      v.setUint16(f.offset, Number(masked), f.le);
      break;
    case 4:
      v.setUint32(f.offset, Number(masked), f.le);
      break;
    case 8:
      v.setBigUint64(f.offset, masked, f.le);
      break;
  }
}

export function analyze(format: FormatName, b: Uint8Array): Structure {
  switch (format) {
    case 'elf':
      return elfStructure(b);
    case 'dfuse':
      return dfuseStructure(b);
    case 'dfu':
      return dfuStructure(b);
    case 'ihex':
    case 'srec':
      return textStructure(format, b);
    case 'bin':
      return { fields: [], boundaries: finish([0, 1, 4, 5, 15, 16, 17, b.length - 16, b.length - 5, b.length - 1], b.length), crc: false, records: [] };
  }
}

function finish(points: number[], length: number): number[] {
  return [...new Set(points.filter((p) => Number.isInteger(p) && p >= 0 && p <= length))].sort((x, y) => x - y);
}

// ---------------------------------------------------------------------------------------------------
// ELF (gABI "ELF Header", "Program Header", "Sections", "Symbol Table").

function elfStructure(b: Uint8Array): Structure {
  const fields: Field[] = [];
  const points: number[] = [0, 4, 5, 6, 7, 16, b.length];
  const out = (): Structure => ({ fields, boundaries: finish(points, b.length), crc: false, records: [] });
  if (b.length < 52 || b[4] === undefined) return out();
  const is64 = b[4] === 2;
  const le = b[5] !== 2;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const word = is64 ? 8 : 4;
  const rd = (off: number, w: number): number => {
    if (off + w > b.length) return -1;
    if (w === 1) return b[off]!;
    if (w === 2) return v.getUint16(off, le);
    if (w === 4) return v.getUint32(off, le);
    const x = v.getBigUint64(off, le);
    return x > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(x);
  };
  const add = (name: string, offset: number, width: 1 | 2 | 4 | 8): void => {
    if (offset + width <= b.length) fields.push({ name, offset, width, le });
  };
  // [name, ELF32 offset, ELF64 offset, natural width: 0 = word]
  const ehdr: [string, number, number, 0 | 2 | 4][] = [
    ['e_type', 16, 16, 2],
    ['e_machine', 18, 18, 2],
    ['e_entry', 24, 24, 0],
    ['e_phoff', 28, 32, 0],
    ['e_shoff', 32, 40, 0],
    ['e_ehsize', 40, 52, 2],
    ['e_phentsize', 42, 54, 2],
    ['e_phnum', 44, 56, 2],
    ['e_shentsize', 46, 58, 2],
    ['e_shnum', 48, 60, 2],
    ['e_shstrndx', 50, 62, 2],
  ];
  const at: Record<string, number> = {};
  for (const [name, o32, o64, w] of ehdr) {
    const width = w === 0 ? (word as 4 | 8) : w;
    const off = is64 ? o64 : o32;
    add(name, off, width);
    at[name] = rd(off, width);
  }
  const ehsize = is64 ? 64 : 52;
  points.push(ehsize);

  const phoff = at.e_phoff!;
  const phentsize = at.e_phentsize!;
  const phnum = at.e_phnum!;
  if (phoff > 0 && phentsize > 0 && phnum > 0 && phnum < 4096) {
    points.push(phoff, phoff + phnum * phentsize);
    for (let i = 0; i < phnum; i++) {
      const base = phoff + i * phentsize;
      if (base + phentsize > b.length) break;
      points.push(base);
      // ELF32: p_type 0, p_offset 4, p_vaddr 8, p_paddr 12, p_filesz 16, p_memsz 20; ELF64: 0, 8, 16, 24, 32, 40.
      const off = is64 ? [8, 24, 32, 40] : [4, 12, 16, 20];
      add(`segment ${i} p_type`, base, 4);
      add(`segment ${i} p_offset`, base + off[0]!, word as 4 | 8);
      add(`segment ${i} p_paddr`, base + off[1]!, word as 4 | 8);
      add(`segment ${i} p_filesz`, base + off[2]!, word as 4 | 8);
      add(`segment ${i} p_memsz`, base + off[3]!, word as 4 | 8);
      const pOffset = rd(base + off[0]!, word);
      const pFilesz = rd(base + off[2]!, word);
      if (pOffset >= 0 && pFilesz >= 0) points.push(pOffset, pOffset + pFilesz);
    }
  }

  const shoff = at.e_shoff!;
  const shentsize = at.e_shentsize!;
  const shnum = at.e_shnum!;
  if (shoff > 0 && shentsize > 0 && shnum > 0 && shnum < 4096) {
    points.push(shoff, shoff + shnum * shentsize);
    // ELF32: sh_name 0, sh_type 4, sh_flags 8, sh_addr 12, sh_offset 16, sh_size 20, sh_link 24, sh_info 28, sh_entsize 36;
    // ELF64: 0, 4, 8, 16, 24, 32, 40, 44, 56.
    const off = is64
      ? { flags: 8, addr: 16, offset: 24, size: 32, link: 40, info: 44, entsize: 56 }
      : { flags: 8, addr: 12, offset: 16, size: 20, link: 24, info: 28, entsize: 36 };
    for (let i = 0; i < shnum; i++) {
      const base = shoff + i * shentsize;
      if (base + shentsize > b.length) break;
      points.push(base);
      add(`section ${i} sh_name`, base, 4);
      add(`section ${i} sh_type`, base + 4, 4);
      add(`section ${i} sh_flags`, base + off.flags, word as 4 | 8);
      add(`section ${i} sh_addr`, base + off.addr, word as 4 | 8);
      add(`section ${i} sh_offset`, base + off.offset, word as 4 | 8);
      add(`section ${i} sh_size`, base + off.size, word as 4 | 8);
      add(`section ${i} sh_link`, base + off.link, 4);
      const type = rd(base + 4, 4);
      const sOffset = rd(base + off.offset, word);
      const sSize = rd(base + off.size, word);
      if (type !== 8 && sOffset >= 0 && sSize >= 0) points.push(sOffset, sOffset + sSize);
      if (i === 0) {
        // Section 0 holds the extended e_shnum / e_shstrndx / e_phnum.
        add('section 0 sh_info', base + off.info, 4);
      }
      if (type === 2) {
        // SHT_SYMTAB: its entry size and the first symbols' name and section index fields.
        add(`section ${i} sh_entsize`, base + off.entsize, word as 4 | 8);
        const symsize = is64 ? 24 : 16;
        for (let s = 1; s <= 3 && sOffset >= 0 && (s + 1) * symsize <= sSize; s++) {
          const sym = sOffset + s * symsize;
          add(`symbol ${s} st_name`, sym, 4);
          add(`symbol ${s} st_shndx`, sym + (is64 ? 6 : 14), 2);
        }
      }
    }
  }
  return out();
}

// ---------------------------------------------------------------------------------------------------
// DfuSe (UM0391) and the DFU suffix (DFU 1.1 appendix B).

function suffixFields(b: Uint8Array, fields: Field[], points: number[]): void {
  const n = b.length;
  if (n < 16) return;
  fields.push({ name: 'suffix bcdDFU', offset: n - 10, width: 2, le: true });
  fields.push({ name: 'suffix ucDfuSignature', offset: n - 8, width: 2, le: true });
  fields.push({ name: 'suffix bLength', offset: n - 5, width: 1, le: true });
  fields.push({ name: 'suffix dwCRC', offset: n - 4, width: 4, le: true });
  points.push(n - 16, n - 10, n - 8, n - 5, n - 4, n - b[n - 5]!);
}

function dfuseStructure(b: Uint8Array): Structure {
  const fields: Field[] = [];
  const points = [0, 5, 6, 10, 11, b.length];
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u32 = (o: number): number => (o + 4 <= b.length ? v.getUint32(o, true) : -1);
  fields.push({ name: 'prefix bVersion', offset: 5, width: 1, le: true });
  fields.push({ name: 'prefix DFUImageSize', offset: 6, width: 4, le: true });
  fields.push({ name: 'prefix bTargets', offset: 10, width: 1, le: true });
  const targets = b[10] ?? 0;
  const end = b.length - 16;
  let p = 11;
  for (let t = 0; t < targets && p + 274 <= end; t++) {
    points.push(p, p + 6, p + 7, p + 11, p + 266, p + 270, p + 274);
    fields.push({ name: `target ${t} bAlternateSetting`, offset: p + 6, width: 1, le: true });
    fields.push({ name: `target ${t} bTargetNamed`, offset: p + 7, width: 4, le: true });
    fields.push({ name: `target ${t} dwTargetSize`, offset: p + 266, width: 4, le: true });
    fields.push({ name: `target ${t} dwNbElements`, offset: p + 270, width: 4, le: true });
    const count = u32(p + 270);
    p += 274;
    let prev: { address: number; size: number } | undefined;
    for (let e = 0; e < count && p + 8 <= end; e++) {
      const size = u32(p + 4);
      points.push(p, p + 4, p + 8, p + 8 + size);
      // Overlapping the previous element: same start, and its last byte.
      const extra = prev === undefined ? [] : [BigInt(prev.address), BigInt(prev.address + Math.max(0, prev.size - 1))];
      fields.push({ name: `target ${t} element ${e} dwElementAddress`, offset: p, width: 4, le: true, extra });
      prev = { address: u32(p), size };
      fields.push({ name: `target ${t} element ${e} dwElementSize`, offset: p + 4, width: 4, le: true });
      if (size < 0) break;
      p += 8 + size;
    }
  }
  suffixFields(b, fields, points);
  return { fields, boundaries: finish(points, b.length), crc: true, records: [] };
}

function dfuStructure(b: Uint8Array): Structure {
  const fields: Field[] = [];
  const points = [0, 5, b.length];
  suffixFields(b, fields, points);
  return { fields, boundaries: finish(points, b.length), crc: true, records: [] };
}

// ---------------------------------------------------------------------------------------------------
// Text records.

const HEXV = (c: number | undefined): number => {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
};

/** Byte value of the two hex digits at `i`, or -1. */
export function hexAt(b: Uint8Array, i: number): number {
  const h = HEXV(b[i]);
  const l = HEXV(b[i + 1]);
  return h < 0 || l < 0 ? -1 : (h << 4) | l;
}

const SREC_ADDRESS_BYTES = [2, 2, 3, 4, 0, 2, 3, 4, 3, 2];

export function textRecords(format: 'ihex' | 'srec', b: Uint8Array): TextRecord[] {
  const out: TextRecord[] = [];
  let p = 0;
  let line = 1;
  while (p < b.length) {
    let e = p;
    while (e < b.length && b[e] !== 0x0a && b[e] !== 0x0d) e++;
    if (e > p) {
      const r: TextRecord = { line, start: p, end: e, type: -1, countAt: p + 1, addressAt: p + 3, addressDigits: 4, dataAt: p + 9, checksumAt: e - 2 };
      if (format === 'ihex' && b[p] === 0x3a && e - p >= 11) {
        r.type = hexAt(b, p + 7);
      } else if (format === 'srec' && b[p] === 0x53 && e - p >= 6) {
        const t = b[p + 1]! - 0x30;
        const w = SREC_ADDRESS_BYTES[t] ?? 0;
        r.type = t >= 0 && t <= 9 ? t : -1;
        r.countAt = p + 2;
        r.addressAt = p + 4;
        r.addressDigits = 2 * w;
        r.dataAt = p + 4 + 2 * w;
      }
      out.push(r);
    }
    if (b[e] === 0x0d && b[e + 1] === 0x0a) e++;
    p = e + 1;
    line++;
  }
  return out;
}

function textStructure(format: 'ihex' | 'srec', b: Uint8Array): Structure {
  const records = textRecords(format, b);
  const points = [0, b.length];
  for (const r of records) points.push(r.start, r.start + 1, r.start + 2, r.addressAt, r.dataAt, r.checksumAt, r.end - 1, r.end, r.end + 1);
  return { fields: [], boundaries: finish(points, b.length), crc: false, records };
}

/**
 * Recomputes the checksum of the record at [start, end): Intel HEX two's complement of the byte sum,
 * S-record ones' complement; the checksum is the last two digits of the line, whatever the count says.
 */
export function resealRecord(format: 'ihex' | 'srec', b: Uint8Array, start: number, end: number): void {
  const first = format === 'ihex' ? start + 1 : start + 2;
  const cs = end - 2;
  if (cs < first) return;
  let sum = 0;
  for (let i = first; i + 2 <= cs; i += 2) {
    const v = hexAt(b, i);
    if (v < 0) return;
    sum += v;
  }
  const value = format === 'ihex' ? -sum & 0xff : ~sum & 0xff;
  const digits = '0123456789ABCDEF';
  b[cs] = digits.charCodeAt(value >> 4);
  b[cs + 1] = digits.charCodeAt(value & 15);
}
