/**
 * `doctor --fix`: the repaired file has no errors, lists each repair, and holds exactly the input's data bytes
 * plus erased-value padding. Non-mechanical cases are refused or left as errors.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isFwError } from '../../src/core/errors.ts';
import { diagnose, type DoctorOptions } from '../../src/doctor/diagnose.ts';
import { doctorFix } from '../../src/doctor/fix.ts';
import type { DoctorReport } from '../../src/doctor/report-schema.ts';
import type { OutputFormat } from '../../src/convert/output.ts';
import { decodeFile } from '../../src/formats/decode.ts';
import { parseDfuse } from '../../src/formats/dfuse-file.ts';
import { encodeIhex } from '../../src/formats/ihex.ts';
import { MemoryImage } from '../../src/image/memory-image.ts';
import type { ChipProfile } from '../../src/layout/chip-types.ts';
import { elf32, F405, filler, H743, program, rawDfuse } from './helpers.ts';

function fix(bytes: Uint8Array, chip: ChipProfile | undefined, o: Omit<DoctorOptions, 'chip'> & { format?: OutputFormat } = {}): { report: DoctorReport; bytes: Uint8Array } {
  const { format, ...rest } = o;
  const opts = { file: 'in', ...(chip !== undefined ? { chip } : {}), ...rest };
  const d = diagnose(bytes, opts);
  return doctorFix(bytes, d, { ...(chip !== undefined ? { chip } : {}), output: 'out.dfu', format: format ?? 'dfu' });
}

/** The data of a file as the lenient reader sees it (later data win, as in doctor's analysis). */
function dataOf(bytes: Uint8Array, address?: number): MemoryImage {
  const d = decodeFile(bytes, { lenient: ['all'], overwrite: true, ...(address !== undefined ? { address } : {}) }).decoded;
  const image = new MemoryImage();
  for (const t of d.targets) image.addImage(t.image, { overwrite: true });
  return image;
}

/** Every input byte is in the output with its value; every other output byte is `fill`. */
function assertSameDataPlusPadding(input: MemoryImage, output: MemoryImage, fill = 0xff): void {
  for (const s of input.segments) {
    const got = output.read(s.addr, s.data.length, fill === 0 ? 1 : 0);
    assert.ok(output.covers(s.addr, s.addr + s.data.length), `output lost ${s.addr.toString(16)}+${s.data.length}`);
    assert.deepEqual(got, s.data, `data at 0x${s.addr.toString(16)} changed`);
  }
  for (const s of output.segments) {
    for (let i = 0; i < s.data.length; i++) {
      const a = s.addr + i;
      if (input.byteAt(a) === undefined && s.data[i] !== fill) assert.fail(`added byte at 0x${a.toString(16)} is 0x${s.data[i]!.toString(16)}, not the erased value`);
    }
  }
}

const el = (address: number, size: number, o: { sp?: number; reset?: number; seed?: number } = {}): { address: number; data: Uint8Array } => ({
  address,
  data: program(address, size, o),
});

/** What ST's DfuFileMgr makes of an odd HEX, plus the structural faults other tools add. */
function messy(): Uint8Array {
  return rawDfuse(
    [
      {
        name: 'ST...',
        nameGarbage: new TextEncoder().encode('C:\\build\\app'),
        elements: [
          { address: 0x08020005, data: filler(19, 3) }, // out of order, unaligned start, partial word, same sector as element 1
          el(0x08000000, 0x4bc8, { reset: 0x08000401 }), // partial word at the end
          { address: 0x080fffe0, data: filler(0x40, 5) }, // crosses into bank 2
        ],
      },
    ],
    { imageSize: 'file', trailing: new Uint8Array([1, 2, 3]), badCrc: 0xdead },
  );
}

