/**
 * Builds of one source (test/fixtures/src/diff/app.c, built by its build.sh with arm-none-eabi-gcc; the ELFs are
 * committed): a changed constant gives exactly the changed bytes, a changed function layout is a different
 * build, and the same build is equal in every format it converts to.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { decodeFile } from '../../src/formats/decode.ts';
import { encodeBin } from '../../src/formats/bin.ts';
import { encodeIhex } from '../../src/formats/ihex.ts';
import { fixturePath } from '../helpers/corpus.ts';
import { diff, only } from './helpers.ts';

function load(name: string) {
  const bytes = new Uint8Array(readFileSync(fixturePath('diff', name)));
  const d = decodeFile(bytes, { file: name }).decoded;
  assert.equal(d.format, 'elf');
  return { image: d.targets[0]!.image, elf: d.format === 'elf' ? d.elf : undefined };
}

describe('two builds of test/fixtures/diff', () => {
  const base = load('base.elf');

  test('one constant changed (500 -> 750 ms): exactly its two changed bytes', () => {
    const other = load('const.elf');
    const sym = base.elf!.findSymbol('g_blink_period_ms')!;
    assert.equal(sym.value, 0x08000250);
    assert.equal(base.image.read(sym.value, 4).join(), [0xf4, 0x01, 0, 0].join());
    assert.equal(other.image.read(sym.value, 4).join(), [0xee, 0x02, 0, 0].join());
    const r = diff(base.image, other.image);
    const x = only(r);
    assert.deepEqual([x.start, x.end, x.differing], [sym.value, sym.value + 2, 2]);
    assert.equal(r.differingBytes, 2);
    // 0xF4 -> 0xEE sets bits programming cannot set: not a bit-clear; one range is no rebuild pattern.
    assert.equal(x.class, 'other');
    assert.deepEqual(x.evidence, { class: 'other', bitsSet: 3, bitsCleared: 2, uniformActual: null, outsideImage: false });
  });

  test('functions defined in another order: a different build', () => {
    const other = load('layout.elf');
    const r = diff(base.image, other.image);
    assert.ok(r.ranges.length >= 3, `${r.ranges.length} ranges`);
    assert.deepEqual(new Set(r.ranges.map((x) => x.class)), new Set(['different-build']));
    const ev = r.ranges[0]!.evidence;
    assert.equal(ev.class, 'different-build');
    assert.ok(ev.class === 'different-build' && ev.imageFraction > 0.5, JSON.stringify(ev));
    assert.equal(ev.class === 'different-build' && ev.contentRanges, r.ranges.length);
    // The vector table's stack pointer is the same; the reset vector moved.
    assert.equal(r.firstDifference?.address, 0x08000004);
    assert.equal(r.actualOutside, other.image.size - base.image.size);
  });

  test('a build equals itself in every format it converts to', () => {
    const bin = decodeFile(encodeBin(base.image).bytes, { address: 0x08000000 }).decoded.targets[0]!.image;
    const hex = decodeFile(encodeIhex(base.image)).decoded.targets[0]!.image;
    for (const other of [bin, hex]) {
      const r = diff(base.image, other);
      assert.equal(r.equal, true);
      assert.deepEqual(r.expected.crc, r.actual.crc);
    }
  });
});
