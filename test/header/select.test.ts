/** Which slot a bootloader following each layout boots, and why the other loses. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { injectHeader, type InjectRequest } from '../../src/header/inject.ts';
import { BOOT_MAGIC_SIZE, bootMagic, trailerOffsets } from '../../src/header/mcuboot/trailer.ts';
import { selectSlot } from '../../src/header/select.ts';
import { MemoryImage } from '../../src/image/memory-image.ts';
import { A, B, app, fwError, patched } from './helpers.ts';

function flash(...parts: MemoryImage[]): MemoryImage {
  const m = new MemoryImage();
  for (const p of parts) m.addImage(p);
  return m;
}

function ab(slot: typeof A, version: string, extra: Partial<InjectRequest> = {}, linkedFor = slot): MemoryImage {
  return injectHeader(app(linkedFor.start + 0x400, 3000, version.length), { layout: 'dfukit-ab-v1', slot, runSlot: linkedFor, options: { version }, ...extra }).image;
}

describe('dfukit-ab-v1: the valid slot with the highest version', () => {
  test('B newer: boots B; the explanation says why A lost', () => {
    const r = selectSlot(flash(ab(A, '1.2.0'), ab(B, '1.10.0')), { layout: 'dfukit-ab-v1', slots: [A, B] });
    assert.equal(r.action, 'boot');
    assert.equal(r.boot, 'B');
    assert.deepEqual(r.explanation, ['boots slot B (valid, version 1.10.0+0)', 'slot A valid but not chosen: version 1.2.0+0 is older']);
  });
  test('versions compare major, minor, revision, build as numbers; a tie goes to A', () => {
    assert.equal(selectSlot(flash(ab(A, '2.0.0+1'), ab(B, '1.255.65535+99')), { layout: 'dfukit-ab-v1', slots: [A, B] }).boot, 'A');
    assert.equal(selectSlot(flash(ab(A, '1.0.0+9'), ab(B, '1.0.0+10')), { layout: 'dfukit-ab-v1', slots: [A, B] }).boot, 'B');
    const tie = selectSlot(flash(ab(A, '1.0.0'), ab(B, '1.0.0')), { layout: 'dfukit-ab-v1', slots: [A, B] });
    assert.equal(tie.boot, 'A');
    assert.match(tie.explanation[1]!, /equals slot A's, which comes first/);
  });
  test('a newer but corrupted B is rejected with its reason; A boots', () => {
    const b = ab(B, '9.0.0');
    const r = selectSlot(flash(ab(A, '1.0.0'), patched(b, B.start + 0x500, [b.byteAt(B.start + 0x500)! ^ 0xff])), { layout: 'dfukit-ab-v1', slots: [A, B] });
    assert.equal(r.boot, 'A');
    assert.equal(r.slots[1]!.reason?.code, 'HEADER_PAYLOAD_CRC');
    assert.match(r.explanation[1]!, /^slot B rejected: .*\[HEADER_PAYLOAD_CRC\]$/);
  });
  test('nothing valid: action none', () => {
    const r = selectSlot(new MemoryImage(), { layout: 'dfukit-ab-v1', slots: [A, B] });
    assert.equal(r.action, 'none');
    assert.equal(r.boot, undefined);
    assert.deepEqual(r.slots.map((s) => s.reason?.code), ['HEADER_ERASED', 'HEADER_ERASED']);
  });
  test('copy-to-A: a newer staging copy in B is copied to A; once equal, A boots in place', () => {
    const r = selectSlot(flash(ab(A, '1.0.0'), ab(B, '1.1.0', {}, A)), { layout: 'dfukit-ab-v1', slots: [A, B] });
    assert.equal(r.action, 'copy-then-boot');
    assert.deepEqual(r.copy, { from: 'B', to: 'A' });
    assert.equal(r.boot, 'A');
    const after = selectSlot(flash(ab(A, '1.1.0'), ab(B, '1.1.0', {}, A)), { layout: 'dfukit-ab-v1', slots: [A, B] });
    assert.equal(after.action, 'boot');
    assert.equal(after.boot, 'A');
    assert.match(after.explanation[1]!, /which executes in place/);
    const erasedA = selectSlot(ab(B, '1.1.0', {}, A), { layout: 'dfukit-ab-v1', slots: [A, B] });
    assert.equal(erasedA.action, 'copy-then-boot');
  });
});

describe('simple-crc: the first valid slot', () => {
  test('A first; B when A is broken', () => {
    const a = injectHeader(app(A.start + 0x200), { layout: 'simple-crc', slot: A }).image;
    const b = injectHeader(app(B.start + 0x200, 4000, 3), { layout: 'simple-crc', slot: B }).image;
    assert.equal(selectSlot(flash(a, b), { layout: 'simple-crc', slots: [A, B] }).boot, 'A');
    const r = selectSlot(flash(patched(a, A.start + 0x300, [0]), b), { layout: 'simple-crc', slots: [A, B] });
    assert.equal(r.boot, 'B');
    assert.equal(r.slots[0]!.reason?.code, 'HEADER_PAYLOAD_CRC');
  });
});

describe('mcuboot: the swap table over both trailers, then the image that would run', () => {
  const primary = (o: Record<string, unknown> = {}): MemoryImage => injectHeader(app(A.start + 0x200), { layout: 'mcuboot', slot: A, padHeader: true, options: { version: '1.0.0', ...o } }).image;
  const secondary = (o: Record<string, unknown> = {}): MemoryImage =>
    injectHeader(app(A.start + 0x200, 4000, 5), { layout: 'mcuboot', slot: B, runSlot: A, padHeader: true, options: { version: '2.0.0', ...o } }).image;
  const sel = (m: MemoryImage) => selectSlot(m, { layout: 'mcuboot', slots: [A, B] });

  test('nothing pending: boots the primary', () => {
    const r = sel(flash(primary(), secondary()));
    assert.equal(r.action, 'boot');
    assert.equal(r.boot, 'A');
    assert.equal(r.swapType, 'none');
  });
  test('secondary padded (pending, not confirmed): test swap', () => {
    const r = sel(flash(primary(), secondary({ pad: true })));
    assert.equal(r.action, 'swap-test');
    assert.equal(r.boot, 'B');
    assert.deepEqual(r.slots[1]!.trailer, { magic: 'good', imageOk: 'unset', copyDone: 'unset' });
    assert.match(r.explanation[0]!, /test run .* reverts at the next reset unless/);
  });
  test('secondary padded and confirmed: permanent swap', () => {
    const r = sel(flash(primary(), secondary({ confirm: true })));
    assert.equal(r.action, 'swap-perm');
    assert.deepEqual(r.slots[1]!.trailer, { magic: 'good', imageOk: 'set', copyDone: 'unset' });
  });
  test('pending secondary with a bad hash is dropped; the primary boots', () => {
    const s = secondary({ pad: true });
    const r = sel(flash(primary(), patched(s, B.start + 0x300, [s.byteAt(B.start + 0x300)! ^ 1])));
    assert.equal(r.action, 'boot');
    assert.equal(r.boot, 'A');
    assert.match(r.explanation[1]!, /test upgrade from slot B is dropped .*\[HEADER_PAYLOAD_HASH\]/);
  });
  test('primary ran as an unconfirmed test (magic, copy_done set, image_ok unset): revert', () => {
    const o = trailerOffsets(A.size, { align: 1, maxAlign: 8, maxSectors: 128 });
    const p = patched(primary({ pad: true }), A.start + o.copyDone, [0x01]);
    const r = sel(flash(p, secondary()));
    assert.equal(r.swapType, 'revert');
    assert.equal(r.action, 'revert');
    assert.equal(r.boot, 'B');
  });
  test('no valid primary and nothing pending: none', () => {
    const r = sel(secondary());
    assert.equal(r.action, 'none');
    assert.equal(r.slots[0]!.reason?.code, 'HEADER_ERASED');
  });
  test('the trailer magic for another max-align is not a pending upgrade', () => {
    const s = secondary({ pad: true, align: 32, 'max-align': 32 });
    assert.equal(sel(flash(primary(), s)).action, 'boot');
    assert.equal(selectSlot(flash(primary(), s), { layout: 'mcuboot', slots: [A, B], options: { 'max-align': 32 } }).action, 'swap-test');
    assert.deepEqual([...s.read(B.start + B.size - BOOT_MAGIC_SIZE, 2)], [...bootMagic({ align: 32, maxAlign: 32, maxSectors: 128 }).subarray(0, 2)]);
  });
  test('three slots are a usage error', () => {
    assert.throws(() => selectSlot(new MemoryImage(), { layout: 'mcuboot', slots: [A, B, { name: 'C', start: 0x08060000, size: 0x20000 }] }), fwError('HEADER_SLOT_COUNT', 2));
  });
});
