/**
 * Injected faults, one test per kind, and an interruption sweep: a flash cut off at every request leaves a
 * device that a host can bring back to dfuIDLE after reconnecting.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DFUSE_COMMAND } from '../../src/dfu/constants.ts';
import { TransportError } from '../../src/dfu/transport.ts';
import { createRomEmulator, type Fault } from '../../src/emulator/index.ts';
import { Host, le32, openHost, pattern } from './helpers.ts';

const isKind = (kind: TransportError['kind']) => (e: unknown) => e instanceof TransportError && e.kind === kind;

/** Requests of `flashTwoBlocks` after open: 1 GETSTATUS, erase 3, set address 3, 2 × write 3, leave 2. */
async function flashTwoBlocks(h: Host): Promise<void> {
  await h.getStatus();
  await h.erase(0x08000000);
  await h.setAddress(0x08000000);
  await h.write(2, pattern(2048, 1));
  await h.write(3, pattern(2048, 2));
  await h.dnload(0, []);
  await h.getStatus();
}

test('disconnect before request N: the request is not served; the next device instance has the same flash', async () => {
  const h = await openHost({ chip: 'stm32f405', faults: [{ kind: 'disconnect', atRequest: 8 }] }); // 8 = DNLOAD of the first block
  await assert.rejects(flashTwoBlocks(h), isKind('disconnected'));
  assert.equal(h.emu.connected, false);
  assert.deepEqual([...h.emu.readMemory(0x08000000, 4)], [0xff, 0xff, 0xff, 0xff]);
  assert.deepEqual(h.emu.log.at(-1), { ...h.emu.log.at(-1)!, seq: 8, request: 'DNLOAD', result: 'disconnected', fault: 'disconnect before request' });
  await assert.rejects(h.getStatus(), isKind('disconnected')); // the old instance stays dead
  await h.reopen();
  assert.deepEqual(await h.getStatus(), { status: 'OK', pollMs: 0, state: 'dfuIDLE' });
  assert.equal(h.emu.counters.disconnects, 1);
});

test('disconnect after request N: the request is served, the reply is lost', async () => {
  const h = await openHost({ chip: 'stm32f405', faults: [{ kind: 'disconnect', atRequest: 9, phase: 'after' }] }); // 9 = GETSTATUS that programs
  await assert.rejects(flashTwoBlocks(h), isKind('disconnected'));
  assert.deepEqual(h.emu.readMemory(0x08000000, 2048), pattern(2048, 1));
});

test('STALL at request N: not served, device in (errSTALLEDPKT, dfuERROR); keepState leaves the state alone', async () => {
  const h = await openHost({ chip: 'stm32f405', faults: [{ kind: 'stall', atRequest: 2 }] });
  await h.getStatus();
  assert.equal(await h.dnload(0, [DFUSE_COMMAND.ERASE, ...le32(0x08000000)]), 'stall');
  assert.deepEqual([h.emu.state, h.emu.status], ['dfuERROR', 'errSTALLEDPKT']);
  assert.equal(h.emu.counters.stalls, 1);
  const k = await openHost({ chip: 'stm32f405', faults: [{ kind: 'stall', atRequest: 1, keepState: true }] });
  assert.equal(await k.getStatus(), 'stall');
  assert.deepEqual([k.emu.state, k.emu.status], ['dfuIDLE', 'OK']);
});

test('timeout at request N: TransportError timeout, the device stays as it was', async () => {
  const h = await openHost({ chip: 'stm32f405', faults: [{ kind: 'timeout', atRequest: 2 }] });
  await h.getStatus();
  await assert.rejects(h.dnload(0, [DFUSE_COMMAND.ERASE, ...le32(0x08000000)]), isKind('timeout'));
  assert.equal(h.emu.state, 'dfuIDLE');
  assert.equal((await h.erase(0x08000000)).status, 'OK');
});

test('error status at request N: the first GETSTATUS from N on reports it; a pending operation is dropped', async () => {
  const h = await openHost({ chip: 'stm32f405', faults: [{ kind: 'status', atRequest: 4, status: 'errWRITE' }] });
  await h.setAddress(0x08000000); // requests 1-3
  assert.equal(await h.dnload(2, pattern(16)), 'ok'); // 4: arms the fault
  assert.deepEqual(await h.getStatus(), { status: 'errWRITE', pollMs: 0, state: 'dfuERROR' }); // 5
  assert.deepEqual([...h.emu.readMemory(0x08000000, 4)], [0xff, 0xff, 0xff, 0xff]);
  assert.equal(h.emu.log.at(-1)!.fault, 'status errWRITE');
  await h.clrStatus();
  assert.equal((await h.write(2, pattern(16))).status, 'OK'); // one-shot
});

