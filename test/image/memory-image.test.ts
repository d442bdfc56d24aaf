import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FwError } from '../../src/core/errors.ts';
import { MemoryImage } from '../../src/image/memory-image.ts';

const b = (...v: number[]): Uint8Array => new Uint8Array(v);

describe('MemoryImage', () => {
  test('keeps segments sorted whatever the insertion order', () => {
    const m = new MemoryImage();
    m.add(0x08000010, b(3, 4), 'c');
    m.add(0x08000000, b(1, 2), 'a');
    m.add(0x08000008, b(9), 'b');
    assert.deepEqual(m.segments.map((s) => s.addr), [0x08000000, 0x08000008, 0x08000010]);
    assert.equal(m.size, 5);
    assert.equal(m.start, 0x08000000);
    assert.equal(m.end, 0x08000012);
  });

  test('overlap is an error naming both sources and ranges', () => {
    const m = new MemoryImage();
    m.add(0x08000000, new Uint8Array(16), 'a.hex line 2');
    assert.throws(
      () => m.add(0x08000008, new Uint8Array(16), 'b.bin'),
      (e: unknown) =>
        e instanceof FwError &&
        e.code === 'IMAGE_OVERLAP' &&
        e.message === 'b.bin 0x08000008..0x08000018 overlaps a.hex line 2 0x08000000..0x08000010 at 0x08000008..0x08000010' &&
        e.location.address === 0x08000008,
    );
    // a near miss: touching is not overlapping
    assert.doesNotThrow(() => m.add(0x08000010, b(1), 'c'));
  });

  test('overwrite lets later data win and reports what was replaced', () => {
    const m = new MemoryImage();
    m.add(0x100, b(1, 1, 1, 1), 'old1');
    m.add(0x106, b(2, 2, 2, 2), 'old2');
    const rep = m.add(0x102, b(9, 9, 9, 9, 9, 9), 'new', { overwrite: true });
    assert.deepEqual(rep, [
      { start: 0x102, end: 0x104, previousSource: 'old1', source: 'new' },
      { start: 0x106, end: 0x108, previousSource: 'old2', source: 'new' },
    ]);
    assert.deepEqual([...m.read(0x100, 10, 0)], [1, 1, 9, 9, 9, 9, 9, 9, 2, 2]);
    assert.deepEqual(m.segments.map((s) => [s.addr, s.data.length, s.source]), [
      [0x100, 2, 'old1'],
      [0x102, 6, 'new'],
      [0x108, 2, 'old2'],
    ]);
  });

  test('unsigned 32-bit addresses up to the top of the address space', () => {
    const m = new MemoryImage();
    m.add(0xfffffffc, b(1, 2, 3, 4));
    m.add(0x90000000, b(5));
    assert.equal(m.end, 0x1_0000_0000);
    assert.equal(m.byteAt(0xffffffff), 4);
    assert.equal(m.byteAt(0x90000000), 5);
    assert.throws(() => m.add(0xfffffffe, b(1, 2, 3)), (e: unknown) => e instanceof FwError && e.code === 'IMAGE_ADDRESS_RANGE');
  });

  test('far-apart data does not materialise the gap', () => {
    const m = new MemoryImage();
    m.add(0x08000000, new Uint8Array(4));
    m.add(0x64000000, new Uint8Array(4));
    assert.equal(m.size, 8);
    assert.equal(m.ranges().length, 2);
    assert.equal(m.runs().reduce((n, s) => n + s.data.length, 0), 8);
  });

  test('runs joins adjacent segments, ranges reports them', () => {
    const m = MemoryImage.from([
      { addr: 0x10, data: b(1, 2), source: 'x' },
      { addr: 0x12, data: b(3), source: 'y' },
      { addr: 0x20, data: b(4) },
    ]);
    const runs = m.runs();
    assert.equal(runs.length, 2);
    assert.deepEqual([...runs[0]!.data], [1, 2, 3]);
    assert.equal(runs[0]!.source, 'x + y');
    assert.deepEqual(m.ranges(), [
      { start: 0x10, end: 0x13 },
      { start: 0x20, end: 0x21 },
    ]);
  });

  test('read fills gaps, slice clips', () => {
    const m = MemoryImage.from([{ addr: 4, data: b(1, 2) }, { addr: 8, data: b(3) }]);
    assert.deepEqual([...m.read(3, 7, 0xee)], [0xee, 1, 2, 0xee, 0xee, 3, 0xee]);
    const s = m.slice(5, 9);
    assert.deepEqual(s.segments.map((x) => [x.addr, [...x.data]]), [
      [5, [2]],
      [8, [3]],
    ]);
    assert.equal(m.covers(4, 6), true);
    assert.equal(m.covers(4, 7), false);
  });

  test('align pads each run to the unit and joins runs sharing a unit', () => {
    const m = MemoryImage.from([
      { addr: 0x08000003, data: b(1, 2) }, // 0x08000003..0x08000005
      { addr: 0x08000006, data: b(3) }, //    shares the unit 0x08000000..0x08000008
      { addr: 0x08000020, data: new Uint8Array(8).fill(7) }, // already aligned
      { addr: 0x0800002d, data: b(9) },
    ]);
    const { image, pads } = m.align(8, 0xff);
    assert.deepEqual(image.ranges(), [
      { start: 0x08000000, end: 0x08000008 },
      { start: 0x08000020, end: 0x08000030 },
    ]);
    assert.deepEqual([...image.read(0x08000000, 8, 0)], [0xff, 0xff, 0xff, 1, 2, 0xff, 3, 0xff]);
    assert.deepEqual([...image.read(0x08000028, 8, 0)], [0xff, 0xff, 0xff, 0xff, 0xff, 9, 0xff, 0xff]);
    assert.deepEqual(
      pads.map((p) => [p.start, p.end, p.reason]),
      [
        [0x08000000, 0x08000003, 'align-start'],
        [0x08000005, 0x08000006, 'gap'],
        [0x08000007, 0x08000008, 'align-end'],
        [0x08000028, 0x0800002d, 'gap'], // the aligned runs touch at 0x08000028 and are joined
        [0x0800002e, 0x08000030, 'align-end'],
      ],
    );
    assert.equal(m.align(1, 0xff).image.size, m.size);
  });

  test('fillGaps makes one segment over the range and lists the gaps', () => {
    const m = MemoryImage.from([{ addr: 2, data: b(1) }, { addr: 5, data: b(2) }, { addr: 20, data: b(3) }]);
    const { image, pads } = m.fillGaps(0, 8, 0xff);
    assert.deepEqual(image.ranges(), [
      { start: 0, end: 8 },
      { start: 20, end: 21 },
    ]);
    assert.deepEqual([...image.read(0, 8, 0)], [0xff, 0xff, 1, 0xff, 0xff, 2, 0xff, 0xff]);
    assert.deepEqual(pads.map((p) => [p.start, p.end]), [[0, 2], [3, 5], [6, 8]]);
  });
});
