/**
 * Strict NOR flash and the other memories, with the exact DFU statuses a host sees.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRomEmulator } from '../../src/emulator/index.ts';
import type { FlashSector } from '../../src/layout/chips.ts';
import { Host, openHost, pattern } from './helpers.ts';

const F405_FLASH = 0x08000000;

test('F405: erase a sector, program a block, read it back; the op records say what happened', async () => {
  const h = await openHost({ chip: 'stm32f405' });
  assert.deepEqual(await h.erase(F405_FLASH), { status: 'OK', pollMs: 0, state: 'dfuDNLOAD_IDLE' });
  assert.equal((await h.setAddress(F405_FLASH)).status, 'OK');
  const data = pattern(2048);
  assert.equal((await h.write(2, data)).status, 'OK');
  assert.deepEqual(h.emu.readMemory(F405_FLASH, 2048), data);
  assert.deepEqual(await h.read(F405_FLASH, 2048), data);
  const ops = h.emu.log.filter((e) => e.op !== undefined).map((e) => e.op!);
  assert.deepEqual(ops[0], { kind: 'erase', status: 'OK', durationMs: 400, reportedPollMs: 400, address: F405_FLASH, sector: 0 });
  // 512 program units of 4 bytes × 64 µs (x8 parallelism, profile timing) = 32.768 ms → 33 ms
  assert.deepEqual(ops[2], { kind: 'write', status: 'OK', durationMs: 33, reportedPollMs: 33, address: F405_FLASH, length: 2048 });
  assert.equal(h.emu.counters.sectorErases, 1);
  assert.equal(h.emu.counters.bytesWritten, 2048);
  assert.equal(h.emu.counters.bytesRead, 2048);
});

test('program over programmed bytes → errCHECK_ERASED, dfuERROR; units before the conflict are programmed', async () => {
  const h = await openHost({ chip: 'stm32f405' });
  await h.setAddress(F405_FLASH + 8);
  assert.equal((await h.write(2, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8))).status, 'OK');
  await h.setAddress(F405_FLASH);
  const s = await h.write(2, Uint8Array.from({ length: 16 }, (_, i) => 0x10 + i));
  assert.deepEqual(s, { status: 'errCHECK_ERASED', pollMs: 0, state: 'dfuERROR' });
  assert.deepEqual([...h.emu.readMemory(F405_FLASH, 16)], [0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 1, 2, 3, 4, 5, 6, 7, 8]);
  assert.match(h.emu.log.find((e) => e.op?.status === 'errCHECK_ERASED')!.op!.note!, /stopped at 0x08000008/);
  // the host recovers with CLRSTATUS
  assert.equal(await h.clrStatus(), 'ok');
  assert.equal(h.emu.state, 'dfuIDLE');
});

test("programOverProgrammed 'and': silent AND corruption as real NOR does", async () => {
  const h = await openHost({ chip: 'stm32f405', programOverProgrammed: 'and' });
  await h.setAddress(F405_FLASH);
  assert.equal((await h.write(2, Uint8Array.of(0xf0, 0xff, 0x00, 0x5a))).status, 'OK');
  assert.equal((await h.write(2, Uint8Array.of(0x3c, 0x0f, 0xff, 0xa5))).status, 'OK');
  assert.deepEqual([...h.emu.readMemory(F405_FLASH, 4)], [0x30, 0x0f, 0x00, 0x00]);
});

test('H7 (ECC flash words of 32 bytes): a partial word at the end of a write is lost and stays erased', async () => {
  const h = await openHost({ chip: 'stm32h743' });
  await h.setAddress(0x08000000);
  const data = pattern(40);
  assert.equal((await h.write(2, data)).status, 'OK');
  assert.deepEqual(h.emu.readMemory(0x08000000, 32), data.subarray(0, 32));
  assert.deepEqual([...h.emu.readMemory(0x08000020, 8)], new Array(8).fill(0xff));
  assert.match(h.emu.log.find((e) => e.op?.kind === 'write')!.op!.note!, /8 bytes of partial program units not programmed/);
  // the lost word is still erased: a whole-word write there succeeds
  await h.setAddress(0x08000020);
  assert.equal((await h.write(2, pattern(32, 7))).status, 'OK');
  assert.deepEqual(h.emu.readMemory(0x08000020, 32), pattern(32, 7));
  // words are written once: a second write to a programmed word fails, even with all-0xFF data
  await h.setAddress(0x08000040);
  assert.equal((await h.write(2, pattern(32, 9))).status, 'OK');
  await h.setAddress(0x08000040);
  assert.equal((await h.write(2, new Uint8Array(32).fill(0xff))).status, 'errCHECK_ERASED');
});

test('H7: a write starting 8-byte aligned inside a flash word loses both partial words; unaligned to 8 → errADDRESS', async () => {
  const h = await openHost({ chip: 'stm32h743' });
  await h.setAddress(0x08000008);
  const data = pattern(64, 3);
  assert.equal((await h.write(2, data)).status, 'OK');
  assert.deepEqual([...h.emu.readMemory(0x08000000, 32)], new Array(32).fill(0xff));
  assert.deepEqual(h.emu.readMemory(0x08000020, 32), data.subarray(24, 56));
  assert.deepEqual([...h.emu.readMemory(0x08000040, 32)], new Array(32).fill(0xff));
  await h.setAddress(0x08000004);
  assert.deepEqual(await h.write(2, pattern(32)), { status: 'errADDRESS', pollMs: 0, state: 'dfuERROR' });
});

test('F7 (byte-programmable): a partial program unit is kept; partialUnit overrides the family default', async () => {
  const f7 = await openHost({ chip: 'stm32f767' });
  await f7.setAddress(0x08000000);
  assert.equal((await f7.write(2, pattern(13))).status, 'OK');
  assert.deepEqual(f7.emu.readMemory(0x08000000, 13), pattern(13));
  const dropped = await openHost({ chip: 'stm32f767', partialUnit: 'drop' });
  await dropped.setAddress(0x08000000);
  assert.equal((await dropped.write(2, pattern(13))).status, 'OK');
  assert.deepEqual([...dropped.emu.readMemory(0x08000008, 5)], [0xff, 0xff, 0xff, 0xff, 0xff]);
  const kept = await openHost({ chip: 'stm32h743', partialUnit: 'keep' });
  await kept.setAddress(0x08000000);
  await kept.write(2, pattern(40));
  assert.deepEqual(kept.emu.readMemory(0x08000000, 40), pattern(40));
});

test('erase outside flash → errTARGET (beyond the end, the hole of an H743xG, RAM, a non-flash alt)', async () => {
  const f4 = await openHost({ chip: 'stm32f405' });
  assert.deepEqual(await f4.erase(0x08100000), { status: 'errTARGET', pollMs: 0, state: 'dfuERROR' });
  await f4.clrStatus();
  assert.equal((await f4.erase(0x20000000)).status, 'errTARGET');
  await f4.clrStatus();
  assert.equal((await f4.erase(0x080fffff)).status, 'OK'); // last byte: sector 11
  assert.equal(f4.emu.log.at(-2)!.op!.sector, 11);
  const g = await openHost({ chip: 'stm32h743', flashSize: 0x100000 });
  assert.equal((await g.erase(0x08080000)).status, 'errTARGET');
  await g.clrStatus();
  assert.equal((await g.erase(0x08100000)).status, 'OK'); // bank 2 of the 1 MiB part
  const ob = await openHost({ chip: 'stm32f405' }, 1);
  assert.equal((await ob.erase(0x1fffc000)).status, 'errTARGET');
  await ob.clrStatus();
  assert.equal((await ob.massErase()).status, 'errTARGET');
});

test('writes outside writable memory: errADDRESS (unmapped, past the end), errWRITE (system memory)', async () => {
  const h = await openHost({ chip: 'stm32f405' });
  await h.setAddress(0x080ffc00);
  assert.equal((await h.write(2, new Uint8Array(1024))).status, 'OK');
  assert.deepEqual(await h.write(2, new Uint8Array(2048)), { status: 'errADDRESS', pollMs: 0, state: 'dfuERROR' });
  assert.deepEqual([...h.emu.readMemory(0x080ffc00, 4)], [0, 0, 0, 0]); // the valid part of a refused write is not written
  await h.clrStatus();
  await h.setAddress(0x1fff0000);
  assert.deepEqual(await h.write(2, new Uint8Array(16)), { status: 'errWRITE', pollMs: 0, state: 'dfuERROR' });
  await h.clrStatus();
  // set address to nothing → errTARGET, pointer unchanged
  assert.deepEqual(await h.setAddress(0x60000000), { status: 'errTARGET', pollMs: 0, state: 'dfuERROR' });
  assert.equal(h.emu.addressPointer, 0x1fff0000);
});

test('unaligned flash write on F4 (4-byte ROM alignment) → errADDRESS; RAM takes any address', async () => {
  const h = await openHost({ chip: 'stm32f405' });
  await h.setAddress(0x08000002);
  assert.equal((await h.write(2, Uint8Array.of(1, 2))).status, 'errADDRESS');
  await h.clrStatus();
  await h.setAddress(0x20001003);
  const before = h.emu.clock.nowMs;
  assert.equal((await h.write(2, pattern(100))).status, 'OK');
  assert.equal(h.emu.clock.nowMs - before, 3); // DNLOAD + 2 GETSTATUS, RAM takes no time
  assert.deepEqual(h.emu.readMemory(0x20001003, 100), pattern(100));
  // RAM can be overwritten freely
  assert.equal((await h.write(2, pattern(100, 5))).status, 'OK');
  assert.deepEqual(await h.read(0x20001003, 100), pattern(100, 5));
});

test('OTP (alt 2): written once, never erased', async () => {
  const h = await openHost({ chip: 'stm32f405' }, 2);
  assert.deepEqual([...h.emu.readMemory(0x1fff7800, 4)], [0xff, 0xff, 0xff, 0xff]);
  await h.setAddress(0x1fff7800);
  assert.equal((await h.write(2, Uint8Array.of(0xde, 0xad, 0xbe, 0xef))).status, 'OK');
  assert.equal((await h.write(2, Uint8Array.of(0, 0, 0, 0))).status, 'errCHECK_ERASED');
  await h.clrStatus();
  assert.equal((await h.erase(0x1fff7800)).status, 'errTARGET');
  await h.clrStatus();
  assert.deepEqual(await h.read(0x1fff7800, 4), Uint8Array.of(0xde, 0xad, 0xbe, 0xef));
  // flash is not served by the OTP alt
  assert.equal((await h.setAddress(0x08000000)).status, 'errTARGET');
});

test('reads: a short frame at the end of memory ends the upload (dfuIDLE); unmapped → STALL errADDRESS', async () => {
  const h = await openHost({ chip: 'stm32f405' });
  await h.setAddress(0x080ffc00);
  await h.abort();
  const r = await h.upload(2, 2048);
  assert.ok(r !== 'stall');
  assert.equal(r.length, 1024);
  assert.equal(h.emu.state, 'dfuIDLE');
});

test('reads of unmapped memory STALL with errADDRESS', async () => {
  const h = await openHost({ chip: 'stm32f405' });
  await h.setAddress(0x2001fc00); // last KiB of SRAM2
  await h.abort();
  assert.ok((await h.upload(2, 1024)) !== 'stall');
  assert.equal(await h.upload(3, 1024), 'stall'); // 0x20020400: nothing on an F405
  assert.deepEqual([h.emu.state, h.emu.status], ['dfuERROR', 'errADDRESS']);
});

test('reads follow adjacent regions: one block across the F429 bank boundary', async () => {
  const h = await openHost({ chip: 'stm32f429' });
  h.emu.writeMemory(0x080ffc00, pattern(2048));
  assert.deepEqual(await h.read(0x080ffc00, 2048), pattern(2048));
});

test('option bytes read through alt 1: the factory image with RDP level 0 (0xAA)', async () => {
  const f4 = await openHost({ chip: 'stm32f405' }, 1);
  assert.deepEqual([...(await f4.read(0x1fffc000, 16))], [0xec, 0xaa, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
  const h7 = await openHost({ chip: 'stm32h743' }, 1);
  const ob = await h7.read(0x5200201c, 128);
  assert.equal(ob[1], 0xaa);
  assert.equal(h7.emu.readProtection, 0);
  const l4 = await openHost({ chip: 'stm32l476' }, 1);
  assert.deepEqual([...(await l4.read(0x1fff7800, 8))], [0xaa, 0xf8, 0xef, 0xff, 0x55, 0x07, 0x10, 0x00]);
  // a string-only region (H7A3 prints /0x1FF8000/) exists
  const h7a3 = await openHost({ chip: 'stm32h7a3' }, 1);
  assert.equal((await h7a3.read(0x01ff8000, 128))[1], 0xaa);
});

test('system memory holds the bootloader ID; the flash size register reads the size in KiB', async () => {
  const h = await openHost({ chip: 'stm32f405', bootloaderVersion: 0x91 });
  assert.deepEqual([...(await h.read(0x1fff77de, 1))], [0x91]);
  assert.deepEqual([...(await h.read(0x1fff7a22, 2))], [0x00, 0x04]); // 1024 KiB
  const h7 = createRomEmulator({ chip: 'stm32h743', flashSize: 0x100000 });
  assert.deepEqual([...h7.readMemory(0x1ff1e880, 2)], [0x00, 0x04]);
  assert.deepEqual([...h7.readMemory(0x1ff1e7fe, 1)], [0x92]);
});

test('mass erase: every sector, counted, with the profile mass-erase time', async () => {
  const h = await openHost({ chip: 'stm32f405', flash: new Uint8Array(0x100000) });
  assert.deepEqual(await h.massErase(), { status: 'OK', pollMs: 0, state: 'dfuDNLOAD_IDLE' });
  assert.ok(h.emu.readFlash().every((b) => b === 0xff));
  assert.equal(h.emu.counters.sectorErases, 12);
  assert.equal(h.emu.counters.massErases, 1);
  assert.deepEqual(h.emu.log.find((e) => e.op !== undefined)!.op, { kind: 'mass-erase', status: 'OK', durationMs: 16000, reportedPollMs: 16000 });
  // H7: no mass-erase figure in the profile → the sum of the sector erases
  const h7 = await openHost({ chip: 'stm32h743' });
  await h7.massErase();
  assert.equal(h7.emu.log.find((e) => e.op !== undefined)!.op!.durationMs, 16 * 1000);
});

test('Device Feature alt (F4): plain bytes', async () => {
  const h = await openHost({ chip: 'stm32f405' }, 3);
  await h.setAddress(0xffff0000);
  assert.equal((await h.write(2, Uint8Array.of(3))).status, 'OK');
  assert.deepEqual([...(await h.read(0xffff0000, 4))], [3, 0, 0, 0]);
});

test('initial flash content, readFlash, and write-through callbacks on every erase and program', async () => {
  const init = pattern(0x100000);
  const writes: [number, number[]][] = [];
  const erases: FlashSector[] = [];
  const emu = createRomEmulator({
    chip: 'stm32h743',
    flashSize: 0x100000,
    flash: init,
    onFlashWrite: (addr, bytes) => writes.push([addr, [...bytes]]),
    onErase: (s) => erases.push(s),
  });
  assert.deepEqual(emu.readFlash(), init);
  // bank 2 of the xG part starts at 0x08100000 but at offset 512 KiB of the flash image
  assert.deepEqual(emu.readMemory(0x08100000, 16), init.subarray(0x80000, 0x80010));
  const h = await new Host(emu).open();
  await h.erase(0x08100000);
  assert.deepEqual(
    erases.map((s) => [s.index, s.bank, s.sector, s.start]),
    [[4, 2, 0, 0x08100000]],
  );
  await h.setAddress(0x08100000);
  await h.write(2, pattern(40, 2));
  assert.deepEqual(writes, [[0x08100000, [...pattern(32, 2)]]]);
  emu.writeMemory(0x08000000, Uint8Array.of(1, 2));
  assert.deepEqual(writes[1], [0x08000000, [1, 2]]);
  emu.writeMemory(0x20000000, Uint8Array.of(1)); // RAM: not flash, no callback
  assert.equal(writes.length, 2);
  assert.throws(() => createRomEmulator({ chip: 'stm32f411', flash: new Uint8Array(0x80001) }), /524289 bytes; STM32F411xE has 524288/);
  assert.throws(() => emu.readMemory(0x60000000, 4), /no memory at 0x60000000/);
  // shorter initial content is padded erased
  const short = createRomEmulator({ chip: 'stm32f411', flash: Uint8Array.of(1, 2, 3) });
  assert.deepEqual([...short.readMemory(0x08000000, 4)], [1, 2, 3, 0xff]);
});
