/** The diff's sliced CRCs equal core/crc.ts exactly: check values, every tail length, continuation. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32, crc32Stm32 } from '../../src/core/crc.ts';
import { crc32Fast, crc32Stm32Fast } from '../../src/verify/crc-fast.ts';
import { noise } from './helpers.ts';

const ascii = new TextEncoder().encode('123456789');

test('check values', () => {
  assert.equal(crc32Fast(ascii), 0xcbf43926);
  assert.equal(crc32Stm32Fast(Uint8Array.of(0x78, 0x56, 0x34, 0x12)), 0xdf8a8a2b);
  assert.equal(crc32Stm32Fast(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8)), 0xa3141bda);
  assert.equal(crc32Fast(new Uint8Array(0)), 0);
  assert.equal(crc32Stm32Fast(new Uint8Array(0)), 0xffffffff);
});

test('equal to core/crc.ts at every length 0..40 and on 1 MiB, with prev and tail fill', () => {
  const big = noise(1 << 20, 5, false);
  for (let n = 0; n <= 40; n++) {
    const d = big.subarray(3, 3 + n);
    assert.equal(crc32Fast(d), crc32(d), `iso length ${n}`);
    assert.equal(crc32Fast(d, 0x12345678), crc32(d, 0x12345678), `iso prev length ${n}`);
    assert.equal(crc32Stm32Fast(d), crc32Stm32(d), `stm32 length ${n}`);
    assert.equal(crc32Stm32Fast(d, 0xdeadbeef, 0x00), crc32Stm32(d, 0xdeadbeef, 0x00), `stm32 prev length ${n}`);
  }
  assert.equal(crc32Fast(big), crc32(big));
  assert.equal(crc32Stm32Fast(big), crc32Stm32(big));
  assert.equal(crc32Fast(big.subarray(1000), crc32Fast(big.subarray(0, 1000))), crc32(big));
});