test('erase-fail: errERASE, content unchanged; `times` failures then it works; mass erase fails too', async () => {
  const flash = new Uint8Array(0x100000);
  const h = await openHost({ chip: 'stm32f405', flash, faults: [{ kind: 'erase-fail', address: 0x08004000, times: 1 }] });
  assert.deepEqual(await h.erase(0x08004abc), { status: 'errERASE', pollMs: 0, state: 'dfuERROR' });
  assert.equal(h.emu.readMemory(0x08004000, 1)[0], 0);
  assert.equal(h.emu.log.find((e) => e.op?.status === 'errERASE')!.op!.durationMs, 400);
  await h.clrStatus();
  assert.equal((await h.erase(0x08004000)).status, 'OK');
  const m = await openHost({ chip: 'stm32f405', flash, faults: [{ kind: 'erase-fail', address: 0x08060000 }] });
  assert.equal((await m.massErase()).status, 'errERASE');
  assert.equal(m.emu.readMemory(0x08000000, 1)[0], 0);
});

test('program-fail errPROG: units before the failing one are programmed; errVERIFY: all programmed, one bit wrong', async () => {
  const data = new Uint8Array(64).fill(0x5f);
  const p = await openHost({ chip: 'stm32f405', faults: [{ kind: 'program-fail', address: 0x08000013 }] });
  await p.setAddress(0x08000000);
  assert.deepEqual(await p.write(2, data), { status: 'errPROG', pollMs: 0, state: 'dfuERROR' });
  assert.deepEqual([...p.emu.readMemory(0x0800000e, 8)], [0x5f, 0x5f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]); // stops at unit 0x08000010
  const v = await openHost({ chip: 'stm32f405', faults: [{ kind: 'program-fail', address: 0x08000013, status: 'errVERIFY' }] });
  await v.setAddress(0x08000000);
  assert.equal((await v.write(2, data)).status, 'errVERIFY');
  const back = v.emu.readMemory(0x08000000, 64);
  assert.equal(back[0x13], 0x5e); // lowest set bit cleared
  assert.equal(back.filter((b) => b === 0x5f).length, 63);
  const w = await openHost({ chip: 'stm32h743', faults: [{ kind: 'program-fail', address: 0x08000400, status: 'errWRITE', times: 1 }] });
  await w.setAddress(0x08000400);
  assert.equal((await w.write(2, pattern(64))).status, 'errWRITE');
  await w.clrStatus();
  assert.equal((await w.write(2, pattern(64))).status, 'OK');
});

test('write-protected sector: erase reports OK and does nothing (AN2662), writes fail with errWRITE, mass erase skips it', async () => {
  const flash = new Uint8Array(0x100000);
  const h = await openHost({ chip: 'stm32f405', flash, faults: [{ kind: 'write-protected', address: 0x08000000 }] });
  assert.equal((await h.erase(0x08000000)).status, 'OK');
  assert.equal(h.emu.readMemory(0x08000000, 1)[0], 0);
  assert.match(h.emu.log.find((e) => e.op?.kind === 'erase')!.op!.note!, /write-protected: erase skipped/);
  assert.equal((await h.erase(0x08004000)).status, 'OK');
  await h.setAddress(0x08004000);
  assert.equal((await h.write(2, pattern(16))).status, 'OK');
  await h.setAddress(0x08000000);
  assert.equal((await h.write(2, pattern(16))).status, 'errWRITE');
  await h.clrStatus();
  assert.equal((await h.massErase()).status, 'OK');
  assert.equal(h.emu.readMemory(0x08000000, 1)[0], 0);
  assert.equal(h.emu.readMemory(0x08004000, 1)[0], 0xff);
});

test('interruption sweep: cut at every request of a flash, then reconnect and recover to dfuIDLE', async () => {
  const ref = await openHost({ chip: 'stm32f405' });
  await flashTwoBlocks(ref);
  const total = ref.emu.counters.requests;
  assert.equal(total, 15);
  for (let n = 1; n <= total; n++) {
    for (const phase of ['before', 'after'] as const) {
      const faults: Fault[] = [{ kind: 'disconnect', atRequest: n, phase }];
      const h = new Host(createRomEmulator({ chip: 'stm32f405', faults }));
      await h.open();
      await assert.rejects(flashTwoBlocks(h), isKind('disconnected'), `cut at ${n} ${phase}`);
      await h.reopen();
      await h.toIdle();
      assert.equal(h.emu.state, 'dfuIDLE', `cut at ${n} ${phase}`);
      // flash is whatever was done before the cut: every written block is either complete or erased
      const b1 = h.emu.readMemory(0x08000000, 2048);
      assert.ok(b1.every((x) => x === 0xff) || b1.every((x, i) => x === pattern(2048, 1)[i]), `block 1 after cut at ${n} ${phase}`);
      // the flash can be redone from scratch
      await flashTwoBlocks(h);
      assert.deepEqual(h.emu.readMemory(0x08000800, 2048), pattern(2048, 2));
    }
  }
});
