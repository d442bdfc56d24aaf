/**
 * ELF reader (System V gABI "Object File Format": ELF32 and ELF64, either byte order) and ELF → MemoryImage.
 *
 * Bytes land where `objcopy -O binary` puts them, because that is what every STM32 flow ends up flashing:
 * each SHF_ALLOC section with contents goes to its load address (LMA), taken from the PT_LOAD segment that holds
 * it. So `.data` run from RAM lands at its flash copy, ITCM code stored in flash lands in flash, and `.bss`
 * (SHT_NOBITS) and segments with p_filesz 0 produce nothing. Files without section headers fall back to the
 * PT_LOAD segments (p_paddr, p_filesz).
 *
 * Section view and segment view can differ: padding between sections inside a PT_LOAD is written by loaders
 * that follow program headers (OpenOCD, pyOCD) and left out by objcopy; a section outside every PT_LOAD is
 * written by objcopy only. Both are reported, as notes and as `viewDifferences`. So is a load address less
 * aligned than its section (ld does not align AT> load addresses).
 *
 * Where a section's file offset and its sh_addr disagree about its place in the segment, the LMA follows the
 * file offset, as in binutils, not sh_addr - p_vaddr + p_paddr (see placeLoads).
 *
 * Every field is read through ByteReader, and every table and data range is checked against the file size
 * before it is read or looped over: a lying count or offset is an `ELF_...` error, never a huge allocation.
 */
import { ByteReader } from '../core/bytes.ts';
import { FwError } from '../core/errors.ts';
import { formatRange, hex32, hexN } from '../core/format.ts';
import type { Note } from '../core/notes.ts';
import { ADDRESS_LIMIT } from '../core/range.ts';
import { firstOverlap, MemoryImage, overlapError } from '../image/memory-image.ts';
import type { Decoded, DecodeOptions } from './types.ts';

// gABI constants used here (names as in the spec).
export const ET_REL = 1;
export const EM_NONE = 0;
export const PT_LOAD = 1;
export const PT_TLS = 7;
export const SHT_NULL = 0;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_NOBITS = 8;
export const SHT_SYMTAB_SHNDX = 18;
export const SHF_ALLOC = 0x2;
export const SHF_TLS = 0x400;
const SHN_UNDEF = 0;
const SHN_XINDEX = 0xffff;
const PN_XNUM = 0xffff;
const STB_LOCAL = 0;

export interface ElfSegment {
  index: number;
  type: number;
  flags: number;
  offset: number;
  vaddr: number;
  paddr: number;
  filesz: number;
  memsz: number;
  align: number;
}

export interface ElfSection {
  index: number;
  name: string;
  type: number;
  flags: number;
  /** sh_addr: the run address (VMA). */
  addr: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
}

export interface ElfSymbol {
  name: string;
  value: number;
  size: number;
  /** STT_* (low 4 bits of st_info). */
  type: number;
  /** STB_* (high 4 bits of st_info). */
  bind: number;
  other: number;
  /** Section index, with SHN_XINDEX resolved through SHT_SYMTAB_SHNDX when the file has one. */
  shndx: number;
}

export interface ElfFile {
  class: 32 | 64;
  endian: 'little' | 'big';
  osabi: number;
  type: number;
  machine: number;
  flags: number;
  entry: number;
  /** Index of the section name table (resolved through section 0 when e_shstrndx is SHN_XINDEX); 0 when none. */
  shstrndx: number;
  segments: ElfSegment[];
  sections: ElfSection[];
  /** Entries of `.symtab` (index 0, the null symbol, included so indices match the file). */
  symbols: ElfSymbol[];
  /** A symbol by name; a global or weak definition wins over a local one of the same name. */
  findSymbol(name: string): ElfSymbol | undefined;
  findSection(name: string): ElfSection | undefined;
}

/** One range of bytes placed in the image: a section, or a PT_LOAD segment in a file without section headers. */
export interface LoadedSection {
  kind: 'section' | 'segment';
  /** Section name, or `segment N`. */
  name: string;
  /** Section or segment index. */
  index: number;
  vma: number;
  lma: number;
  size: number;
  /** File offset of the bytes. */
  offset: number;
  /** The PT_LOAD segment that gave the LMA; undefined when none holds the section (LMA = VMA then). */
  segment?: number;
}

