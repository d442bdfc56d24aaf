import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ascii, fromAscii } from '../../src/core/bytes.ts';
import { FwError } from '../../src/core/errors.ts';
import { decodeIhex } from '../../src/formats/ihex.ts';
import { decodeSrec, encodeSrec, type SrecDecoded } from '../../src/formats/srec.ts';
import type { DecodeOptions } from '../../src/formats/types.ts';
import { MemoryImage } from '../../src/image/memory-image.ts';
import { corpusOrSkip, fixturePath, manifestEntries } from '../helpers/corpus.ts';

const WIDTH: Record<number, number> = { 0: 2, 1: 2, 2: 3, 3: 4, 5: 2, 6: 3, 7: 4, 8: 3, 9: 2 };

/** One record with a correct checksum (independent of the code under test). */
function rec(type: number, address: number, data: Iterable<number> = []): string {
  const w = WIDTH[type]!;
  const addr = Array.from({ length: w }, (_, i) => Math.floor(address / 256 ** (w - 1 - i)) & 0xff);
  const body = [w + [...data].length + 1, ...addr, ...data];
  const sum = body.reduce((s, v) => s + v, 0);
  return `S${type}` + [...body, ~sum & 0xff].map((v) => v.toString(16).toUpperCase().padStart(2, '0')).join('');
}
const seq = (from: number, n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);
const text = (lines: string[], eol = '\n'): Uint8Array => fromAscii(lines.join(eol) + eol);
const decode = (lines: string[], opts: DecodeOptions = {}): SrecDecoded => decodeSrec(text(lines), opts);
const image = (d: SrecDecoded): MemoryImage => d.targets[0]!.image;
const runs = (m: MemoryImage): [number, number[]][] => m.runs().map((s) => [s.addr, [...s.data]]);
const HDR = 'S00600004844521B';

