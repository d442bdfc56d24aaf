/**
 * The diff on real firmware (../shared/corpus, read in place; skipped when absent):
 * - every pair MANIFEST.md cross-checks as "identical by address" compares equal, both ways, with equal CRCs;
 *   every pair where one file holds N more bytes gives exactly that range, as truncated;
 * - each failure class, made by applying its mutation to a real file through the NOR flash model;
 * - causes combined in one image, reported in priority order.
 */
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { injectHeader } from '../../src/header/inject.ts';
import type { MemoryImage } from '../../src/image/memory-image.ts';
import { resolveChip } from '../../src/layout/chips.ts';
import { corpusOrSkip, manifestEntries } from '../helpers/corpus.ts';
import { diff, Flash, FLASH, loadFile, only, patched, shape } from './helpers.ts';

const corpus = corpusOrSkip();
const dir = corpus.dir ?? '';
const H743 = resolveChip('stm32h743');
const OPENMV4 = 'openmv__openmv/firmware/OPENMV4';
const AP = 'ArduPilot__ardupilot/Tools/bootloaders';
const file = (...p: string[]): string => join(dir, ...p);

interface Pair {
  a: string;
  b: string;
  kind: 'identical' | 'extra';
  extra?: { size: number; start: number; end: number };
}

/**
 * A file a cross-check names: a sibling (`uvc.bin`), or a path ending that way elsewhere in the project
 * (`v@e9472e47/app.dfu`, `Binary/app.bin`): of the files ending so, the one sharing the longest prefix.
 */
function resolveRef(from: string, ref: string, files: readonly string[]): string {
  const sibling = join(dirname(from), ref);
  if (files.includes(sibling)) return sibling;
  const common = (x: string): number => {
    let i = 0;
    while (i < x.length && x[i] === from[i]) i++;
    return i;
  };
  const hits = files.filter((f) => f.endsWith(`/${ref}`) && f !== from).sort((x, y) => common(y) - common(x));
  if (hits[0] === undefined) throw new Error(`${from}: cross-check names ${ref}, which the MANIFEST does not list`);
  return hits[0];
}

/** Cross-checks from MANIFEST.md: "identical by address to X" and "matches X on common bytes; N B only in this file @A..B". */
function pairs(): Pair[] {
  const out: Pair[] = [];
  const entries = manifestEntries(dir);
  const files = entries.map((e) => e.file);
  for (const e of entries) {
    if (e.repo.includes('fwupd')) continue;
    const cross = /Cross-check: (.*)$/.exec(e.description)?.[1];
    if (cross === undefined) continue;
    const items = cross.split('; ');
    items.forEach((item, i) => {
      const same = /^identical by address to (\S+)$/.exec(item);
      if (same !== null) out.push({ a: e.file, b: resolveRef(e.file, same[1]!, files), kind: 'identical' });
      const common = /^matches (\S+) on common bytes$/.exec(item);
      const more = /^(\d+) B only in this file @0x([0-9a-f]+)\.\.0x([0-9a-f]+)/.exec(items[i + 1] ?? '');
      if (common !== null && more !== null) {
        out.push({ a: e.file, b: resolveRef(e.file, common[1]!, files), kind: 'extra', extra: { size: Number(more[1]), start: parseInt(more[2]!, 16), end: parseInt(more[3]!, 16) + 1 } });
      }
    });
  }
  return out;
}

function commonDir(a: string, b: string): string {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return a.slice(0, a.lastIndexOf('/', i) + 1);
}

/** Both files of a pair as images; a raw binary is placed where its partner starts. */
function loadPair(p: Pair): [MemoryImage, MemoryImage] {
  const isBin = (f: string): boolean => f.endsWith('.bin');
  if (isBin(p.a) && isBin(p.b)) throw new Error(`two raw binaries: ${p.a}, ${p.b}`);
  if (isBin(p.a)) {
    const b = loadFile(file(p.b));
    return [loadFile(file(p.a), b.start), b];
  }
  const a = loadFile(file(p.a));
  return [a, loadFile(file(p.b), isBin(p.b) ? a.start : undefined)];
}

describe('corpus: files MANIFEST.md cross-checks', { skip: corpus.skip }, () => {
  const all = corpus.dir === undefined ? [] : pairs();
  const identical = all.filter((p) => p.kind === 'identical');
  const extra = all.filter((p) => p.kind === 'extra');

  test('the corpus holds the cross-checked pairs', () => {
    assert.ok(identical.length >= 40, `${identical.length} identical pairs`);
    assert.ok(identical.filter((p) => p.a.endsWith('.dfu') && p.b.endsWith('.bin')).length >= 5, 'dfu/bin pairs');
    assert.ok(extra.length >= 15, `${extra.length} pairs with extra bytes`);
  });

  for (const p of identical) {
    test(`${p.a} = ${p.b.slice(commonDir(p.a, p.b).length)}`, () => {
      const [a, b] = loadPair(p);
      const r = diff(a, b);
      assert.equal(r.equal, true, JSON.stringify(shape(r).slice(0, 3)));
      assert.deepEqual(r.expected.crc, r.actual.crc);
      assert.equal(r.actual.complete, true);
      assert.equal(diff(b, a).equal, true);
    });
  }

  for (const p of extra) {
    test(`${p.a} has ${p.extra!.size} bytes ${p.b.slice(commonDir(p.a, p.b).length)} lacks`, () => {
      const [a, b] = loadPair(p);
      const x = only(diff(a, b));
      assert.deepEqual([x.start, x.end, x.class], [p.extra!.start, p.extra!.end, 'truncated']);
      assert.equal(x.evidence.class === 'truncated' && x.evidence.missingBytes, p.extra!.size);
      const back = diff(b, a);
      assert.equal(back.equal, true);
      assert.equal(back.actualOutside, p.extra!.size);
    });
  }
});

