import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ascii, fromAscii } from '../../src/core/bytes.ts';
import { FwError } from '../../src/core/errors.ts';
import { decodeIhex, encodeIhex, type IhexDecoded } from '../../src/formats/ihex.ts';
import type { DecodeOptions } from '../../src/formats/types.ts';
import { MemoryImage } from '../../src/image/memory-image.ts';
import { corpusOrSkip, fixturePath, manifestEntries } from '../helpers/corpus.ts';

/** One record with a correct checksum (independent of the code under test). */
function rec(type: number, offset: number, data: Iterable<number> = []): string {
  const b = [...data];
  const body = [b.length, offset >> 8, offset & 0xff, type, ...b];
  const sum = body.reduce((s, v) => s + v, 0);
  return ':' + [...body, -sum & 0xff].map((v) => v.toString(16).toUpperCase().padStart(2, '0')).join('');
}
const EOF = ':00000001FF';
const ela = (upper: number): string => rec(4, 0, [upper >> 8, upper & 0xff]);
const seq = (from: number, n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);
const text = (lines: string[], eol = '\n'): Uint8Array => fromAscii(lines.join(eol) + eol);
const decode = (lines: string[], opts: DecodeOptions = {}): IhexDecoded => decodeIhex(text(lines), opts);
const image = (d: IhexDecoded): MemoryImage => d.targets[0]!.image;
const runs = (m: MemoryImage): [number, number[]][] => m.runs().map((s) => [s.addr, [...s.data]]);

function rejects(lines: string[] | Uint8Array, expected: { code: string; line: number; column?: number; message: string | RegExp }, opts: DecodeOptions = {}): void {
  const input = lines instanceof Uint8Array ? lines : text(lines);
  assert.throws(
    () => decodeIhex(input, opts),
    (e: unknown) => {
      assert.ok(e instanceof FwError, `expected FwError, got ${String(e)}`);
      assert.equal(e.code, expected.code);
      assert.equal(e.location.line, expected.line, 'line');
      assert.equal(e.location.column, expected.column, 'column');
      if (typeof expected.message === 'string') assert.equal(e.message, expected.message);
      else assert.match(e.message, expected.message);
      return true;
    },
  );
}