/** Where the section view (what objcopy writes) and the segment view (what a PT_LOAD loader writes) differ. */
export interface ViewDifference {
  /**
   * `segment-only`: bytes of a PT_LOAD's file image that no section covers (padding between sections); objcopy
   * leaves them out, a segment loader writes them. `section-only`: a loaded section outside every PT_LOAD;
   * objcopy writes it at its VMA, a segment loader does not write it.
   */
  kind: 'segment-only' | 'section-only';
  /** Load addresses, half-open. */
  start: number;
  end: number;
  segment?: number;
  /** `section-only`: the section. */
  section?: string;
  /** `segment-only`: the sections on either side, when there are any. */
  after?: string;
  before?: string;
  /** The value of every byte in the range, when they are all the same. */
  fill?: number;
}

export interface ElfDecoded extends Decoded {
  elf: ElfFile;
  loads: LoadedSection[];
  viewDifferences: ViewDifference[];
}

// ---------------------------------------------------------------------------------------------------------
// Struct layouts, [offset, width] per field: gABI "ELF Header", "Program Header", "Sections", "Symbol Table".

type Layout<K extends string> = { readonly size: number; readonly fields: Readonly<Record<K, readonly [number, 1 | 2 | 4 | 8]>> };

const EHDR = {
  32: {
    size: 52,
    fields: {
      e_type: [16, 2], e_machine: [18, 2], e_version: [20, 4], e_entry: [24, 4], e_phoff: [28, 4], e_shoff: [32, 4], e_flags: [36, 4],
      e_phentsize: [42, 2], e_phnum: [44, 2], e_shentsize: [46, 2], e_shnum: [48, 2], e_shstrndx: [50, 2],
    },
  },
  64: {
    size: 64,
    fields: {
      e_type: [16, 2], e_machine: [18, 2], e_version: [20, 4], e_entry: [24, 8], e_phoff: [32, 8], e_shoff: [40, 8], e_flags: [48, 4],
      e_phentsize: [54, 2], e_phnum: [56, 2], e_shentsize: [58, 2], e_shnum: [60, 2], e_shstrndx: [62, 2],
    },
  },
} as const satisfies Record<32 | 64, Layout<string>>;

const PHDR = {
  32: {
    size: 32,
    fields: { p_type: [0, 4], p_offset: [4, 4], p_vaddr: [8, 4], p_paddr: [12, 4], p_filesz: [16, 4], p_memsz: [20, 4], p_flags: [24, 4], p_align: [28, 4] },
  },
  64: {
    size: 56,
    fields: { p_type: [0, 4], p_flags: [4, 4], p_offset: [8, 8], p_vaddr: [16, 8], p_paddr: [24, 8], p_filesz: [32, 8], p_memsz: [40, 8], p_align: [48, 8] },
  },
} as const satisfies Record<32 | 64, Layout<string>>;

const SHDR = {
  32: {
    size: 40,
    fields: {
      sh_name: [0, 4], sh_type: [4, 4], sh_flags: [8, 4], sh_addr: [12, 4], sh_offset: [16, 4], sh_size: [20, 4], sh_link: [24, 4],
      sh_info: [28, 4], sh_addralign: [32, 4], sh_entsize: [36, 4],
    },
  },
  64: {
    size: 64,
    fields: {
      sh_name: [0, 4], sh_type: [4, 4], sh_flags: [8, 8], sh_addr: [16, 8], sh_offset: [24, 8], sh_size: [32, 8], sh_link: [40, 4],
      sh_info: [44, 4], sh_addralign: [48, 8], sh_entsize: [56, 8],
    },
  },
} as const satisfies Record<32 | 64, Layout<string>>;

const SYM = {
  32: { size: 16, fields: { st_name: [0, 4], st_value: [4, 4], st_size: [8, 4], st_info: [12, 1], st_other: [13, 1], st_shndx: [14, 2] } },
  64: { size: 24, fields: { st_name: [0, 4], st_info: [4, 1], st_other: [5, 1], st_shndx: [6, 2], st_value: [8, 8], st_size: [16, 8] } },
} as const satisfies Record<32 | 64, Layout<string>>;

