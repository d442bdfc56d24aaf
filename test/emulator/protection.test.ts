/**
 * Read protection (RDP) in the option bytes, Read Unprotect (0x92) and option-byte writes (AN3156 §3;
 * reference manuals, "Read protection"): the device resets after both, so the host sees it disconnect.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DFUSE_COMMAND } from '../../src/dfu/constants.ts';
import { TransportError } from '../../src/dfu/transport.ts';
import { Host, openHost, pattern } from './helpers.ts';

const gone = (e: unknown) => e instanceof TransportError && e.kind === 'disconnected';

test('RDP level 1: flash reads STALL with errVENDOR; erase, mass erase and writes fail with errVENDOR; option bytes stay readable', async () => {
  const h = await openHost({ chip: 'stm32f405', readProtection: 1, flash: pattern(0x100000) });
  assert.equal(h.emu.readProtection, 1);
  assert.equal((await h.setAddress(0x08000000)).status, 'OK');
  await h.abort();
  assert.equal(await h.upload(2, 2048), 'stall');
  assert.deepEqual([h.emu.state, h.emu.status], ['dfuERROR', 'errVENDOR']);
  await h.clrStatus();
  assert.deepEqual(await h.erase(0x08000000), { status: 'errVENDOR', pollMs: 0, state: 'dfuERROR' });
  await h.clrStatus();
  assert.equal((await h.massErase()).status, 'errVENDOR');
  await h.clrStatus();
  await h.setAddress(0x20002000);
  assert.equal((await h.write(2, pattern(16))).status, 'errVENDOR');
  assert.deepEqual(h.emu.readFlash(), pattern(0x100000));
  const ob = await new Host(h.emu, h.emu.reconnect()).open(1);
  assert.equal((await ob.read(0x1fffc000, 16))[1], 0xbb);
});

test('Read Unprotect: DNBUSY with the mass-erase time, then the device resets; after reconnect RDP is 0 and flash erased', async () => {
  const h = await openHost({ chip: 'stm32f405', readProtection: 1, flash: pattern(0x100000) });
  assert.equal(await h.dnload(0, [DFUSE_COMMAND.READ_UNPROTECT]), 'ok');
  assert.deepEqual(await h.getStatus(), { status: 'OK', pollMs: 16000, state: 'dfuDNBUSY' });
  assert.equal(h.emu.connected, false);
  await assert.rejects(h.getStatus(), gone);
  const t = h.emu.clock.nowMs;
  await h.reopen();
  assert.equal(h.emu.clock.nowMs - t, 16000); // the reset comes when the mass erase is done
  assert.equal(h.emu.readProtection, 0);
  assert.ok(h.emu.readFlash().every((b) => b === 0xff));
  assert.deepEqual(await h.getStatus(), { status: 'OK', pollMs: 0, state: 'dfuIDLE' });
  assert.equal(h.emu.counters.massErases, 1);
  assert.deepEqual(h.emu.log.find((e) => e.op !== undefined)!.op, { kind: 'read-unprotect', status: 'OK', durationMs: 16000, reportedPollMs: 16000 });
});

test('option-byte write (alt 1): applied, then the device resets; raising RDP and regressing it (which mass-erases)', async () => {
  const h = await openHost({ chip: 'stm32f405', flash: pattern(0x100000) }, 1);
  const ob = await h.read(0x1fffc000, 16);
  ob[1] = 0xbb; // RDP level 1
  await h.setAddress(0x1fffc000);
  assert.equal(await h.dnload(2, ob), 'ok');
  assert.deepEqual(await h.getStatus(), { status: 'OK', pollMs: 0, state: 'dfuDNBUSY' });
  assert.equal(h.emu.connected, false);
  await h.reopen(1);
  assert.equal(h.emu.readProtection, 1);
  assert.deepEqual(h.emu.readFlash().subarray(0, 16), pattern(0x100000).subarray(0, 16));
  ob[1] = 0xaa; // back to level 0: RDP regression mass-erases the flash
  await h.setAddress(0x1fffc000);
  await h.dnload(2, ob);
  const s = await h.getStatus();
  assert.ok(s !== 'stall' && s.pollMs === 16000);
  await h.reopen();
  assert.equal(h.emu.readProtection, 0);
  assert.ok(h.emu.readFlash().every((b) => b === 0xff));
});

test('RDP level 2: option bytes frozen (errVENDOR); complement bytes follow the RDP byte where the family keeps them', async () => {
  const h = await openHost({ chip: 'stm32f767', readProtection: 2 }, 1);
  assert.equal(h.emu.readProtection, 2);
  const ob = await h.read(0x1fff0000, 32);
  assert.deepEqual([ob[1], ob[3]], [0xcc, 0x33]);
  await h.setAddress(0x1fff0000);
  assert.equal((await h.write(2, ob)).status, 'errVENDOR');
  h.emu.setReadProtection(0);
  assert.deepEqual([...h.emu.readMemory(0x1fff0001, 3)], [0xaa, 0x00, 0x55]);
  const l4 = await openHost({ chip: 'stm32l476', readProtection: 1 }, 1);
  assert.deepEqual([...(await l4.read(0x1fff7800, 8))].filter((_, i) => i === 0 || i === 4), [0xbb, 0x44]);
});
