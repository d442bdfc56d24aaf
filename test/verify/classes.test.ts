/**
 * One synthetic case per failure class (no corpus needed), each made the way the failure happens: a NOR flash
 * model programmed with a fault, then read back over the expected ranges. Then combined mutations that check
 * the priority order. Exact ranges, classes and evidence.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { injectHeader } from '../../src/header/inject.ts';
import { MemoryImage } from '../../src/image/memory-image.ts';
import { resolveChip } from '../../src/layout/chips.ts';
import { diff, Flash, FLASH, imageAt, noise, only, patched, shape } from './helpers.ts';

const H743 = resolveChip('stm32h743');
const SECTOR = 0x20000;

/** A read-back of the expected ranges after `fault` ran on a flash erased beforehand. */
function flashed(expected: MemoryImage, fault: (f: Flash) => void, size = 0x100000, fill = 0xff): MemoryImage {
  const f = new Flash(FLASH, size, fill);
  fault(f);
  return f.readBack(expected.ranges());
}

describe('one class at a time', () => {
  test('truncated: the read-back ends early', () => {
    const expected = imageAt(FLASH, noise(0x3000, 1));
    const actual = expected.slice(FLASH, FLASH + 0x2000);
    const r = diff(expected, actual);
    const x = only(r);
    assert.deepEqual([x.start, x.end, x.class, x.differing], [FLASH + 0x2000, FLASH + 0x3000, 'truncated', 0x1000]);
    assert.deepEqual(x.evidence, { class: 'truncated', missingBytes: 0x1000, actualEndsAt: FLASH + 0x2000, actualResumesAt: null, expectedErasedBytes: 0 });
    assert.match(x.summary, /^the actual image ends early, at 0x08002000: 4096 \(0x1000\) expected bytes have no counterpart$/);
    assert.equal(r.missingBytes, 0x1000);
    assert.equal(r.differingBytes, 0);
    assert.deepEqual(x.first, { address: FLASH + 0x2000, expected: expected.byteAt(FLASH + 0x2000), actual: null });
  });

  test('truncated: a hole in the read-back', () => {
    const expected = imageAt(FLASH, noise(0x3000, 1));
    const actual = expected.slice(FLASH, FLASH + 0x1000);
    actual.addImage(expected.slice(FLASH + 0x1800, FLASH + 0x3000));
    const x = only(diff(expected, actual));
    assert.deepEqual([x.start, x.end, x.class], [FLASH + 0x1000, FLASH + 0x1800, 'truncated']);
    assert.match(x.summary, /^a hole in the actual data, 0x08001000\.\.0x08001800/);
  });

  test('not written: a fault leaves one 128 KiB sector erased; the verify names the sector', () => {
    const expected = imageAt(FLASH, noise(4 * SECTOR, 2));
    const actual = flashed(expected, (f) => f.program(expected, { skip: { start: FLASH + SECTOR, end: FLASH + 2 * SECTOR } }));
    const r = diff(expected, actual, { chip: H743 });
    const x = only(r);
    assert.deepEqual([x.start, x.end, x.class, x.differing], [FLASH + SECTOR, FLASH + 2 * SECTOR, 'not-written', SECTOR]);
    assert.deepEqual(x.sectors, ['bank 1 sector 1']);
    assert.deepEqual(x.evidence, {
      class: 'not-written',
      erasedValue: 0xff,
      wholeElement: false,
      erasedSectors: [{ name: 'bank 1 sector 1', start: FLASH + SECTOR, end: FLASH + 2 * SECTOR }],
      quirks: [],
    });
    assert.equal(x.summary, 'all 131072 (0x20000) differing bytes read 0xFF (erased); bank 1 sector 1 0x08020000..0x08040000 reads entirely erased');
    // Without a chip: the same class, no sector names.
    const bare = only(diff(expected, actual));
    assert.equal(bare.class, 'not-written');
    assert.equal(bare.sectors, undefined);
  });

  test('not written: a whole element (bank 2 on an H743) missing, with the chip quirk named', () => {
    const expected = new MemoryImage();
    expected.add(FLASH, noise(0x1000, 3));
    expected.add(0x08100000, noise(0x1000, 4));
    const actual = flashed(expected, (f) => f.program(expected.slice(FLASH, FLASH + 0x1000)), 0x200000);
    const x = only(diff(expected, actual, { chip: H743 }));
    assert.deepEqual([x.start, x.end, x.class], [0x08100000, 0x08101000, 'not-written']);
    assert.equal(x.evidence.class === 'not-written' && x.evidence.wholeElement, true);
    assert.deepEqual(x.evidence.class === 'not-written' && x.evidence.quirks.map((q) => q.id), ['h7-revV-bank2-erase-hang']);
    assert.match(x.summary, /the whole element 0x08100000\.\.0x08101000 was not written.*chip quirk h7-revV-bank2-erase-hang applies here/);
  });

  test('tail lost: the last partial 32-byte unit of a 19400-byte element reads erased (H7)', () => {
    const expected = imageAt(FLASH, noise(19400, 5));
    const unitStart = FLASH + 19400 - (19400 % 32);
    const actual = flashed(expected, (f) => f.program(expected, { skip: { start: unitStart, end: FLASH + 19400 } }));
    const x = only(diff(expected, actual, { chip: H743 }));
    assert.deepEqual([x.start, x.end, x.class], [unitStart, FLASH + 19400, 'tail-lost']);
    assert.deepEqual(x.evidence, { class: 'tail-lost', programUnit: 32, unitStart, elementEnd: FLASH + 19400, tailBytes: 8, erased: true });
    assert.equal(
      x.summary,
      'the differences lie only in the last 8 bytes of the element 0x08000000..0x08004BC8 and read 0xFF: a partial 32-byte program unit (unit of the STM32H743xI) at 0x08004BC0, which the writer dropped',
    );
    assert.equal(only(diff(expected, actual, { programUnit: 32 })).class, 'tail-lost');
    // 19400 is a multiple of the default unit (8): without --chip this is "not written", with a hint.
    const bare = only(diff(expected, actual));
    assert.equal(bare.class, 'not-written');
    assert.match(bare.summary, /with a 16- or 32-byte program unit \(STM32H7 writes 32-byte flash words; U5 and H7R\/S 16\) this would be a tail lost to alignment: give the chip or the unit/);
  });

  test('shifted: a .bin flashed 0x400 too low, too high, or with a header in front', () => {
    const expected = imageAt(0x08008000, noise(0x6000, 6));
    // Too low: the copy's end is missing, so the last 0x400 bytes read erased (split off, and not written).
    const low = diff(expected, flashed(expected, (f) => f.program(expected, { offset: -0x400 })));
    assert.deepEqual(shape(low), [
      [0x08008000, 0x0800dc00, 'shifted'],
      [0x0800dc00, 0x0800e000, 'not-written'],
    ]);
    const a = low.ranges[0]!;
    assert.equal(a.evidence.class === 'shifted' && a.evidence.offset, -0x400);
    // Every differing byte the actual image has 0x400 lower matches (bytes equal by chance do not differ).
    assert.equal(
      a.summary,
      'the expected bytes are 1024 (0x400) bytes lower in the actual image (offset -0x400): what was meant for 0x08008000 is at 0x08007C00; ' +
        '22424 of 22424 differing bytes checked here match, 22424 of 22424 over the element',
    );
    // The erased end keeps its class, and says where its bytes went.
    assert.equal(low.ranges[1]!.evidence.class === 'not-written' && low.ranges[1]!.evidence.shiftedBy, -0x400);
    assert.match(low.ranges[1]!.summary, /; these bytes were written 1024 \(0x400\) bytes lower instead \(offset -0x400, the shifted copy\)$/);
    assert.deepEqual(a.evidence, { class: 'shifted', offset: -0x400, compared: 22424, matched: 22424, elementCompared: 22424, elementMatched: 22424 });

    const high = diff(expected, flashed(expected, (f) => f.program(expected, { offset: 0x400 })));
    assert.deepEqual(shape(high), [
      [0x08008000, 0x08008400, 'not-written'],
      [0x08008400, 0x0800e000, 'shifted'],
    ]);
    assert.equal(high.ranges[1]!.evidence.class === 'shifted' && high.ranges[1]!.evidence.offset, 0x400);
    assert.equal(high.ranges[0]!.evidence.class === 'not-written' && high.ranges[0]!.evidence.shiftedBy, 0x400);
    assert.match(high.ranges[1]!.summary, /what was meant for 0x08008000 is at 0x08008400/);

    const withHeader = new MemoryImage();
    withHeader.add(0x08008000, noise(0x200, 99));
    withHeader.add(0x08008200, expected.read(0x08008000, 0x6000));
    const c = only(diff(expected, withHeader.slice(0x08008000, 0x0800e000)));
    assert.deepEqual([c.class, c.evidence.class === 'shifted' && c.evidence.offset], ['shifted', 0x200]);
  });

  test('shifted, --whole: a full dump shows where the image went', () => {
    const expected = imageAt(0x08040000, noise(0x8000, 7));
    const dump = flashed(expected, (f) => f.program(expected, { offset: -0x40000 }));
    const whole = new Flash(FLASH, 0x80000).program(expected, { offset: -0x40000 }).readBack();
    assert.equal(dump.isEmpty, false);
    const r = diff(expected, whole, { whole: true });
    assert.deepEqual(
      shape(r).map(([s, e, c]) => [s, e, c]),
      [
        [FLASH, FLASH + 0x8000, 'shifted'],
        [0x08040000, 0x08048000, 'not-written'],
      ],
    );
    assert.equal(r.ranges[0]!.evidence.class === 'shifted' && r.ranges[0]!.evidence.offset, -0x40000);
  });

  test('programmed over unerased flash: actual = expected AND old firmware', () => {
    const old = imageAt(FLASH, noise(0x4000, 8, false));
    const expected = imageAt(FLASH, noise(0x4000, 9));
    const actual = flashed(expected, (f) => f.program(old).program(expected));
    const r = diff(expected, actual);
    assert.ok(r.ranges.length >= 1);
    assert.deepEqual(new Set(r.ranges.map((x) => x.class)), new Set(['bits-cleared']));
    const x = r.ranges[0]!;
    assert.equal(x.evidence.class === 'bits-cleared' && x.evidence.strong, true);
    assert.match(x.summary, /^every differing byte is the expected byte with bits cleared \(\d+ \(0x[0-9A-F]+\) bits in \d+ \(0x[0-9A-F]+\) bytes, none set\): programmed over flash that was not erased$/);
    // Precisely: every differing byte has actual & expected == actual.
    for (let a = FLASH; a < FLASH + 0x4000; a++) {
      const e = expected.byteAt(a)!;
      const v = actual.byteAt(a)!;
      assert.equal(v & e, v);
    }
  });

  test('header only: two versions of one payload under a dfukit-ab-v1 header, decoded field by field', () => {
    const slot = { name: 'A', start: 0x08020000, size: 0x20000 };
    const payload = noise(0x3000, 10);
    new DataView(payload.buffer).setUint32(0, 0x20020000, true);
    new DataView(payload.buffer).setUint32(4, 0x08020400 + 0x101, true);
    const app = imageAt(0x08020400, payload);
    const v1 = injectHeader(app, { layout: 'dfukit-ab-v1', slot, options: { version: '1.2.3' } }).image;
    const v2 = injectHeader(app, { layout: 'dfukit-ab-v1', slot, options: { version: '1.2.4' } }).image;
    const r = diff(v1, v2);
    assert.ok(r.ranges.length >= 1);
    assert.deepEqual(new Set(r.ranges.map((x) => x.class)), new Set(['header-only']));
    const fields = r.ranges.flatMap((x) => (x.evidence.class === 'header-only' ? x.evidence.fields.map((f) => [f.name, f.expected, f.actual]) : []));
    assert.deepEqual(
      fields.map((f) => f[0]),
      ['version_revision', 'hdr_crc32'],
    );
    assert.deepEqual(fields[0], ['version_revision', '3', '4']);
    const first = r.ranges[0]!;
    assert.equal(first.evidence.class === 'header-only' && first.evidence.actualHeader.valid, true);
    assert.match(first.summary, /^inside the dfukit-ab-v1 header at 0x08020000: version_revision 3 -> 4; the actual header is valid$/);
    // The header CRC-32 follows the bytes it covers: the CRC-32 of the whole image cannot tell them apart.
    assert.equal(r.expected.crc.isoHdlc, r.actual.crc.isoHdlc);
    assert.notEqual(r.expected.crc.stm32, r.actual.crc.stm32);
    assert.ok(r.notes.some((n) => n.code === 'DIFF_CRC_EQUAL'));
  });

  test('different build: scattered changes over a same-length image', () => {
    const expected = imageAt(FLASH, noise(0x10000, 11));
    let actual = expected;
    const at = noise(300, 12, false);
    for (let i = 0; i < 100; i++) {
      const a = FLASH + ((at[i * 3]! << 8) | at[i * 3 + 1]!);
      actual = patched(actual, a, [(expected.byteAt(a)! + 1 + at[i * 3 + 2]! % 250) & 0xff]);
    }
    const r = diff(expected, actual);
    assert.ok(r.ranges.length > 50);
    assert.deepEqual(new Set(r.ranges.map((x) => x.class)), new Set(['different-build']));
    const ev = r.ranges[0]!.evidence;
    assert.equal(ev.class, 'different-build');
    assert.equal(ev.class === 'different-build' && ev.imageFraction, r.differingBytes / 0x10000);
    assert.equal(ev.class === 'different-build' && ev.contentRanges, r.ranges.length);
    assert.deepEqual(r.causes, [{ class: 'different-build', ranges: r.ranges.length, bytes: r.differingBytes }]);
  });

  test('other: one word with bits set that programming cannot set', () => {
    const expected = imageAt(FLASH, noise(0x1000, 13));
    const x = only(diff(expected, patched(expected, FLASH + 0x100, [0x00, 0x00, 0x00, 0x00].map((_, i) => expected.byteAt(FLASH + 0x100 + i)! ^ 0x81))));
    assert.equal(x.class, 'other');
    assert.equal(x.evidence.class === 'other' && x.evidence.outsideImage, false);
    assert.match(x.summary, /^4 bytes differ; \d+ bits set that programming cannot set: these bytes were not written with this image/);
  });
});

