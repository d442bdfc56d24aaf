import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { crc32, crc32Jam } from '../../src/core/crc.ts';
import { BCD_DFU_DFUSE, appendDfuSuffix, decodeDfu, encodeDfu, parseDfuSuffix } from '../../src/formats/dfu-suffix.ts';
import { corpusOrSkip, manifestEntries } from '../helpers/corpus.ts';

const ids = { vid: 0x0483, pid: 0xdf11, bcdDevice: 0x2200 };

/** Recomputes dwCRC after a test has edited the bytes. */
function reseal(b: Uint8Array): Uint8Array {
  new DataView(b.buffer, b.byteOffset).setUint32(b.length - 4, crc32Jam(b.subarray(0, b.length - 4)), true);
  return b;
}

describe('DFU suffix: writer', () => {
  test('exact bytes of a 2-byte payload', () => {
    const out = encodeDfu(new Uint8Array([0xde, 0xad]), ids);
    assert.deepEqual([...out], [
      0xde, 0xad,             // payload
      0x00, 0x22,             // bcdDevice 0x2200 LE
      0x11, 0xdf,             // idProduct 0xDF11 LE
      0x83, 0x04,             // idVendor 0x0483 LE
      0x00, 0x01,             // bcdDFU 0x0100 LE (plain DFU default)
      0x55, 0x46, 0x44,       // 'U' 'F' 'D'
      0x10,                   // bLength 16
      0x6e, 0xb0, 0x40, 0xdd, // dwCRC 0xDD40B06E LE = ~zlib.crc32(bytes 0..13), computed with Python
    ]);
    assert.equal(crc32(out), 0xffffffff, 'residue property: zlib CRC of the whole file');
  });

  test('a long suffix puts the extra bytes in front of the standard 16', () => {
    const out = encodeDfu(new Uint8Array([1]), { ...ids, extra: new Uint8Array([0xaa, 0xbb]) });
    assert.deepEqual([...out.subarray(0, 3)], [1, 0xaa, 0xbb]);
    assert.equal(out[out.length - 5], 18);
    assert.equal(crc32(out), 0xffffffff);
  });

  test('fields must be 16-bit, bLength at most 255', () => {
    assert.throws(() => encodeDfu(new Uint8Array(1), { ...ids, vid: 0x10000 }), { code: 'DFU_SUFFIX_FIELD', exitStatus: 2 });
    assert.throws(() => appendDfuSuffix(new Uint8Array(1), { ...ids, bcdDFU: -1 }), { code: 'DFU_SUFFIX_FIELD' });
    assert.throws(() => encodeDfu(new Uint8Array(1), { ...ids, extra: new Uint8Array(240) }), { code: 'DFU_SUFFIX_FIELD', message: /bLength 256/ });
  });
});