describe('Intel HEX reader: record types', () => {
  test('type 00 data, 04 extended linear, 05 start linear, 01 EOF', () => {
    const d = decode([ela(0x0800), rec(0, 0, seq(0, 16)), rec(0, 0x10, seq(16, 4)), rec(5, 0, [0x08, 0x00, 0x01, 0x01]), EOF]);
    assert.equal(d.format, 'ihex');
    assert.deepEqual(runs(image(d)), [[0x08000000, [...seq(0, 20)]]]);
    assert.equal(d.entry, 0x08000101);
    assert.equal(d.startLinear, 0x08000101);
    assert.equal(d.startSegment, undefined);
    assert.deepEqual(d.records, { data: 2, eof: 1, extendedSegment: 0, startSegment: 0, extendedLinear: 1, startLinear: 1 });
    assert.deepEqual(d.notes, []);
    assert.equal(d.targets[0]!.alt, 0);
  });

  test('contiguous records become one segment, also across a type 04 at a 64 KiB boundary', () => {
    const d = decode([ela(0x0800), rec(0, 0xfff0, seq(0, 16)), ela(0x0801), rec(0, 0, seq(16, 16)), EOF]);
    assert.equal(image(d).segments.length, 1);
    assert.deepEqual(runs(image(d)), [[0x0800fff0, [...seq(0, 32)]]]);
    assert.equal(image(d).segments[0]!.source, 'lines 2-4');
  });

  test('type 02 extended segment address: base = value << 4', () => {
    const d = decode([rec(2, 0, [0x10, 0x00]), rec(0, 0x0004, [0xaa, 0xbb]), EOF]);
    assert.deepEqual(runs(image(d)), [[0x10004, [0xaa, 0xbb]]]);
    assert.equal(d.records.extendedSegment, 1);
  });

  test('type 03 start segment address: CS:IP reported, entry = CS * 16 + IP (as objcopy writes it)', () => {
    const d = decode([rec(0, 0, [1]), rec(3, 0, [0x10, 0x00, 0x23, 0x45]), EOF]);
    assert.deepEqual(d.startSegment, { cs: 0x1000, ip: 0x2345 });
    assert.equal(d.entry, 0x12345);
    assert.equal(d.startLinear, undefined);
    assert.equal(d.records.startSegment, 1);
  });

  test('fixture segment.hex (srec_cat --address-length=3): 02 records, a 64 KiB step, 03 start', () => {
    const d = decodeIhex(readFileSync(fixturePath('hex', 'segment.hex')));
    assert.deepEqual(runs(image(d)), [[0x1fff0, [...seq(0, 40)]]]);
    // srec_cat wrote 0x12345 as 0001:2345; the segment reading (its own reader's too) is 0x2355. See test-peers.
    assert.deepEqual(d.startSegment, { cs: 0x0001, ip: 0x2345 });
    assert.equal(d.entry, 0x2355);
  });

  test('a record crossing 64 KiB under type 04 continues linearly (fixture crossing-04.hex, from srec_cat)', () => {
    const d = decodeIhex(readFileSync(fixturePath('hex', 'crossing-04.hex')));
    assert.deepEqual(runs(image(d)), [[0x0800fff8, [...seq(0x20, 24)]]]);
  });

  test('lower case, CRLF and an empty line (fixture lower-crlf.hex)', () => {
    const d = decodeIhex(readFileSync(fixturePath('hex', 'lower-crlf.hex')));
    assert.deepEqual(runs(image(d)), [[0x08000000, [...seq(0xa0, 21)]]]);
    assert.equal(d.entry, 0x08000101);
    assert.equal(image(d).segments[0]!.source, 'lines 2-4');
  });

  test('CR-only line ends count lines too; no line break after EOF is fine', () => {
    rejects(fromAscii([ela(0), rec(0, 0, [1]), ':0100010002FD'].join('\r')), { code: 'IHEX_CHECKSUM', line: 3, column: 12, message: 'checksum 0xFD, expected 0xFC' });
    assert.equal(image(decodeIhex(fromAscii(`${rec(0, 0, [7])}\n${EOF}`))).byteAt(0), 7);
  });

  test('zero-length data records are counted and hold nothing', () => {
    const d = decode([rec(0, 0x100, []), EOF]);
    assert.equal(d.records.data, 1);
    assert.ok(image(d).isEmpty);
  });

  test('the address field of non-data records is ignored, as the spec says', () => {
    const d = decode([rec(4, 0x1234, [0x08, 0x00]), rec(0, 0, [1]), rec(1, 0xffff, [])]);
    assert.equal(image(d).start, 0x08000000);
  });

  test('records out of address order are sorted into the image', () => {
    const d = decode([rec(0, 0x20, [3]), rec(0, 0x00, [1]), rec(0, 0x10, [2]), EOF]);
    assert.deepEqual(runs(image(d)), [[0x00, [1]], [0x10, [2]], [0x20, [3]]]);
  });

  test('addresses at and above 0x80000000: 0x90000000 (QSPI) and the last 16 bytes of the address space', () => {
    const d = decode([ela(0x9000), rec(0, 0, seq(0, 8)), ela(0xffff), rec(0, 0xfff0, seq(0xf0, 16)), EOF]);
    assert.deepEqual(runs(image(d)), [
      [0x90000000, [...seq(0, 8)]],
      [0xfffffff0, [...seq(0xf0, 16)]],
    ]);
    assert.equal(image(d).end, 0x1_0000_0000);
  });

  test('data at 0x08000000 and 0x64000000 allocates only the data bytes (views into one store of at most half the input)', () => {
    const input = text([ela(0x0800), rec(0, 0, seq(0, 16)), ela(0x6400), rec(0, 0, seq(0, 16)), EOF]);
    const segs = image(decodeIhex(input)).segments;
    assert.deepEqual(segs.map((s) => [s.addr, s.data.length]), [[0x08000000, 16], [0x64000000, 16]]);
    for (const s of segs) assert.ok(s.data.buffer.byteLength <= Math.ceil(input.length / 2), `${s.data.buffer.byteLength} bytes allocated`);
  });

  test('the file name goes into error locations and segment sources', () => {
    const d = decode([rec(0, 0, [1]), EOF], { file: 'app.hex' });
    assert.equal(image(d).segments[0]!.source, 'app.hex line 1');
    assert.throws(() => decode([':0100000001FF'], { file: 'app.hex' }), (e: FwError) => e.location.file === 'app.hex' && e.format() === 'app.hex, line 1:12: checksum 0xFF, expected 0xFE [IHEX_CHECKSUM]');
  });
});