function rejects(lines: string[] | Uint8Array, expected: { code: string; line: number; column?: number; message: string | RegExp }, opts: DecodeOptions = {}): void {
  const input = lines instanceof Uint8Array ? lines : text(lines);
  assert.throws(
    () => decodeSrec(input, opts),
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

describe('S-record reader: record types', () => {
  test('S0 header, S1 data, S5 count, S9 start', () => {
    const d = decode([HDR, 'S11300050102030405060708090A0B0C0D0E0F105F', 'S1080015111213141583', 'S5030002FA', 'S9030101FA']);
    assert.equal(d.format, 'srec');
    assert.deepEqual(runs(image(d)), [[5, [...seq(1, 21)]]]);
    assert.equal(d.entry, 0x101);
    assert.deepEqual(d.header, { data: fromAscii('HDR'), text: 'HDR', line: 1 });
    assert.deepEqual(d.records, { s0: 1, s1: 2, s2: 0, s3: 0, s5: 1, s6: 0, s7: 0, s8: 0, s9: 1 });
    assert.deepEqual(d.notes, []);
    assert.equal(image(d).segments.length, 1);
  });

  test('S2 data with S8 start (24-bit addresses)', () => {
    const d = decode([HDR, 'S2140123450102030405060708090A0B0C0D0E0F10FA', 'S20901235511121314151E', 'S5030002FA', 'S80401234592']);
    assert.deepEqual(runs(image(d)), [[0x12345, [...seq(1, 21)]]]);
    assert.equal(d.entry, 0x12345);
    assert.equal(d.records.s8, 1);
  });

  test('S3 data with S7 start (32-bit addresses), 0x90000000 and the top of the address space', () => {
    const d = decode([rec(3, 0x90000000, seq(0, 8)), rec(3, 0xfffffff0, seq(0xf0, 16)), rec(7, 0x08000101)]);
    assert.deepEqual(runs(image(d)), [
      [0x90000000, [...seq(0, 8)]],
      [0xfffffff0, [...seq(0xf0, 16)]],
    ]);
    assert.equal(d.entry, 0x08000101);
    assert.deepEqual(d.records, { s0: 0, s1: 0, s2: 0, s3: 2, s5: 0, s6: 0, s7: 1, s8: 0, s9: 0 });
  });

  test('S6 24-bit record count', () => {
    const d = decode([rec(1, 0, [1]), rec(1, 1, [2]), rec(6, 2), rec(9, 0)]);
    assert.equal(d.records.s6, 1);
  });

  test('only the first S0 is the header; an S0 with no data is an empty header', () => {
    const d = decode(['S0030000FC', HDR, rec(1, 0, [1]), rec(9, 0)]);
    assert.deepEqual(d.header, { data: new Uint8Array(0), text: '', line: 1 });
    assert.equal(d.records.s0, 2);
  });

  test('lower-case hex digits, CRLF, empty lines; the record mark itself must be an upper-case S', () => {
    const d = decodeSrec(text(['S1080015111213141583'.toLowerCase().replace('s', 'S'), '', 'S9030101fa'], '\r\n'));
    assert.deepEqual(runs(image(d)), [[0x15, [0x11, 0x12, 0x13, 0x14, 0x15]]]);
    assert.equal(d.entry, 0x101);
  });

  test('no termination record but an S5 count after the last data record (as srec_cat writes without a start address): info note', () => {
    const d = decode([HDR, rec(1, 0, [1]), 'S5030001FB']);
    assert.equal(d.entry, undefined);
    assert.deepEqual(d.notes, [
      {
        code: 'SREC_NO_TERMINATION',
        severity: 'info',
        message: 'no termination record (S7/S8/S9), so no entry address; the count record on line 3 shows the file is complete',
        location: { line: 4 },
      },
    ]);
  });

  test('data at 0x08000000 and 0x64000000 allocates only the data bytes (views into one store of at most half the input)', () => {
    const input = text([rec(3, 0x08000000, seq(0, 16)), rec(3, 0x64000000, seq(0, 16)), rec(7, 0)]);
    const segs = image(decodeSrec(input)).segments;
    assert.deepEqual(segs.map((s) => [s.addr, s.data.length]), [[0x08000000, 16], [0x64000000, 16]]);
    for (const s of segs) assert.ok(s.data.buffer.byteLength <= Math.ceil(input.length / 2), `${s.data.buffer.byteLength} bytes allocated`);
  });
});

describe('S-record reader: errors', () => {
  test('SREC_START_CODE', () => {
    rejects([rec(1, 0, [1]), ':00000001FF'], { code: 'SREC_START_CODE', line: 2, column: 1, message: "expected 'S' at the start of a record, found ':'" });
    // srec_cat skips such a line as "garbage" with a warning; a lower-case s is not an S-record in any tool we know.
    rejects(['s1080015111213141583'], { code: 'SREC_START_CODE', line: 1, column: 1, message: "expected 'S' at the start of a record, found 's'" });
  });

  test('SREC_RECORD_TYPE: S4 is reserved, and only digits are types', () => {
    rejects(['S4030000FC'], { code: 'SREC_RECORD_TYPE', line: 1, column: 2, message: "unknown record type '4'; S-records are S0-S3 and S5-S9" });
    rejects(['SX030000FC'], { code: 'SREC_RECORD_TYPE', line: 1, column: 2, message: "unknown record type 'X'; S-records are S0-S3 and S5-S9" });
  });

  test('SREC_BAD_CHAR: the first non-hex character, with its column', () => {
    rejects([rec(1, 0, [1]), 'S1050000G1F9', rec(9, 0)], { code: 'SREC_BAD_CHAR', line: 2, column: 9, message: "non-hex character 'G' in a record" });
  });

  test('SREC_LENGTH_MISMATCH: the byte count does not match the digits on the line', () => {
    rejects(['S1080015111213141583FF'], { code: 'SREC_LENGTH_MISMATCH', line: 1, column: 3, message: 'byte count 0x08 needs 18 hex digits after the type, the line has 20' });
    rejects(['S1080015111213141'], { code: 'SREC_LENGTH_MISMATCH', line: 1, column: 3, message: 'byte count 0x08 needs 18 hex digits after the type, the line has 15' });
    rejects(['S1'], { code: 'SREC_LENGTH_MISMATCH', line: 1, column: 3, message: 'record has 0 hex digits after its type, at least 2 needed for the byte count' });
    rejects(['S'], { code: 'SREC_LENGTH_MISMATCH', line: 1, column: 2, message: "record ends after its 'S'" });
  });

  test('SREC_BAD_LENGTH: byte count too small for the address, or data in a count/termination record', () => {
    rejects(['S304000000FB'], { code: 'SREC_BAD_LENGTH', line: 1, column: 3, message: 'S3 byte count 0x04 leaves no room for its 4 address bytes and checksum' });
    rejects([rec(1, 0, [1]), 'S9040000AA51'], { code: 'SREC_BAD_LENGTH', line: 2, column: 3, message: 'S9 record has 1 data bytes, expected none' });
  });

  test('SREC_CHECKSUM names the checksum found and the one expected, at the checksum column', () => {
    rejects([HDR, 'S11300050102030405060708090A0B0C0D0E0F105E'], { code: 'SREC_CHECKSUM', line: 2, column: 41, message: 'checksum 0x5E, expected 0x5F' });
  });

  test('SREC_COUNT_MISMATCH, or a note with leniency count-mismatch', () => {
    const lines = [rec(1, 0, [1]), rec(5, 2), rec(9, 0)];
    rejects(lines, { code: 'SREC_COUNT_MISMATCH', line: 2, column: 5, message: 'S5 record count 2, but 1 data records precede it' });
    const d = decode(lines, { lenient: ['count-mismatch'] });
    assert.deepEqual(d.notes, [
      { code: 'SREC_COUNT_MISMATCH', severity: 'warning', message: 'S5 record count 2, but 1 data records precede it', location: { line: 2, column: 5 }, leniency: 'count-mismatch' },
    ]);
  });

  test('SREC_MISSING_EOF: no termination and no count after the last data record, or a note with leniency missing-eof', () => {
    const lines = [rec(1, 0, [1]), rec(5, 1), rec(1, 1, [2])];
    const message = 'the file ends without a termination record (S7/S8/S9) or a data-record count (S5/S6) after the last data record';
    rejects(lines, { code: 'SREC_MISSING_EOF', line: 4, message });
    rejects(new Uint8Array(0), { code: 'SREC_MISSING_EOF', line: 1, message });
    const d = decode(lines, { lenient: ['missing-eof'] });
    assert.deepEqual(runs(image(d)), [[0, [1, 2]]]);
    assert.deepEqual(d.notes, [{ code: 'SREC_MISSING_EOF', severity: 'warning', message, location: { line: 4 }, leniency: 'missing-eof' }]);
  });

  test('SREC_DATA_AFTER_EOF, or ignored with a note under leniency data-after-eof', () => {
    const lines = [rec(1, 0, [1]), rec(9, 0), rec(1, 1, [2])];
    rejects(lines, { code: 'SREC_DATA_AFTER_EOF', line: 3, column: 1, message: 'data after the termination record on line 2' });
    const d = decode(lines, { lenient: ['data-after-eof'] });
    assert.deepEqual(runs(image(d)), [[0, [1]]]);
    assert.equal(d.notes[0]?.message, 'ignored 13 bytes after the termination record on line 2');
  });

  test('SREC_OVERLAP names both lines; overwrite lets later data win with notes', () => {
    const lines = [rec(3, 0x08000000, seq(0, 16)), rec(3, 0x08000010, seq(16, 16)), rec(3, 0x08000008, [0xaa]), rec(7, 0)];
    rejects(lines, { code: 'SREC_OVERLAP', line: 3, message: 'data at 0x08000008 overlaps data from line 1 (1 bytes, different values)' });
    const d = decode(lines, { overwrite: true });
    assert.equal(image(d).byteAt(0x08000008), 0xaa);
    assert.deepEqual(d.notes, [
      { code: 'SREC_OVERLAP', severity: 'warning', message: 'data at 0x08000008..0x08000009 replaces different data from line 1 (later data wins)', location: { line: 3, address: 0x08000008 }, leniency: 'overwrite' },
    ]);
  });

  test('SREC_ADDRESS_WRAP: data running past 0xFFFFFFFF', () => {
    rejects([rec(3, 0xfffffffe, [1, 2, 3, 4]), rec(7, 0)], { code: 'SREC_ADDRESS_WRAP', line: 1, message: 'data at 0xFFFFFFFE (4 bytes) runs past 0xFFFFFFFF; addresses are 32-bit and do not wrap' });
  });
});

describe('S-record writer', () => {
  const small = (): MemoryImage => {
    const m = new MemoryImage();
    m.add(0x5, seq(1, 21));
    return m;
  };

  test('known-good text: byte-equal to srec_cat -obs=16 for S1/S9, S2/S8 (smallest width that fits)', () => {
    assert.equal(
      ascii(encodeSrec(small(), { header: 'HDR', start: 0x101 })),
      [HDR, 'S11300050102030405060708090A0B0C0D0E0F105F', 'S1080015111213141583', 'S5030002FA', 'S9030101FA', ''].join('\n'),
    );
    const m = new MemoryImage();
    m.add(0x12345, seq(1, 21));
    assert.equal(
      ascii(encodeSrec(m, { header: fromAscii('HDR'), start: 0x12345 })),
      [HDR, 'S2140123450102030405060708090A0B0C0D0E0F10FA', 'S20901235511121314151E', 'S5030002FA', 'S80401234592', ''].join('\n'),
    );
  });

  test('forced S3, CRLF; without a start address the termination carries 0 (srec_cat writes none)', () => {
    assert.equal(
      ascii(encodeSrec(small(), { header: 'HDR', addressSize: 4, crlf: true })),
      [HDR, 'S315000000050102030405060708090A0B0C0D0E0F105D', 'S30A00000015111213141581', 'S5030002FA', 'S70500000000FA', ''].join('\r\n'),
    );
  });

  test('sparse image with S3 records: fixture sparse.srec (srec_info and srec_cmp agree with it)', () => {
    const m = new MemoryImage();
    m.add(0x08000000, seq(0x00, 20));
    m.add(0x0800fff8, seq(0x40, 16));
    m.add(0x90000000, seq(0x90, 8));
    m.add(0xfffffff0, seq(0xf0, 16));
    const out = encodeSrec(m, { header: 'dfukit', start: 0x08000101 });
    assert.equal(ascii(out), ascii(readFileSync(fixturePath('hex', 'sparse.srec'))));
    assert.deepEqual(runs(image(decodeSrec(out))), runs(m));
  });

  test('an empty image: header, S5 0, S9 0', () => {
    assert.equal(ascii(encodeSrec(new MemoryImage())), 'S0030000FC\nS5030000FC\nS9030000FC\n');
  });

  test('the start address counts for the address width (objcopy truncates 0x08000101 to an S9 0x0101)', () => {
    const out = ascii(encodeSrec(small(), { start: 0x08000101 }));
    assert.match(out, /^S3/m);
    assert.match(out, /^S70508000101F0$/m);
  });

  test('S6 count past 65 535 data records, as srec_cat writes it', () => {
    const m = new MemoryImage();
    m.add(0, new Uint8Array(70000));
    const out = ascii(encodeSrec(m, { recordLength: 1 })).trimEnd().split('\n');
    assert.equal(out.at(-2), 'S60401117079');
    assert.equal(out.at(-1), 'S804000000FB');
    assert.equal(decodeSrec(fromAscii(out.join('\n'))).records.s2, 70000);
  });

  test('SREC_OPTION: record length, address width, start address, header size (usage errors)', () => {
    const usage = (fn: () => unknown, message: string): void =>
      assert.throws(fn, (e: FwError) => e.code === 'SREC_OPTION' && e.exitStatus === 2 && e.message === message);
    usage(() => encodeSrec(small(), { recordLength: 0 }), 'record length must be 1..252 bytes for S1 records, got 0');
    usage(() => encodeSrec(small(), { addressSize: 4, recordLength: 251 }), 'record length must be 1..250 bytes for S3 records, got 251');
    usage(() => encodeSrec(small(), { addressSize: 2, start: 0x10000 }), '0x00010000 does not fit in 2-byte S-record addresses');
    usage(() => encodeSrec(small(), { start: -1 }), 'start address must be a 32-bit unsigned integer, got -1');
    usage(() => encodeSrec(small(), { header: 'x'.repeat(253) }), 'S0 header holds at most 252 bytes, got 253');
  });

  test('round trip encode -> decode for each address width and record length', () => {
    for (const addressSize of [2, 3, 4] as const) {
      for (const recordLength of [1, 16, 250]) {
        const m = new MemoryImage();
        m.add(0x10, seq(0, 300));
        m.add(0xffc0, seq(7, 40));
        const d = decodeSrec(encodeSrec(m, { addressSize, recordLength, start: 0x20 }));
        assert.deepEqual(runs(image(d)), runs(m));
        assert.equal(d.entry, 0x20);
      }
    }
  });
});

describe('S-record: corpus', () => {
  const corpus = corpusOrSkip();
  const dir = corpus.dir ?? '';

  test('every corpus .hex, written as S-records, decodes to the same image and entry', { skip: corpus.skip }, () => {
    const files = manifestEntries(dir).filter((e) => e.file.endsWith('.hex'));
    assert.equal(files.length, 20);
    for (const e of files) {
      const hex = decodeIhex(readFileSync(join(dir, e.file)));
      const m = hex.targets[0]!.image;
      const d = decodeSrec(encodeSrec(m, hex.entry !== undefined ? { start: hex.entry } : {}));
      assert.deepEqual(runs(image(d)), runs(m), e.file);
      assert.equal(d.entry, hex.entry ?? 0, e.file);
    }
  });
});

describe('S-record reader: mutated input', () => {
  test('byte flips, deletions, insertions and truncations only ever raise FwError (seeded, 3000 cases)', () => {
    const base = readFileSync(fixturePath('hex', 'sparse.srec'));
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return Math.floor((seed / 2 ** 32) * n);
    };
    const alphabet = fromAscii('S0123456789ABCDEFabcdefG \r\n\0');
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
        decodeSrec(Uint8Array.from(b), { lenient: ['missing-eof', 'data-after-eof', 'count-mismatch'], overwrite: rnd(2) === 0 });
      } catch (e) {
        assert.ok(e instanceof FwError, `case ${i}: ${String(e)}`);
      }
    }
  });
});