describe('priority when causes combine', () => {
  test('not written outranks tail lost: a write that stopped 2 units before the end', () => {
    const expected = imageAt(FLASH, noise(19400, 20));
    const stop = FLASH + 19400 - (19400 % 32) - 64;
    const actual = flashed(expected, (f) => f.program(expected, { skip: { start: stop, end: FLASH + 19400 } }));
    const x = only(diff(expected, actual, { chip: H743 }));
    assert.deepEqual([x.start, x.end, x.class], [stop, FLASH + 19400, 'not-written']);
  });

  test('truncated outranks not written: erased bytes, then the read-back ends', () => {
    const expected = imageAt(FLASH, noise(0x3000, 21));
    const actual = flashed(expected, (f) => f.program(expected, { skip: { start: FLASH + 0x1000, end: FLASH + 0x3000 } })).slice(FLASH, FLASH + 0x2000);
    assert.deepEqual(shape(diff(expected, actual)), [
      [FLASH + 0x1000, FLASH + 0x2000, 'not-written'],
      [FLASH + 0x2000, FLASH + 0x3000, 'truncated'],
    ]);
  });

  test('not written outranks shifted: the erased end of a copy written too low', () => {
    // An erased gap in the image (longer than --merge) at 0x5000 reads erased in the low copy at 0x4000 (part of
    // the shifted range) and equal in place at 0x5000: the erased end of the copy is a range of its own.
    const data = noise(0x6000, 22);
    data.fill(0xff, 0x5000, 0x5100);
    const expected = imageAt(0x08008000, data);
    const actual = flashed(expected, (f) => f.program(expected, { offset: -0x1000 }));
    const r = diff(expected, actual);
    assert.deepEqual(shape(r), [
      [0x08008000, 0x0800d000, 'shifted'],
      [0x0800d100, 0x0800e000, 'not-written'],
    ]);
  });

  test('a shift is not taken for a different build, nor a moved block in a rebuild for a shift', () => {
    // Rebuild: a block of code moved down by 0x40 inside the image, the vector table changed: not a shift.
    const base = noise(0x4000, 23);
    const moved = base.slice();
    moved.copyWithin(0x1000, 0x1040, 0x3000);
    moved[4] = base[4]! ^ 0x10;
    moved.set(noise(0x40, 24), 0x2fc0);
    const r = diff(imageAt(FLASH, base), imageAt(FLASH, moved));
    assert.ok(!r.ranges.some((x) => x.class === 'shifted'), JSON.stringify(shape(r)));
    assert.deepEqual(new Set(r.ranges.map((x) => x.class)), new Set(['different-build']));
  });

  test('strong bit-clearing outranks header only; a weak one in a header is header only', () => {
    const slot = { name: 'A', start: 0x08020000, size: 0x20000 };
    const payload = noise(0x1000, 25);
    new DataView(payload.buffer).setUint32(0, 0x20020000, true);
    new DataView(payload.buffer).setUint32(4, 0x08020400 + 0x101, true);
    const good = injectHeader(imageAt(0x08020400, payload), { layout: 'dfukit-ab-v1', slot, options: { version: '1.2.3' } }).image;
    // The header written over an old, unerased header: 0x60 bytes ANDed.
    const overOld = flashed(good, (f) => f.program(imageAt(0x08020000, noise(0x60, 26, false))).program(good), 0x40000);
    const strong = diff(good, overOld);
    assert.equal(strong.ranges[0]!.class, 'bits-cleared');
    assert.equal(strong.ranges[0]!.evidence.class === 'bits-cleared' && strong.ranges[0]!.evidence.strong, true);
    // version_revision 3 -> 1 only clears a bit (and the header CRC is recomputed elsewhere): header only.
    const v1 = injectHeader(imageAt(0x08020400, payload), { layout: 'dfukit-ab-v1', slot, options: { version: '1.2.1' } }).image;
    const onlyRevision = patched(good, 0x0802001a, [v1.byteAt(0x0802001a)!]);
    const x = only(diff(good, onlyRevision));
    assert.equal(x.class, 'header-only');
    assert.equal(x.evidence.class === 'header-only' && x.evidence.actualHeader.valid, false);
    assert.match(x.summary, /version_revision 3 -> 1; the actual header is invalid \(hdr_crc32 is/);
  });

  test('header only outranks different build; a different build swallows bit-cleared bytes by chance', () => {
    const slot = { name: 'A', start: 0x08020000, size: 0x20000 };
    const payload = noise(0x4000, 27);
    new DataView(payload.buffer).setUint32(0, 0x20020000, true);
    new DataView(payload.buffer).setUint32(4, 0x08020400 + 0x101, true);
    const v1 = injectHeader(imageAt(0x08020400, payload), { layout: 'dfukit-ab-v1', slot, options: { version: '1.0.0' } }).image;
    const changed = payload.slice();
    const at = noise(200, 28, false);
    for (let i = 0; i < 100; i++) {
      const k = 0x100 + (((at[2 * i]! << 8) | at[2 * i + 1]!) % 0x3e00);
      changed[k] = i % 3 === 0 ? changed[k]! & 0x0f : changed[k]! ^ 0x24; // a third only clear bits
    }
    const v2 = injectHeader(imageAt(0x08020400, changed), { layout: 'dfukit-ab-v1', slot, options: { version: '1.0.1' } }).image;
    const r = diff(v1, v2);
    const classes = new Set(r.ranges.map((x) => x.class));
    assert.deepEqual(classes, new Set(['header-only', 'different-build']));
    assert.ok(r.ranges.filter((x) => x.class === 'header-only').every((x) => x.end <= 0x08020400));
  });

  test('without a rebuild around them, a few bit-cleared bytes are bits-cleared', () => {
    const expected = imageAt(FLASH, noise(0x1000, 29));
    const e = expected.byteAt(FLASH + 0x10)!;
    const x = only(diff(expected, patched(expected, FLASH + 0x10, [e & (e - 1)])));
    assert.equal(x.class, 'bits-cleared');
    assert.equal(x.evidence.class === 'bits-cleared' && x.evidence.strong, false);
    assert.match(x.summary, /\(few bytes: could also be bit errors\)$/);
  });
});
