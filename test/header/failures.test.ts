/**
 * One test per reason a header is refused. inject throws an FwError (exit 2 for a usage problem, 3 for an
 * image that cannot take the header); verify returns the reason as a value, with the exact code.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { crc32 } from '../../src/core/crc.ts';
import { injectHeader } from '../../src/header/inject.ts';
import { verifyHeader, type VerifyResult } from '../../src/header/verify.ts';
import type { MemoryImage } from '../../src/image/memory-image.ts';
import { A, B, app, fwError, imageAt, patched, payload, u32le } from './helpers.ts';

const good = (): MemoryImage => injectHeader(app(A.start + 0x400), { layout: 'dfukit-ab-v1', slot: A, options: { version: '1.0.0' } }).image;

/** The dfukit-ab-v1 header at A with `edit` applied, the header CRC recomputed unless `keepCrc`. */
function edited(edit: (h: DataView) => void, keepCrc = false, image = good()): MemoryImage {
  const h = image.read(A.start, 0x60);
  const dv = new DataView(h.buffer);
  edit(dv);
  if (!keepCrc) dv.setUint32(0x5c, crc32(h.subarray(0, 0x5c)), true);
  return patched(image, A.start, h);
}

function reason(v: VerifyResult): string | undefined {
  return v.reason?.code;
}

const verifyA = (image: MemoryImage, slots = [A, B]): VerifyResult => verifyHeader(image, { layout: 'dfukit-ab-v1', slot: A, slots });

