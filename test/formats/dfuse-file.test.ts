import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { ByteWriter, fromAscii } from '../../src/core/bytes.ts';
import { crc32, crc32Jam } from '../../src/core/crc.ts';
import { isFwError } from '../../src/core/errors.ts';
import { decodeBin, encodeBin } from '../../src/formats/bin.ts';
import { appendDfuSuffix, BCD_DFU_DFUSE } from '../../src/formats/dfu-suffix.ts';
import { decodeDfuse, encodeDfuse, parseDfuse, reencodeInputs, type DfuseTargetInput } from '../../src/formats/dfuse-file.ts';
import { MemoryImage } from '../../src/image/memory-image.ts';
import { corpusOrSkip, manifestEntries, type ManifestEntry } from '../helpers/corpus.ts';

const ids = { vid: 0x0483, pid: 0xdf11, bcdDevice: 0x2200 };

function image(...segs: [number, number[]][]): MemoryImage {
  const m = new MemoryImage();
  for (const [addr, data] of segs) m.add(addr, new Uint8Array(data));
  return m;
}

function u32(b: Uint8Array, off: number): number {
  return new DataView(b.buffer, b.byteOffset).getUint32(off, true);
}

function patch32(b: Uint8Array, off: number, v: number): Uint8Array {
  new DataView(b.buffer, b.byteOffset).setUint32(off, v >>> 0, true);
  return b;
}

/** Recomputes dwCRC after a test has edited the bytes, so only the edited field is wrong. */
function reseal(b: Uint8Array): Uint8Array {
  return patch32(b, b.length - 4, crc32Jam(b.subarray(0, b.length - 4)));
}

/**
 * A DfuSe writer for crafting broken files, independent of encodeDfuse: every field is given or derived
 * plainly (DFUImageSize = body length, dwTargetSize = Σ(8 + size), dwNbElements = element count).
 */
interface RawTarget {
  alt?: number;
  named?: number;
  name?: number[];
  elements: [number, number[]][];
}
function rawDfuse(targets: RawTarget[], opts: { trailing?: number[] } = {}): Uint8Array {
  const w = new ByteWriter().bytes(fromAscii('DfuSe')).u8(1).u32le(0).u8(targets.length);
  for (const t of targets) {
    const name = new Uint8Array(255);
    name.set(t.name ?? [...fromAscii('ST...')]);
    const size = t.elements.reduce((n, [, d]) => n + 8 + d.length, 0);
    w.bytes(fromAscii('Target')).u8(t.alt ?? 0).u32le(t.named ?? 1).bytes(name).u32le(size).u32le(t.elements.length);
    for (const [addr, data] of t.elements) w.u32le(addr).u32le(data.length).bytes(new Uint8Array(data));
  }
  w.bytes(new Uint8Array(opts.trailing ?? []));
  w.patchU32le(6, w.length);
  return appendDfuSuffix(w.toBytes(), { ...ids, bcdDFU: BCD_DFU_DFUSE });
}

// Offsets in a one-target file (prefix 11 bytes, target prefix at 11, first element header at 285).
const T0 = 11;
const E0 = T0 + 274;

/** One target at alt 0, one 3-byte element at 0x08000000: 312 bytes. */
function small(): Uint8Array {
  return encodeDfuse([{ alt: 0, image: image([0x08000000, [0xaa, 0xbb, 0xcc]]) }], ids);
}

