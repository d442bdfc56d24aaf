import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32, crc32Jam, crc32Mpeg2, crc32Stm32 } from '../../src/core/crc.ts';
import { fromAscii } from '../../src/core/bytes.ts';

const check = fromAscii('123456789');

test('CRC-32/ISO-HDLC check value', () => assert.equal(crc32(check), 0xcbf43926));
test('CRC-32/ISO-HDLC incremental equals one-shot', () => assert.equal(crc32(check.subarray(4), crc32(check.subarray(0, 4))), 0xcbf43926));
test('CRC-32/JAMCRC check value', () => assert.equal(crc32Jam(check), 0x340bc6d9));
test('CRC-32/MPEG-2 check value', () => assert.equal(crc32Mpeg2(check), 0x0376e6e7));
test('STM32 CRC unit: word 0x12345678 (little-endian in memory) gives 0xDF8A8A2B', () =>
  assert.equal(crc32Stm32(new Uint8Array([0x78, 0x56, 0x34, 0x12])), 0xdf8a8a2b));
test('STM32 CRC unit: bytes 01..08 give 0xA3141BDA', () => assert.equal(crc32Stm32(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])), 0xa3141bda));
test('STM32 CRC unit: partial tail word is completed with the erased value 0xFF', () =>
  assert.equal(crc32Stm32(new Uint8Array([1, 2, 3, 4, 5])), crc32Stm32(new Uint8Array([1, 2, 3, 4, 5, 0xff, 0xff, 0xff]))));
test('DFU suffix residue: crc32 over data + LE JAMCRC is 0xFFFFFFFF', () => {
  const jam = crc32Jam(check);
  const whole = new Uint8Array([...check, jam & 0xff, (jam >>> 8) & 0xff, (jam >>> 16) & 0xff, jam >>> 24]);
  assert.equal(crc32(whole), 0xffffffff);
});

/** Bit-serial model of the STM32 CRC unit (RM0433 "CRC calculation unit": 32-bit input, MSB first). */
function stm32Reference(data: Uint8Array, tailFill = 0xff): number {
  let c = 0xffffffff;
  const padded = new Uint8Array(Math.ceil(data.length / 4) * 4).fill(tailFill);
  padded.set(data);
  for (let i = 0; i < padded.length; i += 4) {
    const w = (padded[i]! | (padded[i + 1]! << 8) | (padded[i + 2]! << 16) | (padded[i + 3]! << 24)) >>> 0;
    c = (c ^ w) >>> 0;
    for (let b = 0; b < 32; b++) c = c & 0x80000000 ? ((c << 1) ^ 0x04c11db7) >>> 0 : (c << 1) >>> 0;
  }
  return c;
}

test('STM32 CRC unit (sliced) equals the bit-serial model at every length and alignment', () => {
  const big = new Uint8Array(4096 + 8);
  let x = 0x2545f491;
  for (let i = 0; i < big.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    big[i] = x & 0xff;
  }
  for (let off = 0; off < 4; off++) {
    for (let n = 0; n <= 40; n++) assert.equal(crc32Stm32(big.subarray(off, off + n)), stm32Reference(big.subarray(off, off + n)), `offset ${off} length ${n}`);
  }
  assert.equal(crc32Stm32(big.subarray(0, 4096)), stm32Reference(big.subarray(0, 4096)));
  assert.equal(crc32Stm32(big.subarray(1, 4098), 0xffffffff, 0x00), stm32Reference(big.subarray(1, 4098), 0x00));
});
