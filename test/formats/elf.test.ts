/**
 * ELF reader: exact values on the built fixtures (test/fixtures/elf, sources and build.sh in test/fixtures/src),
 * crafted variants of them (test/fixtures/src/elf-patch.ts), malformed inputs with their exact error codes and
 * offsets, and the real ELFs of the corpus checked against the MANIFEST and the .bin files shipped beside them.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { FwError } from '../../src/core/errors.ts';
import { hex32 } from '../../src/core/format.ts';
import { decodeElf, parseElf, PT_LOAD, PT_TLS, SHF_ALLOC, SHF_TLS, SHT_NOBITS, type ElfDecoded } from '../../src/formats/elf.ts';
import type { MemoryImage } from '../../src/image/memory-image.ts';
import { corpusOrSkip, fixturePath, manifestEntries } from '../helpers/corpus.ts';
import { ElfPatch } from '../fixtures/src/elf-patch.ts';

const EM_ARM = 40;
const EM_PPC64 = 21;
const EM_X86_64 = 62;
const ET_EXEC = 2;

function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(fixturePath('elf', name)));
}

function decode(name: string): ElfDecoded {
  return decodeElf(fixture(name), { file: name });
}

function imageOf(d: ElfDecoded): MemoryImage {
  assert.equal(d.targets.length, 1);
  assert.equal(d.targets[0]!.alt, 0);
  return d.targets[0]!.image;
}

function word(image: MemoryImage, addr: number, le = true): number {
  assert.ok(image.covers(addr, addr + 4), `no data at ${hex32(addr)}`);
  const b = image.read(addr, 4);
  return new DataView(b.buffer).getUint32(0, le);
}

function bytesAt(image: MemoryImage, addr: number, n: number): number[] {
  assert.ok(image.covers(addr, addr + n), `no data at ${hex32(addr)}..${hex32(addr + n)}`);
  return [...image.read(addr, n)];
}

/** Load address of a symbol: its VMA translated through the loaded section that holds it. */
function symbolLma(d: ElfDecoded, name: string): number {
  const s = d.elf.findSymbol(name);
  assert.ok(s !== undefined, `no symbol ${name}`);
  const l = d.loads.find((x) => s.value >= x.vma && s.value < x.vma + x.size);
  assert.ok(l !== undefined, `symbol ${name} at ${hex32(s.value)} is in no loaded section`);
  return l.lma + (s.value - l.vma);
}

function load(d: ElfDecoded, name: string): { vma: number; lma: number; size: number; segment: number | undefined } {
  const l = d.loads.find((x) => x.name === name);
  assert.ok(l !== undefined, `section ${name} not loaded`);
  return { vma: l.vma, lma: l.lma, size: l.size, segment: l.segment };
}

function ranges(image: MemoryImage): [number, number][] {
  return image.ranges().map((r) => [r.start, r.end]);
}

