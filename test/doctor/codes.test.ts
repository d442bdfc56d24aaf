/**
 * One case per doctor code: a minimal file that triggers it (with the finding's exact place and the key facts of
 * its message), and a near miss that differs in the one detail that matters and must not trigger it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DOCTOR_CODES } from '../../src/doctor/codes.ts';
import type { DoctorReport, Finding } from '../../src/doctor/report-schema.ts';
import { detectHeaders } from '../../src/header/detect.ts';
import { injectHeader } from '../../src/header/inject.ts';
import { parseSlot } from '../../src/header/slots.ts';
import { MemoryImage } from '../../src/image/memory-image.ts';
import { resolveChip } from '../../src/layout/chips.ts';
import type { ChipProfile } from '../../src/layout/chip-types.ts';
import { encodeIhex } from '../../src/formats/ihex.ts';
import { parseDfuse } from '../../src/formats/dfuse-file.ts';
import { codes, doctor, elf32, F405, filler, findings, goodH743, H743, H745, one, program, rawDfuse } from './helpers.ts';

interface Case {
  code: string;
  trigger: () => DoctorReport;
  nearMiss: () => DoctorReport;
  check?: (f: Finding, r: DoctorReport) => void;
}

const el = (address: number, size: number, o: { sp?: number; reset?: number } = {}): { address: number; data: Uint8Array } => ({
  address,
  data: program(address, size, o),
});
const dfu = (...elements: { address: number; data: Uint8Array }[]): Uint8Array => rawDfuse([{ name: 'ST...', elements }]);
/** A profile with the flash alt's layout string replaced (custom bootloaders report read-only parts). */
const withFlashLayout = (chip: ChipProfile, layout: string): ChipProfile => ({
  ...chip,
  dfu: { ...chip.dfu, alts: chip.dfu.alts.map((a) => (a.kind === 'flash' ? { ...a, layout } : a)) },
});

