import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeBin, encodeBin } from '../../src/formats/bin.ts';
import { encodeDfu } from '../../src/formats/dfu-suffix.ts';
import { MemoryImage } from '../../src/image/memory-image.ts';

function image(...segs: [number, number[]][]): MemoryImage {
  const m = new MemoryImage();
  for (const [addr, data] of segs) m.add(addr, new Uint8Array(data));
  return m;
}

describe('bin: decode', () => {
  test('bytes at the given address, one alt-0 target, no notes', () => {
    const d = decodeBin(new Uint8Array([1, 2, 3]), { address: 0x08000000, file: 'a.bin' });
    assert.equal(d.format, 'bin');
    assert.equal(d.targets.length, 1);
    assert.equal(d.targets[0]!.alt, 0);
    assert.deepEqual(
      d.targets[0]!.image.segments.map((s) => [s.addr, [...s.data], s.source]),
      [[0x08000000, [1, 2, 3], 'a.bin']],
    );
    assert.deepEqual(d.notes, []);
  });

  test('no address is a usage error', () => {
    assert.throws(() => decodeBin(new Uint8Array(4), { file: 'a.bin' }), {
      code: 'BIN_NO_ADDRESS',
      exitStatus: 2,
      location: { file: 'a.bin' },
      message: /a\.bin@0x08000000/,
    });
  });

  test('address out of the 32-bit space is a usage error', () => {
    assert.throws(() => decodeBin(new Uint8Array(4), { address: 0xfffffffd }), { code: 'BIN_ADDRESS_RANGE', exitStatus: 2 });
    assert.throws(() => decodeBin(new Uint8Array(4), { address: 1.5 }), { code: 'BIN_ADDRESS_RANGE' });
    // The last 4 bytes of the address space are fine.
    assert.equal(decodeBin(new Uint8Array(4), { address: 0xfffffffc }).targets[0]!.image.end, 0x1_0000_0000);
  });

  test('warns about an empty file and about a DFU file loaded as raw binary', () => {
    assert.deepEqual(
      decodeBin(new Uint8Array(0), { address: 0 }).notes.map((n) => n.code),
      ['BIN_EMPTY'],
    );
    const dfu = encodeDfu(new Uint8Array(8), { vid: 0x0483, pid: 0xdf11, bcdDevice: 0 });
    const notes = decodeBin(dfu, { address: 0 }).notes;
    assert.deepEqual(
      notes.map((n) => [n.code, n.location.offset]),
      [['BIN_HAS_DFU_SUFFIX', 8]],
    );
  });
});

describe('bin: encode', () => {
  test('gaps filled with 0xFF by default, from the first byte to the last', () => {
    const r = encodeBin(image([0x100, [1, 2]], [0x104, [3]]));
    assert.equal(r.start, 0x100);
    assert.deepEqual([...r.bytes], [1, 2, 0xff, 0xff, 3]);
  });

  test('chosen fill and an explicit lower start', () => {
    const r = encodeBin(image([0x100, [1]], [0x102, [2]]), { fill: 0x00, start: 0xfe });
    assert.equal(r.start, 0xfe);
    assert.deepEqual([...r.bytes], [0, 0, 1, 0, 2]);
  });

  test('start equal to the first byte is the default', () => {
    assert.deepEqual([...encodeBin(image([0x10, [7]]), { start: 0x10 }).bytes], [7]);
  });

  test('start above the first segment is an error naming both', () => {
    assert.throws(() => encodeBin(image([0x100, [1]]), { start: 0x101 }), {
      code: 'BIN_START_ABOVE_DATA',
      exitStatus: 2,
      message: /0x00000101 is above the first data at 0x00000100/,
    });
  });

  test('a span above the limit is refused before anything is allocated, naming the span and widest gap', () => {
    // RAM + flash in one image: 0x08000000 and 0x20000000, 384 MiB apart.
    const m = image([0x08000000, [1, 2, 3, 4]], [0x08000010, [5]], [0x20000000, [6]]);
    assert.throws(() => encodeBin(m), {
      code: 'BIN_SPAN_TOO_LARGE',
      exitStatus: 3,
      message:
        /spans 0x08000000\.\.0x20000001, 402653185 \(0x18000001\) bytes, above the limit of 268435456 \(0x10000000\); the widest gap is 0x08000011\.\.0x20000000/,
    });
    assert.throws(() => encodeBin(image([0, [1]], [100, [2]]), { maxSpan: 100 }), { code: 'BIN_SPAN_TOO_LARGE' });
    assert.equal(encodeBin(image([0, [1]], [99, [2]]), { maxSpan: 100 }).bytes.length, 100);
  });

  test('empty image and bad options', () => {
    assert.throws(() => encodeBin(new MemoryImage()), { code: 'BIN_EMPTY_IMAGE', exitStatus: 3 });
    assert.throws(() => encodeBin(image([0, [1]]), { fill: 256 }), { code: 'BIN_FILL', exitStatus: 2 });
    assert.throws(() => encodeBin(image([0, [1]]), { start: -1 }), { code: 'BIN_START', exitStatus: 2 });
    assert.throws(() => encodeBin(image([0, [1]]), { maxSpan: -1 }), { code: 'BIN_MAX_SPAN', exitStatus: 2 });
  });

  test('decode then encode gives the same bytes', () => {
    const bytes = new Uint8Array([9, 8, 7, 6, 5]);
    assert.deepEqual(encodeBin(decodeBin(bytes, { address: 0x08004000 }).targets[0]!.image).bytes, bytes);
  });
});
