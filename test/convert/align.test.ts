import assert from 'node:assert/strict';
import { test } from 'node:test';
import { alignFlashTarget } from '../../src/convert/align.ts';
import { flashMap } from '../../src/convert/flash-map.ts';
import { resolveChip } from '../../src/layout/chips.ts';
import { image, layout } from './helpers.ts';

const noChip = flashMap(undefined);

test('a run is extended down and up to the unit with the fill byte; each pad is reported', () => {
  const r = alignFlashTarget(image([0x08000003, 5]), 0, 8, 0xff, noChip);
  assert.deepEqual(layout(r.image), ['8000000+8']);
  assert.deepEqual(r.pads, [
    { alt: 0, start: 0x08000000, end: 0x08000003, fill: 0xff, reason: 'align-start' },
  ]);
  const d = r.image.segments[0]!.data;
  assert.deepEqual([...d.subarray(0, 3)], [0xff, 0xff, 0xff]);
});

test('two runs that share a unit become one element; the bytes between are a gap pad', () => {
  const r = alignFlashTarget(image([0x08000000, 5], [0x08000006, 6]), 0, 8, 0x00, noChip);
  assert.deepEqual(layout(r.image), ['8000000+10']);
  assert.deepEqual(
    r.pads.map((p) => [p.start - 0x08000000, p.end - 0x08000000, p.reason, p.fill]),
    [
      [5, 6, 'gap', 0],
      [12, 16, 'align-end', 0],
    ],
  );
});

test('aligned adjacent segments (ELF sections) become one element with no pads', () => {
  const r = alignFlashTarget(image([0x08000000, 0x40], [0x08000040, 0x20]), 0, 32, 0xff, noChip);
  assert.deepEqual(layout(r.image), ['8000000+60']);
  assert.deepEqual(r.pads, []);
});

test('without a chip, data outside 0x08000000..0x10000000 is left unaligned, with a warning naming the default range', () => {
  const r = alignFlashTarget(image([0x20000001, 3], [0x08000000, 4]), 0, 8, 0xff, noChip);
  assert.deepEqual(layout(r.image), ['8000000+8', '20000001+3']);
  assert.equal(r.notes.length, 1);
  assert.equal(r.notes[0]!.code, 'CONVERT_OUTSIDE_FLASH');
  assert.match(r.notes[0]!.message, /0x20000001\.\.0x20000004 is outside 0x08000000\.\.0x10000000, taken as STM32 internal flash without --chip: left unaligned/);
});

test('a run straddling the end of flash is aligned inside and kept as is outside', () => {
  const r = alignFlashTarget(image([0x0ffffffd, 6]), 0, 8, 0xff, noChip);
  assert.deepEqual(layout(r.image), ['ffffff8+8', '10000000+3']);
});

test('with a chip, RAM data and option-byte data in the flash target are named for what they are', () => {
  const h743 = flashMap(resolveChip('stm32h743'));
  const r = alignFlashTarget(image([0x24000000, 4], [0x5200201c, 4]), 0, 32, 0xff, h743);
  assert.equal(r.image.segments.length, 2, 'left as they are');
  assert.match(r.notes[0]!.message, /AXI SRAM RAM: RAM data in a flash image usually means a section without AT> FLASH/);
  assert.match(r.notes[1]!.message, /which the ROM serves on alt 1: give this data with --alt 1:FILE/);
});

test('with an xG chip, the hole between the banks is not flash', () => {
  const g = flashMap(resolveChip('stm32h745xg'));
  const r = alignFlashTarget(image([0x080c0000, 4]), 0, 32, 0xff, g);
  assert.deepEqual(layout(r.image), ['80c0000+4']);
  assert.match(r.notes[0]!.message, /not in the flash of STM32H745xG \(0x08000000\.\.0x08080000, 0x08100000\.\.0x08180000\)/);
});
