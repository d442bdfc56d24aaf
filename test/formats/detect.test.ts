import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromAscii } from '../../src/core/bytes.ts';
import { detectFormat, hasDfuSuffix } from '../../src/formats/detect.ts';

const suffix = (bLength: number): number[] => [0xff, 0xff, 0x11, 0xdf, 0x83, 0x04, 0x1a, 0x01, 0x55, 0x46, 0x44, bLength, 0, 0, 0, 0];

test('ELF by magic', () => assert.equal(detectFormat(new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 1, 1])).format, 'elf'));
test('DfuSe by prefix, even with a .hex-looking body', () => assert.equal(detectFormat(fromAscii('DfuSe\x01:10000000')).format, 'dfuse'));
test('Intel HEX with BOM, leading blank line, lower case', () =>
  assert.equal(detectFormat(fromAscii('\ufeff'.replace('\ufeff', '\xef\xbb\xbf') + '\r\n:020000040800f2\r\n')).format, 'ihex'));
test('a colon followed by prose is not HEX', () => assert.equal(detectFormat(fromAscii(':hello world')).format, 'bin'));
test('S-record', () => assert.equal(detectFormat(fromAscii('S00F000068656C6C6F202020202000003C\n')).format, 'srec'));
test('"S" followed by a letter is not an S-record', () => assert.equal(detectFormat(fromAscii('Some text')).format, 'bin'));
test('plain DFU by suffix', () => assert.equal(detectFormat(new Uint8Array([1, 2, 3, ...suffix(16)])).format, 'dfu'));
test('suffix with bLength below 16 is not a DFU suffix', () => assert.equal(hasDfuSuffix(new Uint8Array([1, 2, 3, ...suffix(15)])), false));
test('suffix with bLength beyond the file is not a DFU suffix', () => assert.equal(hasDfuSuffix(new Uint8Array(suffix(17))), false));
test('anything else is raw binary', () => assert.equal(detectFormat(new Uint8Array([0x00, 0x00, 0x02, 0x20, 0x41, 0x01, 0x00, 0x08])).format, 'bin'));
test('empty input is raw binary', () => assert.equal(detectFormat(new Uint8Array(0)).format, 'bin'));
