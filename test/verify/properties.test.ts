/**
 * Invariants of the diff over random images and random faults (deterministic seeds): the ranges hold exactly
 * the differing and missing bytes a byte-by-byte comparison finds, start and end on one, never overlap, stay
 * inside one compared region, and the report always matches the schema. Plus the unit rule of "not written".
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MemoryImage } from '../../src/image/memory-image.ts';
import { diff, Flash, FLASH, imageAt, noise, only, patched } from './helpers.ts';

/** xorshift32 PRNG. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

/** Byte-by-byte reference: addresses that differ (or that actual lacks), over the compared addresses. */
function naive(expected: MemoryImage, actual: MemoryImage, whole: boolean): Set<number> {
  const out = new Set<number>();
  const addrs = new Set<number>();
  for (const s of expected.segments) for (let i = 0; i < s.data.length; i++) addrs.add(s.addr + i);
  if (whole) for (const s of actual.segments) for (let i = 0; i < s.data.length; i++) addrs.add(s.addr + i);
  for (const a of addrs) {
    const e = expected.byteAt(a) ?? 0xff;
    const v = actual.byteAt(a);
    if (v === undefined || v !== e) out.add(a);
  }
  return out;
}

describe('invariants over random faults', () => {
  for (let seed = 1; seed <= 60; seed++) {
    test(`seed ${seed}`, () => {
      const rnd = prng(seed * 7919);
      const int = (n: number): number => Math.floor(rnd() * n);
      // 1-3 elements with gaps, some erased padding inside.
      const expected = new MemoryImage();
      let at = FLASH + int(64);
      for (let k = 0, n = 1 + int(3); k < n; k++) {
        const data = noise(200 + int(3000), seed * 31 + k, rnd() < 0.5);
        if (rnd() < 0.3) data.fill(0xff, int(data.length), int(data.length));
        expected.add(at, data);
        at += data.length + (rnd() < 0.3 ? 0 : 1 + int(600));
      }
      const f = new Flash(FLASH, 0x8000, rnd() < 0.2 ? 0x00 : 0xff);
      if (rnd() < 0.3) f.program(imageAt(FLASH, noise(0x8000, seed, false)));
      const skipStart = FLASH + int(0x4000);
      f.program(expected, { offset: rnd() < 0.2 ? int(3) * 0x100 - 0x100 : 0, ...(rnd() < 0.4 ? { skip: { start: skipStart, end: skipStart + int(0x800) } } : {}) });
      let actual = f.readBack(rnd() < 0.5 ? undefined : expected.ranges());
      for (let k = int(6); k > 0; k--) {
        const a = FLASH + int(0x8000);
        actual = patched(actual, a, [int(256)]);
      }
      if (rnd() < 0.2) actual = actual.slice(FLASH, FLASH + int(0x8000));
      const whole = rnd() < 0.3;
      const merge = [0, 4, 16, 64][int(4)]!;
      const r = diff(expected, actual, { whole, merge, programUnit: [1, 8, 32][int(3)]! });

      const want = naive(expected, actual, whole);
      assert.equal(r.equal, want.size === 0);
      assert.equal(r.differingBytes + r.missingBytes, want.size);
      assert.equal(r.ranges.reduce((n, x) => n + x.differing, 0), want.size);
      let prevEnd = -1;
      for (const x of r.ranges) {
        assert.ok(x.start >= prevEnd, 'sorted, disjoint');
        prevEnd = x.end;
        assert.ok(want.has(x.start) && want.has(x.end - 1), `range ${x.start.toString(16)}..${x.end.toString(16)} starts and ends on a difference`);
        assert.ok(x.start >= x.element.start && x.end <= x.element.end, 'inside its region');
        let inside = 0;
        for (let a = x.start; a < x.end; a++) if (want.has(a)) inside++;
        assert.equal(inside, x.differing);
        assert.equal(x.index, r.ranges.indexOf(x) + 1);
      }
    });
  }
});

describe('the program-unit rule of "not written"', () => {
  test('one byte reading 0xFF inside a programmed unit was written, not skipped', () => {
    const expected = imageAt(FLASH, noise(0x100, 40));
    const x = only(diff(expected, patched(expected, FLASH + 0x41, [0xff])));
    assert.equal(x.class, 'other');
    assert.match(x.summary, /they all read 0xFF, but the program units holding them also hold programmed bytes: written as 0xFF or torn, not skipped/);
  });

  test('a whole erased unit is not written, even next to a unit the write padded with 0xFF', () => {
    const expected = imageAt(FLASH, noise(0x100, 41));
    const actual = patched(expected, FLASH + 0x44, new Uint8Array(0x100 - 0x44).fill(0xff));
    const x = only(diff(expected, actual));
    assert.deepEqual([x.start, x.end, x.class], [FLASH + 0x44, FLASH + 0x100, 'not-written']);
  });
});
