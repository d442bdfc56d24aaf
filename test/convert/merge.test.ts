import assert from 'node:assert/strict';
import { test } from 'node:test';
import { flashMap } from '../../src/convert/flash-map.ts';
import { mergeFlashTarget } from '../../src/convert/merge.ts';
import { resolveChip } from '../../src/layout/chips.ts';
import { image, layout } from './helpers.ts';

const f722 = flashMap(resolveChip('stm32f722'));
const base = { alt: 0, erasedValue: 0xff, sectorMerge: true };

test('elements in one erase sector become one; the gap is the erased value and the merge names the sector', () => {
  // F722 sector 0 is 0x08000000..0x08004000.
  const m = mergeFlashTarget(image([0x08000000, 8], [0x08001000, 8], [0x08003ff8, 8]), f722, base);
  assert.deepEqual(layout(m.image), ['8000000+4000']);
  assert.deepEqual(m.merges, [
    { alt: 0, start: 0x08000008, end: 0x08001000, fill: 0xff, reason: 'same-sector', sector: 'bank 1 sector 0' },
    { alt: 0, start: 0x08001008, end: 0x08003ff8, fill: 0xff, reason: 'same-sector', sector: 'bank 1 sector 0' },
  ]);
  assert.ok(m.image.segments[0]!.data.subarray(8, 0x1000).every((b) => b === 0xff));
});

test('elements in different sectors stay apart', () => {
  const m = mergeFlashTarget(image([0x08000000, 8], [0x08004000, 8]), f722, base);
  assert.deepEqual(layout(m.image), ['8000000+8', '8004000+8']);
  assert.deepEqual(m.merges, []);
});

test('an element reaching into the next sector merges with a later element of that sector', () => {
  const m = mergeFlashTarget(image([0x08003ff0, 0x20], [0x08004100, 8]), f722, base);
  assert.deepEqual(layout(m.image), ['8003ff0+118']);
  assert.equal(m.merges[0]!.sector, 'bank 1 sector 1');
});

test('merge-gap merges across sectors; same-sector is named when both hold', () => {
  const m = mergeFlashTarget(image([0x08000000, 8], [0x08000010, 8], [0x08004000, 8]), f722, { ...base, mergeGap: 0x4000 });
  assert.deepEqual(layout(m.image), ['8000000+4008']);
  assert.deepEqual(m.merges.map((x) => x.reason), ['same-sector', 'merge-gap']);
  assert.equal(m.merges[1]!.sector, undefined);
});

test('without a chip only merge-gap merges', () => {
  const none = flashMap(undefined);
  const img = image([0x08000000, 8], [0x08000010, 8], [0x08000100, 8]);
  assert.deepEqual(layout(mergeFlashTarget(img, none, { ...base, sectorMerge: false }).image), ['8000000+8', '8000010+8', '8000100+8']);
  assert.deepEqual(layout(mergeFlashTarget(img, none, { ...base, sectorMerge: false, mergeGap: 8 }).image), ['8000000+18', '8000100+8']);
});

test('never across the hole between banks, and never outside flash', () => {
  const g = flashMap(resolveChip('stm32h745xg'));
  const m = mergeFlashTarget(image([0x08060000, 32], [0x08100000, 32]), g, { ...base, mergeGap: 0x1000000 });
  assert.deepEqual(layout(m.image), ['8060000+20', '8100000+20']);
  const ram = mergeFlashTarget(image([0x20000000, 4], [0x20000010, 4]), f722, { ...base, mergeGap: 0x100 });
  assert.deepEqual(layout(ram.image), ['20000000+4', '20000010+4']);
});

test('the erased value of the chip fills merge gaps', () => {
  const m = mergeFlashTarget(image([0x08000000, 8], [0x08000020, 8]), f722, { ...base, erasedValue: 0x00 });
  assert.ok(m.image.segments[0]!.data.subarray(8, 0x20).every((b) => b === 0));
  assert.equal(m.merges[0]!.fill, 0);
});
