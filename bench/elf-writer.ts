/**
 * A small ELF32 little-endian ARM executable writer for benchmark inputs: what arm-none-eabi-ld makes of a
 * Cortex-M program, reduced to its shape. Sections with contents are laid out in the given order after the
 * program headers; each PT_LOAD covers one or more sections by file offset, with its own load address (so
 * `.data` can run from RAM and be stored in flash, LMA != VMA); `.bss`-style sections take no file space;
 * then .symtab, .strtab, .shstrtab and the section header table. Field offsets follow the gABI tables.
 *
 * It writes no relocations, no debug sections and no notes: none of that reaches an image.
 */

export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_NOBITS = 8;
export const SHF_WRITE = 0x1;
export const SHF_ALLOC = 0x2;
export const SHF_EXECINSTR = 0x4;
const PT_LOAD = 1;
const EM_ARM = 40;
const ET_EXEC = 2;

export interface ElfSectionSpec {
  name: string;
  type?: number;
  flags: number;
  /** Run address (VMA). */
  addr: number;
  /** Contents; for SHT_NOBITS give `size` instead. */
  data?: Uint8Array;
  size?: number;
  align?: number;
}

export interface ElfSegmentSpec {
  /** Names of the sections this PT_LOAD covers, contiguous in the file. */
  sections: string[];
  /** Load address (p_paddr); defaults to the first section's VMA. */
  paddr?: number;
  flags: number;
}

export interface ElfSymbolSpec {
  name: string;
  value: number;
  size?: number;
  /** Section name, or undefined for SHN_ABS. */
  section?: string;
  /** STT_FUNC 2, STT_OBJECT 1, STT_NOTYPE 0. */
  type?: number;
  global?: boolean;
}

export interface ElfSpec {
  entry: number;
  sections: ElfSectionSpec[];
  segments: ElfSegmentSpec[];
  symbols?: ElfSymbolSpec[];
}

class Strtab {
  private parts: Uint8Array[] = [new Uint8Array(1)];
  private size = 1;
  private readonly index = new Map<string, number>();