/** `(offset 0x00000034)`: every error message names the file offset it is about. */
function atOffset(offset: number): string {
  return `(offset ${hex32(offset)})`;
}

/** File offset of a field of the struct at `base`. */
function fieldAt<K extends string>(base: number, layout: Layout<K>, key: K): number {
  return base + layout.fields[key][0];
}

/** One struct at `base`. ELF64 values above 2^53 fail in ByteReader.u64 as ELF_VALUE_RANGE, naming the field. */
function readStruct<K extends string>(r: ByteReader, le: boolean, base: number, layout: Layout<K>, what: string): Record<K, number> {
  r.need(base, layout.size, what);
  const out = {} as Record<K, number>;
  for (const key of Object.keys(layout.fields) as K[]) {
    const [at, width] = layout.fields[key];
    const field = `${what} ${key} ${atOffset(base + at)}`;
    if (width === 1) out[key] = r.u8(base + at, field);
    else if (width === 2) out[key] = r.u16(base + at, le, field);
    else if (width === 4) out[key] = r.u32(base + at, le, field);
    else out[key] = r.u64(base + at, le, field);
  }
  return out;
}

/** Throws `code` unless [offset, offset+size) lies inside the file. */
function checkInFile(r: ByteReader, code: string, what: string, offset: number, size: number): void {
  if (offset + size > r.length) {
    throw r.error(code, `${what} at offset ${hex32(offset)} (+${size} bytes) lies outside the file (${r.length} bytes)`, offset);
  }
}

const utf8 = new TextDecoder('utf-8');

/** The NUL-terminated string at index `at` of a string table (gABI "String Table"); `from` is the field holding `at`. */
function tableString(r: ByteReader, table: ElfSection, tableName: string, at: number, what: string, from: number): string {
  if (at >= table.size) {
    throw r.error('ELF_NAME_RANGE', `${what} name ${atOffset(from)} is ${hex32(at)}, outside ${tableName} (${table.size} bytes)`, from);
  }
  const bytes = r.bytes.subarray(table.offset + at, table.offset + table.size);
  const nul = bytes.indexOf(0);
  if (nul < 0) {
    throw r.error('ELF_NAME_RANGE', `${what} name ${atOffset(from)} starts at ${hex32(at)} in ${tableName} and runs past its end without a NUL`, from);
  }
  return utf8.decode(bytes.subarray(0, nul));
}

// ---------------------------------------------------------------------------------------------------------