describe('Intel HEX reader: errors', () => {
  test('IHEX_START_CODE: a line that does not start with a colon', () => {
    rejects([rec(0, 0, [1]), ' ' + EOF], { code: 'IHEX_START_CODE', line: 2, column: 1, message: "expected ':' at the start of a record, found byte 0x20" });
    rejects(['S1130000000102030405060708090A0B0C0D0E0F74'], { code: 'IHEX_START_CODE', line: 1, column: 1, message: "expected ':' at the start of a record, found 'S'" });
  });

  test('IHEX_BAD_CHAR: the first non-hex character, with its column', () => {
    rejects([rec(0, 0, [1]), ':10000000G102030405060708090A0B0C0D0E0F68', EOF], { code: 'IHEX_BAD_CHAR', line: 2, column: 10, message: "non-hex character 'G' in a record" });
    rejects([':0Z0000000102'], { code: 'IHEX_BAD_CHAR', line: 1, column: 3, message: "non-hex character 'Z' in a record" });
    rejects([':00000001FF '], { code: 'IHEX_BAD_CHAR', line: 1, column: 12, message: 'non-hex character byte 0x20 in a record' });
  });

  test('IHEX_LENGTH_MISMATCH: the byte count does not match the digits on the line', () => {
    const line = rec(0, 0, seq(0, 16));
    rejects([line.slice(0, -1), EOF], { code: 'IHEX_LENGTH_MISMATCH', line: 1, column: 2, message: "byte count 0x10 needs 42 hex digits after ':', the line has 41" });
    rejects([line + '00', EOF], { code: 'IHEX_LENGTH_MISMATCH', line: 1, column: 2, message: "byte count 0x10 needs 42 hex digits after ':', the line has 44" });
    rejects([':'], { code: 'IHEX_LENGTH_MISMATCH', line: 1, column: 2, message: 'record has 0 hex digits, at least 10 needed' });
    rejects(fromAscii(':000000'), { code: 'IHEX_LENGTH_MISMATCH', line: 1, column: 2, message: "byte count 0x00 needs 10 hex digits after ':', the line has 6" });
  });

  test('IHEX_CHECKSUM names the checksum found and the one expected, at the checksum column', () => {
    const lines = [ela(0x0800), rec(0, 0, seq(0, 16)), rec(0, 0x10, seq(16, 16)), rec(0, 0x20, seq(32, 16)), rec(0, 0x30, seq(48, 16)), ':10004000404142434445464748494A4B4C4D4E4A3C', EOF];
    rejects(lines, { code: 'IHEX_CHECKSUM', line: 6, column: 42, message: 'checksum 0x3C, expected 0x3D' });
  });

  test('IHEX_RECORD_TYPE: types above 05', () => {
    rejects([rec(6, 0, [1, 2]), EOF], { code: 'IHEX_RECORD_TYPE', line: 1, column: 8, message: 'unknown record type 0x06; Intel HEX defines 00 to 05' });
  });

  test('IHEX_BAD_LENGTH: each non-data record type has a fixed byte count', () => {
    rejects([rec(4, 0, [8, 0, 0]), EOF], { code: 'IHEX_BAD_LENGTH', line: 1, column: 2, message: 'extended linear address record (type 04) has 3 data bytes, expected 2' });
    rejects([rec(2, 0, [1]), EOF], { code: 'IHEX_BAD_LENGTH', line: 1, column: 2, message: 'extended segment address record (type 02) has 1 data bytes, expected 2' });
    rejects([rec(3, 0, [1, 2]), EOF], { code: 'IHEX_BAD_LENGTH', line: 1, column: 2, message: 'start segment address record (type 03) has 2 data bytes, expected 4' });
    rejects([rec(5, 0, [1, 2, 3, 4, 5]), EOF], { code: 'IHEX_BAD_LENGTH', line: 1, column: 2, message: 'start linear address record (type 05) has 5 data bytes, expected 4' });
    rejects([rec(1, 0, [0])], { code: 'IHEX_BAD_LENGTH', line: 1, column: 2, message: 'end-of-file record (type 01) has 1 data bytes, expected 0' });
  });

  test('IHEX_MISSING_EOF, or a note with leniency missing-eof', () => {
    const lines = [rec(0, 0, [1]), ''];
    rejects(lines, { code: 'IHEX_MISSING_EOF', line: 3, message: "the file ends without an end-of-file record (':00000001FF')" });
    rejects(new Uint8Array(0), { code: 'IHEX_MISSING_EOF', line: 1, message: /without an end-of-file record/ });
    const d = decode(lines, { lenient: ['missing-eof'] });
    assert.equal(image(d).byteAt(0), 1);
    assert.deepEqual(d.notes, [
      { code: 'IHEX_MISSING_EOF', severity: 'warning', message: "the file ends without an end-of-file record (':00000001FF')", location: { line: 3 }, leniency: 'missing-eof' },
    ]);
  });

  test('IHEX_DATA_AFTER_EOF, or ignored with a note under leniency data-after-eof; empty lines after EOF are fine', () => {
    const lines = [rec(0, 0, [1]), EOF, '', rec(0, 1, [2])];
    rejects(lines, { code: 'IHEX_DATA_AFTER_EOF', line: 4, column: 1, message: 'data after the end-of-file record on line 2' });
    const d = decode(lines, { lenient: ['data-after-eof'] });
    assert.deepEqual(runs(image(d)), [[0, [1]]]);
    assert.deepEqual(d.notes, [
      { code: 'IHEX_DATA_AFTER_EOF', severity: 'warning', message: 'ignored 14 bytes after the end-of-file record on line 2', location: { line: 4, column: 1 }, leniency: 'data-after-eof' },
    ]);
    assert.deepEqual(decode([rec(0, 0, [1]), EOF, '', '']).notes, []);
  });

  test('IHEX_OVERLAP names both lines, the first shared address, and whether the values differ', () => {
    const lines = [ela(0x0800), rec(0, 0, seq(0, 16)), ...[1, 2, 3, 4, 5, 6, 7].map((i) => rec(0, 0x100 * i, [i])), rec(0, 8, seq(0x80, 16)), EOF];
    rejects(lines, { code: 'IHEX_OVERLAP', line: 10, message: 'data at 0x08000008 overlaps data from line 2 (8 bytes, different values)' });
    const same = [ela(0x0800), rec(0, 0, seq(0, 16)), rec(0, 0x10, seq(16, 16)), rec(0, 0x14, seq(20, 4)), EOF];
    rejects(same, { code: 'IHEX_OVERLAP', line: 4, message: 'data at 0x08000014 overlaps data from line 3 (4 bytes, same values)' });
  });

  test('IHEX_OVERLAP when a run grows into data read earlier (records out of order)', () => {
    rejects([rec(0, 0x10, [9, 9]), rec(0, 0x00, seq(0, 16)), rec(0, 0x10, [1]), EOF], { code: 'IHEX_OVERLAP', line: 3, message: 'data at 0x00000010 overlaps data from line 1 (1 bytes, different values)' });
  });

  test('overwrite: later data wins, every replaced range is a note naming both lines', () => {
    const d = decode([rec(0, 0, seq(0, 16)), rec(0, 0x10, seq(16, 16)), rec(0, 0x08, [0xaa, 0xbb]), rec(0, 0x18, seq(0x18, 4)), EOF], { overwrite: true });
    const expected = [...seq(0, 32)];
    expected[8] = 0xaa;
    expected[9] = 0xbb;
    assert.deepEqual(runs(image(d)), [[0, expected]]);
    assert.deepEqual(d.notes, [
      { code: 'IHEX_OVERLAP', severity: 'warning', message: 'data at 0x00000008..0x0000000A replaces different data from line 1 (later data wins)', location: { line: 3, address: 8 }, leniency: 'overwrite' },
      { code: 'IHEX_OVERLAP', severity: 'warning', message: 'data at 0x00000018..0x0000001C replaces identical data from line 2 (later data wins)', location: { line: 4, address: 0x18 }, leniency: 'overwrite' },
    ]);
  });

  test('IHEX_ADDRESS_WRAP: data running past 0xFFFFFFFF', () => {
    rejects([ela(0xffff), rec(0, 0xfffe, [1, 2, 3, 4]), EOF], { code: 'IHEX_ADDRESS_WRAP', line: 2, message: 'data at 0xFFFFFFFE (4 bytes) runs past 0xFFFFFFFF; addresses are 32-bit and do not wrap' });
  });

  test('IHEX_SEGMENT_WRAP: a type 02 record crossing its segment end, or the spec wrap with leniency segment-wrap', () => {
    const lines = [rec(2, 0, [0x10, 0x00]), rec(0, 0xfffe, [1, 2, 3, 4]), EOF];
    const message =
      'data record at segment offset 0xFFFE (4 bytes) crosses the end of the 64 KiB segment at 0x00010000: ' +
      'the spec wraps the last 2 bytes to 0x00010000 (srec_cat), other tools continue at 0x00020000';
    rejects(lines, { code: 'IHEX_SEGMENT_WRAP', line: 2, column: 4, message });
    const d = decode(lines, { lenient: ['segment-wrap'] });
    assert.deepEqual(runs(image(d)), [[0x10000, [3, 4]], [0x1fffe, [1, 2]]]);
    assert.deepEqual(d.notes, [{ code: 'IHEX_SEGMENT_WRAP', severity: 'warning', message, location: { line: 2, column: 4, address: 0x1fffe }, leniency: 'segment-wrap' }]);
  });

  test('IHEX_START_DUPLICATE: a second start record, or the last wins with leniency duplicate-start', () => {
    const lines = [rec(0, 0, [1]), rec(3, 0, [0x08, 0x00, 0x00, 0x10]), rec(5, 0, [0x08, 0x00, 0x01, 0x01]), EOF];
    rejects(lines, { code: 'IHEX_START_DUPLICATE', line: 3, column: 8, message: 'second start address record (EIP 0x08000101); line 2 already gave one' });
    const d = decode(lines, { lenient: ['duplicate-start'] });
    assert.equal(d.entry, 0x08000101);
    assert.deepEqual(d.startSegment, { cs: 0x0800, ip: 0x0010 });
    assert.equal(d.notes[0]?.code, 'IHEX_START_DUPLICATE');
  });

  test('errors carry exit status 3 (bad input)', () => {
    assert.throws(() => decode([':0100000001FF']), (e: FwError) => e.exitStatus === 3);
  });
});

