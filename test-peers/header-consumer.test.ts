/**
 * A reference bootloader-side consumer of dfukit-ab-v1 (test-peers/ab-consumer/consumer.c), written from
 * docs/header-dfukit-ab-v1.md alone and built with the system `cc` against the C block of that document,
 * decides which slot to boot from many flash dumps; `dfukit header select` must decide the same, for the same
 * reason, on every one: valid A, valid B, both valid with versions, staging copies, torn headers, bad CRCs,
 * erased flash, hand-made field errors and a few dozen seeded random bit flips and cut-off writes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { crc32 } from '../src/core/crc.ts';
import { injectHeader, type InjectRequest } from '../src/header/inject.ts';
import { selectSlot } from '../src/header/select.ts';
import type { Slot } from '../src/header/slots.ts';
import { MemoryImage } from '../src/image/memory-image.ts';
import { ROOT } from '../test/helpers/corpus.ts';
import { run, toolsOrSkip } from '../test/helpers/peers.ts';

const skip = toolsOrSkip('cc');
const A: Slot = { name: 'A', start: 0x08020000, size: 0x20000 };
const B: Slot = { name: 'B', start: 0x08040000, size: 0x20000 };
const BASE = 0x08000000;
const SIZE = 0x60000;

function noise(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** A payload linked at `addr` with a vector table whose reset handler is inside it. */
function app(addr: number, size: number, seed: number): MemoryImage {
  const p = noise(size, seed);
  const dv = new DataView(p.buffer);
  dv.setUint32(0, 0x20020000, true);
  dv.setUint32(4, addr + 0x101, true);
  const m = new MemoryImage();
  m.add(addr, p);
  return m;
}

interface Img {
  slot: Slot;
  version: string;
  linkedFor?: Slot;
  size?: number;
  seed?: number;
  options?: Record<string, string | boolean>;
  headerSize?: number;
}

function image(x: Img): MemoryImage {
  const linked = x.linkedFor ?? x.slot;
  const hs = x.headerSize ?? 0x400;
  const req: InjectRequest = { layout: 'dfukit-ab-v1', slot: x.slot, runSlot: linked, headerSize: hs, options: { version: x.version, ...(x.options ?? {}) } };
  return injectHeader(app(linked.start + hs, x.size ?? 9001, x.seed ?? 3), req).image;
}

/** The dump: a "bootloader" in the first 128 KiB, then the slots, erased where nothing was written. */
function dump(...parts: MemoryImage[]): Uint8Array {
  const m = new MemoryImage();
  m.add(BASE, noise(0x4000, 99));
  for (const p of parts) m.addImage(p, { overwrite: true });
  return m.read(BASE, SIZE, 0xff);
}

function at(addr: number): number {
  return addr - BASE;
}

/** The header of `slot` edited, its CRC recomputed (to reach the checks after it); payload CRC too when asked. */
function editHeader(d: Uint8Array, slot: Slot, edit: (h: DataView) => void, fixPayloadCrc = false): Uint8Array {
  const out = d.slice();
  const h = out.subarray(at(slot.start), at(slot.start) + 0x60);
  const dv = new DataView(h.buffer, h.byteOffset, 0x60);
  edit(dv);
  if (fixPayloadCrc) {
    const hs = dv.getUint16(6, true);
    const n = dv.getUint32(8, true);
    dv.setUint32(0x20, crc32(out.subarray(at(slot.start + hs), at(slot.start + hs) + n)), true);
  }
  dv.setUint32(0x5c, crc32(h.subarray(0, 0x5c)), true);
  return out;
}

function flip(d: Uint8Array, addr: number, bit: number): Uint8Array {
  const out = d.slice();
  out[at(addr)]! ^= 1 << bit;
  return out;
}

function erase(d: Uint8Array, from: number, to: number): Uint8Array {
  const out = d.slice();
  out.fill(0xff, at(from), at(to));
  return out;
}