const CASES: Case[] = [
  // ---- DfuSe structure
  {
    code: 'DFUSE_SUFFIX_CRC',
    trigger: () => doctor(rawDfuse([{ elements: [el(0x08000000, 64)] }], { badCrc: 0x10 }), H743),
    nearMiss: () => doctor(rawDfuse([{ elements: [el(0x08000000, 64)] }]), H743),
    check: (f, r) => {
      assert.equal(f.severity, 'error');
      assert.equal(f.leniency, 'bad-crc');
      assert.equal(f.offset, 11 + 274 + 8 + 64 + 12);
      assert.match(f.message, /dfu-util refuses it \("DFU suffix CRC does not match"\)/);
      assert.equal(r.summary.errors, 1);
    },
  },
  {
    code: 'DFUSE_NO_SUFFIX',
    trigger: () => doctor(rawDfuse([{ elements: [el(0x08000000, 64)] }], { noSuffix: true }), H743),
    nearMiss: () => doctor(goodH743(64), H743),
    check: (f) => assert.equal(f.fixable, true),
  },
  {
    code: 'DFUSE_BCD_DFU',
    trigger: () => doctor(rawDfuse([{ elements: [el(0x08000000, 64)] }], { bcdDFU: 0x0100 }), H743),
    nearMiss: () => doctor(goodH743(64), H743),
    check: (f) => assert.match(f.message, /is 0x0100, not 0x011A/),
  },
  {
    code: 'DFUSE_SUFFIX_LENGTH',
    trigger: () => doctor(rawDfuse([{ elements: [el(0x08000000, 64)] }], { suffixExtra: 4 }), H743),
    nearMiss: () => doctor(goodH743(64), H743),
    check: (f) => {
      assert.equal(f.severity, 'warning');
      assert.match(f.message, /bLength is 20, not 16/);
    },
  },
  {
    code: 'DFUSE_VERSION',
    trigger: () => doctor(rawDfuse([{ elements: [el(0x08000000, 64)] }], { bVersion: 2 }), H743),
    nearMiss: () => doctor(goodH743(64), H743),
    check: (f) => assert.equal(f.offset, 5),
  },
  {
    code: 'DFUSE_IMAGE_SIZE',
    trigger: () => doctor(rawDfuse([{ elements: [el(0x08000000, 64)] }], { imageSize: 'file' }), H743),
    nearMiss: () => doctor(rawDfuse([{ elements: [el(0x08000000, 64)] }], { imageSize: 'body' }), H743),
    check: (f) => {
      assert.equal(f.severity, 'warning');
      assert.equal(f.leniency, 'image-size-includes-suffix');
      assert.equal(f.offset, 6);
      assert.match(f.message, /DFUImageSize is 373, the file length including its suffix.*expect 357.*fwupd rejects this file/);
    },
  },
  {
    code: 'DFUSE_TARGET_COUNT',
    trigger: () => doctor(rawDfuse([{ elements: [el(0x08000000, 64)] }], { bTargets: 2 }), H743),
    nearMiss: () => doctor(rawDfuse([{ elements: [el(0x08000000, 64)] }], { bTargets: 1 }), H743),
    check: (f) => {
      assert.equal(f.severity, 'error');
      assert.match(f.message, /bTargets says 2 targets, but the file holds 1/);
    },
  },
  {
    code: 'DFUSE_ELEMENT_COUNT',
    trigger: () => doctor(rawDfuse([{ elements: [el(0x08000000, 64), el(0x08000040, 64)], dwNbElements: 3 }]), H743),
    nearMiss: () => doctor(rawDfuse([{ elements: [el(0x08000000, 64), el(0x08000040, 64)], dwNbElements: 2 }]), H743),
    check: (f) => {
      assert.equal(f.offset, 11 + 270);
      assert.match(f.message, /dwNbElements is 3, but its 144 bytes \(dwTargetSize\) hold 2 elements/);
    },
  },
  {
    code: 'DFUSE_TARGET_SIZE',
    trigger: () => doctor(rawDfuse([{ elements: [el(0x08000000, 64)], dwTargetSize: 100 }]), H743),
    nearMiss: () => doctor(rawDfuse([{ elements: [el(0x08000000, 64)], dwTargetSize: 72 }]), H743),
    check: (f) => {
      assert.equal(f.offset, 11 + 266);
      assert.match(f.message, /dwTargetSize is 100, but its 1 element occupy 72 bytes/);
    },
  },
  {
    code: 'DFUSE_TRUNCATED',
    trigger: () => doctor(rawDfuse([{ elements: [{ address: 0x08000000, data: program(0x08000000, 64), size: 4096 }], dwTargetSize: 4104 }]), H743),
    nearMiss: () => doctor(rawDfuse([{ elements: [{ address: 0x08000000, data: program(0x08000000, 64), size: 64 }] }]), H743),
    check: (f) => assert.match(f.message, /holds 4096 \(0x1000\) bytes, but only 64 remain before the suffix/),
  },
  {
    code: 'DFUSE_TRAILING_BYTES',
    trigger: () => doctor(rawDfuse([{ elements: [el(0x08000000, 64)] }], { trailing: new Uint8Array(7) }), H743),
    nearMiss: () => doctor(goodH743(64), H743),
    check: (f) => {
      assert.equal(f.offset, 11 + 274 + 8 + 64);
      assert.match(f.message, /^7 bytes between the last target and the suffix/);
    },
  },
  {
    code: 'DFUSE_TARGET_NAMED',
    trigger: () => doctor(rawDfuse([{ name: 'ST...', bTargetNamed: 0x0101, elements: [el(0x08000000, 64)] }]), H743),
    nearMiss: () => doctor(rawDfuse([{ name: 'ST...', bTargetNamed: 1, elements: [el(0x08000000, 64)] }]), H743),
  },
  {
    code: 'DFUSE_TARGET_NAME_GARBAGE',
    trigger: () => doctor(rawDfuse([{ name: 'ST...', nameGarbage: new Uint8Array([0x43, 0x3a]), elements: [el(0x08000000, 64)] }]), H743),
    nearMiss: () => doctor(rawDfuse([{ name: 'ST...', elements: [el(0x08000000, 64)] }]), H743),
    check: (f) => {
      assert.equal(f.severity, 'info');
      assert.equal(f.offset, 11 + 11 + 6);
    },
  },
  {
    code: 'DFUSE_NO_TARGETS',
    trigger: () => doctor(rawDfuse([]), H743),
    nearMiss: () => doctor(goodH743(64), H743),
  },
  {
    code: 'DFUSE_EMPTY_TARGET',
    trigger: () => doctor(rawDfuse([{ elements: [el(0x08000000, 64)] }, { alt: 1, elements: [] }]), H743),
    nearMiss: () => doctor(rawDfuse([{ elements: [el(0x08000000, 64)] }]), H743),
  },
  {
    code: 'DFUSE_EMPTY_ELEMENT',
    trigger: () => doctor(dfu(el(0x08000000, 64), { address: 0x08000040, data: new Uint8Array(0) }), H743),
    nearMiss: () => doctor(dfu(el(0x08000000, 64), el(0x08000040, 32)), H743),
  },
  {
    code: 'DFUSE_ELEMENTS_UNSORTED',
    trigger: () => doctor(dfu(el(0x08020000, 64), el(0x08000000, 64)), H743),
    nearMiss: () => doctor(dfu(el(0x08000000, 64), el(0x08020000, 64)), H743),
    check: (f) => {
      assert.equal(f.severity, 'error');
      assert.equal(f.subject, 'target 0 element 1');
      assert.equal(f.offset, 11 + 274 + 72);
      assert.equal(f.start, 0x08000000);
    },
  },
  {
    code: 'DFUSE_ELEMENT_OVERLAP',
    trigger: () => doctor(dfu(el(0x08000000, 64), { address: 0x08000020, data: filler(64) }), H743),
    nearMiss: () => doctor(dfu(el(0x08000000, 64), { address: 0x08000040, data: filler(64) }), H743),
    check: (f) => {
      assert.equal(f.start, 0x08000020);
      assert.equal(f.end, 0x08000040);
      assert.equal(f.fixable, false, 'different bytes: not mechanical');
      assert.match(f.message, /with different bytes/);
    },
  },
  {
    code: 'DFUSE_SUFFIX_IDS',
    trigger: () => doctor(rawDfuse([{ elements: [el(0x08000000, 64)] }], { pid: 0x0000 }), H743),
    nearMiss: () => doctor(rawDfuse([{ elements: [el(0x08000000, 64)] }], { vid: 0xffff, pid: 0xffff }), H743),
    check: (f) => assert.match(f.message, /0483:0000.*dfu-util -d 0483:df11/),
  },

  // ---- image × chip
  {
    code: 'LAYOUT_ELEMENT_START_UNALIGNED',
    trigger: () => doctor(dfu(el(0x08000000, 64), { address: 0x08000048, data: filler(56) }), H743),
    nearMiss: () => doctor(dfu(el(0x08000000, 64), { address: 0x08000060, data: filler(32) }), H743),
    check: (f) => {
      assert.equal(f.severity, 'error');
      assert.equal(f.subject, 'target 0 element 1');
      assert.equal(f.offset, 11 + 274 + 72, 'points at the element header');
      assert.match(f.message, /starts at 0x08000048, 8 bytes into the 32-byte flash word at 0x08000040/);
    },
  },
  {
    code: 'LAYOUT_ELEMENT_PARTIAL_WORD',
    trigger: () => doctor(dfu(el(0x08000000, 19400)), H743),
    nearMiss: () => doctor(dfu(el(0x08000000, 19424)), H743),
    check: (f) => {
      assert.equal(f.severity, 'warning');
      assert.equal(f.start, 0x08004bc0);
      assert.equal(f.end, 0x08004bc8);
      assert.equal(f.offset, 11 + 274 + 8 + 19392, 'file offset of the partial word');
      assert.match(f.message, /ends 8 bytes into the 32-byte flash word at 0x08004BC0/);
      assert.match(f.fix, /Pad the element to 0x08004BE0 with 0xFF/);
    },
  },
  {
    code: 'LAYOUT_SECTOR_SHARED',
    trigger: () => doctor(dfu(el(0x08000000, 64), { address: 0x08010000, data: filler(64) }), H743),
    nearMiss: () => doctor(dfu(el(0x08000000, 64), { address: 0x08020000, data: filler(64) }), H743),
    check: (f) => {
      assert.equal(f.sector, 'bank 1 sector 0');
      assert.match(f.message, /element 0 and element 1 both lie in bank 1 sector 0/);
    },
  },
  {
    code: 'LAYOUT_BANK_CROSSING',
    trigger: () => doctor(dfu(el(0x080fff00, 0x200)), H743, {}),
    nearMiss: () => doctor(dfu(el(0x080fff00, 0x100), { address: 0x08100000, data: filler(0x100) }), H743),
    check: (f) => assert.match(f.message, /runs from bank 1 into bank 2 at 0x08100000/),
  },
  {
    code: 'LAYOUT_OUTSIDE_FLASH',
    trigger: () => doctor(dfu(el(0x08000000, 64), { address: 0x24000000, data: filler(64) }), H743),
    nearMiss: () => doctor(dfu(el(0x08000000, 64), { address: 0x081fffc0, data: filler(64) }), H743),
    check: (f) => {
      assert.equal(f.start, 0x24000000);
      assert.match(f.message, /AXI SRAM RAM/);
    },
  },
  {
    code: 'LAYOUT_WRONG_ALT',
    trigger: () => doctor(dfu(el(0x08000000, 64), { address: 0x5200201c, data: filler(32) }), H743),
    nearMiss: () => doctor(rawDfuse([{ elements: [el(0x08000000, 64)] }, { alt: 1, elements: [{ address: 0x5200201c, data: filler(32) }] }]), H743),
    check: (f) => assert.match(f.message, /which the ROM serves on alt 1/),
  },
  {
    code: 'LAYOUT_ALT_UNKNOWN',
    trigger: () => doctor(rawDfuse([{ elements: [el(0x08000000, 64)] }, { alt: 3, elements: [{ address: 0x1ff00000, data: filler(32) }] }]), H743),
    nearMiss: () => doctor(rawDfuse([{ elements: [el(0x08000000, 64)] }, { alt: 1, elements: [{ address: 0x5200201c, data: filler(32) }] }]), H743),
  },
  {
    code: 'LAYOUT_NOT_WRITABLE',
    trigger: () => doctor(dfu(el(0x08000000, 64)), withFlashLayout(H743, '@Internal Flash   /0x08000000/01*128Ka,15*128Kg')),
    nearMiss: () => doctor(dfu(el(0x08020000, 64)), withFlashLayout(H743, '@Internal Flash   /0x08000000/01*128Ka,15*128Kg')),
  },
  {
    code: 'LAYOUT_ROM_QUIRK',
    trigger: () => doctor(dfu(el(0x08000000, 0x100), { address: 0x08100000, data: program(0x08100000, 0x100) }), H743),
    nearMiss: () => doctor(dfu(el(0x08000000, 0x100), { address: 0x080e0000, data: filler(0x100) }), H743),
    check: (f) => {
      assert.equal(f.quirk, 'h7-revV-bank2-erase-hang');
      assert.equal(f.start, 0x08100000);
      assert.match(f.message, /Poll timeout 1000 ms/);
      assert.match(f.message, /about 50 % into this file/);
      assert.match(f.fix, /dfukit flash/);
    },
  },
  {
    code: 'LAYOUT_SECTOR_PARTLY_WRITTEN',
    trigger: () => doctor(dfu(el(0x08000000, 0x1000)), F405),
    nearMiss: () => doctor(dfu(el(0x08000000, 0x4000)), F405),
    check: (f) => {
      assert.equal(f.sector, 'bank 1 sector 0');
      assert.equal(f.start, 0x08001000);
      assert.equal(f.end, 0x08004000);
    },
  },
  {
    code: 'LAYOUT_NO_VECTOR_TABLE',
    trigger: () => doctor(dfu({ address: 0x08000000, data: new Uint8Array(64).fill(0xff) }), H743),
    nearMiss: () => doctor(dfu(el(0x08000000, 64, { reset: 0x08000021 })), H743),
    check: (f) => {
      assert.equal(f.severity, 'error', 'at the boot address');
      assert.match(f.message, /first words are erased/);
    },
  },
  {
    code: 'LAYOUT_SP_OUTSIDE_RAM',
    trigger: () => doctor(dfu(el(0x08000000, 64, { sp: 0x20040000, reset: 0x08000021 })), H743),
    nearMiss: () => doctor(dfu(el(0x08000000, 64, { sp: 0x20020000, reset: 0x08000021 })), H743),
    check: (f) => assert.match(f.message, /0x20040000, outside any RAM region of the STM32H743xI/),
  },
  {
    code: 'LAYOUT_RESET_NOT_THUMB',
    trigger: () => doctor(dfu(el(0x08000000, 64, { reset: 0x08000020 })), H743),
    nearMiss: () => doctor(dfu(el(0x08000000, 64, { reset: 0x08000021 })), H743),
    check: (f) => assert.equal(f.start, 0x08000004),
  },
  {
    code: 'LAYOUT_RESET_OUTSIDE_IMAGE',
    trigger: () => doctor(dfu(el(0x08000000, 64, { reset: 0x08020401 })), H743),
    nearMiss: () => doctor(dfu(el(0x08000000, 64, { reset: 0x08000031 })), H743),
    check: (f) => assert.match(f.message, /into flash where this file writes nothing: the image was linked for another address/),
  },
  {
    code: 'LAYOUT_CORE_IMAGE_MISSING',
    trigger: () => doctor(dfu(el(0x08000000, 64, { reset: 0x08000021 })), H745, { dualCore: true }),
    nearMiss: () =>
      doctor(dfu(el(0x08000000, 64, { reset: 0x08000021 }), el(0x08100000, 64, { sp: 0x10048000, reset: 0x08100021 })), H745, { dualCore: true }),
    check: (f) => {
      assert.equal(f.core, 'cm4');
      assert.match(f.message, /no CM4 image: it writes nothing at 0x08100000/);
    },
  },
  {
    code: 'LAYOUT_CORE_IMAGE_MISPLACED',
    trigger: () => doctor(dfu(el(0x08000000, 64, { reset: 0x08000021 }), el(0x08180000, 64, { sp: 0x10048000, reset: 0x08180021 })), H745),
    nearMiss: () => doctor(dfu(el(0x08000000, 64, { reset: 0x08000021 }), el(0x08100000, 64, { sp: 0x10048000, reset: 0x08100021 })), H745),
    check: (f) => {
      assert.equal(f.start, 0x08180000);
      assert.match(f.message, /looks like the CM4 image, but the CM4 boots from 0x08100000/);
    },
  },
  {
    code: 'LAYOUT_CORE_IMAGES_OVERLAP',
    trigger: () => doctor(dfu(el(0x080fff00, 0x200, { sp: 0x20020000, reset: 0x080fff21 })), H745, { dualCore: true }),
    nearMiss: () => doctor(dfu(el(0x080fff00, 0x100, { sp: 0x20020000, reset: 0x080fff21 }), el(0x08100000, 64, { sp: 0x10048000, reset: 0x08100021 })), H745, { dualCore: true }),
    check: (f) => assert.match(f.message, /The CM7 image that starts at 0x080FFF00 runs on to 0x08100100, over 0x08100000/),
  },
  {
    code: 'LAYOUT_HEADER_AT_START',
    trigger: () => {
      const A = parseSlot('A=0x08020000+0x60000');
      const app = new MemoryImage();
      app.add(A.start + 0x400, program(A.start + 0x400, 0x400));
      const image = injectHeader(app, { layout: 'dfukit-ab-v1', slot: A, options: { version: '1.0.0' } }).image;
      return doctor(rawDfuse([{ elements: image.runs().map((r) => ({ address: r.addr, data: r.data })) }]), H743, { findHeaders: detectHeaders });
    },
    nearMiss: () => doctor(dfu(el(0x08020000, 0x400, { reset: 0x08020201 })), H743, { findHeaders: detectHeaders }),
  },

  // ---- ELF
  {
    code: 'ELF_LOAD_IN_RAM',
    trigger: () => doctor(elf32([{ vaddr: 0x08000000, paddr: 0x08000000, data: program(0x08000000, 64, { reset: 0x08000021 }) }, { vaddr: 0x20000000, paddr: 0x20000000, data: filler(16) }]), H743),
    nearMiss: () => doctor(elf32([{ vaddr: 0x08000000, paddr: 0x08000000, data: program(0x08000000, 64, { reset: 0x08000021 }) }, { vaddr: 0x20000000, paddr: 0x08000040, data: filler(16) }]), H743),
    check: (f, r) => {
      assert.equal(f.start, 0x20000000);
      assert.equal(f.offset, 52 + 64 + 64);
      assert.match(f.message, /in DTCM RAM, its run address/);
      assert.ok(!codes(r).includes('LAYOUT_OUTSIDE_FLASH'), 'reported once, by the more specific finding');
    },
  },
  {
    code: 'ELF_EMPTY_SEGMENT',
    trigger: () => doctor(elf32([{ vaddr: 0x08000000, paddr: 0x08000000, data: program(0x08000000, 64, { reset: 0x08000021 }) }, { vaddr: 0x20000000, paddr: 0x08000040, memsz: 256 }]), H743),
    nearMiss: () => doctor(elf32([{ vaddr: 0x08000000, paddr: 0x08000000, data: program(0x08000000, 64, { reset: 0x08000021 }) }, { vaddr: 0x20000000, paddr: 0x20000000, memsz: 256 }]), H743),
    check: (f) => assert.equal(f.severity, 'info'),
  },

  // ---- doctor itself
  {
    code: 'DOCTOR_NO_CHIP',
    trigger: () => doctor(goodH743(64)),
    nearMiss: () => doctor(goodH743(64), H743),
  },
  {
    code: 'DOCTOR_ADDRESS_ASSUMED',
    trigger: () => doctor(program(0x08000000, 64, { reset: 0x08000021 }), H743, { format: 'bin' }),
    nearMiss: () => doctor(program(0x08000000, 64, { reset: 0x08000021 }), H743, { format: 'bin', address: 0x08000000 }),
  },
  {
    code: 'DOCTOR_CHIP_NOTE',
    trigger: () => doctor(goodH743(64), resolveChip('STM32H743QI')),
    nearMiss: () => doctor(goodH743(64), resolveChip('STM32H743ZI')),
  },
];