describe('corpus: each class from a real file', { skip: corpus.skip }, () => {
  test('truncated: OpenMV H7 firmware.dfu against a read-back cut at 1 MiB', () => {
    const expected = loadFile(file(OPENMV4, 'firmware.dfu'));
    const actual = loadFile(file(OPENMV4, 'firmware.bin'), 0x08040000).slice(0, 0x08140000);
    const x = only(diff(expected, actual));
    assert.deepEqual([x.start, x.end, x.class], [0x08140000, 0x0818a484, 'truncated']);
    assert.match(x.summary, /^the actual image ends early, at 0x08140000: 304260 \(0x4A484\) expected bytes have no counterpart$/);
  });

  test('not written: a flash fault leaves sector 3 of OpenMV H7 firmware.dfu erased', () => {
    const expected = loadFile(file(OPENMV4, 'firmware.dfu'));
    const f = new Flash(FLASH, 0x200000).program(expected, { skip: { start: 0x08060000, end: 0x08080000 } });
    const r = diff(expected, f.readBack(expected.ranges()), { chip: H743 });
    assert.ok(r.ranges.length >= 1);
    for (const x of r.ranges) {
      assert.equal(x.class, 'not-written');
      assert.ok(x.start >= 0x08060000 && x.end <= 0x08080000);
      assert.deepEqual(x.sectors, ['bank 1 sector 3']);
    }
    assert.deepEqual(r.ranges[0]!.evidence.class === 'not-written' && r.ranges[0]!.evidence.erasedSectors, [{ name: 'bank 1 sector 3', start: 0x08060000, end: 0x08080000 }]);
  });

  test('tail lost: OpenMV H7 bootloader.dfu (19400 bytes) written without its partial 32-byte flash word', () => {
    const expected = loadFile(file(OPENMV4, 'bootloader.dfu'));
    assert.equal(expected.size, 19400);
    const f = new Flash(FLASH, 0x40000).program(expected, { skip: { start: 0x08004bc0, end: 0x08004bc8 } });
    const x = only(diff(expected, f.readBack(expected.ranges()), { chip: H743 }));
    assert.equal(x.class, 'tail-lost');
    assert.ok(x.start >= 0x08004bc0 && x.end === 0x08004bc8);
    assert.deepEqual(x.evidence, { class: 'tail-lost', programUnit: 32, unitStart: 0x08004bc0, elementEnd: 0x08004bc8, tailBytes: 8, erased: true });
  });

  test('shifted: CubeOrange_bl.bin flashed at 0x08000400 instead of 0x08000000', () => {
    const expected = loadFile(file(AP, 'CubeOrange_bl.bin'), FLASH);
    const f = new Flash(FLASH, 0x20000).program(expected, { offset: 0x400 });
    const r = diff(expected, f.readBack(expected.ranges()));
    // Nothing was written below 0x08000400; above, the bytes are there, 0x400 too high.
    assert.deepEqual(
      shape(r).map(([st, , c]) => [st, c]),
      [
        [FLASH, 'not-written'],
        [FLASH + 0x400, 'shifted'],
      ],
    );
    assert.equal(r.ranges[0]!.end, FLASH + 0x400);
    assert.equal(r.ranges[1]!.evidence.class === 'shifted' && r.ranges[1]!.evidence.offset, 0x400);
  });

  test('shifted, --whole: OpenMV uvc.dfu (0x08040000) found at 0x08000000 in a whole-flash dump', () => {
    const expected = loadFile(file(OPENMV4, 'uvc.dfu'));
    const dump = new Flash(FLASH, 0x100000).program(expected, { offset: -0x40000 }).readBack();
    const r = diff(expected, dump, { whole: true });
    // The copy at 0x08000000 (where erased flash was expected), the start of it the dump holds at 0x08040000, and
    // the rest of 0x08040000.. never written.
    assert.deepEqual(shape(r), [
      [FLASH, 0x08040000, 'shifted'],
      [0x08040000, 0x08043504, 'shifted'],
      [0x08043504, 0x08083504, 'not-written'],
    ]);
    assert.ok(r.ranges.slice(0, 2).every((x) => x.evidence.class === 'shifted' && x.evidence.offset === -0x40000));
    assert.equal(r.ranges[0]!.start, FLASH);
    assert.equal(r.ranges[0]!.first.expected, null);
  });

  test('programmed over unerased flash: KakuteF7_bl written over MatekF765-Wing_bl without an erase', () => {
    const old = loadFile(file(AP, 'MatekF765-Wing_bl.bin'), FLASH);
    const expected = loadFile(file(AP, 'KakuteF7_bl.bin'), FLASH);
    const f = new Flash(FLASH, 0x20000).program(old).program(expected);
    const r = diff(expected, f.readBack(expected.ranges()));
    assert.ok(r.ranges.length > 5);
    assert.deepEqual(new Set(r.ranges.map((x) => x.class)), new Set(['bits-cleared']));
    assert.ok(r.ranges.every((x) => x.evidence.class === 'bits-cleared' && x.evidence.strong));
  });

  test('header only: OpenMV uvc.bin under a dfukit-ab-v1 header, re-versioned and CRC kind changed', () => {
    const app = loadFile(file(OPENMV4, 'uvc.bin'), 0x08040000);
    const slot = { name: 'A', start: 0x0803fc00, size: 0x60400 };
    const v1 = injectHeader(app, { layout: 'dfukit-ab-v1', slot, options: { version: '2.0.0' } }).image;
    const v2 = injectHeader(app, { layout: 'dfukit-ab-v1', slot, options: { version: '2.1.0', crc: 'stm32' } }).image;
    const r = diff(v1, v2);
    assert.deepEqual(new Set(r.ranges.map((x) => x.class)), new Set(['header-only']));
    const fields = r.ranges.flatMap((x) => (x.evidence.class === 'header-only' ? x.evidence.fields.map((f) => f.name) : []));
    assert.deepEqual(fields, ['flags', 'version_minor', 'payload_crc32', 'hdr_crc32']);
    assert.ok(r.ranges.every((x) => x.end <= 0x08040000));
  });

  test('different build: the ArduPilot bootloader for CubeOrange against the one for CubeOrangePlus', () => {
    const r = diff(loadFile(file(AP, 'CubeOrange_bl.bin'), FLASH), loadFile(file(AP, 'CubeOrangePlus_bl.bin'), FLASH));
    assert.ok(r.ranges.length > 10);
    assert.deepEqual(new Set(r.ranges.map((x) => x.class)), new Set(['different-build']));
  });

  test('other: one word of Durandal_bl.bin with bits set', () => {
    const expected = loadFile(file(AP, 'Durandal_bl.bin'), FLASH);
    const x = only(diff(expected, patched(expected, 0x08001000, [0xff, 0xff, 0x00, 0x00].map((v, i) => v ^ (expected.byteAt(0x08001000 + i)! & 0x0f)))));
    assert.equal(x.class, 'other');
  });
});

