/**
 * The CLI reports CRC-32 and SHA-256 with Node's native zlib.crc32 / node:crypto (NODE_DIGESTS); the library
 * default is the portable code. Both must give the same values, or reports and manifests would depend on
 * who built them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NODE_DIGESTS } from '../../src/cli/run/convert.ts';
import { PORTABLE_DIGESTS } from '../../src/convert/digests.ts';
import { runConversion } from '../../src/convert/pipeline.ts';
import { filler, hexOf } from './helpers.ts';

test('native and portable digests agree on every length 0..300 and on a megabyte', () => {
  const big = filler(1_000_003, 9);
  for (const n of [...Array.from({ length: 301 }, (_, i) => i), big.length]) {
    const d = big.subarray(0, n);
    assert.equal(NODE_DIGESTS.crc32(d), PORTABLE_DIGESTS.crc32(d), `crc32 of ${n} bytes`);
    assert.equal(NODE_DIGESTS.sha256Hex(d), PORTABLE_DIGESTS.sha256Hex(d), `sha256 of ${n} bytes`);
  }
  assert.equal(NODE_DIGESTS.crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
});

test('a report built with the native digests equals one built with the portable ones', () => {
  const req = { inputs: [{ name: 'a.hex', bytes: hexOf([0x08000000, 5000], [0x08004001, 77]) }], options: {}, outputs: [{ path: 'a.dfu', format: 'dfu' as const }] };
  assert.deepEqual(runConversion({ ...req, digests: NODE_DIGESTS }).report, runConversion(req).report);
});