describe('doctor: one case per code, triggered and near-missed', () => {
  test('every code in the catalogue has a case', () => {
    const have = new Set(CASES.map((c) => c.code));
    assert.deepEqual(
      DOCTOR_CODES.map((c) => c.code).filter((c) => !have.has(c)),
      [],
    );
  });
  for (const c of CASES) {
    test(`${c.code}: triggered`, () => {
      const r = c.trigger();
      const list = findings(r, c.code);
      assert.ok(list.length > 0, `expected ${c.code}, got ${codes(r).join(', ')}`);
      const info = DOCTOR_CODES.find((x) => x.code === c.code)!;
      for (const f of list) {
        assert.ok(f.message.length > 20 && f.fix.length > 5);
        assert.match(f.message, /^([A-Z0-9]|[a-z]+[A-Z])/, 'messages start like sentences (or with a field name)');
      }
      if (c.check !== undefined) c.check(list.length === 1 ? list[0]! : list[0]!, r);
      if (c.code !== 'DFUSE_ELEMENT_OVERLAP' && c.code !== 'DFUSE_IMAGE_SIZE' && c.code !== 'LAYOUT_NO_VECTOR_TABLE') {
        assert.equal(list[0]!.fixable, info.fixable, 'fixable as catalogued');
      }
    });
    test(`${c.code}: near miss does not trigger it`, () => {
      const r = c.nearMiss();
      assert.deepEqual(findings(r, c.code), [], `near miss got ${c.code}`);
    });
  }
});

