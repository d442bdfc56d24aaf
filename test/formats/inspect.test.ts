import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { crc32 } from '../../src/core/crc.ts';
import { encodeDfuse } from '../../src/formats/dfuse-file.ts';
import { inspectBytes } from '../../src/formats/inspect.ts';
import { InspectReportSchema } from '../../src/formats/inspect-report.ts';
import { MemoryImage } from '../../src/image/memory-image.ts';
import { corpusOrSkip, fixturePath, manifestEntries } from '../helpers/corpus.ts';

/** A minimal Cortex-M image: SP 0x20020000, reset 0x08000199 (Thumb), then a pattern. */
function vectorImage(base: number, size: number, sp = 0x20020000, reset = base + 0x199): Uint8Array {
  const b = new Uint8Array(size);
  for (let i = 8; i < size; i++) b[i] = (i * 7) & 0xff;
  const dv = new DataView(b.buffer);
  dv.setUint32(0, sp, true);
  dv.setUint32(4, reset, true);
  return b;
}

describe('inspect', () => {
  test('DfuSe: elements with file offsets, CRC-32, suffix, convention and vector tables per element', () => {
    const cm7 = vectorImage(0x08000000, 100);
    const cm4 = vectorImage(0x08100000, 37, 0x10048000, 0x08100201);
    const img = MemoryImage.from([{ addr: 0x08000000, data: cm7 }, { addr: 0x08100000, data: cm4 }]);
    const bytes = encodeDfuse([{ alt: 0, name: 'ST...', image: img }], { vid: 0x0483, pid: 0xdf11, bcdDevice: 0xffff });
    const r = inspectBytes('fw.dfu', bytes);
    assert.equal(InspectReportSchema.safeParse(r).success, true);
    assert.equal(r.format, 'dfuse');
    assert.equal(r.size, 137);
    assert.deepEqual(r.dfuse, { version: 1, imageSize: bytes.length - 16, imageSizeConvention: 'without-suffix', targetCount: 1 });
    const t = r.targets[0]!;
    assert.equal(t.name, 'ST...');
    // prefix 11 + target prefix 274 + element header 8 = 293 for the first element's data
    assert.deepEqual(t.elements, [
      { index: 0, address: 0x08000000, end: 0x08000064, size: 100, crc32: crc32(cm7), offset: 293 },
      { index: 1, address: 0x08100000, end: 0x08100025, size: 37, crc32: crc32(cm4), offset: 293 + 100 + 8 },
    ]);
    assert.deepEqual(t.vectorTables, [
      { address: 0x08000000, initialSp: 0x20020000, resetHandler: 0x08000199, thumb: true, plausible: true },
      { address: 0x08100000, initialSp: 0x10048000, resetHandler: 0x08100201, thumb: true, plausible: true },
    ]);
    assert.equal(r.suffix?.idVendor, 0x0483);
    assert.equal(r.suffix?.idProduct, 0xdf11);
    assert.equal(r.suffix?.bcdDFU, 0x011a);
    assert.equal(r.suffix?.crcValid, true);
    assert.deepEqual(r.leniencies, []);
  });

  test('a reset handler without the Thumb bit is reported as such', () => {
    const r = inspectBytes('x.bin', vectorImage(0x08000000, 64, 0x20001000, 0x08000100), { address: 0x08000000 });
    assert.deepEqual(r.targets[0]!.vectorTables, [{ address: 0x08000000, initialSp: 0x20001000, resetHandler: 0x08000100, thumb: false, plausible: false }]);
  });

  test('BIN at an address: one element, no vector table claimed where the words are not one', () => {
    const r = inspectBytes('far.bin', new Uint8Array(16).fill(0xff), { address: 0x08060000 });
    assert.equal(r.format, 'bin');
    assert.deepEqual(r.targets[0]!.elements.map((e) => [e.address, e.size]), [[0x08060000, 16]]);
    assert.equal(r.targets[0]!.vectorTables[0]!.plausible, false);
  });

  test('ELF fixture: entry, loaded sections by LMA, vector table at flash start', () => {
    const bytes = new Uint8Array(readFileSync(fixturePath('elf', 'h745_cm7.elf')));
    const r = inspectBytes('h745_cm7.elf', bytes);
    assert.equal(InspectReportSchema.safeParse(r).success, true);
    assert.equal(r.format, 'elf');
    assert.equal(r.elf?.class, 32);
    const data = r.elf!.sections.find((s) => s.name === '.data')!;
    assert.equal(data.loaded, true);
    assert.ok(data.vma >= 0x24000000 && data.vma < 0x24080000, '.data runs from AXI SRAM');
    assert.ok(data.lma! >= 0x08000000 && data.lma! < 0x08100000, '.data is stored in bank 1 flash');
    const vt = r.targets[0]!.vectorTables[0]!;
    assert.equal(vt.address, 0x08000000);
    assert.equal(vt.plausible, true);
    assert.ok(r.entry !== undefined);
  });
});

const corpus = corpusOrSkip();
const KIND_TO_FORMAT: Record<string, string> = { dfuse: 'dfuse', dfu: 'dfu', hex: 'ihex', elf: 'elf', bin: 'bin' };

describe('inspect: every firmware file of the corpus', { skip: corpus.skip }, () => {
  test('all 129 firmware files (of 137 listed) are inspected, detected as the kind MANIFEST gives, and fit the schema', () => {
    const dir = corpus.dir!;
    const firmware = manifestEntries(dir).filter((e) => e.kind in KIND_TO_FORMAT);
    assert.equal(firmware.length, 129, 'MANIFEST lists 41 dfuse + 7 dfu + 20 hex + 23 elf + 38 bin');
    const wrong: string[] = [];
    for (const e of firmware) {
      const bytes = new Uint8Array(readFileSync(join(dir, e.file)));
      const r = inspectBytes(e.file, bytes, { lenient: ['all'], address: 0x08000000 });
      if (r.format !== KIND_TO_FORMAT[e.kind]) wrong.push(`${e.file}: detected ${r.format}, MANIFEST says ${e.kind}`);
      const parsed = InspectReportSchema.safeParse(r);
      if (!parsed.success) wrong.push(`${e.file}: report does not fit the schema: ${parsed.error.message}`);
      if (r.fileSize !== e.size) wrong.push(`${e.file}: size ${r.fileSize}, MANIFEST says ${e.size}`);
    }
    assert.deepEqual(wrong, []);
  });
});