/** Asserts an FwError with this code, at this offset, naming the offset in its message. */
function assertError(fn: () => unknown, code: string, offset: number, text?: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof FwError, `expected FwError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.equal(e.location.offset, offset, e.message);
    assert.equal(e.location.file, 'bad.elf');
    assert.ok(e.message.includes(hex32(offset)), `message does not name offset ${hex32(offset)}: ${e.message}`);
    if (text !== undefined) assert.ok(e.message.includes(text), `message lacks "${text}": ${e.message}`);
    return true;
  });
}

const bad = (bytes: Uint8Array): (() => unknown) => () => decodeElf(bytes, { file: 'bad.elf' });

// ---------------------------------------------------------------------------------------------------------

describe('h745_cm7.elf: STM32H745 Cortex-M7, flash bank 1', () => {
  const d = decode('h745_cm7.elf');
  const image = imageOf(d);

  test('header', () => {
    assert.equal(d.elf.class, 32);
    assert.equal(d.elf.endian, 'little');
    assert.equal(d.elf.machine, EM_ARM);
    assert.equal(d.elf.type, ET_EXEC);
    assert.equal(d.elf.flags, 0x05000200);
    assert.equal(d.entry, 0x08000045);
    assert.equal(d.entry, d.elf.findSymbol('Reset_Handler')?.value);
  });

  test('program headers', () => {
    assert.deepEqual(
      d.elf.segments.map((p) => [p.type, p.offset, p.vaddr, p.paddr, p.filesz, p.memsz]),
      [
        [PT_LOAD, 0x1000, 0x08000000, 0x08000000, 0x240d8, 0x240d8],
        [PT_LOAD, 0x26000, 0x24000000, 0x080240d8, 0x10, 0x14],
      ],
    );
  });

  test('section headers and names', () => {
    assert.deepEqual(
      d.elf.sections.map((s) => s.name),
      ['', '.isr_vector', '.text', '.rodata', '.data', '.bss', '.ARM.attributes', '.symtab', '.strtab', '.shstrtab'],
    );
    const bss = d.elf.findSection('.bss')!;
    assert.deepEqual([bss.type, bss.addr, bss.size, bss.flags & SHF_ALLOC], [SHT_NOBITS, 0x24000010, 4, SHF_ALLOC]);
  });

  test('sections land at their LMA; .data from AXI SRAM 0x24000000 lands in flash after .rodata', () => {
    assert.deepEqual(
      d.loads.map((l) => [l.name, l.vma, l.lma, l.size, l.segment]),
      [
        ['.isr_vector', 0x08000000, 0x08000000, 0x40, 0],
        ['.text', 0x08000040, 0x08000040, 0x94, 0],
        ['.rodata', 0x080000d4, 0x080000d4, 0x24004, 0],
        ['.data', 0x24000000, 0x080240d8, 0x10, 1],
      ],
    );
    assert.deepEqual(ranges(image), [[0x08000000, 0x080240e8]]);
    assert.equal(image.byteAt(0x24000000), undefined);
    assert.deepEqual(d.notes, []);
    assert.deepEqual(d.viewDifferences, []);
  });

  test('flash content spans sectors 0 and 1 (128 KiB each)', () => {
    assert.ok(image.size > 128 * 1024);
    assert.ok(image.covers(0x0801fff0, 0x08020010));
  });

  test('vector table: initial SP at the top of AXI SRAM, Thumb reset handler', () => {
    assert.equal(word(image, 0x08000000), 0x24080000);
    assert.equal(word(image, 0x08000000), d.elf.findSymbol('_estack')?.value);
    assert.equal(word(image, 0x08000004), 0x08000045);
    assert.equal(word(image, 0x08000004) & 1, 1);
    assert.equal(word(image, 0x08000008), d.elf.findSymbol('Default_Handler')?.value);
  });

  test('symbols by name, and their bytes at the load address', () => {
    const table = d.elf.findSymbol('g_table')!;
    assert.deepEqual([table.value, table.size], [0x080000d8, 0x24000]);
    // table.S: every word holds its own address, so any shift shows.
    for (const addr of [0x080000d8, 0x0801fffc, 0x08020000, 0x080240d4]) assert.equal(word(image, addr), addr);
    assert.equal(d.elf.findSymbol('g_boot_count')?.value, 0x2400000c);
    assert.equal(symbolLma(d, 'g_boot_count'), 0x080240e4);
    assert.equal(word(image, symbolLma(d, 'g_boot_count')), 0x7c7c0001);
    assert.deepEqual([0, 4, 8].map((o) => word(image, symbolLma(d, 'g_shared_flags') + o)), [0x11111111, 0x22222222, 0x33333333]);
    assert.equal(new TextDecoder().decode(image.read(symbolLma(d, 'g_core_name'), 3)), 'CM7');
    assert.equal(d.elf.findSymbol('_sidata')?.value, load(d, '.data').lma);
    assert.equal(d.elf.findSymbol('no_such_symbol'), undefined);
  });
});

describe('h745_cm4.elf: STM32H745 Cortex-M4, flash bank 2', () => {
  const d = decode('h745_cm4.elf');
  const image = imageOf(d);

  test('.data from SRAM1 0x10000000 lands in bank-2 flash', () => {
    assert.deepEqual(load(d, '.data'), { vma: 0x10000000, lma: 0x081280d8, size: 12, segment: 1 });
    assert.deepEqual(ranges(image), [[0x08100000, 0x081280e4]]);
    assert.equal(d.entry, 0x08100045);
  });

  test('spans sectors 0 and 1 of bank 2', () => {
    assert.ok(image.size > 128 * 1024);
    assert.ok(image.covers(0x0811fff0, 0x08120010));
    for (const addr of [0x081000d8, 0x08120000, 0x081280d4]) assert.equal(word(image, addr), addr);
  });

  test('vector table and initialised data', () => {
    assert.equal(word(image, 0x08100000), 0x10040000);
    assert.equal(word(image, 0x08100004), d.elf.findSymbol('Reset_Handler')?.value);
    assert.equal(word(image, 0x08100004) & 1, 1);
    assert.equal(word(image, symbolLma(d, 'g_boot_count')), 0x4c4c0001);
    assert.deepEqual(bytesAt(image, symbolLma(d, 'g_shared_flags'), 6), [0x44, 0x44, 0x55, 0x55, 0x66, 0x66]);
  });
});

describe('f722.elf: odd sizes, a hole in sector 0, a block in sector 7', () => {
  const d = decode('f722.elf');
  const image = imageOf(d);

  test('ranges, none ending on a multiple of 8', () => {
    assert.deepEqual(ranges(image), [
      [0x08000000, 0x080000a9],
      [0x080000c0, 0x080000c7],
      [0x080000c8, 0x080000cd],
      [0x08003c00, 0x08003c1d],
      [0x08060000, 0x0806002b],
    ]);
    for (const [, end] of ranges(image)) assert.notEqual(end % 8, 0);
  });

  test('contents at their addresses', () => {
    assert.equal(new TextDecoder().decode(image.read(0x0800009c, 12)), 'F722 fixture');
    assert.deepEqual(bytesAt(image, 0x080000c0, 7), [1, 2, 3, 0xf7, 0x22, 0x5a, 0xa5]);
    assert.deepEqual(load(d, '.data'), { vma: 0x20000000, lma: 0x080000c8, size: 5, segment: 1 });
    assert.deepEqual(bytesAt(image, 0x080000c8, 5), [0xde, 0xad, 0xbe, 0xef, 0x01]);
    assert.deepEqual(bytesAt(image, 0x08003c00, 5), [0x4b, 0x45, 0x59, 0x53, 0x00]);
    assert.equal(new TextDecoder().decode(image.read(0x08060000, 43)), 'mode=dfu;baud=115200;slot=A;crc=none;end.\0\0');
    assert.equal(d.elf.findSymbol('g_config')?.value, 0x08060000);
    assert.equal(word(image, 0x08000000), 0x20040000);
  });

  test('padding between .rodata and .version: in the segment, in no section', () => {
    assert.deepEqual(d.viewDifferences, [
      { kind: 'segment-only', start: 0x080000a9, end: 0x080000c0, segment: 0, after: '.rodata', before: '.version', fill: 0 },
    ]);
    assert.equal(d.notes.length, 1);
    const n = d.notes[0]!;
    assert.equal(n.code, 'ELF_SEGMENT_PADDING');
    assert.equal(n.severity, 'info');
    assert.deepEqual(n.location, { file: 'f722.elf', address: 0x080000a9 });
    assert.ok(n.message.includes('23 bytes at 0x080000A9..0x080000C0 between .rodata and .version'), n.message);
  });
});

describe('itcm.elf: code run from ITCM, stored in flash', () => {
  const d = decode('itcm.elf');
  const image = imageOf(d);

  test('.itcm (VMA 0x00000000) lands at its flash LMA, nothing at 0', () => {
    assert.deepEqual(load(d, '.itcm'), { vma: 0, lma: 0x080000c0, size: 0x20, segment: 1 });
    assert.equal(image.start, 0x08000000);
    assert.equal(image.byteAt(0), undefined);
    assert.deepEqual(ranges(image), [[0x08000000, 0x080000e0]]);
  });

  test('ITCM symbols keep their run address; their bytes are in flash', () => {
    assert.equal(d.elf.findSymbol('itcm_checksum')?.value, 0x00000001);
    assert.equal(d.elf.findSymbol('_siitcm')?.value, 0x080000c0);
    assert.equal(symbolLma(d, 'g_itcm_magic'), 0x080000dc);
    assert.equal(word(image, 0x080000dc), 0x17c0de00);
  });

  test('the empty .data segment (p_filesz 0, p_paddr in flash) writes nothing', () => {
    const p = d.elf.segments[2]!;
    assert.deepEqual([p.type, p.paddr, p.filesz, p.memsz], [PT_LOAD, 0x080000e0, 0, 4]);
    assert.equal(image.end, 0x080000e0);
    assert.equal(image.byteAt(0x080000e0), undefined);
  });
});

describe('overlay.elf: two overlays with one VMA', () => {
  test('told apart by file offset, placed one after the other', () => {
    const d = decode('overlay.elf');
    const image = imageOf(d);
    assert.deepEqual(load(d, '.ov_a'), { vma: 0, lma: 0x0800000c, size: 12, segment: 1 });
    assert.deepEqual(load(d, '.ov_b'), { vma: 0, lma: 0x08000018, size: 8, segment: 2 });
    assert.equal(word(image, 0x0800000c), 0xaaaa0001);
    assert.equal(word(image, 0x08000014), 0xaaaa0003);
    assert.equal(word(image, 0x08000018), 0xbbbb0001);
    assert.equal(word(image, 0x0800001c), 0xbbbb0002);
  });
});

describe('other classes and byte orders', () => {
  test('ppc64be.elf: ELF64 big endian, .data VMA above 4 GiB', () => {
    const d = decode('ppc64be.elf');
    const image = imageOf(d);
    assert.deepEqual([d.elf.class, d.elf.endian, d.elf.machine, d.elf.type, d.entry], [64, 'big', EM_PPC64, ET_EXEC, 0x100000]);
    assert.deepEqual(load(d, '.data'), { vma: 0x10_0000_0000, lma: 0x00100020, size: 7, segment: 1 });
    const start = d.elf.findSymbol('_start')!;
    assert.deepEqual([start.value, start.size, start.type], [0x100000, 16, 2 /* STT_FUNC */]);
    assert.deepEqual([d.elf.findSymbol('g_data')?.value, d.elf.findSymbol('g_data')?.size], [0x10_0000_0000, 7]);
    assert.deepEqual(bytesAt(image, 0x00100020, 7), [0xca, 0xfe, 0xf0, 0x0d, 0x64, 0x42, 0x45]);
    assert.deepEqual(bytesAt(image, 0x00100010, 4), [0x01, 0x02, 0x03, 0x04]);
    assert.deepEqual(ranges(image), [[0x00100000, 0x00100027]]);
    assert.deepEqual(d.notes, []);
  });

  test('x86_64le.elf: ELF64 little endian, .data VMA above 4 GiB', () => {
    const d = decode('x86_64le.elf');
    const image = imageOf(d);
    assert.deepEqual([d.elf.class, d.elf.endian, d.elf.machine, d.entry], [64, 'little', EM_X86_64, 0x200000]);
    assert.deepEqual(load(d, '.data'), { vma: 0x2_0000_0000, lma: 0x0020001b, size: 7, segment: 1 });
    assert.equal(d.elf.findSymbol('g_data')?.value, 0x2_0000_0000);
    assert.deepEqual(bytesAt(image, 0x0020001b, 7), [0x0d, 0xf0, 0xfe, 0xca, 0x64, 0x4c, 0x45]);
    assert.deepEqual(bytesAt(image, 0x0020000b, 4), [0x08, 0x07, 0x06, 0x05]);
    assert.deepEqual(ranges(image), [[0x00200000, 0x00200022]]);
  });

  test('armbe32.elf: ELF32 big endian ARM', () => {
    const d = decode('armbe32.elf');
    const image = imageOf(d);
    assert.deepEqual([d.elf.class, d.elf.endian, d.elf.machine, d.entry], [32, 'big', EM_ARM, 0x80000]);
    assert.equal(word(image, 0x80000, false), 0xea000000);
    assert.equal(word(image, 0x80004, false), 0x11223344);
    assert.deepEqual(load(d, '.data'), { vma: 0x08000000, lma: 0x00080026, size: 6, segment: 1 });
    assert.deepEqual(bytesAt(image, 0x00080026, 6), [0xb1, 0x6e, 0x4d, 0x1a, 0x0b, 0xe3]);
    assert.equal(d.elf.findSymbol('g_message')?.value, 0x00080018);
    assert.equal(new TextDecoder().decode(image.read(0x00080018, 14)), 'big-endian ARM');
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('crafted variants', () => {
  test('no section headers: PT_LOAD segments by p_paddr and p_filesz, padding included', () => {
    const d = decodeElf(ElfPatch.fixture('f722.elf').stripSectionHeaders().bytes, { file: 'f722.elf' });
    assert.deepEqual([d.elf.sections.length, d.elf.symbols.length], [0, 0]);
    assert.deepEqual(
      d.loads.map((l) => [l.kind, l.name, l.lma, l.size]),
      [
        ['segment', 'segment 0', 0x08000000, 0xc7],
        ['segment', 'segment 1', 0x080000c8, 5],
        ['segment', 'segment 2', 0x08003c00, 0x1d],
        ['segment', 'segment 3', 0x08060000, 0x2b],
      ],
    );
    // Same bytes as the section view, plus the 23 padding bytes the segment carries.
    const withSections = imageOf(decode('f722.elf'));
    const expected = withSections.read(0x08000000, 0x6002b, 0xff);
    expected.fill(0, 0xa9, 0xc0);
    assert.deepEqual(imageOf(d).read(0x08000000, 0x6002b, 0xff), expected);
    assert.equal(imageOf(d).segments[0]!.source, 'f722.elf segment 0');
    assert.deepEqual(d.viewDifferences, []);
  });

  test('e_shnum 0 and e_shstrndx SHN_XINDEX: real values from section 0', () => {
    const p = ElfPatch.fixture('f722.elf');
    p.section(0, 'sh_size', p.header('e_shnum'));
    p.section(0, 'sh_link', p.header('e_shstrndx'));
    p.header('e_shnum', 0);
    p.header('e_shstrndx', 0xffff);
    const d = decodeElf(p.bytes);
    const original = decode('f722.elf');
    assert.deepEqual(
      d.elf.sections.slice(1).map((s) => s.name),
      original.elf.sections.slice(1).map((s) => s.name),
    );
    assert.equal(d.elf.sections.length, 13);
    assert.equal(d.elf.shstrndx, 12);
    assert.deepEqual(d.loads, original.loads);
  });

  test('e_phnum PN_XNUM: real count from section 0 sh_info', () => {
    const p = ElfPatch.fixture('f722.elf');
    p.section(0, 'sh_info', p.header('e_phnum'));
    p.header('e_phnum', 0xffff);
    const d = decodeElf(p.bytes);
    assert.equal(d.elf.segments.length, 4);
    assert.deepEqual(d.loads, decode('f722.elf').loads);
  });

  test('LMA follows the file offset, not sh_addr, where the two disagree (as objcopy)', () => {
    const p = ElfPatch.fixture('f722.elf');
    p.section(p.sectionIndex('.rodata'), 'sh_addr', 0x080000a0);
    const d = decodeElf(p.bytes);
    assert.deepEqual(load(d, '.rodata'), { vma: 0x080000a0, lma: 0x0800009c, size: 13, segment: 0 });
    assert.deepEqual(imageOf(d).read(0x08000000, 0x100), imageOf(decode('f722.elf')).read(0x08000000, 0x100));
  });

  test('every p_paddr 0 with several PT_LOADs: LMA = VMA, with a warning (binutils rule)', () => {
    const p = ElfPatch.fixture('armbe32.elf');
    p.segment(0, 'p_paddr', 0);
    p.segment(1, 'p_paddr', 0);
    const d = decodeElf(p.bytes);
    assert.deepEqual(load(d, '.data'), { vma: 0x08000000, lma: 0x08000000, size: 6, segment: undefined });
    assert.deepEqual(ranges(imageOf(d)), [
      [0x00080000, 0x00080026],
      [0x08000000, 0x08000006],
    ]);
    assert.deepEqual(
      d.notes.map((n) => [n.code, n.severity]),
      [['ELF_PADDR_ZERO', 'warning']],
    );
  });

  test('a section in no PT_LOAD: placed at its VMA, reported as section-only', () => {
    const p = ElfPatch.fixture('f722.elf');
    p.segment(3, 'p_type', 0);
    const d = decodeElf(p.bytes, { file: 'f722.elf' });
    assert.deepEqual(load(d, '.config'), { vma: 0x08060000, lma: 0x08060000, size: 43, segment: undefined });
    assert.deepEqual(d.viewDifferences[1], { kind: 'section-only', start: 0x08060000, end: 0x0806002b, section: '.config' });
    const n = d.notes.find((x) => x.code === 'ELF_SECTION_OUTSIDE_SEGMENTS');
    assert.equal(n?.severity, 'warning');
    assert.ok(n?.message.includes('section .config (43 bytes)'), n?.message);
  });

  test('an SHF_TLS section is placed through a PT_TLS segment only (binutils rule)', () => {
    const p = ElfPatch.fixture('f722.elf');
    const i = p.sectionIndex('.data');
    p.section(i, 'sh_flags', p.section(i, 'sh_flags') | SHF_TLS);
    assert.deepEqual(load(decodeElf(p.bytes), '.data'), { vma: 0x20000000, lma: 0x20000000, size: 5, segment: undefined });
    p.segment(1, 'p_type', PT_TLS);
    assert.deepEqual(load(decodeElf(p.bytes), '.data'), { vma: 0x20000000, lma: 0x080000c8, size: 5, segment: 1 });
  });

  test('a load address less aligned than the section: ELF_LMA_MISALIGNED warning', () => {
    const p = ElfPatch.fixture('f722.elf');
    p.segment(1, 'p_paddr', 0x080000c9);
    const d = decodeElf(p.bytes, { file: 'f722.elf' });
    assert.equal(load(d, '.data').lma, 0x080000c9);
    const n = d.notes.filter((x) => x.code === 'ELF_LMA_MISALIGNED');
    assert.deepEqual(
      n.map((x) => [x.severity, x.location]),
      [['warning', { file: 'f722.elf', address: 0x080000c9 }]],
    );
    assert.ok(n[0]!.message.startsWith('section .data runs at 0x20000000 (aligned to 4) but is stored at 0x080000C9'), n[0]!.message);
  });

  test('SHF_ALLOC on .shstrtab, .symtab and .strtab does not load them', () => {
    const p = ElfPatch.fixture('f722.elf');
    for (const name of ['.shstrtab', '.symtab', '.strtab']) {
      const i = p.sectionIndex(name);
      p.section(i, 'sh_flags', p.section(i, 'sh_flags') | SHF_ALLOC);
    }
    assert.deepEqual(decodeElf(p.bytes).loads, decode('f722.elf').loads);
  });

  test('overlapping load addresses: ELF_LOAD_OVERLAP naming both; with overwrite the later section wins', () => {
    const p = ElfPatch.fixture('overlay.elf');
    p.segment(2, 'p_paddr', p.segment(1, 'p_paddr'));
    const ovB = p.section(p.sectionIndex('.ov_b'), 'sh_offset');
    assertError(bad(p.bytes), 'ELF_LOAD_OVERLAP', ovB, 'bad.elf section .ov_b 0x0800000C..0x08000014 overlaps bad.elf section .ov_a');
    const d = decodeElf(p.bytes, { file: 'bad.elf', overwrite: true });
    assert.deepEqual([0x0800000c, 0x08000010, 0x08000014].map((a) => word(imageOf(d), a)), [0xbbbb0001, 0xbbbb0002, 0xaaaa0003]);
    assert.deepEqual(
      d.notes.filter((n) => n.code === 'ELF_LOAD_OVERWRITTEN').map((n) => n.message),
      ['bad.elf section .ov_b overwrites bad.elf section .ov_a at 0x0800000C..0x08000014'],
    );
  });

  test('load address beyond 32 bits: ELF_ADDRESS_RANGE', () => {
    const p = ElfPatch.fixture('ppc64be.elf');
    p.segment(1, 'p_paddr', 0xfffffffc);
    const dataAt = p.section(p.sectionIndex('.data'), 'sh_offset');
    assertError(bad(p.bytes), 'ELF_ADDRESS_RANGE', dataAt, 'loads at 0xFFFFFFFC (+7 bytes)');
  });

  test('st_shndx SHN_XINDEX: the index comes from the SHT_SYMTAB_SHNDX section', () => {
    // .ARM.attributes turned into an SHT_SYMTAB_SHNDX table over zero bytes of the file (alignment fill before
    // the .data segment at 0x2000), one word set for symbol 36 (g_config) to section 8 (.config).
    const p = ElfPatch.fixture('f722.elf');
    const symtab = p.sectionIndex('.symtab');
    const x = p.sectionIndex('.ARM.attributes');
    p.section(x, 'sh_type', 18);
    p.section(x, 'sh_link', symtab);
    p.section(x, 'sh_offset', 0x1100);
    p.section(x, 'sh_size', 4 * 40);
    p.symbol(symtab, 36, 'st_shndx', 0xffff);
    p.u32(0x1100 + 4 * 36, 8);
    const d = decodeElf(p.bytes);
    assert.deepEqual([d.elf.symbols[36]?.name, d.elf.symbols[36]?.shndx], ['g_config', 8]);
    assert.equal(d.elf.symbols[35]?.shndx, decode('f722.elf').elf.symbols[35]?.shndx);
    p.section(x, 'sh_size', 4 * 40 - 4);
    assertError(bad(p.bytes), 'ELF_SHNDX_TABLE_SIZE', p.sectionFieldAt(x, 'sh_size'), 'but .symtab has 40 symbols');
  });

  test('relocatable object: ELF_RELOCATABLE (parseElf still reads it)', () => {
    const p = ElfPatch.fixture('f722.elf');
    p.header('e_type', 1);
    assertError(bad(p.bytes), 'ELF_RELOCATABLE', 16);
    assert.equal(parseElf(p.bytes).type, 1);
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('malformed input: exact codes, offsets named', () => {
  const f722 = fixture('f722.elf');

  test('not ELF', () => {
    assertError(bad(new Uint8Array([0x4d, 0x5a, 0x90, 0x00, 1, 2, 3])), 'ELF_BAD_MAGIC', 0, '"4D 5A 90 00"');
    assertError(bad(new Uint8Array(0)), 'ELF_BAD_MAGIC', 0);
  });

  test('truncated identification and headers', () => {
    assertError(bad(f722.slice(0, 10)), 'ELF_TRUNCATED', 0, 'ELF identification (e_ident) needs 16 bytes at offset 0x00000000, but the file has 10 bytes');
    assertError(bad(f722.slice(0, 40)), 'ELF_TRUNCATED', 0, 'ELF32 header needs 52 bytes at offset 0x00000000, but the file has 40 bytes');
    assertError(bad(fixture('ppc64be.elf').slice(0, 60)), 'ELF_TRUNCATED', 0, 'ELF64 header needs 64 bytes');
  });

  test('bad EI_CLASS, EI_DATA, EI_VERSION', () => {
    for (const [at, value, code] of [
      [4, 3, 'ELF_BAD_CLASS'],
      [5, 0, 'ELF_BAD_ENCODING'],
      [6, 2, 'ELF_BAD_VERSION'],
    ] as const) {
      const b = f722.slice();
      b[at] = value;
      assertError(bad(b), code, at);
    }
  });

  test('program header table past EOF', () => {
    const p = new ElfPatch(f722);
    p.header('e_phoff', f722.length - 16);
    const at = f722.length - 16;
    assertError(bad(p.bytes), 'ELF_PHDRS_OUTSIDE_FILE', at, `program header table (4 x 32 bytes) at offset ${hex32(at)} (+128 bytes) lies outside the file (13808 bytes)`);
  });

  test('huge e_phnum, and a huge PN_XNUM count: refused before any loop', () => {
    const p = new ElfPatch(f722);
    p.header('e_phnum', 0xfffe);
    assertError(bad(p.bytes), 'ELF_PHDRS_OUTSIDE_FILE', 52, '(65534 x 32 bytes)');
    const q = new ElfPatch(f722);
    q.header('e_phnum', 0xffff);
    q.section(0, 'sh_info', 0xffffffff);
    const started = performance.now();
    assertError(bad(q.bytes), 'ELF_PHDRS_OUTSIDE_FILE', 52, '(4294967295 x 32 bytes)');
    assert.ok(performance.now() - started < 100);
  });

  test('section header table past EOF, and a huge extended e_shnum', () => {
    const p = new ElfPatch(f722);
    p.header('e_shoff', f722.length - 20);
    assertError(bad(p.bytes), 'ELF_SHDRS_OUTSIDE_FILE', f722.length - 20, 'section header 0 at offset');
    const q = new ElfPatch(f722);
    q.header('e_shnum', 0);
    q.section(0, 'sh_size', 0xffffffff);
    assertError(bad(q.bytes), 'ELF_SHDRS_OUTSIDE_FILE', q.header('e_shoff'), 'section header table (4294967295 x 40 bytes)');
  });

  test('bad e_shentsize and e_phentsize', () => {
    const p = new ElfPatch(f722);
    p.header('e_shentsize', 32);
    assertError(bad(p.bytes), 'ELF_BAD_ENTSIZE', p.headerFieldAt('e_shentsize'));
    const q = new ElfPatch(f722);
    q.header('e_phentsize', 33);
    assertError(bad(q.bytes), 'ELF_BAD_ENTSIZE', q.headerFieldAt('e_phentsize'));
  });

  test('segment data past EOF', () => {
    const p = new ElfPatch(f722);
    p.segment(1, 'p_offset', 0x7ffffff0);
    assertError(bad(p.bytes), 'ELF_SEGMENT_OUTSIDE_FILE', 0x7ffffff0, 'segment 1 data at offset 0x7FFFFFF0 (+5 bytes) lies outside the file (13808 bytes)');
  });

  test('PT_LOAD with p_filesz > p_memsz', () => {
    const p = new ElfPatch(f722);
    p.segment(1, 'p_memsz', 4);
    assertError(bad(p.bytes), 'ELF_SEGMENT_SIZE', p.segmentFieldAt(1, 'p_filesz'), 'segment 1 p_filesz');
  });

  test('section data past EOF, even for a section that is not loaded', () => {
    const p = new ElfPatch(f722);
    const i = p.sectionIndex('.ARM.attributes');
    p.section(i, 'sh_size', 0x10000);
    assertError(bad(p.bytes), 'ELF_SECTION_OUTSIDE_FILE', p.section(i, 'sh_offset'), `section ${i} data at offset`);
  });

  test('e_shstrndx out of range, directly and through SHN_XINDEX, or not a string table', () => {
    const p = new ElfPatch(f722);
    p.header('e_shstrndx', 99);
    assertError(bad(p.bytes), 'ELF_SHSTRNDX_RANGE', 50, 'e_shstrndx (offset 0x00000032) is 99, but the file has 13 sections');
    const q = new ElfPatch(f722);
    q.header('e_shstrndx', 0xffff);
    q.section(0, 'sh_link', 500);
    assertError(bad(q.bytes), 'ELF_SHSTRNDX_RANGE', q.sectionFieldAt(0, 'sh_link'), 'is 500');
    const r = new ElfPatch(f722);
    r.header('e_shstrndx', 2);
    assertError(bad(r.bytes), 'ELF_SHSTRNDX_RANGE', 50, 'not a string table');
  });

  test('section name offset out of range, or unterminated', () => {
    const p = new ElfPatch(f722);
    p.section(3, 'sh_name', 0x10000);
    assertError(bad(p.bytes), 'ELF_NAME_RANGE', p.sectionFieldAt(3, 'sh_name'), 'is 0x00010000, outside the section name table (103 bytes)');
    const q = new ElfPatch(f722);
    q.section(q.header('e_shstrndx'), 'sh_size', q.section(1, 'sh_name') + 3);
    assertError(bad(q.bytes), 'ELF_NAME_RANGE', q.sectionFieldAt(1, 'sh_name'), 'without a NUL');
  });

  test('symbol name offset out of range', () => {
    const p = new ElfPatch(f722);
    const at = p.symbol(p.sectionIndex('.symtab'), 5, 'st_name', 0xffffff);
    assertError(bad(p.bytes), 'ELF_NAME_RANGE', at, 'symbol 5 name');
  });

  test('.symtab sh_link out of range, or not a string table', () => {
    const p = new ElfPatch(f722);
    const i = p.sectionIndex('.symtab');
    p.section(i, 'sh_link', 99);
    assertError(bad(p.bytes), 'ELF_SYMTAB_LINK', p.sectionFieldAt(i, 'sh_link'), 'names section 99 for its strings, but the file has 13 sections');
    p.section(i, 'sh_link', p.sectionIndex('.text'));
    assertError(bad(p.bytes), 'ELF_SYMTAB_LINK', p.sectionFieldAt(i, 'sh_link'), 'is not a string table');
  });

  test('ELF64 value above 2^53', () => {
    const p = ElfPatch.fixture('ppc64be.elf');
    p.section(1, 'sh_addr', 0xffffffff00000000n);
    const at = p.sectionFieldAt(1, 'sh_addr');
    assertError(bad(p.bytes), 'ELF_VALUE_RANGE', at, 'section 1 sh_addr');
  });

  test('every truncation of a fixture fails with an ELF_ error, never a crash', () => {
    for (let n = 0; n < f722.length; n++) {
      try {
        decodeElf(f722.subarray(0, n));
        assert.fail(`truncated to ${n} bytes: accepted`);
      } catch (e) {
        assert.ok(e instanceof FwError && e.code.startsWith('ELF_'), `truncated to ${n} bytes: ${String(e)}`);
      }
    }
  });

  test('random header mutations: decoded or an ELF_ error, never a crash (seeded)', () => {
    let seed = 0x2545f491;
    const rand = (n: number): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const p = new ElfPatch(f722);
    const regions: [number, number][] = [
      [0, 52 + 4 * 32],
      [p.header('e_shoff'), f722.length],
    ];
    let errors = 0;
    for (let i = 0; i < 3000; i++) {
      const b = f722.slice();
      for (let k = 1 + rand(4); k > 0; k--) {
        const [from, to] = regions[rand(2)]!;
        b[from + rand(to - from)] = rand(256);
      }
      try {
        decodeElf(b);
      } catch (e) {
        assert.ok(e instanceof FwError && e.code.startsWith('ELF_'), `mutation ${i}: ${String(e)}`);
        errors++;
      }
    }
    assert.ok(errors > 100, `only ${errors} of 3000 mutations were rejected: the mutations do not reach the headers`);
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('corpus ELFs', () => {
  const corpus = corpusOrSkip();
  const dir = corpus.dir ?? '';
  const elfs = corpus.skip === false ? manifestEntries(dir).filter((e) => e.file.endsWith('.elf')) : [];
  const read = (file: string): Uint8Array => new Uint8Array(readFileSync(join(dir, file)));
  const decodeCorpus = (file: string): ElfDecoded => decodeElf(read(file), { file });

  test('the MANIFEST lists 23 ELFs', { skip: corpus.skip }, () => assert.equal(elfs.length, 23));

  for (const e of elfs) {
    test(`${e.file}: decodes and agrees with the MANIFEST and the .bin beside it`, { skip: corpus.skip }, () => {
      const bytes = read(e.file);
      assert.equal(createHash('sha256').update(bytes).digest('hex'), e.sha256, 'corpus file changed');
      const d = decodeElf(bytes, { file: e.file });
      const image = imageOf(d);
      assert.ok(!image.isEmpty);
      const entry = /entry 0x([0-9a-f]+)/.exec(e.description);
      if (entry !== null) assert.equal(d.entry, parseInt(entry[1]!, 16));
      for (const m of e.description.matchAll(/(\S+) VMA=0x([0-9a-f]+) LMA=0x([0-9a-f]+) size=0x([0-9a-f]+)/g)) {
        const l = load(d, m[1]!);
        assert.deepEqual([l.vma, l.lma, l.size], [parseInt(m[2]!, 16), parseInt(m[3]!, 16), parseInt(m[4]!, 16)], m[0]);
      }
      // "N LOAD segment(s) with FileSiz=0 and PhysAddr in flash (must not produce data)"
      const empty = /(\d+) LOAD segment\(s\) with FileSiz=0/.exec(e.description);
      const flash = (a: number): boolean => a >= 0x08000000 && a < 0x08200000;
      const inFlash = d.elf.segments.filter((p) => p.type === PT_LOAD && p.filesz === 0 && p.memsz > 0 && flash(p.paddr));
      assert.equal(inFlash.length, empty === null ? 0 : Number(empty[1]));
      // They give no section its LMA, and the image holds the loaded sections' bytes and nothing else.
      for (const p of inFlash) assert.ok(!d.loads.some((l) => l.segment === p.index), `segment ${p.index} produced data`);
      assert.equal(image.size, d.loads.reduce((n, l) => n + l.size, 0));
      // The .bin shipped with the ELF, built by the project's own tools, starts at the lowest load address.
      for (const m of e.description.matchAll(/identical by address to (\S+\.bin)/g)) {
        const bin = read(join(dirname(e.file), m[1]!));
        assert.ok(image.covers(image.start!, image.start! + bin.length));
        assert.deepEqual(image.read(image.start!, bin.length), bin);
      }
      // "... N B only in X.bin @0x...(0xFFxN)": the bytes no section holds, filled by that tool with one value.
      const partial = /matches (\S+\.bin) on common bytes; (\d+) B only in \S+ @0x[0-9a-f]+\.\.0x[0-9a-f]+ \(0x([0-9a-f]{2})x\d+\)/g;
      for (const m of e.description.matchAll(partial)) {
        const bin = read(join(dirname(e.file), m[1]!));
        assert.equal(image.slice(image.start!, image.start! + bin.length).size, bin.length - Number(m[2]));
        assert.deepEqual(image.read(image.start!, bin.length, parseInt(m[3]!, 16)), new Uint8Array(bin));
      }
    });
  }

  test('OpenMV4 bootloader.elf: .data (VMA 0x20000000) lands at 0x08004AE8', { skip: corpus.skip }, () => {
    const file = 'openmv__openmv/firmware/OPENMV4/bootloader.elf';
    const d = decodeCorpus(file);
    const data = d.elf.findSection('.data')!;
    assert.deepEqual(load(d, '.data'), { vma: 0x20000000, lma: 0x08004ae8, size: 0xe0, segment: 1 });
    assert.deepEqual(imageOf(d).read(0x08004ae8, 0xe0), read(file).subarray(data.offset, data.offset + 0xe0));
    assert.equal(imageOf(d).byteAt(0x20000000), undefined);
    assert.deepEqual(ranges(imageOf(d)), [[0x08000000, 0x08004bc8]]);
  });

  test('CubeOrange_bl.elf: FileSiz=0 segments and NOBITS .crash_log in flash produce no data', { skip: corpus.skip }, () => {
    const d = decodeCorpus('ArduPilot__ardupilot/Tools/bootloaders/CubeOrange_bl.elf');
    const image = imageOf(d);
    const empty = d.elf.segments.filter((p) => p.type === PT_LOAD && p.filesz === 0);
    assert.deepEqual(
      empty.map((p) => [p.index, p.paddr, p.memsz]),
      [
        [3, 0x08009790, 0x16870],
        [4, 0x08009790, 0x4448],
        [5, 0x08009790, 0x198e0],
        [6, 0x20000000, 0x2200],
      ],
    );
    assert.equal(d.elf.findSection('.crash_log')?.type, SHT_NOBITS);
    assert.deepEqual(ranges(image), [[0x08000000, 0x08009790]]);
    assert.equal(image.byteAt(0x08009790), undefined);
    assert.deepEqual(
      d.loads.map((l) => l.name),
      ['startup', '.text', '.ARM.exidx', '.data'],
    );
  });

  test('nano33ble bootloader.elf: the 7 sections with LMA != VMA land at their LMA', { skip: corpus.skip }, () => {
    const d = decodeCorpus('arduino__ArduinoCore-mbed/bootloaders/nano33ble/bootloader.elf');
    assert.deepEqual(
      d.loads.filter((l) => l.lma !== l.vma).map((l) => [l.name, l.vma, l.lma, l.size]),
      [
        ['datas', 0x20009a88, 0x0000882c, 0x158],
        ['initlevel', 0x20009be0, 0x00008984, 0xcc],
        ['_k_mem_pool_area', 0x20009cac, 0x00008a50, 0x38],
        ['_k_mutex_area', 0x20009ce4, 0x00008a88, 0x14],
        ['_k_queue_area', 0x20009cf8, 0x00008a9c, 0x10],
        ['usb_descriptor', 0x20009d08, 0x00008aac, 0xdd],
        ['usb_data', 0x20009de8, 0x00008b8c, 0x2c],
      ],
    );
    assert.equal(imageOf(d).byteAt(0x20009a88), undefined);
    // The 3 bytes the MANIFEST finds only in the .hex/.bin are the segment's alignment padding.
    assert.deepEqual(d.viewDifferences, [
      { kind: 'segment-only', start: 0x8b89, end: 0x8b8c, segment: 2, after: 'usb_descriptor', before: 'usb_data', fill: 0 },
    ]);
  });

  test('fwupd example.elf (EM_NONE, no program headers, SHF_ALLOC .shstrtab): only .text is loaded', { skip: corpus.skip }, () => {
    const d = decodeCorpus('fwupd__fwupd/data/tests/dfu/example.elf');
    assert.deepEqual([d.elf.machine, d.elf.type, d.elf.segments.length], [0, 0, 0]);
    assert.ok((d.elf.findSection('.shstrtab')!.flags & SHF_ALLOC) !== 0);
    assert.deepEqual(ranges(imageOf(d)), [[0, 12]]);
    assert.equal(new TextDecoder().decode(imageOf(d).read(0, 12)), 'hello world\n');
    assert.deepEqual(
      d.notes.map((n) => n.code),
      ['ELF_MACHINE_NONE'],
    );
  });

  test('fwupd fuzzing firmware.elf: an SHF_ALLOC SHT_HASH section is loaded like PROGBITS', { skip: corpus.skip }, () => {
    const d = decodeCorpus('fwupd__fwupd/libdfu/fuzzing/firmware.elf');
    assert.deepEqual(
      d.loads.map((l) => [l.name, l.lma, l.size]),
      [['.text', 0, 136]],
    );
    assert.equal(d.elf.findSection('.text')?.type, 5 /* SHT_HASH */);
  });
});
