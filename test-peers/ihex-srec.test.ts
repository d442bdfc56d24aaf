/**
 * Intel HEX and S-record codecs against srecord 1.64 (srec_cat, srec_cmp, srec_info), python3-intelhex and
 * GNU objcopy. Each disagreement with a peer has its own test that states who is right and why.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fromAscii } from '../src/core/bytes.ts';
import { FwError } from '../src/core/errors.ts';
import { decodeIhex, encodeIhex, type IhexDecoded } from '../src/formats/ihex.ts';
import { decodeSrec, encodeSrec } from '../src/formats/srec.ts';
import type { DecodeOptions } from '../src/formats/types.ts';
import { corpusOrSkip, fixturePath, manifestEntries } from '../test/helpers/corpus.ts';
import { run, toolsOrSkip } from '../test/helpers/peers.ts';

const srecord = toolsOrSkip('srec_cat', 'srec_cmp', 'srec_info');
const PYTHON = '/usr/bin/python3';
const python = ((): false | string => {
  if (run(PYTHON, ['-c', 'import intelhex']).status === 0) return false;
  if (process.env.CI === 'true') throw new Error('python3-intelhex missing in CI');
  return 'python3-intelhex not installed - skipping';
})();
const objcopy = toolsOrSkip('objcopy');

const tmp = mkdtempSync(join(tmpdir(), 'dfukit-ihex-peers-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const corpus = corpusOrSkip();
const inputs: { name: string; path: string }[] = [
  ...['sparse.hex', 'segment.hex', 'crossing-04.hex', 'lower-crlf.hex'].map((f) => ({ name: `fixture ${f}`, path: fixturePath('hex', f) })),
  ...(corpus.skip === false ? manifestEntries(corpus.dir).filter((e) => e.file.endsWith('.hex')).map((e) => ({ name: e.file, path: join(corpus.dir, e.file) })) : []),
];

const imageOf = (d: IhexDecoded) => d.targets[0]!.image;
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
let counter = 0;
function temp(name: string, bytes: Uint8Array | string): string {
  const p = join(tmp, `${counter++}-${name}`);
  writeFileSync(p, bytes);
  return p;
}
function ok(cmd: string, args: string[]): string {
  const r = run(cmd, args);
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}\n${r.stderr}`);
  return r.stdout;
}
/** One record with a correct checksum. */
function rec(type: number, offset: number, data: number[] = []): string {
  const body = [data.length, offset >> 8, offset & 0xff, type, ...data];
  return ':' + [...body, -body.reduce((s, v) => s + v, 0) & 0xff].map((v) => v.toString(16).toUpperCase().padStart(2, '0')).join('');
}
const file = (lines: string[]): string => temp('crafted.hex', lines.join('\n') + '\n');
const decodeFile = (path: string, opts: DecodeOptions = {}): IhexDecoded => decodeIhex(readFileSync(path), opts);

