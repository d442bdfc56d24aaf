/**
 * Leaving DFU (AN3156 §3 "Leave DFU mode"): zero-length DNLOAD, then GETSTATUS answers dfuMANIFEST and the
 * ROM jumps to the address pointer; the device is gone from the bus; reconnect() brings up a new ROM
 * instance with the same flash.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TransportError } from '../../src/dfu/transport.ts';
import { le32, openHost, pattern } from './helpers.ts';

function vectorTable(sp: number, pc: number): Uint8Array {
  return Uint8Array.from([...le32(sp), ...le32(pc), ...new Array(24).fill(0)]);
}

test('SET_ADDRESS(entry) + zero-length DNLOAD + GETSTATUS: dfuMANIFEST, jump to the entry, device gone', async () => {
  const h = await openHost({ chip: 'stm32h743' });
  await h.setAddress(0x08000000);
  assert.equal((await h.write(2, vectorTable(0x24080000, 0x08000299))).status, 'OK');
  assert.equal(await h.dnload(2, []), 'ok'); // dfu-util leaves with wBlockNum 2
  assert.equal(h.emu.state, 'dfuMANIFEST_SYNC');
  assert.deepEqual(await h.getStatus(), { status: 'OK', pollMs: 1, state: 'dfuMANIFEST' });
  assert.equal(h.emu.connected, false);
  assert.equal(h.emu.state, 'dfuMANIFEST_WAIT_RESET');
  const leave = h.emu.lastLeave!;
  assert.deepEqual({ ...leave, atMs: 0 }, { address: 0x08000000, sp: 0x24080000, pc: 0x08000299, vectorValid: true, atMs: 0 });
  assert.deepEqual(h.emu.log.at(-1)!.leave, leave);
  assert.equal(h.emu.log.at(-2)!.command, 'LEAVE');
  await assert.rejects(h.abort(), (e: unknown) => e instanceof TransportError && e.kind === 'disconnected');
  assert.equal(h.emu.log.at(-1)!.result, 'disconnected');
  assert.equal(h.emu.counters.disconnects, 1);
  // the next enumeration: a fresh ROM, the flash kept
  await h.reopen();
  assert.deepEqual([h.emu.state, h.emu.addressPointer, h.emu.connected], ['dfuIDLE', 0x08000000, true]);
  assert.deepEqual(h.emu.readMemory(0x08000000, 8), vectorTable(0x24080000, 0x08000299).subarray(0, 8));
});

test('leave from dfuIDLE (dfu-util `-s :leave -D x.dfu`) jumps to the last address pointer', async () => {
  const h = await openHost({ chip: 'stm32f405' });
  await h.setAddress(0x08004000);
  await h.write(2, pattern(64));
  await h.abort();
  assert.equal(h.emu.state, 'dfuIDLE');
  await h.dnload(0, []);
  await h.getStatus();
  assert.equal(h.emu.lastLeave!.address, 0x08004000);
  assert.equal(h.emu.lastLeave!.vectorValid, false); // random bytes are no vector table
});

test('an erased or garbage vector table is recorded as invalid', async () => {
  const h = await openHost({ chip: 'stm32f405' });
  await h.dnload(0, []);
  await h.getStatus();
  assert.deepEqual({ ...h.emu.lastLeave!, atMs: 0 }, { address: 0x08000000, sp: 0xffffffff, pc: 0xffffffff, vectorValid: false, atMs: 0 });
  // even PC (not Thumb) is invalid
  const e = await openHost({ chip: 'stm32f405' });
  e.emu.writeMemory(0x08000000, vectorTable(0x20020000, 0x08000200));
  await e.dnload(0, []);
  await e.getStatus();
  assert.equal(e.emu.lastLeave!.vectorValid, false);
});

test("leaveTarget 'last-write': the pointer as set by the last Write Memory (AN2662 wording), for hosts that skip SET_ADDRESS", async () => {
  for (const [target, want] of [
    ['pointer', 0x08000000],
    ['last-write', 0x08000800],
  ] as const) {
    const h = await openHost({ chip: 'stm32f405', leaveTarget: target });
    await h.setAddress(0x08000000);
    await h.write(2, pattern(2048));
    await h.write(3, pattern(2048, 2));
    await h.dnload(0, []);
    await h.getStatus();
    assert.equal(h.emu.lastLeave!.address, want, target);
  }
});

test('RAM application: jump to a vector table downloaded to SRAM', async () => {
  const h = await openHost({ chip: 'stm32f405' });
  await h.setAddress(0x20004000);
  await h.write(2, vectorTable(0x20020000, 0x20004101));
  await h.setAddress(0x20004000);
  await h.dnload(0, []);
  await h.getStatus();
  assert.deepEqual({ ...h.emu.lastLeave!, atMs: 0 }, { address: 0x20004000, sp: 0x20020000, pc: 0x20004101, vectorValid: true, atMs: 0 });
});

test('onDisconnect says why the device left the bus (for a USB/IP server to drop the import)', async () => {
  const reasons: string[] = [];
  const h = await openHost({ chip: 'stm32f405', onDisconnect: (r) => reasons.push(r), faults: [{ kind: 'disconnect', atRequest: 5 }] });
  await h.dnload(0, []);
  await h.getStatus(); // leave
  await h.reopen();
  await h.dnload(0, [0x92]);
  await h.getStatus(); // read unprotect: reset
  await h.reopen();
  await assert.rejects(h.getStatus()); // request 5: fault
  await h.reopen();
  h.emu.reconnect(); // unplugged while connected
  assert.deepEqual(reasons, ['leave', 'reset', 'fault', 'unplug']);
});