describe('Intel HEX writer', () => {
  const sparse = (): MemoryImage => {
    const m = new MemoryImage();
    m.add(0x08000000, seq(0x00, 20));
    m.add(0x0800fff8, seq(0x40, 16));
    m.add(0x90000000, seq(0x90, 8));
    m.add(0xfffffff0, seq(0xf0, 16));
    return m;
  };

  test('known-good text: type 04 before the first record and at each 64 KiB step, no record crosses 64 KiB, 05, EOF', () => {
    // Same bytes as test/fixtures/hex/sparse.hex, which srec_info, srec_cmp and python intelhex read as this image.
    const expected = [
      ':020000040800F2',
      ':10000000000102030405060708090A0B0C0D0E0F78',
      ':0400100010111213A6',
      ':08FFF8004041424344454647E5',
      ':020000040801F1',
      ':0800000048494A4B4C4D4E4F9C',
      ':0200000490006A',
      ':0800000090919293949596975C',
      ':02000004FFFFFC',
      ':10FFF000F0F1F2F3F4F5F6F7F8F9FAFBFCFDFEFF89',
      ':0400000508000101ED',
      ':00000001FF',
      '',
    ].join('\n');
    assert.equal(ascii(encodeIhex(sparse(), { start: 0x08000101 })), expected);
    assert.equal(ascii(readFileSync(fixturePath('hex', 'sparse.hex'))), expected);
  });

  test('CRLF, record length, and a type 04 for upper bits 0: byte-equal to srec_cat -obs=32 / -obs=8', () => {
    const m = new MemoryImage();
    m.add(0x5, seq(1, 21));
    assert.equal(
      ascii(encodeIhex(m, { crlf: true, recordLength: 32 })),
      ':020000040000FA\r\n:150005000102030405060708090A0B0C0D0E0F101112131415FF\r\n:00000001FF\r\n',
    );
    assert.equal(
      ascii(encodeIhex(m, { recordLength: 8 })),
      [':020000040000FA', ':080005000102030405060708CF', ':08000D00090A0B0C0D0E0F1087', ':05001500111213141587', ':00000001FF', ''].join('\n'),
    );
  });

  test('an empty image is just the EOF record', () => {
    assert.equal(ascii(encodeIhex(new MemoryImage())), ':00000001FF\n');
  });

  test('adjacent segments are written as one run (no short record at the join)', () => {
    const m = new MemoryImage();
    m.add(0, seq(0, 10));
    m.add(10, seq(10, 10));
    assert.equal(ascii(encodeIhex(m)).split('\n')[1], rec(0, 0, seq(0, 16)));
  });

  test('IHEX_OPTION: record length outside 1..255, start outside 32 bits (usage errors)', () => {
    for (const recordLength of [0, 256, 1.5]) {
      assert.throws(() => encodeIhex(new MemoryImage(), { recordLength }), (e: FwError) => e.code === 'IHEX_OPTION' && e.exitStatus === 2 && e.message === `record length must be 1..255 bytes, got ${recordLength}`);
    }
    assert.throws(() => encodeIhex(new MemoryImage(), { start: 2 ** 32 }), (e: FwError) => e.code === 'IHEX_OPTION' && /32-bit/.test(e.message));
  });

  test('round trip encode -> decode on sparse images, every record length class', () => {
    for (const recordLength of [1, 7, 16, 32, 255]) {
      const m = sparse();
      const d = decodeIhex(encodeIhex(m, { recordLength, start: 0x08000101 }));
      assert.deepEqual(runs(image(d)), runs(m), `record length ${recordLength}`);
      assert.equal(d.entry, 0x08000101);
    }
  });

  test('round trip of random sparse images (seeded)', () => {
    let seed = 0x1234567;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return Math.floor((seed / 2 ** 32) * n);
    };
    for (let round = 0; round < 50; round++) {
      const m = new MemoryImage();
      let addr = rnd(0x30000);
      for (let s = 0; s < 1 + rnd(6); s++) {
        const len = 1 + rnd(0x300);
        if (addr + len > 2 ** 32) break;
        m.add(addr, Uint8Array.from({ length: len }, () => rnd(256)));
        addr += len + 1 + (rnd(2) === 0 ? rnd(40) : rnd(0x40000000));
      }
      const recordLength = 1 + rnd(255);
      assert.deepEqual(runs(image(decodeIhex(encodeIhex(m, { recordLength })))), runs(m), `round ${round}, record length ${recordLength}`);
    }
  });
});

