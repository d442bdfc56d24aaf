import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { Sha256, sha256, sha256Hex, toHex } from '../../src/core/sha256.ts';
import { fromAscii } from '../../src/core/bytes.ts';

// FIPS 180-4 examples (NIST CSRC "SHA256.pdf", "SHA2_Additional.pdf").
test('"abc"', () => {
  assert.equal(sha256Hex(fromAscii('abc')), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

test('empty message', () => {
  assert.equal(sha256Hex(new Uint8Array(0)), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
});

test('two-block message "abcdbcde...nopq" (448 bits: padding spills into a second block)', () => {
  assert.equal(
    sha256Hex(fromAscii('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')),
    '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
  );
});

test("one million 'a' (one-shot and fed in uneven pieces)", () => {
  const a = new Uint8Array(1_000_000).fill(0x61);
  const want = 'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0';
  assert.equal(sha256Hex(a), want);
  const h = new Sha256();
  for (let i = 0, step = 1; i < a.length; i += step, step = (step * 7 + 3) % 997) h.update(a.subarray(i, i + step));
  assert.equal(toHex(h.digest()), want);
});

test('every length 0..200 agrees with node:crypto (block-boundary padding cases 55, 56, 63, 64, 119, 120)', () => {
  const data = new Uint8Array(200);
  for (let i = 0; i < data.length; i++) data[i] = (i * 131 + 7) & 0xff;
  for (let n = 0; n <= data.length; n++) {
    const d = data.subarray(0, n);
    assert.equal(sha256Hex(d), createHash('sha256').update(d).digest('hex'), `length ${n}`);
  }
});

test('digest is 32 bytes; a hasher refuses reuse', () => {
  const h = new Sha256().update(fromAscii('x'));
  assert.equal(h.digest().length, 32);
  assert.throws(() => h.digest(), /twice/);
  assert.throws(() => h.update(new Uint8Array(1)), /after digest/);
  assert.equal(sha256(new Uint8Array(3)).length, 32);
});