const SCENARIOS: [string, () => Uint8Array][] = [
  ['erased flash', () => dump()],
  ['valid A only', () => dump(image({ slot: A, version: '1.0.0' }))],
  ['valid B only', () => dump(image({ slot: B, version: '1.0.0' }))],
  ['both valid, B newer (minor)', () => dump(image({ slot: A, version: '1.0.0' }), image({ slot: B, version: '1.1.0' }))],
  ['both valid, A newer (major beats minor)', () => dump(image({ slot: A, version: '2.0.0' }), image({ slot: B, version: '1.255.0' }))],
  ['both valid, revision above 255', () => dump(image({ slot: A, version: '1.0.300' }), image({ slot: B, version: '1.0.299+4000000000' }))],
  ['both valid, build decides', () => dump(image({ slot: A, version: '1.2.3+7' }), image({ slot: B, version: '1.2.3+8' }))],
  ['both valid, same version: A', () => dump(image({ slot: A, version: '3.0.0' }), image({ slot: B, version: '3.0.0', seed: 9 }))],
  ['STM32 CRC, odd payload length', () => dump(image({ slot: A, version: '1.0.0', size: 7003, options: { crc: 'stm32' } }), image({ slot: B, version: '0.9.0' }))],
  ['SHA-256 and no CRC', () => dump(image({ slot: A, version: '1.0.0' }), image({ slot: B, version: '1.0.1', options: { crc: 'none', sha256: true } }))],
  ['Cortex-M4 image, 0x200 header', () => dump(image({ slot: A, version: '1.0.0', options: { core: 'cm4' }, headerSize: 0x200 }))],
  ['staging copy in B newer than A: copy', () => dump(image({ slot: A, version: '1.0.0' }), image({ slot: B, version: '1.1.0', linkedFor: A }))],
  ['staging copy in B equal to A: boot A', () => dump(image({ slot: A, version: '1.1.0' }), image({ slot: B, version: '1.1.0', linkedFor: A }))],
  ['staging copy in B, A erased: copy', () => dump(image({ slot: B, version: '1.1.0', linkedFor: A }))],
  ['staging copy in B older than A', () => dump(image({ slot: A, version: '2.0.0' }), image({ slot: B, version: '1.1.0', linkedFor: A }))],
  ['torn header in B: only 32 bytes written', () => erase(dump(image({ slot: A, version: '1.0.0' }), image({ slot: B, version: '2.0.0' })), B.start + 0x20, B.start + 0x400)],
  ['header written, payload cut off', () => erase(dump(image({ slot: A, version: '1.0.0' }), image({ slot: B, version: '2.0.0' })), B.start + 0x1000, B.start + B.size)],
  ['bad header CRC in A', () => flip(dump(image({ slot: A, version: '1.0.0' }), image({ slot: B, version: '0.1.0' })), A.start + 0x19, 0)],
  ['bad payload CRC in B', () => flip(dump(image({ slot: A, version: '1.0.0' }), image({ slot: B, version: '2.0.0' })), B.start + 0x900, 3)],
  ['bad SHA-256 in B (no CRC)', () => flip(dump(image({ slot: A, version: '1.0.0' }), image({ slot: B, version: '2.0.0', options: { crc: 'none', sha256: true } })), B.start + 0x777, 7)],
  ['SHA-256 field damaged in B (header CRC catches it)', () => flip(dump(image({ slot: A, version: '1.0.0' }), image({ slot: B, version: '2.0.0', options: { sha256: true } })), B.start + 0x30, 7)],
  ['bad magic in B', () => editHeader(dump(image({ slot: A, version: '1.0.0' }), image({ slot: B, version: '2.0.0' })), B, (h) => h.setUint32(0, 0x96f3b83d, true))],
  ['hdr_version 2 in B', () => editHeader(dump(image({ slot: A, version: '1.0.0' }), image({ slot: B, version: '2.0.0' })), B, (h) => h.setUint16(4, 2, true))],
  ['signed flag set in B', () => editHeader(dump(image({ slot: A, version: '1.0.0' }), image({ slot: B, version: '2.0.0' })), B, (h) => h.setUint32(0x14, h.getUint32(0x14, true) | 0x20, true))],
  ['crc_kind 5 in B', () => editHeader(dump(image({ slot: B, version: '2.0.0' })), B, (h) => h.setUint32(0x14, (h.getUint32(0x14, true) & ~0xf) | 5, true))],
  ['core_id 3 in B', () => editHeader(dump(image({ slot: B, version: '2.0.0' })), B, (h) => h.setUint32(0x14, h.getUint32(0x14, true) | 0x300, true))],
  ['hdr_size 0x60 in A', () => editHeader(dump(image({ slot: A, version: '1.0.0' })), A, (h) => h.setUint16(6, 0x60, true))],
  ['slot_size of another layout in A', () => editHeader(dump(image({ slot: A, version: '1.0.0' })), A, (h) => h.setUint32(0x24, 0x40000, true))],
  ['load address elsewhere in B', () => editHeader(dump(image({ slot: B, version: '2.0.0' })), B, (h) => h.setUint32(0x0c, 0x08100400, true))],
  ['payload_size beyond the slot in B', () => editHeader(dump(image({ slot: B, version: '2.0.0' })), B, (h) => h.setUint32(8, B.size - 0x3ff, true))],
  ['entry not the reset vector in A', () => editHeader(dump(image({ slot: A, version: '1.0.0' })), A, (h) => h.setUint32(0x10, A.start + 0x403, true))],
  [
    'reset handler past the payload in A',
    () => {
      const d = dump(image({ slot: A, version: '1.0.0' }));
      const v = new DataView(d.buffer, at(A.start + 0x404), 4);
      v.setUint32(0, A.start + 0x1f001, true);
      return editHeader(d, A, (h) => h.setUint32(0x10, A.start + 0x1f001, true), true);
    },
  ],
];