describe('DfuSe writer', () => {
  test('exact bytes: one target, one 3-byte element', () => {
    const name = [...fromAscii('ST...'), ...new Array<number>(250).fill(0)];
    const expected = [
      0x44, 0x66, 0x75, 0x53, 0x65,        // szSignature "DfuSe"
      0x01,                                // bVersion 1
      0x28, 0x01, 0x00, 0x00,              // DFUImageSize 296 = 11 + 274 + 8 + 3: the file without its 16-byte suffix
      0x01,                                // bTargets 1
      0x54, 0x61, 0x72, 0x67, 0x65, 0x74,  // "Target"
      0x00,                                // bAlternateSetting 0
      0x01, 0x00, 0x00, 0x00,              // bTargetNamed u32 1
      ...name,                             // szTargetName "ST..." zero-filled to 255 bytes
      0x0b, 0x00, 0x00, 0x00,              // dwTargetSize 11 = 8-byte element header + 3 data bytes
      0x01, 0x00, 0x00, 0x00,              // dwNbElements 1
      0x00, 0x00, 0x00, 0x08,              // dwElementAddress 0x08000000
      0x03, 0x00, 0x00, 0x00,              // dwElementSize 3
      0xaa, 0xbb, 0xcc,                    // data
      0x00, 0x22,                          // bcdDevice 0x2200
      0x11, 0xdf,                          // idProduct 0xDF11
      0x83, 0x04,                          // idVendor 0x0483
      0x1a, 0x01,                          // bcdDFU 0x011A (DfuSe)
      0x55, 0x46, 0x44,                    // "UFD"
      0x10,                                // bLength 16
      0x87, 0xbe, 0x52, 0xd0,              // dwCRC 0xD052BE87 = ~zlib.crc32(bytes 0..307), computed with Python
    ];
    assert.deepEqual([...small()], expected);
  });

  test('with-suffix convention writes the whole file length into DFUImageSize (dfuse-pack)', () => {
    const b = encodeDfuse([{ alt: 0, image: image([0x08000000, [0xaa, 0xbb, 0xcc]]) }], ids, { imageSizeConvention: 'with-suffix' });
    assert.equal(u32(b, 6), 312);
    assert.equal(b.length, 312);
    assert.equal(crc32(b), 0xffffffff);
  });

  test('multi-target: elements in unsigned address order, unnamed target all zero', () => {
    // 0x90000000 (QSPI) is added first: ST's CompactElements sorts it with a signed compare (D4); we must not.
    const main = new MemoryImage();
    main.add(0x90000000, new Uint8Array([1]));
    main.add(0x08000000, new Uint8Array([2, 3]));
    const b = encodeDfuse(
      [
        { alt: 0, name: 'Internal Flash', image: main },
        { alt: 1, named: false, image: image([0x1fff0000, [4, 5, 6, 7]]) },
      ],
      ids,
    );
    assert.equal(b[10], 2, 'bTargets');
    assert.equal(String.fromCharCode(...b.subarray(T0 + 11, T0 + 26)), 'Internal Flash\0');
    assert.equal(u32(b, T0 + 266), 8 + 2 + 8 + 1, 'dwTargetSize');
    assert.equal(u32(b, T0 + 270), 2, 'dwNbElements');
    assert.equal(u32(b, E0), 0x08000000);
    assert.equal(u32(b, E0 + 10), 0x90000000);
    const t1 = E0 + 19;
    assert.equal(String.fromCharCode(...b.subarray(t1, t1 + 6)), 'Target');
    assert.equal(b[t1 + 6], 1, 'alt 1');
    assert.equal(u32(b, t1 + 7), 0, 'bTargetNamed 0');
    assert.ok(b.subarray(t1 + 11, t1 + 266).every((x) => x === 0), 'name zeroed');
    assert.equal(u32(b, 6), b.length - 16);
  });

  test('one element per segment: adjacent segments are not merged, nothing is padded', () => {
    const b = encodeDfuse([{ alt: 0, image: image([0x100, [1]], [0x101, [2, 3]]) }], ids);
    assert.equal(u32(b, T0 + 270), 2);
    assert.deepEqual([u32(b, E0), u32(b, E0 + 4), u32(b, E0 + 9), u32(b, E0 + 13)], [0x100, 1, 0x101, 2]);
  });

  test('deterministic', () => {
    assert.deepEqual(small(), small());
  });

  test('raw name bytes are written verbatim', () => {
    const szTargetName = new Uint8Array(255).fill(0x41);
    szTargetName[3] = 0;
    const b = encodeDfuse([{ alt: 0, image: image([0, [1]]), raw: { bTargetNamed: 7, szTargetName } }], ids);
    assert.equal(u32(b, T0 + 7), 7);
    assert.deepEqual(b.subarray(T0 + 11, T0 + 266), szTargetName);
  });

  test('input errors', () => {
    const one = image([0, [1]]);
    assert.throws(() => encodeDfuse([], ids), { code: 'DFUSE_NO_TARGETS' });
    assert.throws(() => encodeDfuse([{ alt: 0, image: new MemoryImage() }], ids), { code: 'DFUSE_EMPTY_TARGET', exitStatus: 3 });
    assert.throws(() => encodeDfuse([{ alt: 256, image: one }], ids), { code: 'DFUSE_ALT', exitStatus: 2 });
    assert.throws(() => encodeDfuse(new Array<DfuseTargetInput>(256).fill({ alt: 0, image: one }), ids), { code: 'DFUSE_TARGET_COUNT' });
    assert.throws(() => encodeDfuse([{ alt: 0, image: one, name: 'x'.repeat(255) }], ids), { code: 'DFUSE_TARGET_NAME' });
    assert.ok(encodeDfuse([{ alt: 0, image: one, name: 'x'.repeat(254) }], ids).length > 0);
    assert.throws(() => encodeDfuse([{ alt: 0, image: one, name: 'a\0b' }], ids), { code: 'DFUSE_TARGET_NAME' });
    assert.throws(() => encodeDfuse([{ alt: 0, image: one, name: 'Ω' }], ids), { code: 'DFUSE_TARGET_NAME' });
    assert.throws(() => encodeDfuse([{ alt: 0, image: one, raw: { bTargetNamed: 1, szTargetName: new Uint8Array(254) } }], ids), {
      code: 'DFUSE_TARGET_NAME',
    });
    assert.throws(() => encodeDfuse([{ alt: 0, image: one }], { ...ids, pid: 0x10000 }), { code: 'DFU_SUFFIX_FIELD' });
  });
});

