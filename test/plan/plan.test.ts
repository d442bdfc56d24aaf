/**
 * FlashPlan: exact sectors, blocks, pads, header ordering, leave address and estimates for small images,
 * and the resume analysis from a read-back.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FwError } from '../../src/core/errors.ts';
import { headerRanges } from '../../src/header/ranges.ts';
import { injectHeader } from '../../src/header/inject.ts';
import { MemoryImage } from '../../src/image/memory-image.ts';
import { resolveChip } from '../../src/layout/chips.ts';
import { createFlashPlan, planToJson, resumePlan, subtractRanges } from '../../src/plan/index.ts';

const H745 = resolveChip('stm32h745');
const F405 = resolveChip('stm32f405');

function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = (x >>> 16) & 0xff;
  }
  return out;
}

/** SP 0x20020000, reset handler addr + 0x101. */
function app(addr: number, size: number, seed = 3): Uint8Array {
  const b = bytes(size, seed);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, 0x20020000, true);
  dv.setUint32(4, addr + 0x101, true);
  return b;
}

function image(...parts: [number, Uint8Array][]): MemoryImage {
  const m = new MemoryImage();
  for (const [a, b] of parts) m.add(a, b, `part@${a.toString(16)}`);
  return m;
}

describe('createFlashPlan', () => {
  test('erases only the sectors the image touches, pads the tail unit, blocks of wTransferSize from one SET_ADDRESS', () => {
    // 3000 bytes at the start of F405 sector 1 (16 KiB) and 10 bytes in sector 5 (128 KiB at 0x08020000).
    const img = image([0x08004000, app(0x08004000, 3000)], [0x08020010, bytes(10)]);
    const p = createFlashPlan(img, F405, { transferSize: 2048 });
    assert.deepEqual(
      p.erase.sectors.map((s) => [s.index, s.start, s.size]),
      [
        [1, 0x08004000, 0x4000],
        [5, 0x08020000, 0x20000],
      ],
    );
    assert.equal(p.erase.mode, 'sectors');
    assert.equal(p.programUnit, 4);
    // 10 bytes at 0x08020010 padded to 12 (program unit 4).
    assert.deepEqual(p.pads.map((x) => [x.start, x.end, x.reason]), [[0x0802001a, 0x0802001c, 'align-end']]);
    assert.deepEqual(
      p.runs.map((r) => [r.start, r.end, r.blocks.map((b) => [b.addr, b.size, b.block])]),
      [
        [0x08004000, 0x08004bb8, [[0x08004000, 2048, 2], [0x08004800, 952, 3]]],
        [0x08020010, 0x0802001c, [[0x08020010, 12, 2]]],
      ],
    );
    assert.equal(p.counts.blocksToSend, 3);
    assert.deepEqual(p.verify, p.ranges);
    assert.equal(p.leave, undefined, 'leave is off by default');
  });

  test('H745: 32-byte flash words padded with 0xFF; all-0xFF blocks are skipped after the erase', () => {
    const data = new Uint8Array(3 * 1024 + 5).fill(0xff);
    data.set(app(0x08000000, 100), 0);
    data.set(bytes(5), 3 * 1024);
    const p = createFlashPlan(image([0x08000000, data]), H745);
    assert.equal(p.transferSize, 1024);
    assert.equal(p.transferSizeFrom, 'profile');
    assert.deepEqual(p.pads.map((x) => [x.start, x.end]), [[0x08000c05, 0x08000c20]]);
    assert.deepEqual(
      p.runs[0]!.blocks.map((b) => [b.block, b.size, b.skip ?? 'send']),
      [
        [2, 1024, 'send'],
        [3, 1024, 'erased'],
        [4, 1024, 'erased'],
        [5, 32, 'send'],
      ],
    );
    assert.equal(p.counts.blocksSkipped, 2);
    assert.deepEqual(p.erase.sectors.map((s) => s.index), [0]);
    assert.equal(createFlashPlan(image([0x08000000, data]), H745, { sendErasedBlocks: true }).counts.blocksSkipped, 0);
  });

  test('--mass-erase erases the whole flash; estimate uses the datasheet figures', () => {
    const p = createFlashPlan(image([0x08000000, app(0x08000000, 4096)]), F405, { massErase: true, transferSize: 2048 });
    assert.equal(p.erase.mode, 'mass');
    assert.equal(p.erase.bytes, F405.flashSize);
    const s = createFlashPlan(image([0x08000000, app(0x08000000, 4096)]), F405, { transferSize: 2048 });
    const e16 = F405.timing.sectorEraseMs.find((x) => x.size === 0x4000)!.typ;
    assert.equal(s.estimate.eraseMs, e16);
    assert.equal(s.estimate.programMs, (1024 * F405.timing.programUs.typ) / 1000);
    assert.equal(s.estimate.floorMs, s.estimate.eraseMs + s.estimate.programMs + 3 * 2);
  });

  test('data outside flash is refused before any request, naming what lives there', () => {
    assert.throws(
      () => createFlashPlan(image([0x08000000, app(0x08000000, 64)], [0x24000000, bytes(16)]), H745),
      (e: unknown) => e instanceof FwError && e.code === 'PLAN_OUTSIDE_FLASH' && e.exitStatus === 3 && e.message === 'the image has data outside the internal flash of STM32H745xI (0x08000000..0x08200000): 0x24000000..0x24000010 (AXI SRAM); flash writes internal flash only (option bytes, OTP and RAM are not written)',
    );
    assert.throws(() => createFlashPlan(new MemoryImage(), H745), (e: unknown) => e instanceof FwError && e.code === 'PLAN_EMPTY');
  });

  test('leave: the vector table at the boot address, else a run start, else the boot address (never an ELF entry)', () => {
    const both = image([0x08000000, app(0x08000000, 256)], [0x08100000, app(0x08100000, 256)]);
    assert.deepEqual(createFlashPlan(both, H745, { leave: true }).leave, { address: 0x08000000, from: 'vector-table' });
    const cm4 = image([0x08100000, app(0x08100000, 256)]);
    assert.deepEqual(createFlashPlan(cm4, H745, { leave: true }).leave, { address: 0x08100000, from: 'vector-table' });
    const noVt = image([0x08020000, bytes(256)]);
    const p = createFlashPlan(noVt, H745, { leave: true });
    assert.deepEqual(p.leave, { address: 0x08000000, from: 'boot-address' });
    assert.match(p.notes[0]!, /no vector table/);
    assert.deepEqual(createFlashPlan(cm4, H745, { leave: true, leaveAddress: 0x08000000 }).leave, { address: 0x08000000, from: 'option' });
  });

  test('A/B header ranges are cut out of the body and written in runs of their own, last', () => {
    const slotB = { name: 'B', start: 0x08100000, size: 0x40000 };
    const slotA = { name: 'A', start: 0x08040000, size: 0x40000 };
    const payload = image([slotB.start + 0x400, app(slotB.start + 0x400, 5000)]);
    const injected = injectHeader(payload, { layout: 'dfukit-ab-v1', slot: slotB, options: { version: '2.0.0' } }).image;
    const hr = headerRanges(injected, 'dfukit-ab-v1', [slotA, slotB], { programUnit: H745.programUnit });
    assert.deepEqual(hr.map((r) => [r.start, r.end, r.slot]), [[0x08100000, 0x08100400, 'B']]);
    const p = createFlashPlan(injected, H745, { headerRanges: hr });
    assert.deepEqual(
      p.runs.map((r) => [r.phase, r.start, r.end]),
      [
        ['body', 0x08100400, 0x081017a0],
        ['header', 0x08100000, 0x08100400],
      ],
    );
    assert.equal(p.runs[1]!.what, 'slot B dfukit-ab-v1 header');
    assert.ok(p.runs.at(-1)!.blocks.every((b) => b.skip === undefined), 'header blocks are always sent');
    const j = planToJson(p);
    assert.equal('image' in j, false);
    assert.deepEqual(JSON.parse(JSON.stringify(j)).runs[1], { start: 0x08100000, end: 0x08100400, phase: 'header', what: 'slot B dfukit-ab-v1 header', firstBlock: 2, blocks: 1, skipped: 0 });
  });

  test('subtractRanges', () => {
    assert.deepEqual(subtractRanges([{ start: 0, end: 100 }], [{ start: 10, end: 20 }, { start: 90, end: 120 }]), [
      { start: 0, end: 10 },
      { start: 20, end: 90 },
    ]);
  });
});

