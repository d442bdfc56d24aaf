/** The CRC-32 variants a layout may select: check values, the STM32 word order and tail rule, against a bit-serial model. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromAscii } from '../../src/core/bytes.ts';
import { CRC_VARIANT_INFO, crcOf } from '../../src/header/digest.ts';
import { noise } from './helpers.ts';

/** Bit-serial CRC-32 (poly 0x04C11DB7, init 0xFFFFFFFF) over a bit stream, MSB first: the textbook definition. */
function mpeg2Bits(bits: number[]): number {
  let c = 0xffffffff;
  for (const b of bits) c = (((c << 1) >>> 0) ^ (((c >>> 31) ^ b) !== 0 ? 0x04c11db7 : 0)) >>> 0;
  return c;
}

/** What the STM32 CRC unit computes for 32-bit writes of little-endian words: each word's bits 31..0. */
function stm32Model(data: Uint8Array): number {
  const bits: number[] = [];
  for (let i = 0; i < data.length; i += 4) {
    const w = [0, 1, 2, 3].reduce((v, k) => v + (i + k < data.length ? data[i + k]! : 0xff) * 2 ** (8 * k), 0);
    for (let b = 31; b >= 0; b--) bits.push(Math.floor(w / 2 ** b) % 2);
  }
  return mpeg2Bits(bits);
}

test('CRC-32/ISO-HDLC: "123456789" gives 0xCBF43926, the check value describe prints', () => {
  assert.equal(crcOf('iso-hdlc', fromAscii('123456789')), 0xcbf43926);
  assert.equal(CRC_VARIANT_INFO['iso-hdlc'].check, 0xcbf43926);
});

test('STM32 CRC unit: the word 0x12345678 gives 0xDF8A8A2B and the bytes 01..08 give 0xA3141BDA', () => {
  assert.equal(crcOf('stm32', Uint8Array.of(0x78, 0x56, 0x34, 0x12)), 0xdf8a8a2b);
  assert.equal(crcOf('stm32', Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8)), 0xa3141bda);
  // Not MPEG-2 over the byte stream (0x140B8DD8): the unit takes whole little-endian words.
  assert.notEqual(crcOf('stm32', Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8)), 0x140b8dd8);
});

test('STM32 tail rule: a partial last word is completed with 0xFF bytes; "123456789" gives 0xD9020D98', () => {
  const nine = fromAscii('123456789');
  assert.equal(crcOf('stm32', nine), 0xd9020d98);
  assert.equal(CRC_VARIANT_INFO.stm32.check, 0xd9020d98);
  assert.equal(crcOf('stm32', nine), crcOf('stm32', Uint8Array.from([...nine, 0xff, 0xff, 0xff])));
  assert.match(CRC_VARIANT_INFO.stm32.rule, /missing high bytes are 0xFF/);
});

test('both variants equal a bit-serial model on 200 random lengths 0..257', () => {
  for (let n = 0; n < 200; n++) {
    const data = noise((n * 37) % 258, n + 1);
    assert.equal(crcOf('stm32', data), stm32Model(data), `stm32, ${data.length} bytes`);
    const refl: number[] = [];
    for (const byte of data) for (let b = 0; b < 8; b++) refl.push((byte >> b) & 1);
    // ISO-HDLC = reflected MPEG-2 with a final XOR: compare through bit reversal.
    const mp = mpeg2Bits(refl);
    let rev = 0;
    for (let b = 0; b < 32; b++) rev = (rev * 2 + ((mp >>> b) & 1)) >>> 0;
    assert.equal(crcOf('iso-hdlc', data), (rev ^ 0xffffffff) >>> 0, `iso-hdlc, ${data.length} bytes`);
  }
});