describe('DfuSe reader', () => {
  test('decode(encode(x)): same targets, names, suffix; strict, no notes', () => {
    const main = image([0x08000000, [1, 2, 3]], [0x08010000, [4]]);
    const b = encodeDfuse([{ alt: 0, name: 'Flash', image: main }, { alt: 1, named: false, image: image([0x1fff0000, [5, 6]]) }], ids);
    const d = decodeDfuse(b, { file: 'x.dfu' });
    assert.equal(d.format, 'dfuse');
    assert.deepEqual(d.notes, []);
    assert.deepEqual(
      d.targets.map((t) => [t.alt, t.name, t.image.segments.map((s) => [s.addr, [...s.data], s.source])]),
      [
        [0, 'Flash', [[0x08000000, [1, 2, 3], 'x.dfu target 0 element 0'], [0x08010000, [4], 'x.dfu target 0 element 1']]],
        [1, undefined, [[0x1fff0000, [5, 6], 'x.dfu target 1 element 0']]],
      ],
    );
    const f = d.dfuse;
    assert.equal(f.imageSizeConvention, 'without-suffix');
    assert.equal(f.imageSize, b.length - 16);
    assert.deepEqual([f.suffix.idVendor, f.suffix.idProduct, f.suffix.bcdDevice, f.suffix.bcdDFU], [0x0483, 0xdf11, 0x2200, 0x011a]);
    assert.deepEqual(
      f.targets.map((t) => [t.offset, t.bTargetNamed, t.dwTargetSize, t.elements.map((e) => [e.offset, e.address, e.size])]),
      [
        [11, 1, 20, [[285, 0x08000000, 3], [296, 0x08010000, 1]]],
        [305, 0, 10, [[579, 0x1fff0000, 2]]],
      ],
    );
  });

  /** Cases: a valid file, one field broken (CRC recomputed unless the CRC is the point), the code and offset. */
  const broken: { name: string; bytes: () => Uint8Array; code: string; offset: number; message?: RegExp }[] = [
    { name: 'prefix signature', bytes: () => reseal(Object.assign(small(), { 4: 0x78 })), code: 'DFUSE_SIGNATURE', offset: 0, message: /"DfuSx"/ },
    { name: 'file shorter than prefix + suffix', bytes: () => small().subarray(0, 20), code: 'DFUSE_TRUNCATED', offset: 0 },
    { name: 'bVersion 2', bytes: () => reseal(Object.assign(small(), { 5: 2 })), code: 'DFUSE_VERSION', offset: 5 },
    { name: 'suffix signature', bytes: () => reseal(Object.assign(small(), { [312 - 8]: 0x58 })), code: 'DFUSE_SUFFIX_SIGNATURE', offset: 304 },
    { name: 'bLength 17', bytes: () => reseal(Object.assign(small(), { [312 - 5]: 17 })), code: 'DFUSE_SUFFIX_LENGTH', offset: 307 },
    { name: 'bLength 15', bytes: () => reseal(Object.assign(small(), { [312 - 5]: 15 })), code: 'DFUSE_SUFFIX_LENGTH', offset: 307 },
    { name: 'bcdDFU 0x0100', bytes: () => reseal(Object.assign(small(), { [312 - 9]: 0x01, [312 - 10]: 0x00 })), code: 'DFUSE_BCD_DFU', offset: 302 },
    {
      name: 'payload changed, CRC stale',
      bytes: () => Object.assign(small(), { [E0 + 8]: 0 }),
      code: 'DFUSE_SUFFIX_CRC',
      offset: 308,
      message: /dwCRC is 0xD052BE87, but the CRC-32\/JAMCRC of bytes 0\.\.0x00000134 is 0x[0-9A-F]{8}.*'bad-crc'/,
    },
    { name: 'DFUImageSize off by one', bytes: () => reseal(patch32(small(), 6, 297)), code: 'DFUSE_IMAGE_SIZE', offset: 6, message: /is 297; expected 296 .* or 312/ },
    {
      name: 'DFUImageSize includes the suffix (strict)',
      bytes: () => reseal(patch32(small(), 6, 312)),
      code: 'DFUSE_IMAGE_SIZE',
      offset: 6,
      message: /dfuse-pack.*'image-size-includes-suffix'/,
    },
    { name: 'target signature', bytes: () => reseal(Object.assign(small(), { [T0 + 3]: 0x78 })), code: 'DFUSE_TARGET_SIGNATURE', offset: T0, message: /"Tarxet"/ },
    { name: 'bTargets 2, one present', bytes: () => reseal(Object.assign(small(), { 10: 2 })), code: 'DFUSE_TRUNCATED', offset: 296, message: /target 1 prefix/ },
    {
      name: 'dwNbElements 0xFFFFFFFF fails before looping',
      bytes: () => reseal(patch32(small(), T0 + 270, 0xffffffff)),
      code: 'DFUSE_ELEMENT_COUNT',
      offset: T0 + 270,
      message: /4294967295, but the 11 bytes before the suffix hold at most 1 element headers/,
    },
    {
      name: 'dwNbElements one too many',
      bytes: () => reseal(patch32(encodeDfuse([{ alt: 0, image: image([0, new Array<number>(20).fill(1)]) }], ids), T0 + 270, 2)),
      code: 'DFUSE_TRUNCATED',
      offset: E0 + 28,
      message: /element 1 header/,
    },
    {
      name: 'dwElementSize 0xFFFFFFFF fails before reading',
      bytes: () => reseal(patch32(small(), E0 + 4, 0xffffffff)),
      code: 'DFUSE_ELEMENT_SIZE',
      offset: E0 + 4,
      message: /target 0 element 0: dwElementSize is 4294967295 \(0xFFFFFFFF\), but only 3 bytes remain/,
    },
    { name: 'dwElementSize one too many', bytes: () => reseal(patch32(small(), E0 + 4, 4)), code: 'DFUSE_ELEMENT_SIZE', offset: E0 + 4 },
    {
      name: 'dwTargetSize one short',
      bytes: () => reseal(patch32(small(), T0 + 266, 10)),
      code: 'DFUSE_TARGET_SIZE',
      offset: T0 + 266,
      message: /target 0: dwTargetSize is 10, but its 1 elements occupy 11 bytes/,
    },
    { name: 'element past 4 GiB', bytes: () => reseal(patch32(small(), E0, 0xfffffffe)), code: 'DFUSE_ELEMENT_ADDRESS', offset: E0 },
    {
      name: 'bTargetNamed 0x101 (strict)',
      bytes: () => reseal(patch32(small(), T0 + 7, 0x101)),
      code: 'DFUSE_TARGET_NAMED',
      offset: T0 + 7,
      message: /0x00000101.*dfu-util.*\(named: yes\).*fwupd.*\(named: no\)/,
    },
    {
      name: 'garbage after the NUL of szTargetName (strict)',
      bytes: () => reseal(Object.assign(small(), { [T0 + 11 + 100]: 0x43, [T0 + 11 + 101]: 0x3a })),
      code: 'DFUSE_TARGET_NAME_GARBAGE',
      offset: T0 + 111,
      message: /target 0: szTargetName holds 2 non-zero bytes after its terminating NUL/,
    },
    {
      name: 'name bytes in an unnamed target (strict)',
      bytes: () => rawDfuse([{ named: 0, name: [0x41], elements: [[0, [1]]] }]),
      code: 'DFUSE_TARGET_NAME_GARBAGE',
      offset: T0 + 11,
      message: /although the target is unnamed/,
    },
    {
      name: 'trailing bytes before the suffix (strict)',
      bytes: () => rawDfuse([{ elements: [[0, [1]]] }], { trailing: [0, 0, 0] }),
      code: 'DFUSE_TRAILING_BYTES',
      offset: E0 + 9,
      message: /^3 bytes between the last target and the suffix/,
    },
  ];
  for (const c of broken) {
    test(`error ${c.code}: ${c.name}`, () => {
      assert.throws(
        () => decodeDfuse(c.bytes(), { file: 'bad.dfu' }),
        (e: unknown) => {
          assert.ok(isFwError(e), String(e));
          assert.equal(e.code, c.code, e.message);
          assert.deepEqual(e.location, { file: 'bad.dfu', offset: c.offset });
          if (c.message !== undefined) assert.match(e.message, c.message);
          return true;
        },
      );
    });
  }

  test('overlapping elements: error naming both, or later wins under overwrite', () => {
    const b = reseal(patch32(rawDfuse([{ elements: [[0x100, [1, 1, 1, 1]], [0x104, [2, 2, 2, 2]]] }]), E0 + 12, 0x102));
    // The structure is sound; overlap is a question of what the elements mean, decided by decodeDfuse.
    assert.deepEqual(
      parseDfuse(b).targets[0]!.elements.map((e) => [e.address, e.size]),
      [[0x100, 4], [0x102, 4]],
    );
    assert.throws(() => decodeDfuse(b, { file: 'o.dfu' }), {
      code: 'DFUSE_ELEMENT_OVERLAP',
      location: { file: 'o.dfu', offset: E0 + 12, address: 0x102 },
      message: /o\.dfu target 0 element 1 0x00000102\.\.0x00000106 overlaps o\.dfu target 0 element 0 0x00000100\.\.0x00000104/,
    });
    const d = decodeDfuse(b, { file: 'o.dfu', overwrite: true });
    assert.deepEqual([...d.targets[0]!.image.read(0x100, 6)], [1, 1, 2, 2, 2, 2]);
    assert.deepEqual(
      d.notes.map((n) => [n.code, n.location.address]),
      [['DFUSE_ELEMENT_OVERWRITE', 0x102]],
    );
  });

  test('every leniency: strict rejects (see above), lenient accepts and reports the note with its name', () => {
    const cases: [string, Uint8Array, string][] = [
      ['image-size-includes-suffix', reseal(patch32(small(), 6, 312)), 'DFUSE_IMAGE_SIZE'],
      ['target-name-garbage', reseal(Object.assign(small(), { [T0 + 11 + 100]: 0x43 })), 'DFUSE_TARGET_NAME_GARBAGE'],
      ['target-named-nonboolean', reseal(patch32(small(), T0 + 7, 0x101)), 'DFUSE_TARGET_NAMED'],
      ['trailing-bytes', rawDfuse([{ elements: [[0, [1]]] }], { trailing: [0, 0, 0] }), 'DFUSE_TRAILING_BYTES'],
      ['bad-crc', Object.assign(small(), { [E0 + 8]: 0 }), 'DFUSE_SUFFIX_CRC'],
    ];
    for (const [leniency, bytes, code] of cases) {
      assert.throws(() => decodeDfuse(bytes), { code }, leniency);
      const d = decodeDfuse(bytes, { lenient: [leniency] });
      assert.deepEqual(
        d.notes.map((n) => [n.code, n.severity, n.leniency]),
        [[code, 'warning', leniency]],
        leniency,
      );
      assert.equal(d.targets.length, 1);
    }
    assert.equal(decodeDfuse(cases[0]![1], { lenient: ['image-size-includes-suffix'] }).dfuse.imageSizeConvention, 'with-suffix');
    assert.equal(decodeDfuse(cases[1]![1], { lenient: ['target-name-garbage'] }).targets[0]!.name, 'ST...');
    assert.equal(decodeDfuse(cases[2]![1], { lenient: ['target-named-nonboolean'] }).targets[0]!.name, undefined, 'named only when exactly 1 (fwupd)');
    assert.deepEqual([...decodeDfuse(cases[3]![1], { lenient: ['trailing-bytes'] }).dfuse.trailing], [0, 0, 0]);
  });

  test('warnings: no targets, empty target, empty element, unsorted elements', () => {
    const codes = (b: Uint8Array): string[] => decodeDfuse(b).notes.map((n) => n.code);
    assert.deepEqual(codes(rawDfuse([])), ['DFUSE_NO_TARGETS']);
    assert.deepEqual(codes(rawDfuse([{ elements: [] }])), ['DFUSE_EMPTY_TARGET']);
    assert.deepEqual(codes(rawDfuse([{ elements: [[0, []]] }])), ['DFUSE_EMPTY_ELEMENT']);
    const unsorted = decodeDfuse(rawDfuse([{ elements: [[0x200, [1]], [0x100, [2]]] }]));
    assert.deepEqual(
      unsorted.notes.map((n) => [n.code, n.location.address]),
      [['DFUSE_ELEMENTS_UNSORTED', 0x100]],
    );
    assert.deepEqual(unsorted.targets[0]!.image.ranges(), [
      { start: 0x100, end: 0x101 },
      { start: 0x200, end: 0x201 },
    ]);
  });

  test('mutated and truncated files only ever raise FwError', () => {
    const base = rawDfuse([{ elements: [[0x08000000, [1, 2, 3, 4, 5]], [0x08000100, [6]]] }, { alt: 1, elements: [[0x1fff0000, [7, 8]]] }]);
    const all = ['image-size-includes-suffix', 'target-name-garbage', 'target-named-nonboolean', 'trailing-bytes', 'bad-crc'];
    const attempt = (b: Uint8Array): void => {
      for (const lenient of [[], all]) {
        try {
          decodeDfuse(b, { lenient });
        } catch (e) {
          if (!isFwError(e)) throw e;
        }
      }
    };
    for (let n = 0; n < base.length; n++) attempt(base.slice(0, n));
    for (let i = 0; i < base.length; i++) {
      for (const v of [0x00, 0xff, base[i]! ^ 0x01]) {
        const b = base.slice();
        b[i] = v;
        attempt(b);
        attempt(reseal(b));
      }
    }
  });
});