describe('resumePlan', () => {
  const img = image([0x08000000, app(0x08000000, 4096)], [0x08020000, bytes(2048, 9)]);
  const plan = createFlashPlan(img, H745);

  test('a device that already holds the image: nothing to erase or write', () => {
    const r = resumePlan(plan, plan.image, H745);
    assert.deepEqual(r.sectors.map((s) => s.state), ['match', 'match']);
    assert.equal(r.plan.erase.sectors.length, 0);
    assert.equal(r.plan.counts.blocksToSend, 0);
  });

  test('a write cut after 2 blocks: the rest is programmed without an erase (still erased on the device)', () => {
    const device = new MemoryImage();
    device.add(0x08000000, plan.image.read(0x08000000, 2048));
    const r = resumePlan(plan, device, H745);
    assert.deepEqual(r.sectors.map((s) => [s.index, s.state]), [[0, 'program'], [1, 'program']]);
    assert.equal(r.plan.erase.sectors.length, 0);
    assert.deepEqual(r.plan.runs.map((x) => [x.start, x.end]), [[0x08000800, 0x08001000], [0x08020000, 0x08020800]]);
    assert.equal(r.plan.runs[0]!.start, 0x08000800, 'starts at the first unit that differs');
    const sent = r.plan.runs.flatMap((x) => x.blocks.filter((b) => b.skip === undefined).map((b) => b.addr));
    assert.ok(!sent.includes(0x08000000) && !sent.includes(0x08000400), 'written blocks are not sent again');
  });

  test('a torn or different unit forces the sector to be erased and rewritten', () => {
    const device = new MemoryImage();
    const torn = plan.image.read(0x08000000, 4096);
    torn[100] = 0x00;
    device.add(0x08000000, torn);
    const r = resumePlan(plan, device, H745);
    assert.deepEqual(r.sectors.map((s) => [s.index, s.state, s.unitsDiffering]), [[0, 'erase', 1], [1, 'program', 64]]);
    assert.deepEqual(r.plan.erase.sectors.map((s) => s.index), [0]);
    assert.equal(r.plan.counts.blocksToSend, plan.counts.blocksToSend);
  });
});
