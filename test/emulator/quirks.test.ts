/**
 * Every quirk hook: what the host sees with it on, and that the clean ROM (default) does not show it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DFUSE_COMMAND, USB_DESCRIPTOR_TYPE, USB_REQUEST } from '../../src/dfu/constants.ts';
import { TransportError } from '../../src/dfu/transport.ts';
import { createRomEmulator, EMULATOR_QUIRKS } from '../../src/emulator/index.ts';
import { FwError } from '../../src/core/errors.ts';
import { le32, openHost, pattern } from './helpers.ts';

const ERASE = (addr: number) => [DFUSE_COMMAND.ERASE, ...le32(addr)];

test('h7-revV-bank2-erase-hang: dfuDNBUSY/1000 ms forever after a bank-2 erase; the CLRSTATUS pair recovers; the erase did happen', async () => {
  const h = await openHost({ chip: 'stm32h743', bootloaderVersion: 0x90, quirks: ['h7-revV-bank2-erase-hang'], flash: new Uint8Array(0x200000) });
  // bank 1: normal
  assert.equal((await h.erase(0x08000000)).state, 'dfuDNLOAD_IDLE');
  // bank 2: wedged
  await h.dnload(0, ERASE(0x08120000));
  for (let i = 0; i < 5; i++) {
    const s = await h.getStatus();
    assert.deepEqual(s, { status: 'OK', pollMs: 1000, state: 'dfuDNBUSY' }, `poll ${i}`);
    await h.emu.sleep(1000);
  }
  assert.equal(await h.getState(), 'dfuDNBUSY');
  assert.equal(await h.abort(), 'stall'); // everything else STALLs, the wedge stays
  assert.equal(await h.upload(2, 16), 'stall');
  assert.equal(h.emu.state, 'dfuDNBUSY');
  assert.ok(h.emu.readMemory(0x08120000, 0x20000).every((b) => b === 0xff)); // the erase completed
  assert.equal(await h.clrStatus(), 'ok');
  assert.deepEqual(await h.getStatus(), { status: 'errUNKNOWN', pollMs: 0, state: 'dfuERROR' });
  assert.equal(await h.clrStatus(), 'ok');
  assert.deepEqual(await h.getStatus(), { status: 'OK', pollMs: 0, state: 'dfuIDLE' });
  assert.ok(h.emu.log.some((e) => e.quirk === 'h7-revV-bank2-erase-hang'));
  // a USB reset also clears it
  await h.dnload(0, ERASE(0x08140000));
  await h.getStatus();
  await h.emu.sleep(1000);
  assert.equal(h.emu.state, 'dfuDNBUSY');
  await h.dev.reset();
  assert.equal(h.emu.state, 'dfuIDLE');
  // the clean ROM erases bank 2 normally
  const clean = await openHost({ chip: 'stm32h743', bootloaderVersion: 0x90 });
  assert.equal((await clean.erase(0x08120000)).state, 'dfuDNLOAD_IDLE');
});

test('h7-revV-bank2-write-hang: the wedge after a bank-2 write instead', async () => {
  const h = await openHost({ chip: 'stm32h743', quirks: ['h7-revV-bank2-write-hang'] });
  assert.equal((await h.erase(0x08100000)).state, 'dfuDNLOAD_IDLE');
  await h.setAddress(0x08100000);
  const s = await h.write(2, pattern(1024));
  assert.deepEqual(s, { status: 'OK', pollMs: 1000, state: 'dfuDNBUSY' });
  assert.deepEqual(h.emu.readMemory(0x08100000, 1024), pattern(1024));
});

test('h7-clrstatus-outside-dfuerror: also while a normal erase runs (NAK, then errUNKNOWN)', async () => {
  const h = await openHost({ chip: 'stm32h743', quirks: ['h7-clrstatus-outside-dfuerror'] });
  await h.dnload(0, ERASE(0x08000000));
  await h.getStatus();
  assert.equal(await h.clrStatus(), 'ok');
  assert.deepEqual([h.emu.state, h.emu.status], ['dfuERROR', 'errUNKNOWN']);
  const clean = await openHost({ chip: 'stm32h743' });
  assert.equal(await clean.clrStatus(), 'stall');
});

test('l4-getstatus-stall-early: short bwPollTimeout, STALL while busy; dfu-util-style retries get through', async () => {
  const h = await openHost({ chip: 'stm32l476', quirks: ['l4-getstatus-stall-early'] });
  await h.setAddress(0x08000000);
  await h.dnload(2, pattern(2048)); // 256 double words × 81.69 µs → 21 ms
  const busy = await h.getStatus();
  assert.ok(busy !== 'stall');
  assert.deepEqual(busy, { status: 'OK', pollMs: 10, state: 'dfuDNBUSY' });
  let stalls = 0;
  let s;
  for (;;) {
    await h.emu.sleep(busy.pollMs);
    s = await h.getStatus();
    if (s !== 'stall') break;
    stalls++;
  }
  assert.equal(stalls, 1);
  assert.deepEqual(s, { status: 'OK', pollMs: 0, state: 'dfuDNLOAD_IDLE' });
  assert.equal(h.emu.log.filter((e) => e.quirk === 'l4-getstatus-stall-early').length, 1);
});

test('f4-mass-erase-polltimeout: bwPollTimeout 100 ms for a 32 s mass erase; an early poll waits (or times out)', async () => {
  const h = await openHost({ chip: 'stm32f405', quirks: ['f4-mass-erase-polltimeout'] });
  await h.dnload(0, [DFUSE_COMMAND.ERASE]);
  const busy = await h.getStatus();
  assert.ok(busy !== 'stall' && busy.pollMs === 100);
  await h.emu.sleep(100);
  assert.deepEqual(await h.getStatus(), { status: 'OK', pollMs: 0, state: 'dfuDNLOAD_IDLE' });
  assert.equal(h.emu.log.at(-1)!.nakMs, 31900);
  assert.equal(h.emu.clock.nowMs, 2 + 32000 + 1);
  const t = await openHost({ chip: 'stm32f405', quirks: ['f4-mass-erase-polltimeout'], nakTimeoutMs: 5000 });
  await t.dnload(0, [DFUSE_COMMAND.ERASE]);
  await t.getStatus();
  await t.emu.sleep(100);
  await assert.rejects(t.getStatus(), (e: unknown) => e instanceof TransportError && e.kind === 'timeout');
});

test('f74x-erase-polltimeout / f7-erase-polltimeout: erase reports 100 ms, write and set-address 5 ms', async () => {
  for (const [chip, quirk] of [
    ['stm32f746', 'f74x-erase-polltimeout'],
    ['stm32f767', 'f7-erase-polltimeout'],
  ] as const) {
    const h = await openHost({ chip, quirks: [quirk] });
    await h.dnload(0, ERASE(0x08040000)); // 256 KiB sector: 2000 ms
    const e = await h.getStatus();
    assert.ok(e !== 'stall' && e.pollMs === 100, chip);
    await h.emu.sleep(100);
    await h.getStatus(); // NAKs 1900 ms
    assert.equal(h.emu.log.at(-1)!.nakMs, 1900);
    await h.dnload(0, [DFUSE_COMMAND.SET_ADDRESS_POINTER, ...le32(0x08040000)]);
    assert.equal((await h.getStatus() as { pollMs: number }).pollMs, 5);
    await h.emu.sleep(5);
    await h.getStatus();
    await h.dnload(2, pattern(2048));
    assert.equal((await h.getStatus() as { pollMs: number }).pollMs, 5);
  }
});

test('f42x-dfu-bank2-erase-broken: a bank-2 erase in dual-bank mode reports OK and erases nothing', async () => {
  const h = await openHost({ chip: 'stm32f429', quirks: ['f42x-dfu-bank2-erase-broken'], flash: new Uint8Array(0x200000) });
  assert.equal(h.emu.chip.bankMode, 'dual');
  assert.equal((await h.erase(0x08100000)).status, 'OK');
  assert.equal(h.emu.readMemory(0x08100000, 1)[0], 0);
  assert.equal((await h.erase(0x08000000)).status, 'OK');
  assert.equal(h.emu.readMemory(0x08000000, 1)[0], 0xff);
});

test('f76x-bl93-bank2-erase-offset: erasing bank-2 sector i erases bank-2 sector i+4 (sector 12 → 16)', async () => {
  const h = await openHost({ chip: 'stm32f767', bankMode: 'dual', quirks: ['f76x-bl93-bank2-erase-offset'], flash: new Uint8Array(0x200000) });
  const b2 = h.emu.chip.sectors.filter((s) => s.bank === 2);
  assert.equal((await h.erase(b2[0]!.start)).status, 'OK');
  assert.equal(h.emu.readMemory(b2[0]!.start, 1)[0], 0); // not the one asked for
  assert.equal(h.emu.readMemory(b2[4]!.start, 1)[0], 0xff); // this one
  assert.match(h.emu.log.find((e) => e.op?.kind === 'erase')!.op!.note!, /bank 2 sector 16 erased/);
});

test('l47x-dfu-write-not-multiple-of-8: a > 256-byte write whose length is not a multiple of 8 loses its tail', async () => {
  const h = await openHost({ chip: 'stm32l476', partialUnit: 'keep', quirks: ['l47x-dfu-write-not-multiple-of-8'] });
  await h.setAddress(0x08000000);
  assert.equal((await h.write(2, pattern(300))).status, 'OK');
  assert.deepEqual(h.emu.readMemory(0x08000000, 296), pattern(300).subarray(0, 296));
  assert.deepEqual([...h.emu.readMemory(0x08000128, 4)], [0xff, 0xff, 0xff, 0xff]);
  await h.setAddress(0x08001000);
  assert.equal((await h.write(2, pattern(100))).status, 'OK'); // ≤ 256: unaffected
  assert.deepEqual(h.emu.readMemory(0x08001000, 100), pattern(100));
});

test('polltimeout-zero: bwPollTimeout 0 in every reply; polls answer dfuDNBUSY until the operation ends', async () => {
  const h = await openHost({ chip: 'stm32f405', quirks: ['polltimeout-zero'] });
  await h.dnload(0, ERASE(0x08000000));
  let polls = 0;
  let s;
  do {
    s = await h.getStatus();
    assert.ok(s !== 'stall');
    assert.equal(s.pollMs, 0);
    polls++;
  } while (s.state === 'dfuDNBUSY');
  assert.equal(s.state, 'dfuDNLOAD_IDLE');
  assert.equal(polls, 402); // 1 ms per poll over a 400 ms erase
});

test('leave-without-status: the device jumps on the zero-length DNLOAD; the GETSTATUS finds it gone', async () => {
  const h = await openHost({ chip: 'stm32f405', quirks: ['leave-without-status'] });
  assert.equal(await h.dnload(0, []), 'ok');
  assert.equal(h.emu.connected, false);
  assert.equal(h.emu.lastLeave!.address, 0x08000000);
  await assert.rejects(h.getStatus(), (e: unknown) => e instanceof TransportError && e.kind === 'disconnected');
});

test('no-dfu-functional-get-descriptor: GET_DESCRIPTOR(0x21) STALLs; the configuration descriptor still carries it', async () => {
  const emu = createRomEmulator({ chip: 'stm32h743', quirks: ['no-dfu-functional-get-descriptor'] });
  await emu.device.open();
  const r = await emu.device.controlTransferIn({ requestType: 'standard', recipient: 'device', request: USB_REQUEST.GET_DESCRIPTOR, value: USB_DESCRIPTOR_TYPE.DFU_FUNCTIONAL << 8, index: 0 }, 9);
  assert.equal(r.status, 'stall');
  assert.deepEqual([...emu.descriptors.configuration.subarray(-9)], [...emu.descriptors.functional]);
});

test('memory-access quirks of the profile: reserved RAM refuses DFU access', async () => {
  const h = await openHost({ chip: 'stm32h743', quirks: ['h7-bl-reserved-ram'] });
  assert.equal((await h.setAddress(0x20000000)).status, 'errTARGET');
  await h.clrStatus();
  assert.equal((await h.setAddress(0x200040ff)).status, 'errTARGET'); // last reserved byte
  await h.clrStatus();
  await h.setAddress(0x20004100);
  assert.equal((await h.write(2, pattern(32))).status, 'OK');
  // AXI SRAM below 0x24005000 is the ROM's too; above it is free
  assert.equal((await h.setAddress(0x24004ff0)).status, 'errTARGET');
  await h.clrStatus();
  assert.deepEqual(await h.read(0x24005000, 16), new Uint8Array(16));
  // without the quirk the emulator lets DFU use all RAM
  const clean = await openHost({ chip: 'stm32h743' });
  assert.equal((await clean.setAddress(0x20000000)).status, 'OK');
});

test("quirks: 'profile' picks the implemented quirks the profile lists for the bootloader version; unknown names are refused", () => {
  const v90 = createRomEmulator({ chip: 'stm32h743', bootloaderVersion: 0x90, quirks: 'profile' });
  assert.deepEqual([...v90.quirks], ['h7-revV-bank2-erase-hang', 'h7-bl9x-sram123-itcm-inaccessible', 'h7-bl-reserved-ram', 'h7-clrstatus-outside-dfuerror']);
  const v92 = createRomEmulator({ chip: 'stm32h743', bootloaderVersion: 0x92, quirks: 'profile' });
  assert.ok(!v92.quirks.includes('h7-revV-bank2-erase-hang'));
  assert.deepEqual([...createRomEmulator({ chip: 'stm32h743' }).quirks], []);
  const l4 = createRomEmulator({ chip: 'stm32l476', quirks: 'profile', bootloaderVersion: 0xa1 });
  assert.ok(l4.quirks.includes('l4-getstatus-stall-early') && l4.quirks.includes('l47x-dfu-write-not-multiple-of-8'));
  assert.throws(
    () => createRomEmulator({ chip: 'stm32h743', quirks: ['h7-rom-layout-reports-die-size'] }),
    (e: unknown) => e instanceof FwError && e.code === 'EMULATOR_QUIRK_UNKNOWN' && /no hook for quirk 'h7-rom-layout-reports-die-size'/.test(e.message),
  );
  // every hook has a description with a source
  for (const [name, text] of Object.entries(EMULATOR_QUIRKS)) assert.ok(text.length > 40, name);
});