export function parseElf(bytes: Uint8Array, opts: { file?: string } = {}): ElfFile {
  const r = new ByteReader(bytes, 'ELF', opts.file);
  if (bytes.length < 4 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    const first = [...bytes.subarray(0, 4)].map((b) => hexN(b, 2).slice(2)).join(' ');
    throw r.error('ELF_BAD_MAGIC', `not an ELF file: the bytes at offset ${hex32(0)} are "${first}", not 7F 45 4C 46 ("\\x7FELF")`, 0);
  }
  // e_ident: EI_CLASS at 4, EI_DATA at 5, EI_VERSION at 6, EI_OSABI at 7.
  const ei = r.slice(0, 16, 'ELF identification (e_ident)');
  const cls = ei[4] === 1 ? 32 : ei[4] === 2 ? 64 : undefined;
  if (cls === undefined) throw r.error('ELF_BAD_CLASS', `EI_CLASS ${atOffset(4)} is ${ei[4]}, expected 1 (ELF32) or 2 (ELF64)`, 4);
  if (ei[5] !== 1 && ei[5] !== 2) throw r.error('ELF_BAD_ENCODING', `EI_DATA ${atOffset(5)} is ${ei[5]}, expected 1 (little endian) or 2 (big endian)`, 5);
  if (ei[6] !== 1) throw r.error('ELF_BAD_VERSION', `EI_VERSION ${atOffset(6)} is ${ei[6]}, expected 1 (EV_CURRENT)`, 6);
  const le = ei[5] === 1;
  const ehdr = EHDR[cls];
  const h = readStruct(r, le, 0, ehdr, `ELF${cls} header`);

  // Section header table. Entry 0 holds what does not fit the header (gABI "Sections", "Special Section
  // Indexes"): the section count when e_shnum is 0, the name table index when e_shstrndx is SHN_XINDEX, and
  // the program header count when e_phnum is PN_XNUM. e_shoff 0 means there is no table.
  const shdr = SHDR[cls];
  let shnum = 0;
  let shstrndx = SHN_UNDEF;
  let shstrndxAt = fieldAt(0, ehdr, 'e_shstrndx');
  let phnum = h.e_phnum;
  if (h.e_shoff !== 0) {
    if (h.e_shentsize !== shdr.size) {
      const at = fieldAt(0, ehdr, 'e_shentsize');
      throw r.error('ELF_BAD_ENTSIZE', `e_shentsize ${atOffset(at)} is ${h.e_shentsize}, but ELF${cls} section headers are ${shdr.size} bytes`, at);
    }
    checkInFile(r, 'ELF_SHDRS_OUTSIDE_FILE', 'section header 0', h.e_shoff, shdr.size);
    const s0 = readStruct(r, le, h.e_shoff, shdr, 'section 0');
    shnum = h.e_shnum !== 0 ? h.e_shnum : s0.sh_size;
    shstrndx = h.e_shstrndx;
    if (shstrndx === SHN_XINDEX) {
      shstrndx = s0.sh_link;
      shstrndxAt = fieldAt(h.e_shoff, shdr, 'sh_link');
    }
    if (phnum === PN_XNUM) phnum = s0.sh_info;
    // Checked before the loop below: a lying count cannot make it run long.
    checkInFile(r, 'ELF_SHDRS_OUTSIDE_FILE', `section header table (${shnum} x ${shdr.size} bytes)`, h.e_shoff, shnum * shdr.size);
  }

  const phdr = PHDR[cls];
  const segments: ElfSegment[] = [];
  if (phnum > 0) {
    if (h.e_phentsize !== phdr.size) {
      const at = fieldAt(0, ehdr, 'e_phentsize');
      throw r.error('ELF_BAD_ENTSIZE', `e_phentsize ${atOffset(at)} is ${h.e_phentsize}, but ELF${cls} program headers are ${phdr.size} bytes`, at);
    }
    checkInFile(r, 'ELF_PHDRS_OUTSIDE_FILE', `program header table (${phnum} x ${phdr.size} bytes)`, h.e_phoff, phnum * phdr.size);
    for (let i = 0; i < phnum; i++) {
      const base = h.e_phoff + i * phdr.size;
      const p = readStruct(r, le, base, phdr, `segment ${i}`);
      if (p.p_filesz > 0) checkInFile(r, 'ELF_SEGMENT_OUTSIDE_FILE', `segment ${i} data`, p.p_offset, p.p_filesz);
      // gABI "Program Header": for PT_LOAD, "the p_filesz may not be larger than the p_memsz".
      if (p.p_type === PT_LOAD && p.p_filesz > p.p_memsz) {
        const at = fieldAt(base, phdr, 'p_filesz');
        throw r.error('ELF_SEGMENT_SIZE', `segment ${i} p_filesz ${atOffset(at)} is ${p.p_filesz}, larger than its p_memsz ${p.p_memsz}`, at);
      }
      const { p_type: type, p_flags: flags, p_offset: offset, p_vaddr: vaddr, p_paddr: paddr, p_filesz: filesz, p_memsz: memsz, p_align: align } = p;
      segments.push({ index: i, type, flags, offset, vaddr, paddr, filesz, memsz, align });
    }
  }

  const sections: ElfSection[] = [];
  const nameIndex: number[] = [];
  const headerAt = (i: number): number => h.e_shoff + i * shdr.size;
  for (let i = 0; i < shnum; i++) {
    const s = readStruct(r, le, headerAt(i), shdr, `section ${i}`);
    if (s.sh_type !== SHT_NULL && s.sh_type !== SHT_NOBITS && s.sh_size > 0) {
      checkInFile(r, 'ELF_SECTION_OUTSIDE_FILE', `section ${i} data`, s.sh_offset, s.sh_size);
    }
    nameIndex.push(s.sh_name);
    sections.push({
      index: i,
      name: '',
      type: s.sh_type,
      flags: s.sh_flags,
      addr: s.sh_addr,
      offset: s.sh_offset,
      size: s.sh_size,
      link: s.sh_link,
      info: s.sh_info,
      addralign: s.sh_addralign,
      entsize: s.sh_entsize,
    });
  }
  // Names are indexes into the section that e_shstrndx names; SHN_UNDEF means the file has no names.
  if (shstrndx !== SHN_UNDEF) {
    const strtab = sections[shstrndx];
    const field = `e_shstrndx ${atOffset(shstrndxAt)}`;
    if (strtab === undefined) throw r.error('ELF_SHSTRNDX_RANGE', `${field} is ${shstrndx}, but the file has ${shnum} sections`, shstrndxAt);
    if (strtab.type !== SHT_STRTAB) {
      throw r.error('ELF_SHSTRNDX_RANGE', `${field} names section ${shstrndx}, which is not a string table (sh_type ${strtab.type})`, shstrndxAt);
    }
    for (const s of sections) {
      s.name = tableString(r, strtab, 'the section name table', nameIndex[s.index]!, `section ${s.index}`, fieldAt(headerAt(s.index), shdr, 'sh_name'));
    }
  }

  const symbols = readSymbols(r, le, cls, sections, headerAt);
  return {
    class: cls,
    endian: le ? 'little' : 'big',
    osabi: ei[7]!,
    type: h.e_type,
    machine: h.e_machine,
    flags: h.e_flags,
    entry: h.e_entry,
    shstrndx,
    segments,
    sections,
    symbols,
    findSymbol: (name) => symbols.find((s) => s.name === name && s.bind !== STB_LOCAL) ?? symbols.find((s) => s.name === name),
    findSection: (name) => sections.find((s) => s.name === name),
  };
}