/** Seeded random damage to a dump where both slots are valid: bit flips anywhere in A or B, and cut-off writes. */
function randomScenarios(): [string, () => Uint8Array][] {
  const base = dump(image({ slot: A, version: '1.4.0', options: { crc: 'stm32' } }), image({ slot: B, version: '1.5.0', seed: 5, options: { sha256: true } }));
  const rnd = noise(400, 1234);
  const out: [string, () => Uint8Array][] = [];
  for (let i = 0; i < 30; i++) {
    const slot = rnd[i]! & 1 ? B : A;
    const inHeader = (rnd[i + 50]! & 3) === 0;
    const off = inHeader ? rnd[i + 100]! % 0x60 : 0x400 + ((rnd[i + 150]! * 256 + rnd[i + 200]!) % 9001);
    out.push([`random bit flip ${i}: slot ${slot.name} +0x${off.toString(16)}`, () => flip(base, slot.start + off, rnd[i + 250]! & 7)]);
  }
  for (let i = 0; i < 10; i++) {
    // A write in address order cut off: the header (written last) never arrives, or arrives only in part.
    const cut = (rnd[i + 300]! * 64) % 0x2800;
    out.push([`cut-off write ${i}: slot B from +0x${cut.toString(16)}`, () => erase(base, B.start + (cut < 0x60 ? cut : 0x400 + cut), B.start + (cut < 0x60 ? 0x60 : B.size))]);
  }
  return out;
}

interface Decision {
  slots: string[];
  decision: string;
}

function dfukitDecision(d: Uint8Array): Decision {
  const m = new MemoryImage();
  m.add(BASE, d);
  const r = selectSlot(m, { layout: 'dfukit-ab-v1', slots: [A, B] });
  return {
    slots: r.slots.map((s) => (s.valid ? `slot ${s.slot.name} valid ${s.version} runs ${s.runsFrom}` : `slot ${s.slot.name} invalid ${s.reason?.code}`)),
    decision: r.action === 'boot' ? `boot ${r.boot}` : r.action === 'copy-then-boot' ? `copy ${r.copy!.from} ${r.copy!.to}` : 'none',
  };
}

describe('the reference C consumer agrees with dfukit header select', { skip }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'dfukit-ab-consumer-'));
  const exe = join(tmp, 'consumer');
  after(() => rmSync(tmp, { recursive: true, force: true }));
  before(() => {
    const doc = readFileSync(join(ROOT, 'docs', 'header-dfukit-ab-v1.md'), 'utf8');
    const block = /<!-- c-struct:begin[^\n]*\n```c\n([\s\S]*?)```\n<!-- c-struct:end -->/.exec(doc);
    assert.ok(block !== null, 'the C block of docs/header-dfukit-ab-v1.md');
    writeFileSync(join(tmp, 'dfukit_ab_v1.h'), block[1]!);
    const cc = run('cc', ['-std=c11', '-O2', '-Wall', '-Wextra', '-Werror', '-I', tmp, '-o', exe, join(ROOT, 'test-peers', 'ab-consumer', 'consumer.c')]);
    assert.equal(cc.status, 0, cc.stderr);
  });

  let n = 0;
  for (const [name, make] of [...SCENARIOS, ...randomScenarios()]) {
    test(name, () => {
      const d = make();
      const file = join(tmp, `dump-${n++}.bin`);
      writeFileSync(file, d);
      const r = run(exe, [file, `0x${BASE.toString(16)}`, `A=0x${A.start.toString(16)}+0x${A.size.toString(16)}`, `B=0x${B.start.toString(16)}+0x${B.size.toString(16)}`]);
      assert.equal(r.status, 0, r.stderr);
      const lines = r.stdout.trim().split('\n');
      const c: Decision = { slots: lines.slice(0, -1), decision: lines[lines.length - 1]!.replace(/^decision /, '') };
      assert.deepEqual(c, dfukitDecision(d));
    });
  }

  test('the scenarios cover every decision and every reason a dfukit-ab-v1 slot can be rejected for', () => {
    const seen = new Set<string>();
    for (const [, make] of SCENARIOS) {
      const d = dfukitDecision(make());
      seen.add(d.decision.split(' ')[0]!);
      for (const s of d.slots) if (s.includes(' invalid ')) seen.add(s.split(' ').pop()!);
    }
    for (const want of ['boot', 'copy', 'none', 'HEADER_ERASED', 'HEADER_BAD_MAGIC', 'HEADER_CRC', 'HEADER_FIELD_MISMATCH', 'HEADER_FIELD_VALUE', 'HEADER_SIZE_FIELD', 'HEADER_SLOT_SIZE', 'HEADER_LOAD_ADDRESS', 'HEADER_SIZE_BEYOND_SLOT', 'HEADER_PAYLOAD_CRC', 'HEADER_PAYLOAD_HASH', 'HEADER_ENTRY_MISMATCH', 'HEADER_RESET_OUTSIDE_SLOT']) {
      assert.ok(seen.has(want), `no scenario gives ${want}`);
    }
  });
});
