/**
 * Interruption sweep, every cut point, no sampling: an A/B update with dfukit-ab-v1 headers on an STM32H745
 * (slot A in bank 1 holds v1; the update writes v2 into slot B in bank 2, header last). The reference run
 * counts its requests N (connect included). For every k in 1..N a fresh device is cut off at request k (the
 * emulator's disconnect fault: the request is never served). Then, on the flash as the cut left it:
 *  - `selectSlot` never picks a slot whose checks fail (the pick is a valid slot, and one always exists: A);
 *  - it picks B exactly when the header block's write had completed before the cut;
 * and after a reconnect, `--resume` (executePlan with resume) completes, verifies, and B boots.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect, executePlan } from '../../src/dfu/operations.ts';
import { emulatorClock } from './helpers.ts';
import { B, bootedSlot, chip, cutAt, plan, referenceRun, userData } from './sweep-helpers.ts';

test('A/B update cut at every request: the bootloader never boots a broken slot; --resume completes', async () => {
  assert.deepEqual(plan.runs.map((r) => r.phase), ['body', 'header'], 'the header goes last');
  const { requests: N, emu: ref } = await referenceRun();
  assert.equal(bootedSlot(ref).boot, 'B');
  assert.ok(N > 30 && N < 200, `small sweep: N = ${N}`);

  let beforeHeader = 0;
  let afterHeader = 0;
  for (let k = 1; k <= N; k++) {
    const { emu, error, headerDone } = await cutAt(k);
    assert.equal((error as { code?: string } | undefined)?.code, 'DFU_DISCONNECTED', `cut at request ${k}`);
    const sel = bootedSlot(emu);
    assert.ok(sel.boot !== undefined && sel.validPick, `cut at ${k}: the bootloader boots a valid slot (got ${sel.boot})`);
    assert.equal(sel.boot, headerDone ? 'B' : 'A', `cut at ${k}: B only once its header write completed`);
    if (headerDone) afterHeader++;
    else beforeHeader++;

    // Reconnect (a new process would do the same) and resume.
    const again = await connect(emu.reconnect(), chip, { clock: emulatorClock(emu) });
    const r = await executePlan(again, plan, { resume: true });
    assert.equal(r.bytesVerified, plan.counts.bytes, `cut at ${k}: resume verifies`);
    assert.deepEqual(emu.readMemory(B.start, 0x400 + 20_000), plan.image.read(B.start, 0x400 + 20_000));
    assert.equal(bootedSlot(emu).boot, 'B', `cut at ${k}: after resume B boots`);
    assert.deepEqual(emu.readMemory(userData.addr, userData.bytes.length), userData.bytes, 'user data survives');
  }
  assert.equal(beforeHeader + afterHeader, N);
  assert.ok(beforeHeader > 0 && afterHeader > 0);
});