describe('inject refuses, saying by how much', () => {
  test('HEADER_NO_ROOM: the payload starts 0x300 bytes too early', () => {
    assert.throws(
      () => injectHeader(app(A.start + 0x100), { layout: 'dfukit-ab-v1', slot: A }),
      fwError('HEADER_NO_ROOM', 3, (e) => assert.match(e.message, /768 \(0x300\) bytes before the end of the header space; link the payload 768 \(0x300\) bytes later \(at 0x08020400\)/)),
    );
  });
  test('HEADER_NO_ROOM: reserved space too small, and data where the header goes', () => {
    const reserved = imageAt(A.start, new Uint8Array([...new Uint8Array(0x200), ...payload(A.start + 0x200)]));
    assert.throws(() => injectHeader(reserved, { layout: 'dfukit-ab-v1', slot: A }), fwError('HEADER_NO_ROOM', 3, (e) => assert.match(e.message, /reserves only 512 \(0x200\) bytes \(0x00\).*512 \(0x200\) bytes short/)));
    assert.throws(() => injectHeader(app(A.start), { layout: 'mcuboot', slot: A }), fwError('HEADER_NO_ROOM', 3, (e) => assert.match(e.message, /holds data there/)));
    assert.throws(() => injectHeader(reserved, { layout: 'mcuboot', slot: A, padHeader: true }), fwError('HEADER_NO_ROOM', 3, (e) => assert.match(e.message, /--pad-header adds the header/)));
  });
  test('HEADER_SLOT_OVERFLOW: header + payload (+ TLV + trailer) beyond the slot, by the exact count', () => {
    const small = { ...A, size: 0x1000 };
    assert.throws(() => injectHeader(app(A.start + 0x400, 0xc01), { layout: 'dfukit-ab-v1', slot: small }), fwError('HEADER_SLOT_OVERFLOW', 3, (e) => assert.match(e.message, /by 1 \(0x1\) bytes/)));
    // mcuboot counts the 40-byte TLV area and the trailer (128 x 3 x 1 + 4 x 8 + 16 = 432) whether or not --pad is given.
    const fits = 0x1000 - 0x200 - 40 - 432;
    injectHeader(app(A.start + 0x200, fits), { layout: 'mcuboot', slot: small, padHeader: true });
    assert.throws(() => injectHeader(app(A.start + 0x200, fits + 3), { layout: 'mcuboot', slot: small, padHeader: true }), fwError('HEADER_SLOT_OVERFLOW', 3, (e) => assert.match(e.message, /by 3 \(0x3\) bytes/)));
  });
  test('HEADER_RESET_OUTSIDE_SLOT: an image linked for slot A placed in slot B without --staging', () => {
    const linkedForA = imageAt(B.start + 0x400, payload(B.start + 0x400, 5001, 7, A.start + 0x4c1));
    assert.throws(() => injectHeader(linkedForA, { layout: 'dfukit-ab-v1', slot: B }), fwError('HEADER_RESET_OUTSIDE_SLOT', 3, (e) => assert.match(e.message, /0x080204C1 .* outside slot B 0x08040000\.\.0x08060000.*--staging/)));
    const pastEnd = app(A.start + 0x400, 0x100, 7, A.start + 0x10001);
    assert.throws(() => injectHeader(pastEnd, { layout: 'dfukit-ab-v1', slot: A }), fwError('HEADER_RESET_OUTSIDE_SLOT', 3, (e) => assert.match(e.message, /outside the image at its run address/)));
  });
  test('HEADER_OUTSIDE_SLOT, HEADER_VECTOR_ALIGNMENT, HEADER_NO_VECTOR_TABLE, HEADER_EMPTY_PAYLOAD', () => {
    assert.throws(() => injectHeader(app(A.start + 0x400), { layout: 'dfukit-ab-v1', slot: B }), fwError('HEADER_OUTSIDE_SLOT', 3, (e) => assert.match(e.message, /130048 \(0x1FC00\) bytes before slot B.*--staging/)));
    assert.throws(() => injectHeader(app(A.start + 0x200), { layout: 'dfukit-ab-v1', slot: A, headerSize: 0x200, vectorAlign: 0x400 }), fwError('HEADER_VECTOR_ALIGNMENT', 2, (e) => assert.match(e.message, /--header-size 0x400/)));
    assert.throws(() => injectHeader(imageAt(A.start + 0x400, new Uint8Array(4)), { layout: 'dfukit-ab-v1', slot: A }), fwError('HEADER_NO_VECTOR_TABLE', 3));
    assert.throws(() => injectHeader(imageAt(A.start, new Uint8Array(0x400).fill(0xff)), { layout: 'dfukit-ab-v1', slot: A }), fwError('HEADER_EMPTY_PAYLOAD', 3));
  });
  test('usage errors: header size, program unit, placement, options, versions', () => {
    const img = app(A.start + 0x400);
    assert.throws(() => injectHeader(img, { layout: 'dfukit-ab-v1', slot: A, headerSize: 0x40 }), fwError('HEADER_TOO_SMALL', 2));
    assert.throws(() => injectHeader(img, { layout: 'dfukit-ab-v1', slot: A, headerSize: 0x3c0 }), fwError('HEADER_ALIGNMENT', 2));
    assert.throws(() => injectHeader(app(A.start + 0x210), { layout: 'simple-crc', slot: A, headerSize: 0x210 }), fwError('HEADER_ALIGNMENT', 2, (e) => assert.match(e.message, /32-byte program unit.*use 544 \(0x220\)/)));
    assert.throws(() => injectHeader(img, { layout: 'dfukit-ab-v1', slot: A, headerOffset: 0x200 }), fwError('HEADER_PLACEMENT', 2));
    assert.throws(() => injectHeader(img, { layout: 'dfukit-ab-v1', slot: A, options: { pad: true } }), fwError('HEADER_OPTION', 2, (e) => assert.match(e.message, /no option 'pad'/)));
    assert.throws(() => injectHeader(img, { layout: 'dfukit-ab-v1', slot: A, options: { crc: 'crc16' } }), fwError('HEADER_OPTION', 2, (e) => assert.match(e.message, /iso-hdlc, stm32, none/)));
    assert.throws(() => injectHeader(img, { layout: 'mcuboot', slot: A, options: { align: 3 } }), fwError('HEADER_OPTION', 2));
    assert.throws(() => injectHeader(img, { layout: 'dfukit-ab-v1', slot: A, options: { version: '1.256' } }), fwError('HEADER_VERSION', 2, (e) => assert.match(e.message, /minor 256 is above 255/)));
    assert.throws(() => injectHeader(img, { layout: 'dfukit-ab-v1', slot: A, options: { version: '01.2' } }), fwError('HEADER_VERSION', 2));
    assert.throws(() => injectHeader(app(A.start + 0x200), { layout: 'simple-crc', slot: A, options: { 'crc-offset': 2 } }), fwError('HEADER_FIELD_OVERLAP', 2));
  });
});