/** Corpus: read in place; expectations come from MANIFEST.md, written by other tools. */
describe('DfuSe corpus', () => {
  const corpus = corpusOrSkip();
  const rows = corpus.dir === undefined ? [] : manifestEntries(corpus.dir).filter((e) => /\. DfuSe, \d+ target/.test(e.description));
  const read = (file: string): Uint8Array => new Uint8Array(readFileSync(join(corpus.dir!, file)));
  /** The one leniency real files need, per the MANIFEST's description of their names. */
  const needs = (row: ManifestEntry): string[] =>
    /non-zero bytes after the NUL in szTargetName/.test(row.description) ? ['target-name-garbage'] : [];

  test('the MANIFEST lists 41 DfuSe files, 30 of them with garbage names', { skip: corpus.skip }, () => {
    assert.equal(rows.length, 41);
    assert.equal(rows.filter((r) => needs(r).length > 0).length, 30);
  });

  for (const row of rows) {
    test(`${row.file}: parses with exactly the leniencies it needs; structure as the MANIFEST says`, () => {
      const bytes = read(row.file);
      const lenient = needs(row);
      if (lenient.length > 0) assert.throws(() => decodeDfuse(bytes), { code: 'DFUSE_TARGET_NAME_GARBAGE' });
      const d = decodeDfuse(bytes, { file: row.file, lenient });
      assert.deepEqual([...new Set(d.notes.map((n) => n.leniency))], lenient.length > 0 ? lenient : []);
      assert.ok(d.notes.every((n) => n.leniency !== undefined), 'no warnings besides leniencies');
      assert.equal(d.dfuse.imageSizeConvention, 'without-suffix');

      const m = /DfuSe, (\d+) target\(s\); (.*)$/.exec(row.description)!;
      assert.equal(d.targets.length, Number(m[1]));
      const expected: [number, number][][] = [[]];
      for (const tok of m[2]!.matchAll(/target (\d+):|el\d+ @0x([0-9a-f]{8}) (\d+) B/g)) {
        if (tok[1] !== undefined) expected[Number(tok[1])] = [];
        else expected[expected.length - 1]!.push([parseInt(tok[2]!, 16), Number(tok[3])]);
      }
      assert.deepEqual(
        d.dfuse.targets.map((t) => t.elements.map((e) => [e.address, e.size])),
        expected,
      );
      const alt = /; alt=(\d+)/.exec(row.description);
      assert.ok(d.targets.every((t) => t.alt === (alt === null ? 0 : Number(alt[1]))));
      assert.deepEqual(
        d.targets.map((t) => t.name),
        [...row.description.matchAll(/szTargetName '([^']*)'/g)].map((x) => x[1]),
      );
      const s = /suffix VID ([0-9a-f]{4}) PID ([0-9a-f]{4}) bcdDevice ([0-9a-f]{4})/.exec(row.description)!;
      assert.deepEqual(
        [d.dfuse.suffix.idVendor, d.dfuse.suffix.idProduct, d.dfuse.suffix.bcdDevice],
        [parseInt(s[1]!, 16), parseInt(s[2]!, 16), parseInt(s[3]!, 16)],
      );
    });

    test(`${row.file}: re-encodes to identical bytes, or differs exactly by the reported leniency`, () => {
      const bytes = read(row.file);
      const d = decodeDfuse(bytes, { lenient: needs(row) });
      const preserved = reencodeInputs(d, { preserveNames: true });
      assert.deepEqual(encodeDfuse(preserved.targets, preserved.suffix, preserved.options), bytes, 'with raw names: byte for byte');

      const clean = reencodeInputs(d);
      const again = encodeDfuse(clean.targets, clean.suffix, clean.options);
      if (needs(row).length === 0) {
        assert.deepEqual(again, bytes);
      } else {
        // Exactly the garbage after each name's NUL is gone (and the CRC follows).
        const expected = bytes.slice();
        for (const t of d.dfuse.targets) expected.fill(0, t.offset + 11 + t.szTargetName.indexOf(0), t.offset + 266);
        assert.notDeepEqual(expected, bytes);
        assert.deepEqual(again, reseal(expected));
      }
    });
  }

  /** "identical by address to X.bin": X is beside the .dfu, or (for v@commit folders) relative to the folder above. */
  const pairs = rows.flatMap((row) => {
    const ref = /identical by address to ([^;|]+?\.bin)/.exec(row.description)?.[1];
    if (ref === undefined) return [];
    const base = dirname(row.file).replace(/\/v@[0-9a-f]+$/, '');
    const bin = [join(base, basename(ref)), join(dirname(base), ref)].find((p) => existsSync(join(corpus.dir!, p)));
    return [{ dfu: row.file, bin, ref }];
  });

  test('the MANIFEST names 14 DfuSe files identical to a .bin (6 OpenMV, 8 ST)', { skip: corpus.skip }, () => {
    assert.equal(pairs.length, 14);
  });

  for (const p of pairs) {
    test(`${p.dfu}: element bytes equal ${p.ref}`, () => {
      assert.ok(p.bin !== undefined, `cannot find ${p.ref}`);
      const img = decodeDfuse(read(p.dfu), { lenient: ['target-name-garbage'] }).targets[0]!.image;
      assert.equal(img.ranges().length, 1, 'one contiguous run');
      const named = /0x([0-9A-F]{7,8})\.bin$/i.exec(p.ref);
      if (named !== null) assert.equal(img.start, parseInt(named[1]!, 16), 'address in the .bin name');
      const bin = decodeBin(read(p.bin), { address: img.start! }).targets[0]!.image;
      assert.deepEqual(encodeBin(img).bytes, encodeBin(bin).bytes);
    });
  }
});
