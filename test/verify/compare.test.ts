/**
 * The comparison under the diff, on synthetic images (no corpus needed): word compare against a byte-by-byte
 * reference at every alignment, merging, what is compared (default vs --whole), counts, first difference, CRCs.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { crc32, crc32Stm32 } from '../../src/core/crc.ts';
import { MemoryImage } from '../../src/image/memory-image.ts';
import { diffRuns } from '../../src/verify/compare.ts';
import { diff, FLASH, imageAt, noise, only, patched, shape } from './helpers.ts';

/** Runs of differing bytes, one byte at a time: the reference. */
function naiveRuns(a: Uint8Array, b: Uint8Array, base: number): [number, number][] {
  const out: [number, number][] = [];
  let run = -1;
  for (let i = 0; i <= a.length; i++) {
    const d = i < a.length && a[i] !== b[i];
    if (d && run < 0) run = i;
    if (!d && run >= 0) {
      out.push([base + run, base + i]);
      run = -1;
    }
  }
  return out;
}

function joined(runs: [number, number][]): [number, number][] {
  const out: [number, number][] = [];
  for (const r of runs) {
    const last = out[out.length - 1];
    if (last !== undefined && last[1] === r[0]) last[1] = r[1];
    else out.push([r[0], r[1]]);
  }
  return out;
}

describe('word compare', () => {
  test('equals the byte-by-byte reference at every relative alignment and length', () => {
    const buf1 = noise(70_000, 3, false);
    const buf2 = buf1.slice();
    // Differences: single bytes, runs across word and 64 KiB chunk boundaries, the first and last byte.
    for (const i of [0, 5, 6, 7, 8, 13, 4095, 4096, 65_533, 65_534, 65_535, 65_536, 65_537, 69_999]) buf2[i] = buf2[i]! ^ 0x5a;
    for (let i = 30_000; i < 30_050; i++) buf2[i] = ~buf2[i]! & 0xff;
    for (const offA of [0, 1, 2, 3]) {
      for (const offB of [0, 1, 2, 3]) {
        for (const len of [0, 1, 3, 4, 7, 64, 65_537, 69_990]) {
          const a = new Uint8Array(len + 8);
          const b = new Uint8Array(len + 8);
          a.set(buf1.subarray(0, len), offA);
          b.set(buf2.subarray(0, len), offB);
          const va = a.subarray(offA, offA + len);
          const vb = b.subarray(offB, offB + len);
          const got: [number, number][] = [];
          diffRuns(va, vb, 0x1000, (s, e) => got.push([s, e]));
          assert.deepEqual(joined(got), naiveRuns(va, vb, 0x1000), `offsets ${offA}/${offB}, length ${len}`);
        }
      }
    }
  });
});