describe('verify returns the reason as a value', () => {
  test('a good header verifies', () => {
    const v = verifyA(good());
    assert.equal(v.ok, true);
    assert.equal(v.reason, undefined);
  });
  test('HEADER_ERASED and HEADER_BAD_MAGIC', () => {
    assert.equal(reason(verifyA(app(A.start + 0x400))), 'HEADER_ERASED');
    const v = verifyA(patched(good(), A.start, [0x64, 0x66, 0x41, 0x43]));
    assert.equal(reason(v), 'HEADER_BAD_MAGIC');
    assert.match(v.reason!.message, /magic is 0x43416664, not 0x42416664/);
  });
  test('HEADER_CRC: a torn header (only its first 32 bytes written)', () => {
    const torn = patched(good(), A.start + 0x20, new Uint8Array(0x40).fill(0xff));
    const v = verifyA(torn);
    assert.equal(reason(v), 'HEADER_CRC');
    assert.equal(v.fields.find((f) => f.name === 'hdr_crc32')?.status, 'mismatch');
  });
  test('HEADER_FIELD_MISMATCH: hdr_version 2, a reserved flag bit, or a version other than asked for', () => {
    assert.equal(reason(verifyA(edited((h) => h.setUint16(4, 2, true)))), 'HEADER_FIELD_MISMATCH');
    assert.equal(reason(verifyA(edited((h) => h.setUint32(0x14, h.getUint32(0x14, true) | (1 << 20), true)))), 'HEADER_FIELD_MISMATCH');
    const v = verifyHeader(good(), { layout: 'dfukit-ab-v1', slot: A, options: { version: '1.0.1' } });
    assert.equal(reason(v), 'HEADER_FIELD_MISMATCH');
    assert.match(v.reason!.message, /version 1\.0\.0\+0 is stored, expected 1\.0\.1\+0/);
  });
  test('HEADER_FIELD_VALUE: crc_kind 7', () => {
    const v = verifyA(edited((h) => h.setUint32(0x14, (h.getUint32(0x14, true) & ~0xf) | 7, true)));
    assert.equal(reason(v), 'HEADER_FIELD_VALUE');
    assert.match(v.reason!.message, /flags\.crc_kind is 7: not one of none=0, iso-hdlc=1, stm32=2/);
  });
  test('HEADER_SIZE_FIELD: hdr_size 0x60 is not a multiple of 0x80', () => {
    assert.equal(reason(verifyA(edited((h) => h.setUint16(6, 0x60, true)))), 'HEADER_SIZE_FIELD');
  });
  test('HEADER_SLOT_SIZE: built for another slot layout', () => {
    assert.equal(reason(verifyA(good(), [{ ...A, size: 0x30000 }, B])), undefined);
    assert.equal(reason(verifyHeader(good(), { layout: 'dfukit-ab-v1', slot: { ...A, size: 0x18000 } })), 'HEADER_SLOT_SIZE');
  });
  test('HEADER_LOAD_ADDRESS: neither in place nor another slot', () => {
    const v = verifyA(edited((h) => h.setUint32(0x0c, 0x08070400, true)));
    assert.equal(reason(v), 'HEADER_LOAD_ADDRESS');
    assert.match(v.reason!.message, /neither 0x08020400 \(in place\) nor 0x08040400 \(slot B\)/);
  });
  test('HEADER_SIZE_BEYOND_SLOT: payload_size runs past the slot end', () => {
    const v = verifyA(edited((h) => h.setUint32(8, A.size - 0x400 + 1, true)));
    assert.equal(reason(v), 'HEADER_SIZE_BEYOND_SLOT');
    assert.match(v.reason!.message, /by 1 \(0x1\) bytes/);
  });
  test('HEADER_PAYLOAD_CRC: one payload byte changed; and a CRC of the other variant is named', () => {
    const img = good();
    const at = A.start + 0x400 + 100;
    assert.equal(reason(verifyA(patched(img, at, [img.byteAt(at)! ^ 1]))), 'HEADER_PAYLOAD_CRC');
    const stm = injectHeader(app(A.start + 0x400), { layout: 'dfukit-ab-v1', slot: A, options: { crc: 'stm32' } }).image;
    const asIso = (() => {
      const h = stm.read(A.start, 0x60);
      const dv = new DataView(h.buffer);
      dv.setUint32(0x14, (dv.getUint32(0x14, true) & ~0xf) | 1, true);
      dv.setUint32(0x5c, crc32(h.subarray(0, 0x5c)), true);
      return patched(stm, A.start, h);
    })();
    const v = verifyA(asIso);
    assert.equal(reason(v), 'HEADER_PAYLOAD_CRC');
    assert.match(v.reason!.message, /the stored value is the stm32 CRC of the same bytes: was the image made with crc=stm32\?/);
  });
  test('HEADER_PAYLOAD_HASH: the SHA-256 does not match', () => {
    const img = injectHeader(app(A.start + 0x400), { layout: 'dfukit-ab-v1', slot: A, options: { crc: 'none', sha256: true } }).image;
    assert.equal(verifyA(img).ok, true);
    const at = A.start + 0x400 + 9;
    assert.equal(reason(verifyA(patched(img, at, [img.byteAt(at)! ^ 0x80]))), 'HEADER_PAYLOAD_HASH');
  });
  test('HEADER_ENTRY_MISMATCH and HEADER_RESET_OUTSIDE_SLOT', () => {
    assert.equal(reason(verifyA(edited((h) => h.setUint32(0x10, A.start + 0x401, true)))), 'HEADER_ENTRY_MISMATCH');
    // Vector table and entry both point past the payload; the payload CRC recomputed to reach the check.
    const img = good();
    const vec = A.start + 0x400 + 4;
    const bad = patched(img, vec, u32le(A.start + 0x1f001));
    const p = bad.read(A.start + 0x400, 5001);
    const v = verifyA(edited((h) => { h.setUint32(0x10, A.start + 0x1f001, true); h.setUint32(0x20, crc32(p), true); }, false, bad));
    assert.equal(reason(v), 'HEADER_RESET_OUTSIDE_SLOT');
  });
  test('mcuboot: HEADER_TLV without the TLV area, HEADER_PAYLOAD_HASH with a changed payload', () => {
    const img = injectHeader(app(A.start + 0x200), { layout: 'mcuboot', slot: A, padHeader: true }).image;
    assert.equal(verifyHeader(img, { layout: 'mcuboot', slot: A }).ok, true);
    const end = A.start + 0x200 + 5001;
    assert.equal(reason(verifyHeader(patched(img, end, [0xff, 0xff]), { layout: 'mcuboot', slot: A })), 'HEADER_TLV');
    assert.equal(reason(verifyHeader(patched(img, A.start + 0x300, [0]), { layout: 'mcuboot', slot: A })), 'HEADER_PAYLOAD_HASH');
    assert.equal(reason(verifyHeader(patched(img, A.start + 0x14, [9]), { layout: 'mcuboot', slot: A })), 'HEADER_PAYLOAD_HASH');
  });
  test('simple-crc: HEADER_BAD_MAGIC for a magic other than the one asked for, HEADER_SIZE_BEYOND_SLOT', () => {
    const img = injectHeader(app(A.start + 0x200), { layout: 'simple-crc', slot: A }).image;
    assert.equal(reason(verifyHeader(img, { layout: 'simple-crc', slot: A, options: { magic: '0x12345678' } })), 'HEADER_BAD_MAGIC');
    assert.equal(reason(verifyHeader(patched(img, A.start + 4, u32le(0x40000)), { layout: 'simple-crc', slot: A })), 'HEADER_SIZE_BEYOND_SLOT');
  });
});
