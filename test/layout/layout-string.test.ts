import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FwError } from '../../src/core/errors.ts';
import { layoutSectors, parseLayoutString } from '../../src/layout/layout-string.ts';

const KiB = 1024;

test('H7 ROM flash string (3 trailing spaces, one run)', () => {
  const l = parseLayoutString('@Internal Flash   /0x08000000/16*128Kg');
  assert.equal(l.name, 'Internal Flash');
  assert.equal(l.rawName, 'Internal Flash   ');
  assert.deepEqual(l.leniencies, []);
  assert.deepEqual(l.segments, [
    { start: 0x08000000, end: 0x08200000, sectorCount: 16, sectorSize: 128 * KiB, type: 'g', readable: true, erasable: true, writable: true },
  ]);
});

test('F72x ROM flash string: mixed runs, unpadded "01*64Kg"', () => {
  const l = parseLayoutString('@Internal Flash  /0x08000000/04*016Kg,01*64Kg,03*128Kg');
  assert.deepEqual(
    l.segments.map((s) => [s.start, s.end, s.sectorCount, s.sectorSize]),
    [
      [0x08000000, 0x08010000, 4, 16 * KiB],
      [0x08010000, 0x08020000, 1, 64 * KiB],
      [0x08020000, 0x08080000, 3, 128 * KiB],
    ],
  );
  const sectors = layoutSectors(l);
  assert.equal(sectors.length, 8);
  assert.deepEqual(sectors[4], { start: 0x08010000, size: 64 * KiB, segment: l.segments[1] });
});

test('option bytes with a space multiplier and type e (read + write, not erasable)', () => {
  const l = parseLayoutString('@Option Bytes   /0x5200201C/01*128 e');
  assert.deepEqual(l.segments, [{ start: 0x5200201c, end: 0x5200209c, sectorCount: 1, sectorSize: 128, type: 'e', readable: true, erasable: false, writable: true }]);
});

test('F72x OTP string without a multiplier is accepted by name', () => {
  const l = parseLayoutString('@OTP Memory /0x1FF07800/01*528e');
  assert.deepEqual(l.leniencies, ['type-in-multiplier']);
  assert.equal(l.segments[0]!.end, 0x1ff07800 + 528);
  assert.equal(l.segments[0]!.type, 'e');
});

test('several address groups in one string (G474 option bytes, Daisy QSPI)', () => {
  const ob = parseLayoutString('@Option Bytes   /0x1FFF7800/01*048 e/0x1FFFF800/01*048 e');
  assert.deepEqual(ob.segments.map((s) => [s.start, s.end]), [[0x1fff7800, 0x1fff7830], [0x1ffff800, 0x1ffff830]]);
  const q = parseLayoutString('@Flash /0x90000000/64*4Kg/0x90040000/60*64Kg/0x90400000/60*64Kg');
  assert.deepEqual(q.segments.map((s) => [s.start, s.end]), [
    [0x90000000, 0x90040000],
    [0x90040000, 0x90400000],
    [0x90400000, 0x907c0000],
  ]);
});

test('read-only sectors (type a) and explicit B multiplier', () => {
  const l = parseLayoutString('@Internal Flash   /0x08000000/01*128Ka,7*128Kg');
  assert.deepEqual(l.segments.map((s) => [s.type, s.erasable, s.writable]), [['a', false, false], ['g', true, true]]);
  const gd = parseLayoutString('@Option Bytes  /0x1FFFF800/01*016Be');
  assert.equal(gd.segments[0]!.sectorSize, 16);
});

test('7-digit addresses of the H7A3 ROM are accepted by name', () => {
  const l = parseLayoutString('@Option Bytes   /0x1FF8000/01*128 e');
  assert.deepEqual(l.leniencies, ['short-address']);
  assert.equal(l.segments[0]!.start, 0x1ff8000);
});

test('malformed strings are LAYOUT_SYNTAX errors naming the position', () => {
  const cases: [string, RegExp][] = [
    ['Internal Flash /0x08000000/16*128Kg', /expected '@' at character 1/],
    ['@Internal Flash', /expected '\/' after the name/],
    ['@Internal Flash /08000000/16*128Kg', /expected '\/0x<address>\/' at character 17/],
    ['@Internal Flash /0x08000000/16*128Kz', /expected '<count>\*<size><multiplier><type>' at character 29/],
    ['@Internal Flash /0x08000000/16*128Kg;', /expected ',' or '\/' at character 37/],
    ['@Internal Flash /0x08000000/00*128Kg', /zero sector count or size/],
  ];
  for (const [s, re] of cases) {
    assert.throws(() => parseLayoutString(s), (e: unknown) => e instanceof FwError && e.code === 'LAYOUT_SYNTAX' && re.test(e.message), s);
  }
  assert.throws(() => parseLayoutString('@X /0xFFFFF000/02*4Kg'), (e: unknown) => e instanceof FwError && e.code === 'LAYOUT_RANGE');
});
