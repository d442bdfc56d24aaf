/**
 * The README's user story, executable: a dual-core STM32H745 image on an H74x/H75x rev V ROM (bootloader V9.0,
 * `--rom-rev V`: the ROM never leaves dfuDNBUSY after a bank-2 sector erase; AN2606, dfu-util ticket #88).
 *
 *  1. The real dfu-util 0.11 reproduces the field failure: after "Erasing page ... 0x08100000" it prints
 *     "Poll timeout" forever. The test bounds it, kills it, and asserts from the emulator's log that the device
 *     never left dfuDNBUSY.
 *  2. `dfukit flash --device usbip://...` of the same file, against the same (still wedged) emulator, recovers
 *     (CLRSTATUS pair), completes and verifies; the flash equals what dfukit writes to a clean ROM.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dfukit } from '../test/helpers/cli.ts';
import { fixturePath } from '../test/helpers/corpus.ts';
import { buildShim, peerEnv, readLog, spawnPeer, startEmulator, usbipPeersOrSkip, waitFor, type Emulator } from './libusb-usbip/harness.ts';

const skip = usbipPeersOrSkip('dfu-util');
const dir = mkdtempSync(join(tmpdir(), 'dfukit-usbip-revv-'));
let lib = '';
const running: Emulator[] = [];
before(() => {
  if (skip === false) lib = buildShim(join(dir, 'lib'));
});
after(async () => {
  for (const e of running) await e.kill();
  rmSync(dir, { recursive: true, force: true });
});

/** GETSTATUS polls the wedged ROM must have answered before the test stops dfu-util. */
const WEDGED_POLLS = 40;

describe('H745 rev V over USB/IP: dfu-util hangs at the bank-2 erase, dfukit completes', { skip }, () => {
  test('dfu-util repeats "Poll timeout" after the bank-2 erase and never leaves dfuDNBUSY; dfukit flash then completes and verifies', async () => {
    const conv = dfukit(['convert', fixturePath('elf', 'h745_cm7.elf'), fixturePath('elf', 'h745_cm4.elf'), '--chip', 'stm32h745', '-o', 'h745.dfu'], { cwd: dir });
    assert.equal(conv.status, 0, conv.stderr);
    const flashOut = join(dir, 'revv.bin');
    const log = join(dir, 'revv.jsonl');
    const emu = await startEmulator(['--chip', 'stm32h745', '--rom-rev', 'V', '--flash-out', flashOut, '--log', log, '--poll-scale', '0.01']);
    running.push(emu);
    assert.match(emu.stdout(), /ROM bootloader 0x90 \[rev V: bootloader V9\.0 \(0x90\) with h7-revV-bank2-erase-hang\]/);

    // 1. dfu-util -v -v (it prints each poll), bounded: stopped once the wedge is evident, or after 30 s.
    const erasePos = (l: ReturnType<typeof readLog>): number => l.findIndex((x) => x.command === 'ERASE 0x08100000');
    const du = spawnPeer('dfu-util', ['-v', '-v', '-a', '0', '-D', 'h745.dfu'], peerEnv(emu, lib), dir);
    let exitedOnItsOwn = false;
    void du.done.then(() => (exitedOnItsOwn = true));
    const wedged = await waitFor(() => {
      if (exitedOnItsOwn) return true;
      const l = readLog(log);
      const i = erasePos(l);
      return i >= 0 && l.length - i > WEDGED_POLLS;
    }, 30_000);
    const stillRunning = !exitedOnItsOwn;
    du.proc.kill('SIGKILL');
    const end = await du.done;
    assert.ok(wedged && stillRunning, `dfu-util should hang at the bank-2 erase; it ended with ${end.code ?? end.signal}:\n${du.stdout()}${du.stderr()}`);

    const err = du.stderr();
    const at = err.indexOf('Erasing page size 131072 at address 0x08100000, page starting at 0x08100000');
    assert.ok(at >= 0, err.slice(-2000));
    const polls = err.slice(at).split('\n').filter((l) => l.trim() === 'Poll timeout 10 ms');
    assert.ok(polls.length >= WEDGED_POLLS - 5, `"Poll timeout 10 ms" repeated ${polls.length} times`);
    assert.doesNotMatch(err.slice(at), /Download\s+done|0x08100000-/, 'dfu-util never got past the bank-2 erase');

    const lines = readLog(log);
    const i = erasePos(lines);
    const erase = lines[i + 1]!;
    assert.equal(erase.request, 'GETSTATUS');
    assert.deepEqual([erase.op?.kind, erase.op?.status, erase.stateAfter], ['erase', 'OK', 'dfuDNBUSY']);
    const after = lines.slice(i + 2);
    assert.ok(after.length >= WEDGED_POLLS - 1);
    for (const l of after) {
      assert.equal(l.request, 'GETSTATUS', `only GETSTATUS after the erase (seq ${l.seq})`);
      assert.deepEqual([l.stateBefore, l.stateAfter, l.status, l.pollTimeoutMs, l.quirk], ['dfuDNBUSY', 'dfuDNBUSY', 'OK', 10, 'h7-revV-bank2-erase-hang'], `seq ${l.seq}`);
    }
    assert.ok(!lines.some((l) => l.stateAfter === 'dfuDNLOAD_IDLE' && l.seq > erase.seq), 'it never left dfuDNBUSY');

    // 2. dfukit, same file, same (still wedged) emulator.
    const r = dfukit(['flash', 'h745.dfu', '--device', emu.url], { cwd: dir });
    assert.equal(r.status, 0, `dfukit flash over USB/IP:\n${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /311808 \(0x4C200\) bytes verified/);
    assert.match(r.stdout, /recovery\s+erase 0x08100000: the device stayed in dfuDNBUSY .*CLRSTATUS/);
    assert.match(r.stdout, /recovery\s+erase 0x08120000: /);
    const clr = readLog(log).filter((l) => l.seq > after.at(-1)!.seq && l.request === 'CLRSTATUS');
    assert.ok(clr.length >= 4, `the CLRSTATUS pair after each wedged erase (${clr.length} CLRSTATUS)`);
    assert.equal(await emu.stop(), 0);

    const ref = join(dir, 'ref.bin');
    const clean = dfukit(['flash', 'h745.dfu', '--device', `emulator:stm32h745,flash=${ref}`], { cwd: dir });
    assert.equal(clean.status, 0, clean.stderr);
    assert.deepEqual(readFileSync(flashOut), readFileSync(ref));
  });
});
