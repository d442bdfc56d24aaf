/**
 * The virtual clock: 1 ms per control transfer, datasheet operation times from the profile, host waits
 * through `emulator.sleep`, and NAK waits when the host polls before an operation ends.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DFUSE_COMMAND } from '../../src/dfu/constants.ts';
import { TransportError } from '../../src/dfu/transport.ts';
import { le32, openHost, pattern } from './helpers.ts';

test('a known F405 sequence takes exactly 445 ms of device time', async () => {
  const h = await openHost({ chip: 'stm32f405' });
  await h.getStatus(); //                                        1
  await h.erase(0x08000000); // DNLOAD, GETSTATUS, 400 ms, GETSTATUS  403 → 404
  await h.setAddress(0x08000000); // 3 transfers, no op time    → 407
  await h.write(2, pattern(2048)); // 512 units × 64 µs → 33 ms   → 443
  assert.equal(h.emu.clock.nowMs, 443);
  await h.dnload(0, []); //                                     → 444
  await h.getStatus(); // dfuMANIFEST, the device leaves          → 445
  assert.equal(h.emu.clock.nowMs, 445);
  assert.equal(h.emu.lastLeave!.atMs, 445);
  assert.deepEqual(
    h.emu.log.map((e) => [e.request, e.atMs]),
    [
      ['GETSTATUS', 0],
      ['DNLOAD', 1],
      ['GETSTATUS', 2],
      ['GETSTATUS', 403],
      ['DNLOAD', 404],
      ['GETSTATUS', 405],
      ['GETSTATUS', 406],
      ['DNLOAD', 407],
      ['GETSTATUS', 408],
      ['GETSTATUS', 442],
      ['DNLOAD', 443],
      ['GETSTATUS', 444],
    ],
  );
});

test('H743: 128 KiB sector erase 1000 ms, 1024-byte block 32 flash words × 100 µs = 4 ms', async () => {
  const h = await openHost({ chip: 'stm32h743' });
  const e = await h.dnload(0, [DFUSE_COMMAND.ERASE, ...le32(0x08020000)]);
  assert.equal(e, 'ok');
  const busy = await h.getStatus();
  assert.ok(busy !== 'stall');
  assert.deepEqual(busy, { status: 'OK', pollMs: 1000, state: 'dfuDNBUSY' });
  await h.emu.sleep(1000);
  await h.getStatus();
  const t0 = h.emu.clock.nowMs;
  await h.setAddress(0x08020000);
  await h.write(2, pattern(1024));
  assert.equal(h.emu.clock.nowMs - t0, 3 + 3 + 4);
});

test('polling before the operation ends: EP0 NAKs until it does (the wait shows in the log and on the clock)', async () => {
  const h = await openHost({ chip: 'stm32f405' });
  await h.dnload(0, [DFUSE_COMMAND.ERASE, ...le32(0x08020000)]); // 128 KiB sector: 2000 ms
  const busy = await h.getStatus();
  assert.ok(busy !== 'stall' && busy.pollMs === 2000);
  assert.equal(h.emu.clock.nowMs, 2);
  await h.emu.sleep(500);
  assert.equal(h.emu.state, 'dfuDNBUSY');
  const done = await h.getStatus(); // early: waits 1500 ms
  assert.deepEqual(done, { status: 'OK', pollMs: 0, state: 'dfuDNLOAD_IDLE' });
  assert.equal(h.emu.clock.nowMs, 2003);
  assert.equal(h.emu.log.at(-1)!.nakMs, 1500);
  // after the poll time the state reads dfuDNLOAD_SYNC (operation done, not yet reported)
  await h.dnload(0, [DFUSE_COMMAND.ERASE, ...le32(0x08000000)]);
  await h.getStatus();
  await h.emu.sleep(400);
  assert.equal(h.emu.state, 'dfuDNLOAD_SYNC');
});

test('nakTimeoutMs: a host with a 5 s control timeout times out during a 16 s mass erase; the erase goes on', async () => {
  const h = await openHost({ chip: 'stm32f405', nakTimeoutMs: 5000 });
  h.emu.writeMemory(0x08000000, Uint8Array.of(0));
  await h.dnload(0, [DFUSE_COMMAND.ERASE]);
  const busy = await h.getStatus();
  assert.ok(busy !== 'stall' && busy.pollMs === 16000);
  await assert.rejects(h.getStatus(), (e: unknown) => e instanceof TransportError && e.kind === 'timeout' && /busy for 16000 ms more/.test(e.message));
  assert.equal(h.emu.clock.nowMs, 2 + 5000);
  assert.equal(h.emu.log.at(-1)!.result, 'timeout');
  await h.emu.sleep(11000);
  assert.deepEqual(await h.getStatus(), { status: 'OK', pollMs: 0, state: 'dfuDNLOAD_IDLE' });
  assert.equal(h.emu.readMemory(0x08000000, 1)[0], 0xff);
});

test('transferMs and pollTimeoutScale change the model: 0 ms transfers; reported poll scaled, durations not', async () => {
  const h = await openHost({ chip: 'stm32f405', transferMs: 0, pollTimeoutScale: 0.01 });
  await h.dnload(0, [DFUSE_COMMAND.ERASE, ...le32(0x08000000)]);
  const busy = await h.getStatus();
  assert.ok(busy !== 'stall');
  assert.equal(busy.pollMs, 4);
  await h.emu.sleep(busy.pollMs);
  await h.getStatus(); // NAKs for the remaining 396 ms
  assert.equal(h.emu.clock.nowMs, 400);
});

test('sleep advances the clock at once; the clock refuses to go back', async () => {
  const h = await openHost({ chip: 'stm32f405' });
  await h.emu.sleep(1234.5);
  assert.equal(h.emu.clock.nowMs, 1234.5);
  await h.emu.sleep(-5);
  assert.equal(h.emu.clock.nowMs, 1234.5);
  assert.throws(() => h.emu.clock.advance(-1), /cannot advance/);
  h.emu.clock.advance(0.5);
  assert.equal(h.emu.clock.nowMs, 1235);
});

test('USB reset takes 10 ms, waits for a running operation, and returns the ROM to dfuIDLE / alt 0 / default pointer', async () => {
  const h = await openHost({ chip: 'stm32f405' }, 1);
  await h.setAddress(0x1fffc000);
  await h.dnload(0, [DFUSE_COMMAND.GET_COMMANDS]);
  assert.equal(h.emu.state, 'dfuDNLOAD_SYNC');
  const t0 = h.emu.clock.nowMs;
  await h.dev.reset();
  assert.equal(h.emu.clock.nowMs - t0, 10);
  assert.deepEqual([h.emu.state, h.emu.alt, h.emu.addressPointer], ['dfuIDLE', 0, 0x08000000]);
  assert.equal(h.emu.connected, true);
  assert.equal(h.emu.log.at(-1)!.request, 'USB_RESET');
  // during an erase
  await h.dnload(0, [DFUSE_COMMAND.ERASE, ...le32(0x08000000)]);
  await h.getStatus();
  const t1 = h.emu.clock.nowMs;
  await h.dev.reset();
  assert.equal(h.emu.clock.nowMs - t1, 400 + 10);
});

test("earlyPoll option: 'stall' and 'busy' without the quirks' poll-timeout changes", async () => {
  const s = await openHost({ chip: 'stm32f405', earlyPoll: 'stall' });
  await s.dnload(0, [DFUSE_COMMAND.ERASE, ...le32(0x08000000)]);
  assert.deepEqual(await s.getStatus(), { status: 'OK', pollMs: 400, state: 'dfuDNBUSY' });
  assert.equal(await s.getStatus(), 'stall');
  const b = await openHost({ chip: 'stm32f405', earlyPoll: 'busy' });
  await b.dnload(0, [DFUSE_COMMAND.ERASE, ...le32(0x08000000)]);
  await b.getStatus();
  assert.deepEqual(await b.getStatus(), { status: 'OK', pollMs: 0, state: 'dfuDNBUSY' });
  assert.equal(await b.getState(), 'dfuDNBUSY');
});
