/**
 * DfuSe commands and block addressing (AN3156 §3): address = pointer + (wBlockNum − 2) × wTransferSize,
 * with the functional descriptor's wTransferSize, whatever the request's wLength.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DFUSE_COMMAND } from '../../src/dfu/constants.ts';
import { le32, openHost, pattern } from './helpers.ts';

test('one SET_ADDRESS then blocks 2, 3, 4 (fwupd, DfuSe Demo): contiguous wTransferSize blocks', async () => {
  const h = await openHost({ chip: 'stm32f405' });
  await h.setAddress(0x08004000);
  for (let b = 2; b <= 4; b++) assert.equal((await h.write(b, pattern(2048, b))).status, 'OK');
  for (let b = 2; b <= 4; b++) assert.deepEqual(h.emu.readMemory(0x08004000 + (b - 2) * 2048, 2048), pattern(2048, b));
  assert.deepEqual(
    h.emu.log.filter((e) => e.request === 'DNLOAD').map((e) => e.command),
    ['SET_ADDRESS_POINTER 0x08004000', 'WRITE 0x08004000 +2048', 'WRITE 0x08004800 +2048', 'WRITE 0x08005000 +2048'],
  );
  assert.equal(h.emu.addressPointer, 0x08004000); // data blocks do not move the pointer
});

test('SET_ADDRESS before every chunk, always block 2 (dfu-util)', async () => {
  const h = await openHost({ chip: 'stm32h743' });
  for (let i = 0; i < 3; i++) {
    await h.setAddress(0x08000000 + i * 1024);
    assert.equal((await h.write(2, pattern(1024, i + 1))).status, 'OK');
  }
  for (let i = 0; i < 3; i++) assert.deepEqual(h.emu.readMemory(0x08000000 + i * 1024, 1024), pattern(1024, i + 1));
});

test('UPLOAD block n reads pointer + (n − 2) × wTransferSize; any block order', async () => {
  const h = await openHost({ chip: 'stm32h743' });
  h.emu.writeMemory(0x08000000, pattern(4096));
  await h.setAddress(0x08000000);
  await h.abort();
  const b4 = await h.upload(4, 1024);
  const b2 = await h.upload(2, 1024);
  assert.deepEqual(b4, pattern(4096).subarray(2048, 3072));
  assert.deepEqual(b2, pattern(4096).subarray(0, 1024));
  assert.deepEqual(
    h.emu.log.filter((e) => e.request === 'UPLOAD').map((e) => e.command),
    ['READ 0x08000800 +1024', 'READ 0x08000000 +1024'],
  );
});

test('a short block followed by the next block number: the address still steps by wTransferSize (logged)', async () => {
  const h = await openHost({ chip: 'stm32f405' });
  await h.setAddress(0x08000000);
  await h.write(2, pattern(1024)); // host using -t 1024 with incrementing blocks
  await h.write(3, pattern(1024, 2));
  assert.deepEqual(h.emu.readMemory(0x08000800, 1024), pattern(1024, 2)); // at +2048, not +1024
  assert.deepEqual([...h.emu.readMemory(0x08000400, 4)], [0xff, 0xff, 0xff, 0xff]); // a gap
  const dn = h.emu.log.filter((e) => e.request === 'DNLOAD');
  assert.match(dn[2]!.note!, /block 3 follows a 1024-byte block 2: its address assumes 2048-byte blocks/);
});

test('wBlockNum 1 is reserved: DNLOAD and UPLOAD STALL into (errSTALLEDPKT, dfuERROR)', async () => {
  const h = await openHost({ chip: 'stm32f405' });
  assert.equal(await h.dnload(1, pattern(16)), 'stall');
  assert.deepEqual([h.emu.state, h.emu.status], ['dfuERROR', 'errSTALLEDPKT']);
  await h.clrStatus();
  assert.equal(await h.upload(1, 16), 'stall');
  assert.deepEqual([h.emu.state, h.emu.status], ['dfuERROR', 'errSTALLEDPKT']);
});

test('UPLOAD block 0 lists the ROM commands 0x00 0x21 0x41 0x92', async () => {
  const h = await openHost({ chip: 'stm32f405' });
  assert.deepEqual([...((await h.upload(0, 4)) as Uint8Array)], [0x00, 0x21, 0x41, 0x92]);
  assert.equal(h.emu.state, 'dfuUPLOAD_IDLE');
  assert.deepEqual([...((await h.upload(0, 2048)) as Uint8Array)], [0x00, 0x21, 0x41, 0x92]);
  assert.equal(h.emu.state, 'dfuIDLE'); // short frame: end of upload
  assert.equal((await h.run(0, [DFUSE_COMMAND.GET_COMMANDS])).status, 'OK'); // also accepted as a DNLOAD command
});

test('unknown or malformed DfuSe commands: dfuDNBUSY first, then (errSTALLEDPKT, dfuERROR)', async () => {
  for (const cmd of [[0x55], [0x21, 0, 0, 0], [0x41, 0, 0], [0x92, 0]]) {
    const h = await openHost({ chip: 'stm32f405' });
    assert.deepEqual(await h.run(0, cmd), { status: 'errSTALLEDPKT', pollMs: 0, state: 'dfuERROR' }, JSON.stringify(cmd));
    assert.equal(h.emu.log.find((e) => e.op !== undefined)!.op!.kind, 'invalid-command');
  }
});

test('wLength above wTransferSize STALLs (DNLOAD and UPLOAD)', async () => {
  const h = await openHost({ chip: 'stm32h743' });
  await h.setAddress(0x08000000);
  assert.equal(await h.dnload(2, new Uint8Array(1025)), 'stall');
  assert.equal(h.emu.state, 'dfuERROR');
  await h.clrStatus();
  assert.equal(await h.upload(2, 1025), 'stall');
});

test('the address pointer is validated against the memory of the selected alt', async () => {
  const h = await openHost({ chip: 'stm32f405' }, 1);
  assert.equal((await h.setAddress(0x08000000)).status, 'errTARGET');
  await h.clrStatus();
  assert.equal((await h.setAddress(0x1fffc000)).status, 'OK');
  // alt 0 reads every memory-mapped region (flash, RAM, system memory, option bytes)
  const a0 = await openHost({ chip: 'stm32f405' });
  for (const addr of [0x08000000, 0x10000000, 0x2001ffff, 0x1fff0000, 0x1fffc000]) assert.equal((await a0.setAddress(addr)).status, 'OK', addr.toString(16));
  assert.equal((await a0.run(0, [DFUSE_COMMAND.SET_ADDRESS_POINTER, ...le32(0x40000000)])).status, 'errTARGET');
});
