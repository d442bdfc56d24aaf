import assert from 'node:assert/strict';
import { test } from 'node:test';
import { convert } from '../../src/convert/convert.ts';
import { encodeOutput, outputFormatFor } from '../../src/convert/output.ts';
import { decodeIhex } from '../../src/formats/ihex.ts';
import { hexOf } from './helpers.ts';

test('the output format follows the extension, or --to', () => {
  assert.equal(outputFormatFor('a/fw.dfu'), 'dfu');
  assert.equal(outputFormatFor('FW.HEX'), 'hex');
  assert.equal(outputFormatFor('fw.ihex'), 'hex');
  for (const e of ['srec', 's19', 's28', 's37', 'mot']) assert.equal(outputFormatFor(`fw.${e}`), 'srec');
  assert.equal(outputFormatFor('fw.bin'), 'bin');
  assert.equal(outputFormatFor('fw.img', 'bin'), 'bin');
  assert.equal(outputFormatFor('fw.dfu', 'hex'), 'hex', '--to wins');
  assert.equal(outputFormatFor('fw', 'dfuse'), 'dfu');
});

test('an unknown extension or --to is a usage error', () => {
  assert.throws(() => outputFormatFor('fw.img'), (e: { code: string; exitStatus: number; message: string }) =>
    e.code === 'CONVERT_OUTPUT_FORMAT' && e.exitStatus === 2 && /cannot tell the output format from 'fw\.img': use a \.dfu, \.hex, \.srec or \.bin name, or --to dfu\|hex\|srec\|bin/.test(e.message));
  assert.throws(() => outputFormatFor('fw.dfu', 'uf2'), /unknown output format 'uf2'/);
});

test('HEX, S-record and BIN take one target only', () => {
  const r = convert([
    { name: 'app.hex', bytes: hexOf([0x08000000, 16]) },
    { name: 'ob.bin', bytes: new Uint8Array(4), address: 0x1fff0000, alt: 1 },
  ]);
  for (const f of ['hex', 'srec', 'bin'] as const) {
    assert.throws(() => encodeOutput(r, f, `out.${f}`), (e: { code: string; exitStatus: number; message: string }) =>
      e.code === 'CONVERT_OUTPUT_TARGETS' && e.exitStatus === 2 && /holds one address space, but the conversion has 2 targets \(alt 0, alt 1\): write a \.dfu/.test(e.message));
  }
  assert.ok(encodeOutput(r, 'dfu', 'out.dfu').bytes.length > 0);
});

test('BIN starts at the first element and fills gaps with the erased value; HEX keeps the elements', () => {
  const r = convert([{ name: 'app.hex', bytes: hexOf([0x08000003, 4], [0x08000010, 4]) }]);
  const bin = encodeOutput(r, 'bin', 'out.bin');
  assert.equal(bin.start, 0x08000000);
  assert.equal(bin.bytes.length, 0x18);
  assert.ok(bin.bytes.subarray(8, 0x10).every((b) => b === 0xff));
  const hex = decodeIhex(encodeOutput(r, 'hex', 'out.hex').bytes);
  assert.deepEqual(hex.targets[0]!.image.ranges(), [{ start: 0x08000000, end: 0x08000008 }, { start: 0x08000010, end: 0x08000018 }]);
});