/** `.symtab` (gABI "Symbol Table"): at most one SHT_SYMTAB; its sh_link names the string table of its names. */
function readSymbols(r: ByteReader, le: boolean, cls: 32 | 64, sections: ElfSection[], headerAt: (i: number) => number): ElfSymbol[] {
  const symtab = sections.find((s) => s.type === SHT_SYMTAB);
  if (symtab === undefined) return [];
  const layout = SYM[cls];
  const linkAt = fieldAt(headerAt(symtab.index), SHDR[cls], 'sh_link');
  const strtab = sections[symtab.link];
  if (strtab === undefined || strtab.type !== SHT_STRTAB) {
    const why =
      strtab === undefined ? `the file has ${sections.length} sections` : `section ${symtab.link} is not a string table (sh_type ${strtab.type})`;
    const message = `symbol table ${symtab.name} sh_link ${atOffset(linkAt)} names section ${symtab.link} for its strings, but ${why}`;
    throw r.error('ELF_SYMTAB_LINK', message, linkAt);
  }
  if (symtab.entsize !== layout.size || symtab.size % layout.size !== 0) {
    const at = fieldAt(headerAt(symtab.index), SHDR[cls], 'sh_entsize');
    const sizes = `sh_entsize ${atOffset(at)} is ${symtab.entsize} and sh_size ${symtab.size}`;
    throw r.error('ELF_BAD_ENTSIZE', `symbol table ${symtab.name} ${sizes}, but ELF${cls} symbols are ${layout.size} bytes`, at);
  }
  const count = symtab.size / layout.size;
  // st_shndx SHN_XINDEX: the real index is in the SHT_SYMTAB_SHNDX section linked to this table, one word per symbol.
  const xindex = sections.find((s) => s.type === SHT_SYMTAB_SHNDX && s.link === symtab.index);
  if (xindex !== undefined && xindex.size < 4 * count) {
    const at = fieldAt(headerAt(xindex.index), SHDR[cls], 'sh_size');
    const message = `section ${xindex.index} (SHT_SYMTAB_SHNDX) sh_size ${atOffset(at)} is ${xindex.size}, but ${symtab.name} has ${count} symbols`;
    throw r.error('ELF_SHNDX_TABLE_SIZE', message, at);
  }
  const out: ElfSymbol[] = [];
  for (let i = 0; i < count; i++) {
    const at = symtab.offset + i * layout.size;
    const s = readStruct(r, le, at, layout, `symbol ${i}`);
    let shndx = s.st_shndx;
    if (shndx === SHN_XINDEX && xindex !== undefined) shndx = r.u32(xindex.offset + 4 * i, le, `symbol ${i} extended section index`);
    const name = s.st_name === 0 ? '' : tableString(r, strtab, strtab.name || 'the symbol string table', s.st_name, `symbol ${i}`, at);
    out.push({ name, value: s.st_value, size: s.st_size, type: s.st_info & 0xf, bind: s.st_info >> 4, other: s.st_other, shndx });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------

/**
 * The segment holding a section, as binutils decides it (bfd/elf.c `_bfd_elf_make_section_from_shdr` with
 * ELF_SECTION_IN_SEGMENT, include/elf/internal.h): the section's bytes lie inside the segment's file image and
 * its VMA range inside the segment's memory image. The file offset matters as much as the address: overlays
 * share one VMA and differ only in where their bytes are stored. SHF_TLS sections go through PT_TLS.
 */
function holdingSegment(s: ElfSection, segments: readonly ElfSegment[]): ElfSegment | undefined {
  const wanted = (s.flags & SHF_TLS) !== 0 ? PT_TLS : PT_LOAD;
  const inFile = (p: ElfSegment): boolean => s.offset >= p.offset && s.offset - p.offset + s.size <= p.filesz;
  const inMemory = (p: ElfSegment): boolean => s.addr >= p.vaddr && s.addr - p.vaddr + s.size <= p.memsz;
  return segments.find((p) => p.type === wanted && inFile(p) && inMemory(p));
}

/** Sections that reach the image: SHF_ALLOC with file contents, except the tables the reader itself uses. */
function loadableSections(elf: ElfFile): ElfSection[] {
  // BFD makes no section of the name table, nor of .symtab and its string table, even when they carry SHF_ALLOC
  // (fwupd's synthetic example.elf flags its .shstrtab "AS"), so objcopy never writes them.
  const symtab = elf.sections.find((s) => s.type === SHT_SYMTAB);
  const internal = new Set([elf.shstrndx, symtab?.index, symtab?.link]);
  return elf.sections.filter(
    (s) => (s.flags & SHF_ALLOC) !== 0 && s.type !== SHT_NULL && s.type !== SHT_NOBITS && s.size > 0 && !internal.has(s.index),
  );
}

/** Where each section (or, without section headers, each PT_LOAD segment) goes. */
function placeLoads(elf: ElfFile, allPaddrZero: boolean): LoadedSection[] {
  if (elf.sections.length === 0) {
    // No section headers (the gABI allows it for executables): the program headers are all there is.
    return elf.segments
      .filter((p) => p.type === PT_LOAD && p.filesz > 0)
      .map((p) => ({
        kind: 'segment',
        name: `segment ${p.index}`,
        index: p.index,
        vma: p.vaddr,
        lma: p.paddr,
        size: p.filesz,
        offset: p.offset,
        segment: p.index,
      }));
  }
  return loadableSections(elf).map((s) => {
    const load: LoadedSection = { kind: 'section', name: s.name, index: s.index, vma: s.addr, lma: s.addr, size: s.size, offset: s.offset };
    const p = allPaddrZero ? undefined : holdingSegment(s, elf.segments);
    if (p !== undefined) {
      // From the file offset, not from sh_addr: binutils uses p_paddr + (sh_offset - p_offset) for sections with
      // contents, because "the segment is packed with code from multiple VMAs" while LMAs stay contiguous. A
      // section in no segment keeps LMA = VMA, as in objcopy.
      load.lma = p.paddr + (s.offset - p.offset);
      load.segment = p.index;
    }
    return load;
  });
}

export function decodeElf(bytes: Uint8Array, opts: DecodeOptions = {}): ElfDecoded {
  const file = opts.file;
  const elf = parseElf(bytes, file !== undefined ? { file } : {});
  const r = new ByteReader(bytes, 'ELF', file);
  const location = file !== undefined ? { file } : {};
  const notes: Note[] = [];
  if (elf.type === ET_REL) {
    const at = fieldAt(0, EHDR[elf.class], 'e_type');
    throw r.error('ELF_RELOCATABLE', `e_type ${atOffset(at)} is ET_REL: a relocatable object has no load addresses yet; link it first`, at);
  }
  if (elf.machine === EM_NONE) {
    const message = 'e_machine is EM_NONE (0), as in synthetic test files: loaded as usual (objcopy reads such a file only with -I elf32-little)';
    notes.push({ code: 'ELF_MACHINE_NONE', severity: 'info', message, location });
  }
  // bfd/elf.c: "Some ELF linkers produce binaries with all the program header p_paddr fields zero. If we have
  // such a binary with more than one PT_LOAD header, then leave the section lma equal to vma".
  const loadCount = elf.segments.filter((p) => p.type === PT_LOAD && p.memsz !== 0).length;
  const allPaddrZero = elf.sections.length > 0 && loadCount > 1 && elf.segments.every((p) => p.paddr === 0);
  if (allPaddrZero) {
    const message = 'every p_paddr is 0 in a file with several PT_LOAD segments: sections placed at their VMA, as binutils does';
    notes.push({ code: 'ELF_PADDR_ZERO', severity: 'warning', message, location });
  }

  const loads = placeLoads(elf, allPaddrZero);
  rejectSharedFileBytes(loads, r);
  const sourceOf = (l: LoadedSection): string => `${file !== undefined ? `${file} ` : ''}${l.kind === 'segment' ? l.name : `section ${l.name}`}`;
  const segments = loads.map((l) => {
    if (l.lma + l.size > ADDRESS_LIMIT) {
      throw r.error('ELF_ADDRESS_RANGE', `${sourceOf(l)} (data at offset ${hex32(l.offset)}) loads at ${hex32(l.lma)} (+${l.size} bytes), beyond the 32-bit address space`, l.offset, l.lma);
    }
    return { addr: l.lma, data: bytes.subarray(l.offset, l.offset + l.size), source: sourceOf(l) };
  });
  let image: MemoryImage;
  if (opts.overwrite === true) {
    // Later sections win, in section-header order, as objcopy writes them.
    image = new MemoryImage();
    for (const seg of segments) {
      for (const o of image.add(seg.addr, seg.data, seg.source, { overwrite: true })) {
        const message = `${o.source} overwrites ${o.previousSource} at ${formatRange(o.start, o.end)}`;
        notes.push({ code: 'ELF_LOAD_OVERWRITTEN', severity: 'warning', message, location: { ...location, address: o.start } });
      }
    }
  } else {
    const ov = firstOverlap(segments);
    if (ov !== undefined) {
      const l = loads[ov.later]!;
      let message = overlapError(segments[ov.later]!, segments[ov.earlier]!).message;
      message += `: ${sourceOf(l)} (data at offset ${hex32(l.offset)}); with overwrite the later section wins, as in objcopy`;
      throw new FwError('ELF_LOAD_OVERLAP', message, { ...location, offset: l.offset, address: ov.start });
    }
    image = MemoryImage.fromUnsorted(segments);
  }

  // ld does not align an AT> load address to the section's alignment (image-formats.md §3): start-up code that
  // copies .data word by word from a misaligned LMA faults on Cortex-M0/M0+, and is slow elsewhere.
  for (const l of loads) {
    const align = l.kind === 'section' ? elf.sections[l.index]!.addralign : 1;
    if (l.lma !== l.vma && align > 1 && l.vma % align === 0 && l.lma % align !== 0) {
      const message =
        `section ${l.name} runs at ${hex32(l.vma)} (aligned to ${align}) but is stored at ${hex32(l.lma)}, which is not: ` +
        'copying it word by word from flash faults on Cortex-M0/M0+';
      notes.push({ code: 'ELF_LMA_MISALIGNED', severity: 'warning', message, location: { ...location, address: l.lma } });
    }
  }

  // With every p_paddr 0, a segment loader would write everything near address 0: the warning above says so.
  const viewDifferences = elf.sections.length === 0 || allPaddrZero ? [] : compareViews(bytes, elf, loads);
  for (const d of viewDifferences) notes.push(differenceNote(d, location));
  return { format: 'elf', targets: [{ alt: 0, image }], entry: elf.entry, notes, elf, loads, viewDifferences };
}

/**
 * Two loaded sections whose bytes are the same bytes of the file. A linker never writes that (each section
 * has its own file image), and loading them would multiply the data: six section headers over one 160 KiB
 * block give 960 KiB of image, two thousand give 200 MB. objcopy follows such headers; we refuse them.
 */
function rejectSharedFileBytes(loads: readonly LoadedSection[], r: ByteReader): void {
  const byOffset = loads.filter((l) => l.size > 0).sort((a, b) => a.offset - b.offset);
  let prev: LoadedSection | undefined;
  for (const l of byOffset) {
    if (prev !== undefined && l.offset < prev.offset + prev.size) {
      throw r.error(
        'ELF_SHARED_FILE_BYTES',
        `${l.kind} ${l.name} (offset ${hex32(l.offset)}, ${l.size} bytes) and ${prev.kind} ${prev.name} (offset ${hex32(prev.offset)}, ${prev.size} bytes) ` +
          'load the same bytes of the file at different addresses: no linker writes that; the section headers are corrupt',
        l.offset,
      );
    }
    if (prev === undefined || l.offset + l.size > prev.offset + prev.size) prev = l;
  }
}

/** Section view against segment view: the uncovered parts of each PT_LOAD's file image, then sections in no PT_LOAD. */
function compareViews(bytes: Uint8Array, elf: ElfFile, loads: readonly LoadedSection[]): ViewDifference[] {
  const out: ViewDifference[] = [];
  for (const p of elf.segments) {
    if (p.type !== PT_LOAD || p.filesz === 0) continue;
    // File offsets are what both views share.
    const inside = loads.filter((l) => l.offset >= p.offset && l.offset + l.size <= p.offset + p.filesz).sort((a, b) => a.offset - b.offset);
    let at = p.offset;
    let after: string | undefined;
    const gap = (end: number, before: string | undefined): void => {
      if (end <= at) return;
      const d: ViewDifference = { kind: 'segment-only', start: p.paddr + (at - p.offset), end: p.paddr + (end - p.offset), segment: p.index };
      if (after !== undefined) d.after = after;
      if (before !== undefined) d.before = before;
      const first = bytes[at]!;
      if (bytes.subarray(at, end).every((b) => b === first)) d.fill = first;
      out.push(d);
    };
    for (const l of inside) {
      gap(l.offset, l.name);
      at = Math.max(at, l.offset + l.size);
      after = l.name;
    }
    gap(p.offset + p.filesz, undefined);
  }
  // Without any PT_LOAD there is no segment view to differ from (fwupd's synthetic files have no program headers).
  if (elf.segments.some((p) => p.type === PT_LOAD)) {
    for (const l of loads) if (l.segment === undefined) out.push({ kind: 'section-only', start: l.lma, end: l.lma + l.size, section: l.name });
  }
  return out;
}

function differenceNote(d: ViewDifference, location: { file?: string }): Note {
  const size = `${d.end - d.start} bytes`;
  const range = formatRange(d.start, d.end);
  const where = { ...location, address: d.start };
  if (d.kind === 'section-only') {
    const message =
      `section ${d.section} (${size}) lies in no PT_LOAD segment: placed at its address ${range} as objcopy does, ` +
      'but a loader that follows the program headers does not write it';
    return { code: 'ELF_SECTION_OUTSIDE_SEGMENTS', severity: 'warning', message, location: where };
  }
  const between =
    d.after !== undefined && d.before !== undefined
      ? `between ${d.after} and ${d.before}`
      : d.after !== undefined
        ? `after ${d.after}`
        : d.before !== undefined
          ? `before ${d.before}`
          : 'in a segment without sections';
  const content = d.fill !== undefined ? `all ${hexN(d.fill, 2)}` : 'mixed values';
  const message =
    `segment ${d.segment}: ${size} at ${range} ${between} belong to no section (${content}): left out, as objcopy does; ` +
    'a loader that follows the program headers writes them';
  return { code: 'ELF_SEGMENT_PADDING', severity: 'info', message, location: where };
}