/** python intelhex's reading of a file: its segments as `[start, end)`, or the name of the exception it raised. */
function intelhexReads(path: string): string {
  const r = run(PYTHON, ['-c', `from intelhex import IntelHex\ntry:\n  print(IntelHex('${path}').segments())\nexcept Exception as e:\n  print(type(e).__name__)`]);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

/** srecord wraps its messages at 80 columns. */
const oneLine = (s: string): string => s.replace(/\s+/g, ' ');

/** srec_info's view: data ranges (half-open) and execution start addresses, plus its warnings. */
function srecInfo(path: string, ...format: string[]): { ranges: [number, number][]; starts: number[]; stderr: string } {
  const r = run('srec_info', [path, ...format]);
  assert.equal(r.status, 0, r.stderr);
  const stderr = oneLine(r.stderr);
  const data = r.stdout.slice(r.stdout.indexOf('Data:'));
  const ranges = [...data.matchAll(/([0-9A-F]+) - ([0-9A-F]+)/g)].map((m): [number, number] => [parseInt(m[1]!, 16), parseInt(m[2]!, 16) + 1]);
  const starts = [...r.stdout.matchAll(/Execution Start Address: ([0-9A-F]+)/g)].map((m) => parseInt(m[1]!, 16));
  return { ranges, starts, stderr };
}

describe('srecord agrees with our Intel HEX reading and writing', { skip: srecord }, () => {
  test('our HEX and S-record output of every fixture and corpus .hex compares equal to the input in srec_cmp', () => {
    for (const input of inputs) {
      const d = decodeFile(input.path);
      const start = d.entry !== undefined ? { start: d.entry } : {};
      const hex = temp(`${basename(input.path)}.hex`, encodeIhex(imageOf(d), start));
      const srec = temp(`${basename(input.path)}.srec`, encodeSrec(imageOf(d), start));
      ok('srec_cmp', [hex, '-intel', input.path, '-intel']);
      ok('srec_cmp', [srec, input.path, '-intel']);
    }
  });

  test('our decode equals srec_cat: ranges and start address from srec_info, bytes of each range from srec_cat -binary', () => {
    for (const input of inputs) {
      const d = decodeFile(input.path);
      const info = srecInfo(input.path, '-intel');
      assert.deepEqual(imageOf(d).ranges().map((r) => [r.start, r.end]), info.ranges, input.name);
      assert.deepEqual(info.starts, d.entry === undefined ? [] : [d.entry], input.name);
      for (const r of imageOf(d).ranges()) {
        // srec_cat cannot name a range ending at 2^32 (`-crop A 0x100000000` asserts in record.cc), so the last
        // byte of the address space is left to srec_cmp above.
        const end = Math.min(r.end, 0xffffffff);
        const theirs = srecCatRange(input.path, r.start, end);
        assert.equal(sha(theirs), sha(imageOf(d).read(r.start, end - r.start)), `${input.name} ${r.start.toString(16)}`);
      }
    }
  });

  test('srec_info reads our S-record output of the sparse fixture with its header and start address', () => {
    const d = decodeFile(fixturePath('hex', 'sparse.hex'));
    const srec = temp('sparse.srec', encodeSrec(imageOf(d), { start: 0x08000101, header: 'dfukit' }));
    const r = run('srec_info', [srec]);
    assert.match(r.stdout, /Header: "dfukit"/);
    assert.deepEqual(srecInfo(srec).ranges, imageOf(d).ranges().map((x) => [x.start, x.end]));
    assert.deepEqual(srecInfo(srec).starts, [0x08000101]);
    assert.equal(sha(readFileSync(srec)), sha(readFileSync(fixturePath('hex', 'sparse.srec'))));
  });

  test('our S-record writer is byte-equal to srec_cat for the same header and start address (S3, S6 count)', () => {
    const bin = temp('r.bin', Uint8Array.from({ length: 70000 }, (_, i) => (i * 7 + (i >> 8)) & 0xff));
    const theirs = temp('theirs.srec', '');
    ok('srec_cat', [bin, '-binary', '-offset', '0x08000000', '-execution-start-address=0x08000101', '-header=HDR', '-o', theirs, '-obs=1']);
    const d = decodeSrec(readFileSync(theirs));
    assert.equal(d.records.s6, 1);
    const ours = encodeSrec(d.targets[0]!.image, { recordLength: 1, start: 0x08000101, header: 'HDR' });
    assert.equal(sha(ours), sha(readFileSync(theirs)));
  });
});

describe('python intelhex reads our Intel HEX output', { skip: python }, () => {
  test('same segments, bytes and start address for every fixture and corpus .hex', () => {
    const script = `
import sys, json, hashlib
from intelhex import IntelHex
out = []
for p in sys.argv[1:]:
    ih = IntelHex(p)
    segs = [[a, b, hashlib.sha256(ih.tobinstr(start=a, end=b - 1)).hexdigest()] for a, b in ih.segments()]
    out.append({'segments': segs, 'start': ih.start_addr})
print(json.dumps(out))`;
    const paths: string[] = [];
    const expected: unknown[] = [];
    for (const input of inputs) {
      const d = decodeFile(input.path);
      paths.push(temp(`${basename(input.path)}.ours.hex`, encodeIhex(imageOf(d), d.entry !== undefined ? { start: d.entry } : {})));
      expected.push({
        segments: imageOf(d).runs().map((s) => [s.addr, s.addr + s.data.length, sha(s.data)]),
        start: d.entry !== undefined ? { EIP: d.entry } : null,
      });
    }
    const got: unknown = JSON.parse(ok(PYTHON, ['-c', script, ...paths]));
    assert.deepEqual(got, expected);
  });
});

describe('disagreements with peers, and who is right', () => {
  test('type 02 record crossing its segment end: spec wraps (srec_cat, and us with segment-wrap), intelhex runs on; we refuse by default', { skip: srecord || python }, () => {
    // Intel's spec (rev A, reproduced in srec_intel(5)) loads each byte at SBA + ((DRLO + DRI) MOD 64K): the offset
    // wraps inside the segment. srec_cat follows the spec; python intelhex, objcopy and fwupd add linearly. A file that relies on either
    // reading is ambiguous, so the strict reader rejects it and the leniency picks the spec.
    const path = file([rec(2, 0, [0x10, 0x00]), rec(0, 0xfffe, [1, 2, 3, 4]), rec(1, 0)]);
    assert.throws(() => decodeFile(path), (e: FwError) => e.code === 'IHEX_SEGMENT_WRAP');
    const ours = decodeFile(path, { lenient: ['segment-wrap'] });
    assert.deepEqual(imageOf(ours).ranges().map((r) => [r.start, r.end]), srecInfo(path, '-intel').ranges);
    assert.deepEqual(imageOf(ours).ranges().map((r) => [r.start, r.end]), [[0x10000, 0x10002], [0x1fffe, 0x20000]]);
    assert.equal(intelhexReads(path), '[(131070, 131074)]'); // 0x1FFFE..0x20002: linear
  });

  test('data past 0xFFFFFFFF: srec_cat wraps it to 0x00000000 (as the spec says), intelhex puts it above 4 GiB; we reject it', { skip: srecord }, () => {
    // The spec does say (LBA + DRLO + DRI) MOD 4G, so srec_cat is conforming. But no linker puts one object across
    // the top of a 32-bit address space, and moving its tail to 0x00000000 (the vector table of most Cortex-M
    // parts) is the most damaging reading of a corrupt file, so IHEX_ADDRESS_WRAP is an error with no leniency.
    const path = file([rec(4, 0, [0xff, 0xff]), rec(0, 0xfffe, [1, 2, 3, 4]), rec(1, 0)]);
    assert.deepEqual(srecInfo(path, '-intel').ranges, [[0, 2], [0xfffffffe, 0x100000000]]);
    assert.throws(() => decodeFile(path), (e: FwError) => e.code === 'IHEX_ADDRESS_WRAP' && e.location.line === 2);
    if (python === false) assert.equal(intelhexReads(path), '[(4294967294, 4294967298)]');
  });

  test("srec_cat writes a type 03 start address as upper:lower 16 bits, but reads 03 as CS*16+IP; objcopy and we use CS*16+IP", { skip: srecord || objcopy }, () => {
    // segment.hex was written by `srec_cat -execution-start-address=0x12345 --address-length=3`: it holds 0001:2345,
    // which srec_info itself reads back as 0x00002355. objcopy writes 0x12345 as 1000:2345 (bfd/ihex.c), the real-mode
    // segment:offset the spec defines. So srec_cat's writer is wrong and its reader (and ours) is right.
    assert.deepEqual(srecInfo(fixturePath('hex', 'segment.hex'), '-intel').starts, [0x2355]);
    assert.equal(decodeFile(fixturePath('hex', 'segment.hex')).entry, 0x2355);
    const bin = temp('one.bin', new Uint8Array([0x78]));
    const hex = join(tmp, 'objcopy-start.hex');
    ok('objcopy', ['-I', 'binary', '-O', 'ihex', '--set-start', '0x12345', bin, hex]);
    const d = decodeFile(hex);
    assert.deepEqual(d.startSegment, { cs: 0x1000, ip: 0x2345 });
    assert.equal(d.entry, 0x12345);
  });

  test('srec_cat writes records that cross a 64 KiB boundary; we never do, and both read the same image', { skip: srecord }, () => {
    // crossing-04.hex is srec_cat -obs=32 output: one 24-byte record from 0x0800FFF8 to 0x0801000F under a single
    // type 04. Every reader but nrf-intel-hex continues linearly, but the file depends on that reading; python
    // intelhex's writer and ours split at the boundary so no reader has to choose.
    const d = decodeFile(fixturePath('hex', 'crossing-04.hex'));
    const ours = new TextDecoder().decode(encodeIhex(imageOf(d), { recordLength: 32 }));
    const bytes = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);
    assert.equal(ours, [rec(4, 0, [0x08, 0x00]), rec(0, 0xfff8, bytes(0x20, 8)), rec(4, 0, [0x08, 0x01]), rec(0, 0, bytes(0x28, 16)), rec(1, 0), ''].join('\n'));
    ok('srec_cmp', [temp('split.hex', ours), '-intel', fixturePath('hex', 'crossing-04.hex'), '-intel']);
  });

  test('overlapping records: srec_cat warns on equal values and fails on different ones, intelhex fails on both; we fail on both unless overwrite', { skip: srecord }, () => {
    // Equal bytes written twice are harmless, but they still mean two inputs were merged without checking; a strict
    // reader names both lines and says whether the values match, and `overwrite` accepts either case with notes.
    const same = file([rec(0, 0, [1, 2, 3, 4]), rec(0, 2, [3, 4]), rec(1, 0)]);
    assert.match(oneLine(run('srec_cat', [same, '-intel', '-o', '-', '-intel']).stderr), /redundant 0x00000002 value/);
    assert.throws(() => decodeFile(same), (e: FwError) => e.message === 'data at 0x00000002 overlaps data from line 1 (2 bytes, same values)');
    const different = file([rec(0, 0, [1, 2, 3, 4]), rec(0, 2, [9, 9]), rec(1, 0)]);
    const r = run('srec_cat', [different, '-intel', '-o', '-', '-intel']);
    assert.notEqual(r.status, 0);
    assert.match(oneLine(r.stderr), /multiple 0x00000002 values/);
    assert.throws(() => decodeFile(different), (e: FwError) => e.code === 'IHEX_OVERLAP' && e.location.line === 2);
    assert.deepEqual([...imageOf(decodeFile(different, { overwrite: true })).read(0, 4)], [1, 2, 9, 9]);
    if (python === false) for (const path of [same, different]) assert.equal(intelhexReads(path), 'AddressOverlapError');
  });

  test('missing EOF: srec_cat warns, intelhex says nothing; data after EOF: both ignore it silently; we need a leniency for each', { skip: srecord }, () => {
    // A HEX file without its EOF record is the usual sign of a truncated download or copy; text after EOF is
    // usually a second file appended by mistake. Neither should be flashed without the user saying so.
    const noEof = file([rec(0, 0, [1, 2, 3, 4])]);
    assert.match(srecInfo(noEof, '-intel').stderr, /warning: no end-of-file record/);
    assert.throws(() => decodeFile(noEof), (e: FwError) => e.code === 'IHEX_MISSING_EOF');
    if (python === false) assert.equal(intelhexReads(noEof), '[(0, 4)]');
    assert.deepEqual(imageOf(decodeFile(noEof, { lenient: ['missing-eof'] })).ranges().map((x) => [x.start, x.end]), srecInfo(noEof, '-intel').ranges);
    const afterEof = file([rec(0, 0, [1, 2, 3, 4]), rec(1, 0), rec(0, 8, [5])]);
    assert.equal(srecInfo(afterEof, '-intel').stderr, '');
    if (python === false) assert.equal(intelhexReads(afterEof), '[(0, 4)]');
    assert.throws(() => decodeFile(afterEof), (e: FwError) => e.code === 'IHEX_DATA_AFTER_EOF' && e.location.line === 3);
    assert.deepEqual(imageOf(decodeFile(afterEof, { lenient: ['data-after-eof'] })).ranges().map((x) => [x.start, x.end]), srecInfo(afterEof, '-intel').ranges);
  });

  test('two start records: srec_cat keeps the first with a warning, intelhex fails; we fail, or keep the last with duplicate-start', { skip: srecord }, () => {
    // No spec rule exists. Toolchains that emit both 03 and 05 put the 32-bit 05 last, and a concatenated
    // bootloader + application file ends with the application's start, so the last one is the useful one.
    const path = file([rec(0, 0, [1]), rec(3, 0, [0x08, 0, 0, 0x10]), rec(5, 0, [8, 0, 1, 1]), rec(1, 0)]);
    const info = srecInfo(path, '-intel');
    assert.deepEqual(info.starts, [0x8010, 0x08000101]);
    assert.match(info.stderr, /redundant execution start address record/);
    assert.match(ok('srec_cat', [path, '-intel', '-o', '-', '-intel']), /^:040000050000801067$/m);
    assert.throws(() => decodeFile(path), (e: FwError) => e.code === 'IHEX_START_DUPLICATE');
    if (python === false) assert.equal(intelhexReads(path), 'DuplicateStartAddressRecordError');
    assert.equal(decodeFile(path, { lenient: ['duplicate-start'] }).entry, 0x08000101);
  });

  test('S-records without a termination record (srec_cat writes none without a start address): srec_info warns, we accept them when an S5 count closes the file', { skip: srecord }, () => {
    const bin = temp('a.bin', new Uint8Array([1, 2, 3]));
    const out = ok('srec_cat', [bin, '-binary', '-offset', '0x08000000', '-o', '-']);
    assert.doesNotMatch(out, /^S[789]/m);
    const d = decodeSrec(fromAscii(out));
    assert.deepEqual([...d.targets[0]!.image.read(0x08000000, 3)], [1, 2, 3]);
    assert.equal(d.entry, undefined);
    assert.equal(d.notes[0]?.code, 'SREC_NO_TERMINATION');
  });

  test('objcopy -O srec cuts a 32-bit start address to the 16 bits of S9 when the data fits S1; our writer widens the records', { skip: objcopy }, () => {
    // bfd/srec.c picks the record type from the data addresses only, so --set-start 0x08000101 becomes S9 0x0101.
    // We read what the file says (0x0101); our writer counts the start address when it picks the width.
    const bin = temp('one.bin', new Uint8Array([0x78]));
    const srec = join(tmp, 'objcopy.srec');
    ok('objcopy', ['-I', 'binary', '-O', 'srec', '--set-start', '0x08000101', bin, srec]);
    const d = decodeSrec(readFileSync(srec));
    assert.equal(d.records.s9, 1);
    assert.equal(d.entry, 0x0101);
    assert.equal(decodeSrec(encodeSrec(d.targets[0]!.image, { start: 0x08000101 })).entry, 0x08000101);
  });
});

/** srec_cat's bytes of [start, end) of an Intel HEX file (`-crop start end -offset -start -binary`). */
function srecCatRange(path: string, start: number, end: number): Uint8Array {
  const out = join(tmp, `${counter++}-range.bin`);
  ok('srec_cat', [path, '-intel', '-crop', `0x${start.toString(16)}`, `0x${end.toString(16)}`, '-offset', `-0x${start.toString(16)}`, '-o', out, '-binary']);
  return readFileSync(out);
}