describe('doctor --fix', () => {
  test('a messy DfuSe file: repaired output has no errors, lists every repair, keeps the data', () => {
    const input = messy();
    const before = diagnose(input, { chip: H743 }).report;
    for (const code of ['DFUSE_SUFFIX_CRC', 'DFUSE_IMAGE_SIZE', 'DFUSE_TRAILING_BYTES', 'DFUSE_ELEMENTS_UNSORTED', 'LAYOUT_ELEMENT_START_UNALIGNED', 'LAYOUT_BANK_CROSSING']) {
      assert.ok(before.findings.some((f) => f.code === code), code);
    }
    assert.ok(before.summary.errors > 0);

    const { report, bytes } = fix(input, H743);
    const fx = report.fix!;
    assert.equal(fx.summary.errors, 0, JSON.stringify(fx.findings.filter((f) => f.severity === 'error')));
    const actions = new Set(fx.repairs.map((r) => r.code));
    for (const code of ['DFUSE_SUFFIX_CRC', 'DFUSE_IMAGE_SIZE', 'DFUSE_TRAILING_BYTES', 'DFUSE_ELEMENTS_UNSORTED', 'DFUSE_TARGET_NAME_GARBAGE', 'LAYOUT_ELEMENT_START_UNALIGNED', 'LAYOUT_ELEMENT_PARTIAL_WORD', 'LAYOUT_BANK_CROSSING']) {
      assert.ok(actions.has(code), `repair for ${code}: ${JSON.stringify(fx.repairs)}`);
    }
    // The strict reader accepts the output; elements sorted, aligned, split at the bank boundary.
    const parsed = parseDfuse(bytes);
    assert.equal(parsed.notes.length, 0);
    const els = parsed.targets[0]!.elements.map((e) => [e.address, e.size]);
    for (const [a, s] of els) {
      assert.equal(a! % 32, 0);
      assert.equal(s! % 32, 0);
    }
    assert.ok(els.some(([a]) => a === 0x08100000), 'split at 0x08100000');
    assert.ok(els.every(([a], i) => i === 0 || a! > els[i - 1]![0]!), 'sorted');
    assertSameDataPlusPadding(dataOf(input), dataOf(bytes));
    // Fixing the fixed file changes nothing.
    const again = fix(bytes, H743);
    assert.deepEqual(again.bytes, bytes);
    assert.deepEqual(again.report.fix!.repairs, []);
  });

  test('lying counts and sizes are rewritten from the data', () => {
    const input = rawDfuse([{ elements: [el(0x08000000, 64), el(0x08000040, 64, { seed: 9 })], dwNbElements: 5 }], { bTargets: 3, imageSize: 99 });
    const before = diagnose(input, { chip: H743 }).report;
    assert.deepEqual(
      ['DFUSE_ELEMENT_COUNT', 'DFUSE_IMAGE_SIZE', 'DFUSE_TARGET_COUNT'].filter((c) => before.findings.some((f) => f.code === c && f.severity === 'error')),
      ['DFUSE_ELEMENT_COUNT', 'DFUSE_IMAGE_SIZE', 'DFUSE_TARGET_COUNT'],
    );
    const { report, bytes } = fix(input, H743);
    assert.equal(report.fix!.summary.errors, 0);
    assert.doesNotThrow(() => parseDfuse(bytes));
    assertSameDataPlusPadding(dataOf(rawDfuse([{ elements: [el(0x08000000, 64), el(0x08000040, 64, { seed: 9 })] }])), dataOf(bytes));
  });

  test('a file without suffix gets one', () => {
    const input = rawDfuse([{ elements: [el(0x08000000, 64)] }], { noSuffix: true });
    const { report, bytes } = fix(input, H743);
    assert.ok(report.fix!.repairs.some((r) => r.code === 'DFUSE_NO_SUFFIX'));
    assert.equal(parseDfuse(bytes).suffix.bcdDFU, 0x011a);
  });

  test('identical overlapping elements are kept once; different ones are refused', () => {
    const a = program(0x08000000, 128);
    const same = rawDfuse([{ elements: [{ address: 0x08000000, data: a }, { address: 0x08000040, data: a.subarray(64) }] }]);
    const { report, bytes } = fix(same, H743);
    assert.equal(report.fix!.summary.errors, 0);
    assert.ok(report.fix!.repairs.some((r) => r.code === 'DFUSE_ELEMENT_OVERLAP' && r.action === 'dedupe'));
    assert.deepEqual(dataOf(bytes).read(0x08000000, 128), a);

    const different = rawDfuse([{ elements: [{ address: 0x08000000, data: a }, { address: 0x08000040, data: filler(64) }] }]);
    assert.throws(
      () => fix(different, H743),
      (e) => isFwError(e) && e.code === 'DOCTOR_FIX_CONFLICT' && e.exitStatus === 1 && /0x08000040..0x08000080 with different bytes/.test(e.message),
    );
  });

  test('HEX records that write different bytes to one address are refused', () => {
    const hex = new TextEncoder().encode(':020000040800F2\n:0400000001020304F2\n:0400020009090909D6\n:00000001FF\n');
    assert.throws(() => fix(hex, H743), (e) => isFwError(e) && e.code === 'DOCTOR_FIX_CONFLICT' && /records overlap at 0x08000002/.test(e.message));
  });

  test('a HEX file becomes an aligned DfuSe file; F4 pads to 4 bytes, merges within a 16 KiB sector', () => {
    const image = new MemoryImage();
    image.add(0x08000000, program(0x08000000, 0x102, { reset: 0x08000041 }));
    image.add(0x08001001, filler(9));
    const hex = encodeIhex(image);
    const { report, bytes } = fix(hex, F405);
    assert.equal(report.fix!.summary.errors, 0);
    const parsed = parseDfuse(bytes);
    assert.deepEqual(
      parsed.targets[0]!.elements.map((e) => [e.address, e.size]),
      [[0x08000000, 0x100c]],
    );
    assert.ok(report.fix!.repairs.some((r) => r.code === 'LAYOUT_SECTOR_SHARED' && r.action === 'merge'));
    assertSameDataPlusPadding(image, dataOf(bytes));
  });

  test('non-mechanical errors stay errors in the output (data in RAM), and are listed as unrepaired', () => {
    const elf = elf32([
      { vaddr: 0x08000000, paddr: 0x08000000, data: program(0x08000000, 64, { reset: 0x08000021 }) },
      { vaddr: 0x20000000, paddr: 0x20000000, data: filler(16) },
    ]);
    const { report } = fix(elf, H743);
    assert.ok(report.fix!.unrepaired.includes('ELF_LOAD_IN_RAM'));
    assert.ok(report.fix!.summary.errors > 0);
    assert.ok(report.fix!.findings.some((f) => f.code === 'LAYOUT_OUTSIDE_FLASH' && f.start === 0x20000000));
  });

  test('without a chip the elements are padded to 8 bytes', () => {
    const input = rawDfuse([{ elements: [el(0x08000000, 61)] }]);
    const { bytes } = fix(input, undefined);
    assert.equal(parseDfuse(bytes).targets[0]!.elements[0]!.size, 64);
  });

  test('a raw binary keeps its address', () => {
    const bin = program(0x08020000, 100, { reset: 0x08020011 });
    const { report, bytes } = fix(bin, H743, { address: 0x08020000 });
    assert.equal(report.fix!.summary.errors, 0);
    assert.equal(parseDfuse(bytes).targets[0]!.elements[0]!.address, 0x08020000);
    assertSameDataPlusPadding(dataOf(bin, 0x08020000), dataOf(bytes));
  });
});
