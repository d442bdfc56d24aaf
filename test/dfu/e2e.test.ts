/**
 * End to end through the ROM emulator, for every chip profile (`listChips()`): plan, erase, write, verify.
 * The flash afterwards holds the image; random "user data" placed before in sectors the image does not touch
 * is unchanged; every data block takes at most 3 requests (DNLOAD, GETSTATUS dfuDNBUSY, GETSTATUS
 * dfuDNLOAD-IDLE, counted in the emulator's log); and the device time of erase + write stays within 5 % of
 * the floor: the erase and program times the device modelled for those operations + 3 ms per DNLOAD (three
 * 1-ms control transfers for each data block and each DfuSe command). All on the virtual clock: deterministic,
 * no wall time.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { executePlan } from '../../src/dfu/operations.ts';
import { listChips, resolveChip } from '../../src/layout/chips.ts';
import { sectorsTouched } from '../../src/layout/sectors.ts';
import { createFlashPlan } from '../../src/plan/plan.ts';
import { emulatorSession, imageFor, noise, phaseMarks, requestsPerBlock } from './helpers.ts';

describe('flash through the emulator, every chip profile', () => {
  for (const c of listChips()) {
    test(c.name, async () => {
      const p = resolveChip(c.name);
      const { emu, session } = await emulatorSession(p);
      const xfer = session.dfuse.transferSize;
      assert.equal(session.info.transferSizeFrom, 'descriptor');
      const img = imageFor(p, xfer);
      // User data in the first and the last sector the image does not touch.
      const touched = new Set(sectorsTouched(p, img.ranges()).map((s) => s.index));
      const free = p.sectors.filter((s) => !touched.has(s.index));
      const user = (free.length > 0 ? [free[0]!, free.at(-1)!] : []).map((s, i) => ({ addr: s.start + 64, bytes: noise(Math.min(4096, s.size - 64), 100 + i) }));
      for (const u of user) emu.writeMemory(u.addr, u.bytes);

      const plan = createFlashPlan(img, p, { transferSize: xfer });
      assert.ok(plan.counts.blocksSkipped >= 1, 'the all-0xFF stretch is skipped');
      const marks = phaseMarks(emu);
      const r = await executePlan(session, plan, { onEvent: marks.onEvent });

      for (const range of plan.ranges) {
        assert.deepEqual(emu.readMemory(range.start, range.end - range.start), plan.image.read(range.start, range.end - range.start), `flash holds the image at ${range.start.toString(16)}`);
      }
      for (const seg of img.segments) assert.deepEqual(emu.readMemory(seg.addr, seg.data.length), seg.data);
      for (const u of user) assert.deepEqual(emu.readMemory(u.addr, u.bytes.length), u.bytes, `user data at 0x${u.addr.toString(16)} survives`);
      assert.equal(r.bytesVerified, plan.counts.bytes);

      // Requests per block, from the emulator's own log.
      const write = marks.span('write');
      const perBlock = requestsPerBlock(emu.log.slice(write.from, write.to));
      assert.equal(perBlock.length, plan.counts.blocksToSend);
      assert.ok(Math.max(...perBlock) <= 3, `at most 3 requests per block, got ${Math.max(...perBlock)}`);

      // Device time of erase + write vs the floor: the erase and program times the device modelled, plus 3 ms
      // (3 one-frame requests) per DNLOAD: each data block and each DfuSe command (erase, SET_ADDRESS).
      const entries = emu.log.slice(marks.span('erase').from, write.to);
      const modelled = entries.reduce((n, e) => n + (e.op?.durationMs ?? 0), 0);
      const dnloads = entries.filter((e) => e.request === 'DNLOAD').length;
      const floor = modelled + 3 * dnloads;
      const spent = r.phases.filter((x) => x.phase === 'erase' || x.phase === 'write').reduce((n, x) => n + x.deviceMs, 0);
      assert.ok(spent <= 1.05 * floor, `device time ${spent} ms vs floor ${floor} ms: ratio ${(spent / floor).toFixed(3)}`);
      assert.ok(spent >= floor);
    });
  }
});