describe('corpus: causes combined, in priority order', { skip: corpus.skip }, () => {
  test('OpenMV H7 openmv.dfu: sector 3 unwritten, the last flash word dropped, the read-back cut short', () => {
    const expected = loadFile(file(OPENMV4, 'openmv.dfu'));
    // Two DfuSe elements, bootloader and firmware, back to back: one run 0x08000000..0x0818A484.
    assert.deepEqual(expected.ranges(), [{ start: 0x08000000, end: 0x0818a484 }]);
    const end = expected.end!;
    const f = new Flash(FLASH, 0x200000).program(expected, { skip: { start: 0x08060000, end: 0x08080000 } });
    f.erase(end - (end % 32), end);
    const actual = f.readBack([{ start: FLASH, end: 0x08020000 }, ...expected.ranges().map((r) => ({ start: Math.max(r.start, 0x08020100), end: r.end })).filter((r) => r.end > r.start)]);
    const r = diff(expected, actual, { chip: H743 });
    const classes = r.ranges.map((x) => x.class);
    assert.equal(classes[0], 'truncated');
    assert.ok(classes.includes('not-written'));
    assert.equal(classes[classes.length - 1], 'tail-lost');
    assert.deepEqual(
      r.causes.map((c) => c.class),
      ['truncated', 'not-written', 'tail-lost'],
    );
  });

  test('KakuteF7_bl over unerased MatekF765-Wing_bl, with the last 2 KiB erased and not written: bit-cleared, then not written', () => {
    const old = loadFile(file(AP, 'MatekF765-Wing_bl.bin'), FLASH);
    const expected = loadFile(file(AP, 'KakuteF7_bl.bin'), FLASH);
    const end = expected.end!;
    const cut = (end - 0x800) & ~31; // flash is written in whole units
    const f = new Flash(FLASH, 0x20000).program(old).erase(cut, end).program(expected, { skip: { start: cut, end } });
    const r = diff(expected, f.readBack(expected.ranges()));
    assert.deepEqual(
      r.causes.map((c) => c.class),
      ['not-written', 'bits-cleared'],
    );
    assert.equal(r.ranges[0]!.class, 'bits-cleared');
    const last = r.ranges[r.ranges.length - 1]!;
    assert.equal(last.class, 'not-written');
    assert.equal(last.end, end);
  });
});