describe('what is compared', () => {
  const base = noise(0x1000, 11);
  const expected = imageAt(FLASH, base);

  test('equal images: no range, equal CRCs, exit-0 verdict', () => {
    const r = diff(expected, imageAt(FLASH, base.slice()));
    assert.equal(r.equal, true);
    assert.deepEqual(r.ranges, []);
    assert.equal(r.differingBytes, 0);
    assert.equal(r.compared.bytes, 0x1000);
    assert.equal(r.firstDifference, undefined);
    assert.deepEqual(r.expected.crc, r.actual.crc);
    assert.deepEqual(r.expected.crc, { isoHdlc: crc32(base), stm32: crc32Stm32(base) });
  });

  test('CRCs run over the compared ranges in address order, as one stream (odd lengths included)', () => {
    const m = new MemoryImage();
    m.add(FLASH, Uint8Array.of(1, 2, 3));
    m.add(FLASH + 0x100, Uint8Array.of(4, 5, 6, 7, 8));
    const r = diff(m, m.clone());
    const all = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
    assert.deepEqual(r.expected.crc, { isoHdlc: crc32(all), stm32: 0xa3141bda });
    assert.equal(crc32Stm32(all), 0xa3141bda);
    // The actual side counts bytes it lacks as erased, and says it is incomplete.
    const short = diff(m, imageAt(FLASH, Uint8Array.of(1, 2, 3)));
    assert.equal(short.actual.complete, false);
    assert.deepEqual(short.actual.crc, { isoHdlc: crc32(Uint8Array.of(1, 2, 3, 255, 255, 255, 255, 255)), stm32: crc32Stm32(Uint8Array.of(1, 2, 3, 255, 255, 255, 255, 255)) });
  });

  test('only where the expected image has data: extra actual data is counted, not compared', () => {
    const dump = new MemoryImage();
    dump.add(FLASH - 0x100, new Uint8Array(0x100).fill(0x42));
    dump.add(FLASH, base.slice());
    dump.add(FLASH + 0x1000, new Uint8Array(0x200).fill(0x00));
    const r = diff(expected, dump);
    assert.equal(r.equal, true);
    assert.equal(r.actualOutside, 0x300);
    assert.equal(r.notes[0]?.code, 'DIFF_ACTUAL_OUTSIDE');
  });

  test('--whole: gaps of the expected image must read erased; non-erased bytes there are reported', () => {
    const dump = new MemoryImage();
    dump.add(FLASH, base.slice());
    const tail = new Uint8Array(0x200).fill(0xff);
    tail.fill(0x00, 0x80, 0x90);
    dump.add(FLASH + 0x1000, tail);
    assert.equal(diff(expected, dump, { whole: true }).ranges.length, 1);
    const r = diff(expected, dump, { whole: true });
    const x = only(r);
    assert.deepEqual([x.start, x.end, x.class], [FLASH + 0x1080, FLASH + 0x1090, 'other']);
    assert.deepEqual(x.evidence, { class: 'other', bitsSet: 0, bitsCleared: 128, uniformActual: 0, outsideImage: true });
    assert.equal(x.first.expected, null);
    assert.match(x.summary, /erased flash \(0xFF\) was expected.*all 0x00: padding filled with 0x00/);
    assert.deepEqual(r.compared.ranges, [{ start: FLASH, end: FLASH + 0x1200 }]);
    // An all-erased extra area is equal.
    const clean = new MemoryImage();
    clean.add(FLASH, base.slice());
    clean.add(FLASH + 0x1000, new Uint8Array(0x200).fill(0xff));
    assert.equal(diff(expected, clean, { whole: true }).equal, true);
  });

  test('differing bytes merge across at most --merge equal bytes, never across regions', () => {
    const a = patched(expected, FLASH + 0x10, [0]);
    const b = patched(a, FLASH + 0x20, [0]); // 15 equal bytes between
    const merged = diff(expected, b);
    assert.deepEqual(merged.ranges.map((x) => [x.start, x.end, x.differing]), [[FLASH + 0x10, FLASH + 0x21, 2]]);
    assert.deepEqual(diff(expected, b, { merge: 14 }).ranges.map((x) => [x.start, x.end, x.differing]), [
      [FLASH + 0x10, FLASH + 0x11, 1],
      [FLASH + 0x20, FLASH + 0x21, 1],
    ]);
    assert.equal(diff(expected, b, { merge: 15 }).ranges.length, 1);
    // Two elements 4 bytes apart: never one range.
    const two = new MemoryImage();
    two.add(FLASH, Uint8Array.of(1, 2, 3, 4));
    two.add(FLASH + 8, Uint8Array.of(5, 6, 7, 8));
    const other = new MemoryImage();
    other.add(FLASH, Uint8Array.of(1, 2, 3, 9));
    other.add(FLASH + 8, Uint8Array.of(9, 6, 7, 8));
    assert.deepEqual(shape(diff(two, other)).map(([s, e]) => [s - FLASH, e - FLASH]), [
      [3, 4],
      [8, 9],
    ]);
  });

  test('counts, fraction, first difference and context', () => {
    const b = patched(expected, FLASH + 0x800, [0x12, 0x34]);
    const r = diff(expected, b, { context: 4 });
    const x = only(r);
    assert.equal(r.differingBytes, x.differing);
    assert.equal(r.fraction, x.differing / 0x1000);
    assert.deepEqual(r.firstDifference, { address: FLASH + 0x800, expected: base[0x800], actual: 0x12 });
    assert.equal(x.context.start, FLASH + 0x800 - 4);
    assert.equal(x.context.expected.length, 16);
    assert.deepEqual(x.context.expected, Array.from(base.subarray(0x7fc, 0x80c)));
    assert.deepEqual(x.context.actual.slice(4, 6), [0x12, 0x34]);
  });

  test('an empty expected image compares nothing and says so', () => {
    const r = diff(new MemoryImage(), expected);
    assert.equal(r.equal, true);
    assert.equal(r.compared.bytes, 0);
    assert.ok(r.notes.some((n) => n.code === 'DIFF_EXPECTED_EMPTY'));
  });
});
