/**
 * The reference C consumer of dfukit-ab-v1 (test-peers/ab-consumer/consumer.c, built with the system `cc`
 * against the C block of docs/header-dfukit-ab-v1.md) over the interruption sweep of test/dfu/sweep.test.ts:
 * the A/B update is cut off at every request k in 1..N, the emulator's whole flash is dumped as the cut left it
 * (before any resume), and the consumer decides from the dump file which slot to boot. It must agree with
 * `selectSlot` (slot verdicts, versions, decision) on every dump, as on the hand-made ones of
 * header-consumer.test.ts; and both must boot A until the header write of B completed, B after.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RomEmulator } from '../src/emulator/index.ts';
import { ROOT } from '../test/helpers/corpus.ts';
import { run, toolsOrSkip } from '../test/helpers/peers.ts';
import { A, B, chip, cutAt, device, referenceRun, selectOn } from '../test/dfu/sweep-helpers.ts';

const skip = toolsOrSkip('cc');
const BASE = chip.banks[0]!.start;

interface Decision {
  slots: string[];
  decision: string;
}

/** `selectSlot` in the consumer's words (as header-consumer.test.ts). */
function dfukitDecision(emu: RomEmulator): Decision {
  const r = selectOn(emu);
  return {
    slots: r.slots.map((s) => (s.valid ? `slot ${s.slot.name} valid ${s.version} runs ${s.runsFrom}` : `slot ${s.slot.name} invalid ${s.reason?.code}`)),
    decision: r.action === 'boot' ? `boot ${r.boot}` : r.action === 'copy-then-boot' ? `copy ${r.copy!.from} ${r.copy!.to}` : 'none',
  };
}

describe('the reference C consumer over the interruption sweep', { skip }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'dfukit-ab-sweep-'));
  const exe = join(tmp, 'consumer');
  const dumpFile = join(tmp, 'dump.bin');
  after(() => rmSync(tmp, { recursive: true, force: true }));
  before(() => {
    const doc = readFileSync(join(ROOT, 'docs', 'header-dfukit-ab-v1.md'), 'utf8');
    const block = /<!-- c-struct:begin[^\n]*\n```c\n([\s\S]*?)```\n<!-- c-struct:end -->/.exec(doc);
    assert.ok(block !== null, 'the C block of docs/header-dfukit-ab-v1.md');
    writeFileSync(join(tmp, 'dfukit_ab_v1.h'), block[1]!);
    const cc = run('cc', ['-std=c11', '-O2', '-Wall', '-Wextra', '-Werror', '-I', tmp, '-o', exe, join(ROOT, 'test-peers', 'ab-consumer', 'consumer.c')]);
    assert.equal(cc.status, 0, cc.stderr);
  });

  /** The consumer's decision on the device's whole flash (bank after bank from BASE: the H745's banks are contiguous). */
  function consumerDecision(emu: RomEmulator): Decision {
    const flash = emu.readFlash();
    assert.equal(flash.length, chip.flashSize);
    writeFileSync(dumpFile, flash);
    const hex = (n: number): string => `0x${n.toString(16)}`;
    const r = run(exe, [dumpFile, hex(BASE), `A=${hex(A.start)}+${hex(A.size)}`, `B=${hex(B.start)}+${hex(B.size)}`]);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    return { slots: lines.slice(0, -1), decision: lines[lines.length - 1]!.replace(/^decision /, '') };
  }

  test('before the update, after it, and at every cut of the sweep: the same decision as selectSlot', async () => {
    assert.deepEqual(consumerDecision(device()), dfukitDecision(device()));
    assert.equal(consumerDecision(device()).decision, 'boot A');
    const ref = await referenceRun();
    assert.deepEqual(consumerDecision(ref.emu), dfukitDecision(ref.emu));
    assert.equal(consumerDecision(ref.emu).decision, 'boot B');

    const N = ref.requests;
    const seen = new Map<string, number>();
    for (let k = 1; k <= N; k++) {
      const cut = await cutAt(k);
      assert.equal((cut.error as { code?: string } | undefined)?.code, 'DFU_DISCONNECTED', `cut at request ${k}`);
      const c = consumerDecision(cut.emu);
      assert.deepEqual(c, dfukitDecision(cut.emu), `cut at request ${k} of ${N}: the consumer and selectSlot disagree`);
      assert.equal(c.decision, cut.headerDone ? 'boot B' : 'boot A', `cut at request ${k}: B only once its header write completed`);
      const key = c.slots.join('; ');
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    // The sweep reaches B torn (erased, then payload in part) and B complete, each judged alike by both.
    assert.ok([...seen.keys()].some((s) => /slot B invalid HEADER_ERASED/.test(s)), [...seen.keys()].join('\n'));
    assert.ok([...seen.keys()].some((s) => /slot B valid 2\.0\.0\+0 runs B/.test(s)), [...seen.keys()].join('\n'));
  });
});