describe('Intel HEX reader: corpus', () => {
  const corpus = corpusOrSkip();
  const dir = corpus.dir ?? '';
  const entries = corpus.skip === false ? manifestEntries(dir).filter((e) => e.file.endsWith('.hex')) : [];
  const load = (file: string): IhexDecoded => decodeIhex(readFileSync(join(dir, file)), { file });

  test('the MANIFEST lists 20 .hex files', { skip: corpus.skip }, () => assert.equal(entries.length, 20));

  test('every corpus .hex decodes to the ranges, byte count, record counts and start address the MANIFEST gives', { skip: corpus.skip }, () => {
    for (const e of entries) {
      const d = load(e.file);
      const m = image(d);
      const summary = /Intel HEX, (\d+) data bytes in \d+ range\(s\) ([^;]+); records ([^;]+);/.exec(e.description);
      assert.ok(summary !== null, e.file);
      assert.equal(m.size, Number(summary[1]), e.file);
      const ranges = summary[2]!.split(', ').map((r) => r.split('-').map((x) => parseInt(x, 16)));
      assert.deepEqual(m.ranges().map((r) => [r.start, r.end - 1]), ranges, e.file);
      const counts = Object.fromEntries(summary[3]!.split(', ').map((kv) => kv.split('=')));
      assert.equal(d.records.data, Number(counts.DATA), e.file);
      assert.equal(d.records.eof, Number(counts.EOF), e.file);
      assert.equal(d.records.extendedLinear, Number(counts.ELA ?? 0), e.file);
      assert.equal(d.records.startLinear, Number(counts.SLA ?? 0), e.file);
      assert.equal(d.records.startSegment, Number(counts.SSA ?? 0), e.file);
      const sla = /start address SLA=(0x[0-9a-f]+)/.exec(e.description);
      if (sla !== null) assert.equal(d.entry, parseInt(sla[1]!, 16), e.file);
      assert.deepEqual(d.notes, [], e.file);
    }
  });

  test('every corpus .hex survives encode -> decode unchanged', { skip: corpus.skip }, () => {
    for (const e of entries) {
      const d = load(e.file);
      const again = decodeIhex(encodeIhex(image(d), d.entry !== undefined ? { start: d.entry } : {}));
      assert.deepEqual(runs(image(again)), runs(image(d)), e.file);
      assert.equal(again.entry, d.entry, e.file);
    }
  });

  test('ArduPilot .hex equals its .bin placed at the hex start address', { skip: corpus.skip }, () => {
    const ardupilot = entries.filter((e) => e.file.startsWith('ArduPilot__ardupilot/'));
    assert.equal(ardupilot.length, 12);
    for (const e of ardupilot) {
      const m = image(load(e.file));
      const bin = readFileSync(join(dir, e.file.replace(/\.hex$/, '.bin')));
      assert.equal(m.segments.length, 1, e.file);
      assert.equal(m.start, 0x08000000, e.file);
      assert.ok(Buffer.from(m.segments[0]!.data).equals(bin), e.file);
    }
  });

  test('Arduino GIGA / Nicla Vision: the 1-byte hole at 0x0801F00B stays a gap (the .bin fills it with 0x00)', { skip: corpus.skip }, () => {
    for (const board of ['GIGA', 'NICLA_VISION']) {
      const file = `arduino__ArduinoCore-mbed/bootloaders/${board}/bootloader.hex`;
      const m = image(load(file));
      assert.deepEqual(m.ranges(), [
        { start: 0x08000000, end: 0x0801f00b },
        { start: 0x0801f00c, end: 0x0801f42c },
      ]);
      assert.equal(m.byteAt(0x0801f00b), undefined);
      const bin = readFileSync(join(dir, file.replace(/\.hex$/, '.bin')));
      assert.equal(bin[0x1f00b], 0x00);
      assert.ok(Buffer.from(m.read(0x08000000, bin.length, 0x00)).equals(bin), board);
    }
  });

  test('nano33ble: type 03 start record reported (CS:IP 0000:3EF9), odd record lengths, equal to its .bin', { skip: corpus.skip }, () => {
    const file = 'arduino__ArduinoCore-mbed/bootloaders/nano33ble/bootloader.hex';
    const d = load(file);
    assert.deepEqual(d.startSegment, { cs: 0, ip: 0x3ef9 });
    assert.equal(d.entry, 0x3ef9);
    assert.equal(d.startLinear, undefined);
    assert.equal(d.records.startSegment, 1);
    const bin = readFileSync(join(dir, file.replace(/\.hex$/, '.bin')));
    assert.deepEqual(image(d).ranges(), [{ start: 0, end: bin.length }]);
    assert.ok(Buffer.from(image(d).segments[0]!.data).equals(bin));
  });
});

describe('Intel HEX reader: mutated input', () => {
  test('byte flips, deletions, insertions and truncations only ever raise FwError (seeded, 3000 cases)', () => {
    const base = readFileSync(fixturePath('hex', 'sparse.hex'));
    let seed = 99;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return Math.floor((seed / 2 ** 32) * n);
    };
    const alphabet = fromAscii(':0123456789ABCDEFabcdefG \r\n\0');
    for (let i = 0; i < 3000; i++) {
      const b = [...base];
      for (let k = 0; k <= rnd(3); k++) {
        const at = rnd(b.length);
        const c = alphabet[rnd(alphabet.length)]!;
        const op = rnd(4);
        if (op === 0) b[at] = c;
        else if (op === 1) b.splice(at, 1);
        else if (op === 2) b.splice(at, 0, c);
        else b.length = at;
      }
      try {
        decodeIhex(Uint8Array.from(b), { lenient: ['missing-eof', 'data-after-eof', 'segment-wrap', 'duplicate-start'], overwrite: rnd(2) === 0 });
      } catch (e) {
        assert.ok(e instanceof FwError, `case ${i}: ${String(e)}`);
      }
    }
  });
});