describe('doctor: dual-core', () => {
  test('both images in the file: checked as dual-core without --dual-core', () => {
    const r = doctor(dfu(el(0x08000000, 64, { reset: 0x08000021 }), el(0x08100000, 64, { sp: 0x10048000, reset: 0x08100021 })), H745);
    assert.equal(r.dualCore, true);
    assert.equal(r.summary.errors, 0);
  });
  test('one image: not dual-core unless asked', () => {
    assert.equal(doctor(dfu(el(0x08000000, 64, { reset: 0x08000021 })), H745).dualCore, false);
  });
  test('--dual-core on a single-core part says it has no effect', () => {
    const r = doctor(dfu(el(0x08000000, 64, { reset: 0x08000021 })), H743, { dualCore: true });
    assert.match(one(r, 'DOCTOR_CHIP_NOTE').message, /--dual-core has no effect: STM32H743xI has one core/);
  });
});

describe('doctor: severities that depend on the case', () => {
  test('DFUSE_IMAGE_SIZE matching neither convention is an error', () => {
    const r = doctor(rawDfuse([{ elements: [el(0x08000000, 64)] }], { imageSize: 1000 }), H743);
    const f = one(r, 'DFUSE_IMAGE_SIZE');
    assert.equal(f.severity, 'error');
    assert.match(f.message, /DFUImageSize is 1000, but the file is 357 bytes without its suffix \(373 with it\)/);
  });
  test('DFUSE_ELEMENT_OVERLAP with the same bytes is fixable', () => {
    const a = program(0x08000000, 64);
    const r = doctor(dfu({ address: 0x08000000, data: a }, { address: 0x08000020, data: a.subarray(32) }), H743);
    const f = one(r, 'DFUSE_ELEMENT_OVERLAP');
    assert.equal(f.fixable, true);
    assert.match(f.message, /with the same bytes/);
  });
  test('LAYOUT_NO_VECTOR_TABLE away from a boot address is a warning', () => {
    const r = doctor(dfu({ address: 0x08020000, data: new Uint8Array(64).fill(0xff) }), H743);
    assert.equal(one(r, 'LAYOUT_NO_VECTOR_TABLE').severity, 'warning');
  });
  test('runs of a HEX file are one level below DfuSe elements', () => {
    const image = new MemoryImage();
    image.add(0x08000000, program(0x08000000, 64, { reset: 0x08000021 }));
    image.add(0x08000048, filler(20));
    const r = doctor(encodeIhex(image), H743);
    const start = one(r, 'LAYOUT_ELEMENT_START_UNALIGNED');
    assert.equal(start.severity, 'warning');
    assert.match(start.message, /Converted run by run into DfuSe elements \(as ST's DfuFileMgr does\), the ROM/);
    assert.equal(start.line, 6, 'the record that starts the run (line 1 is the type-04 record)');
    assert.equal(one(r, 'LAYOUT_ELEMENT_PARTIAL_WORD').severity, 'info');
    assert.equal(one(r, 'LAYOUT_SECTOR_SHARED').severity, 'info');
  });
  test('a CM4 vector table with its stack in DTCM (not visible to the CM4) is an error', () => {
    const r = doctor(dfu(el(0x08000000, 64, { reset: 0x08000021 }), el(0x08100000, 64, { sp: 0x20020000, reset: 0x08100021 })), H745, { dualCore: true });
    const f = one(r, 'LAYOUT_SP_OUTSIDE_RAM');
    assert.equal(f.core, 'cm4');
    assert.match(f.message, /in DTCM RAM, which this core cannot use/);
  });
  test('the H743xG flash hole is outside flash', () => {
    const r = doctor(dfu(el(0x08000000, 64, { reset: 0x08000021 }), { address: 0x08080000, data: filler(64) }), resolveChip('STM32H743ZG'));
    const f = one(r, 'LAYOUT_OUTSIDE_FLASH');
    assert.equal(f.start, 0x08080000);
    assert.match(f.message, /outside the flash of STM32H743ZG \(0x08000000..0x08080000, 0x08100000..0x08180000\)/);
  });
});

describe('doctor: reader leniencies become findings', () => {
  test('every leniency the DfuSe reader needs is a finding carrying its name', () => {
    const bytes = rawDfuse(
      [{ name: 'ST...', bTargetNamed: 0x0101, nameGarbage: new Uint8Array([1, 2]), elements: [el(0x08000000, 64)] }],
      { imageSize: 'file', badCrc: 1, trailing: new Uint8Array(3) },
    );
    const notes = parseDfuse(bytes, { lenient: ['all'] }).notes.filter((n) => n.leniency !== undefined);
    assert.equal(notes.length, 5);
    const r = doctor(bytes, H743);
    for (const n of notes) {
      const f = r.findings.find((x) => x.code === n.code);
      assert.ok(f !== undefined, n.code);
      assert.equal(f.leniency, n.leniency);
    }
    assert.throws(() => parseDfuse(bytes), 'the strict reader rejects the file');
  });

  test('a HEX file without end-of-file record', () => {
    const text = new TextDecoder().decode(encodeIhex(MemoryImage.from([{ addr: 0x08000000, data: program(0x08000000, 32, { reset: 0x08000011 }) }])));
    const r = doctor(new TextEncoder().encode(text.replace(':00000001FF\n', '')), H743);
    const f = one(r, 'IHEX_MISSING_EOF');
    assert.equal(f.leniency, 'missing-eof');
    assert.match(f.message, /The strict reader rejects this \(leniency 'missing-eof'\)/);
  });
});