  add(s: string): number {
    const known = this.index.get(s);
    if (known !== undefined) return known;
    const at = this.size;
    const b = new TextEncoder().encode(`${s}\0`);
    this.parts.push(b);
    this.size += b.length;
    this.index.set(s, at);
    return at;
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

const align = (n: number, a: number): number => Math.ceil(n / a) * a;

export function writeElf32(spec: ElfSpec): Uint8Array {
  const EHSIZE = 52;
  const PHENT = 32;
  const SHENT = 40;
  const shstr = new Strtab();
  const str = new Strtab();

  // File layout of the content sections.
  let off = EHSIZE + PHENT * spec.segments.length;
  const placed = spec.sections.map((s) => {
    const type = s.type ?? SHT_PROGBITS;
    const size = type === SHT_NOBITS ? (s.size ?? 0) : (s.data?.length ?? 0);
    const a = s.align ?? 4;
    off = align(off, a);
    const at = off;
    if (type !== SHT_NOBITS) off += size;
    return { ...s, type, size, offset: at, align: a };
  });
  const sectionIndex = new Map(placed.map((s, i) => [s.name, i + 1]));

  // .symtab: the null symbol, a section symbol per section (local), then the given symbols (locals first).
  const symbols = [...(spec.symbols ?? [])].sort((a, b) => Number(a.global === true) - Number(b.global === true));
  const firstGlobal = 1 + placed.length + symbols.filter((s) => s.global !== true).length;
  const symtab = new Uint8Array(16 * (1 + placed.length + symbols.length));
  const sv = new DataView(symtab.buffer);
  placed.forEach((s, i) => {
    const o = 16 * (1 + i);
    sv.setUint32(o + 4, s.addr, true);
    symtab[o + 12] = 3; // STB_LOCAL, STT_SECTION
    sv.setUint16(o + 14, i + 1, true);
  });
  symbols.forEach((s, i) => {
    const o = 16 * (1 + placed.length + i);
    sv.setUint32(o, str.add(s.name), true);
    sv.setUint32(o + 4, s.value, true);
    sv.setUint32(o + 8, s.size ?? 0, true);
    symtab[o + 12] = ((s.global === true ? 1 : 0) << 4) | (s.type ?? 0);
    sv.setUint16(o + 14, s.section === undefined ? 0xfff1 : (sectionIndex.get(s.section) ?? 0), true);
  });
  const strtab = str.bytes();
  for (const s of placed) shstr.add(s.name);
  for (const n of ['.symtab', '.strtab', '.shstrtab']) shstr.add(n);
  const shstrtab = shstr.bytes();

  const symtabOff = align(off, 4);
  const strtabOff = symtabOff + symtab.length;
  const shstrtabOff = strtabOff + strtab.length;
  const shoff = align(shstrtabOff + shstrtab.length, 4);
  const shnum = 1 + placed.length + 3;
  const total = shoff + SHENT * shnum;

  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  // e_ident: magic, ELFCLASS32, ELFDATA2LSB, EV_CURRENT.
  out.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
  v.setUint16(16, ET_EXEC, true);
  v.setUint16(18, EM_ARM, true);
  v.setUint32(20, 1, true);
  v.setUint32(24, spec.entry, true);
  v.setUint32(28, EHSIZE, true);
  v.setUint32(32, shoff, true);
  v.setUint32(36, 0x05000200, true); // EF_ARM_EABI_VER5 | EF_ARM_ABI_FLOAT_SOFT
  v.setUint16(40, EHSIZE, true);
  v.setUint16(42, PHENT, true);
  v.setUint16(44, spec.segments.length, true);
  v.setUint16(46, SHENT, true);
  v.setUint16(48, shnum, true);
  v.setUint16(50, shnum - 1, true);

  spec.segments.forEach((seg, i) => {
    const secs = seg.sections.map((n) => {
      const s = placed.find((p) => p.name === n);
      if (s === undefined) throw new Error(`segment ${i}: no section ${n}`);
      return s;
    });
    const first = secs[0]!;
    const fileEnd = Math.max(...secs.map((s) => s.offset + (s.type === SHT_NOBITS ? 0 : s.size)));
    const memEnd = Math.max(...secs.map((s) => s.addr + s.size));
    const o = EHSIZE + PHENT * i;
    v.setUint32(o, PT_LOAD, true);
    v.setUint32(o + 4, first.offset, true);
    v.setUint32(o + 8, first.addr, true);
    v.setUint32(o + 12, seg.paddr ?? first.addr, true);
    v.setUint32(o + 16, fileEnd - first.offset, true);
    v.setUint32(o + 20, memEnd - first.addr, true);
    v.setUint32(o + 24, seg.flags, true);
    v.setUint32(o + 28, 4, true);
  });

  for (const s of placed) if (s.data !== undefined && s.type !== SHT_NOBITS) out.set(s.data, s.offset);
  out.set(symtab, symtabOff);
  out.set(strtab, strtabOff);
  out.set(shstrtab, shstrtabOff);

  const shdr = (i: number, f: { name: string; type: number; flags?: number; addr?: number; offset: number; size: number; link?: number; info?: number; align: number; entsize?: number }): void => {
    const o = shoff + SHENT * i;
    v.setUint32(o, shstr.add(f.name), true);
    v.setUint32(o + 4, f.type, true);
    v.setUint32(o + 8, f.flags ?? 0, true);
    v.setUint32(o + 12, f.addr ?? 0, true);
    v.setUint32(o + 16, f.offset, true);
    v.setUint32(o + 20, f.size, true);
    v.setUint32(o + 24, f.link ?? 0, true);
    v.setUint32(o + 28, f.info ?? 0, true);
    v.setUint32(o + 32, f.align, true);
    v.setUint32(o + 36, f.entsize ?? 0, true);
  };
  placed.forEach((s, i) => shdr(i + 1, { name: s.name, type: s.type, flags: s.flags, addr: s.addr, offset: s.offset, size: s.size, align: s.align }));
  const base = 1 + placed.length;
  shdr(base, { name: '.symtab', type: SHT_SYMTAB, offset: symtabOff, size: symtab.length, link: base + 1, info: firstGlobal, align: 4, entsize: 16 });
  shdr(base + 1, { name: '.strtab', type: SHT_STRTAB, offset: strtabOff, size: strtab.length, align: 1 });
  shdr(base + 2, { name: '.shstrtab', type: SHT_STRTAB, offset: shstrtabOff, size: shstrtab.length, align: 1 });
  return out;
}

/** xorshift32 fill: deterministic, and fast enough for megabytes. */
export function pseudoRandom(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x;
    out[i + 1] = x >>> 8;
    out[i + 2] = x >>> 16;
    out[i + 3] = x >>> 24;
  }
  return out;
}

export interface CortexMElfSpec {
  /** Flash address of the vector table. */
  flash: number;
  /** Bytes the image places in flash: vector table + .text + .rodata + the load image of .data. */
  flashBytes: number;
  /** Run address of .data and .bss. */
  ram: number;
  /** Initial stack pointer (vector table word 0). */
  stack: number;
  seed: number;
}

/**
 * One core's application as arm-none-eabi-ld lays it out: a 0x200-byte vector table (SP, Thumb reset handler
 * into .text), .text, 64 KiB of .rodata, 32 KiB of .data run from RAM and stored after .rodata (LMA != VMA),
 * 16 KiB of .bss, 2000 function symbols. Content is pseudo-random from `seed`; `flashBytes` of flash in all.
 */
export function writeCortexMElf(spec: CortexMElfSpec): Uint8Array {
  const vectors = pseudoRandom(0x200, spec.seed);
  const rodata = pseudoRandom(64 * 1024, spec.seed + 1);
  const data = pseudoRandom(32 * 1024, spec.seed + 2);
  const textBytes = spec.flashBytes - vectors.length - rodata.length - data.length;
  if (textBytes <= 0) throw new Error(`writeCortexMElf: ${spec.flashBytes} bytes of flash is too small`);
  const text = pseudoRandom(textBytes, spec.seed + 3);
  const textAddr = spec.flash + vectors.length;
  const rodataAddr = textAddr + textBytes;
  const dataLma = rodataAddr + rodata.length;
  const dv = new DataView(vectors.buffer);
  dv.setUint32(0, spec.stack, true);
  dv.setUint32(4, (textAddr + 1) | 1, true);
  const symbols: ElfSymbolSpec[] = [];
  const step = Math.max(4, Math.floor(textBytes / 2000) & ~3);
  for (let i = 0; i < 2000 && i * step < textBytes; i++) {
    symbols.push({ name: `fn_${i.toString(16).padStart(4, '0')}`, value: (textAddr + i * step) | 1, size: step, section: '.text', type: 2, global: i % 3 !== 0 });
  }
  symbols.push({ name: 'Reset_Handler', value: textAddr | 1, size: 64, section: '.text', type: 2, global: true });
  symbols.push({ name: '_sidata', value: dataLma, section: '.rodata', global: true });
  return writeElf32({
    entry: textAddr | 1,
    sections: [
      { name: '.isr_vector', flags: SHF_ALLOC, addr: spec.flash, data: vectors },
      { name: '.text', flags: SHF_ALLOC | SHF_EXECINSTR, addr: textAddr, data: text },
      { name: '.rodata', flags: SHF_ALLOC, addr: rodataAddr, data: rodata },
      { name: '.data', flags: SHF_ALLOC | SHF_WRITE, addr: spec.ram, data },
      { name: '.bss', type: SHT_NOBITS, flags: SHF_ALLOC | SHF_WRITE, addr: spec.ram + data.length, size: 16 * 1024 },
    ],
    segments: [
      { sections: ['.isr_vector', '.text', '.rodata'], flags: 5 },
      { sections: ['.data', '.bss'], paddr: dataLma, flags: 6 },
    ],
    symbols,
  });
}