describe('DFU suffix: reader', () => {
  test('reads every field back', () => {
    const s = parseDfuSuffix(encodeDfu(new Uint8Array(5), { ...ids, bcdDFU: BCD_DFU_DFUSE }));
    assert.equal(s.bcdDevice, 0x2200);
    assert.equal(s.idProduct, 0xdf11);
    assert.equal(s.idVendor, 0x0483);
    assert.equal(s.bcdDFU, 0x011a);
    assert.equal(s.bLength, 16);
    assert.equal(s.offset, 5);
    assert.equal(s.crcValid, true);
    assert.equal(s.dwCRC, s.crcComputed);
    assert.equal(s.extra.length, 0);
  });

  for (const bLength of [16, 29, 62, 71]) {
    test(`plain DFU with bLength ${bLength}: payload excludes the whole suffix`, () => {
      const payload = new Uint8Array([0x10, 0x20, 0x30, 0x40, 0x50, 0x60]);
      const extra = new Uint8Array(bLength - 16).fill(0x5a);
      const d = decodeDfu(encodeDfu(payload, { ...ids, extra }), { address: 0x08000000 });
      assert.equal(d.format, 'dfu');
      assert.equal(d.suffix.bLength, bLength);
      assert.deepEqual(d.payload, payload);
      assert.deepEqual(d.suffix.extra, extra);
      assert.deepEqual(d.targets[0]!.image.segments.map((s) => [s.addr, [...s.data]]), [[0x08000000, [...payload]]]);
      assert.equal(d.notes.some((n) => n.code === 'DFU_SUFFIX_EXTRA'), bLength > 16);
    });
  }

  test('no address: payload at 0 with an info note', () => {
    const d = decodeDfu(encodeDfu(new Uint8Array([1, 2]), ids), { file: 'x.dfu' });
    assert.equal(d.targets[0]!.image.start, 0);
    assert.deepEqual(
      d.notes.map((n) => [n.code, n.severity]),
      [['DFU_NO_ADDRESS', 'info']],
    );
  });

  test('errors', () => {
    const good = encodeDfu(new Uint8Array([1, 2, 3]), ids); // 19 bytes, suffix at 3
    assert.throws(() => decodeDfu(good.subarray(0, 15), { file: 'f' }), { code: 'DFU_TRUNCATED', location: { file: 'f', offset: 0 } });

    const badSig = good.slice();
    badSig[good.length - 6] = 0x58; // 'UFX'
    assert.throws(() => decodeDfu(reseal(badSig)), { code: 'DFU_SUFFIX_SIGNATURE', location: { offset: good.length - 8 }, message: /"UFX"/ });

    const short = good.slice();
    short[good.length - 5] = 15;
    assert.throws(() => decodeDfu(reseal(short)), { code: 'DFU_SUFFIX_LENGTH', location: { offset: good.length - 5 } });
    const long = good.slice();
    long[good.length - 5] = 20; // file is 19 bytes
    assert.throws(() => decodeDfu(reseal(long)), { code: 'DFU_SUFFIX_LENGTH', message: /bLength is 20/ });

    assert.throws(() => decodeDfu(good, { address: 0xfffffffe }), { code: 'DFU_ADDRESS_RANGE', exitStatus: 2 });
    assert.throws(() => decodeDfu(good, { address: -1 }), { code: 'DFU_ADDRESS_RANGE' });

    const dfuse = encodeDfu(new Uint8Array([0x44, 0x66, 0x75, 0x53, 0x65, 1]), { ...ids, bcdDFU: BCD_DFU_DFUSE });
    assert.throws(() => decodeDfu(dfuse), { code: 'DFU_IS_DFUSE' });
  });

  test('bad CRC: strict error naming both values; bad-crc leniency reports it', () => {
    const bad = encodeDfu(new Uint8Array([1, 2, 3]), ids);
    bad[0] = 9;
    const right = crc32Jam(bad.subarray(0, bad.length - 4)).toString(16).toUpperCase().padStart(8, '0');
    assert.throws(() => decodeDfu(bad, { address: 0 }), { code: 'DFU_SUFFIX_CRC', location: { offset: bad.length - 4 }, message: new RegExp(`is 0x${right}`) });
    const d = decodeDfu(bad, { address: 0, lenient: ['bad-crc'] });
    assert.deepEqual(
      d.notes.map((n) => [n.code, n.leniency]),
      [['DFU_SUFFIX_CRC', 'bad-crc']],
    );
    assert.equal(d.suffix.crcValid, false);
  });

  test('warnings: DfuSe bcdDFU without a prefix, empty payload', () => {
    const d = decodeDfu(encodeDfu(new Uint8Array(0), { ...ids, bcdDFU: BCD_DFU_DFUSE }), { address: 0 });
    assert.deepEqual(
      d.notes.map((n) => n.code),
      ['DFU_BCD_DFUSE_WITHOUT_PREFIX', 'DFU_EMPTY_PAYLOAD'],
    );
    assert.equal(d.targets[0]!.image.isEmpty, true);
  });
});

describe('DFU suffix: corpus plain DFU files', () => {
  const corpus = corpusOrSkip();
  const rows = corpus.dir === undefined ? [] : manifestEntries(corpus.dir).filter((e) => /plain DFU \(suffix only\)/.test(e.description));

  test('the MANIFEST lists the plain DFU files', { skip: corpus.skip }, () => {
    // example.dfu, example.xdfu, metadata.dfu, firmware.dfu, fakedevice01/02.dfu, metadata-multiple.dfu
    assert.equal(rows.length, 7);
  });

  for (const row of rows) {
    test(`${row.file}: fields as the MANIFEST says, re-encodes byte for byte`, () => {
      const bytes = new Uint8Array(readFileSync(join(corpus.dir!, row.file)));
      const d = decodeDfu(bytes, { file: row.file, address: 0 });
      const m = /payload (\d+) B; VID ([0-9a-f]{4}) PID ([0-9a-f]{4}) bcdDevice ([0-9a-f]{4})(?:; suffix bLength=(\d+))?/.exec(row.description);
      assert.ok(m, row.description);
      assert.equal(d.payload.length, Number(m[1]));
      assert.equal(d.suffix.idVendor, parseInt(m[2]!, 16));
      assert.equal(d.suffix.idProduct, parseInt(m[3]!, 16));
      assert.equal(d.suffix.bcdDevice, parseInt(m[4]!, 16));
      assert.equal(d.suffix.bLength, m[5] === undefined ? 16 : Number(m[5]));
      assert.equal(d.suffix.crcValid, true);
      assert.deepEqual(d.targets[0]!.image.segments[0]!.data, bytes.subarray(0, bytes.length - d.suffix.bLength));
      const again = encodeDfu(d.payload, {
        vid: d.suffix.idVendor,
        pid: d.suffix.idProduct,
        bcdDevice: d.suffix.bcdDevice,
        bcdDFU: d.suffix.bcdDFU,
        extra: d.suffix.extra,
      });
      assert.deepEqual(again, bytes);
    });
  }
});
