/**
 * USB identity: descriptors read with standard GET_DESCRIPTOR requests (as dfu-util, pyusb and a USB/IP
 * client read them) parse, and match the ROM captures (stm32f4discovery.lsusb: wTotalLength 54 for 4 alts,
 * bmAttributes 0xC0, MaxPower 100 mA, functional descriptor 09 21 0b ff 00 00 08 1a 01).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { USB_DESCRIPTOR_TYPE, USB_REQUEST } from '../../src/dfu/constants.ts';
import type { DfuTransport } from '../../src/dfu/transport.ts';
import { createRomEmulator } from '../../src/emulator/index.ts';
import { listChips, resolveChip } from '../../src/layout/chips.ts';
import { parseLayoutString } from '../../src/layout/layout-string.ts';

async function getDescriptor(dev: DfuTransport, type: number, index: number, length = 255, langid = 0): Promise<Uint8Array | 'stall'> {
  const r = await dev.controlTransferIn({ requestType: 'standard', recipient: 'device', request: USB_REQUEST.GET_DESCRIPTOR, value: (type << 8) | index, index: langid }, length);
  if (r.status !== 'ok') return 'stall';
  return new Uint8Array(r.data!.buffer, r.data!.byteOffset, r.data!.byteLength);
}

async function getString(dev: DfuTransport, index: number): Promise<string> {
  const b = await getDescriptor(dev, USB_DESCRIPTOR_TYPE.STRING, index, 255, 0x0409);
  assert.ok(b !== 'stall');
  assert.equal(b[0], b.length);
  assert.equal(b[1], USB_DESCRIPTOR_TYPE.STRING);
  let s = '';
  for (let i = 2; i < b.length; i += 2) s += String.fromCharCode(b[i]! | (b[i + 1]! << 8));
  return s;
}

interface ParsedConfig {
  wTotalLength: number;
  bNumInterfaces: number;
  bConfigurationValue: number;
  bmAttributes: number;
  bMaxPower: number;
  alts: { bInterfaceNumber: number; bAlternateSetting: number; class: number; subclass: number; protocol: number; iInterface: number; extra: Uint8Array[] }[];
  extra: Uint8Array[];
}

/** Parses a configuration descriptor the way libusb does: class-specific descriptors go to the preceding interface's `extra`. */
function parseConfig(b: Uint8Array): ParsedConfig {
  assert.equal(b[1], USB_DESCRIPTOR_TYPE.CONFIGURATION);
  const cfg: ParsedConfig = { wTotalLength: b[2]! | (b[3]! << 8), bNumInterfaces: b[4]!, bConfigurationValue: b[5]!, bmAttributes: b[7]!, bMaxPower: b[8]!, alts: [], extra: [] };
  let off = b[0]!;
  while (off < b.length) {
    const len = b[off]!;
    assert.ok(len >= 2 && off + len <= b.length, `descriptor at ${off} overruns`);
    const d = b.subarray(off, off + len);
    if (d[1] === USB_DESCRIPTOR_TYPE.INTERFACE) {
      assert.equal(len, 9);
      cfg.alts.push({ bInterfaceNumber: d[2]!, bAlternateSetting: d[3]!, class: d[5]!, subclass: d[6]!, protocol: d[7]!, iInterface: d[8]!, extra: [] });
    } else if (cfg.alts.length > 0) cfg.alts[cfg.alts.length - 1]!.extra.push(d);
    else cfg.extra.push(d);
    off += len;
  }
  return cfg;
}

async function opened(chip: string, opts: Record<string, unknown> = {}) {
  const emu = createRomEmulator({ chip, ...opts });
  await emu.device.open();
  return emu;
}

test('F405: device descriptor as the F4 ROM captures show it', async () => {
  const emu = await opened('stm32f405');
  const d = await getDescriptor(emu.device, USB_DESCRIPTOR_TYPE.DEVICE, 0, 18);
  assert.ok(d !== 'stall');
  assert.deepEqual([...d], [18, 1, 0x00, 0x01, 0, 0, 0, 64, 0x83, 0x04, 0x11, 0xdf, 0x00, 0x22, 1, 2, 3, 1]);
  assert.equal(await getString(emu.device, 1), 'STMicroelectronics');
  assert.equal(await getString(emu.device, 2), 'STM32  BOOTLOADER');
  assert.match(await getString(emu.device, 3), /^[0-9A-F]{12}$/);
  // string 0: LANGID list with US English only
  assert.deepEqual([...((await getDescriptor(emu.device, USB_DESCRIPTOR_TYPE.STRING, 0)) as Uint8Array)], [4, 3, 0x09, 0x04]);
  // a short read returns the first bytes only (hosts read 8, then 18)
  assert.deepEqual([...((await getDescriptor(emu.device, USB_DESCRIPTOR_TYPE.DEVICE, 0, 8)) as Uint8Array)], [18, 1, 0x00, 0x01, 0, 0, 0, 64]);
  // WebUSB view
  assert.deepEqual([emu.device.vendorId, emu.device.productId], [0x0483, 0xdf11]);
  assert.deepEqual([emu.device.deviceVersionMajor, emu.device.deviceVersionMinor, emu.device.deviceVersionSubminor], [0x22, 0, 0]);
  assert.equal(emu.device.manufacturerName, 'STMicroelectronics');
  assert.equal(emu.device.productName, 'STM32  BOOTLOADER');
  assert.equal(emu.device.serialNumber, emu.descriptors.strings[3]);
});

test('F405: configuration descriptor bytes parse; one DFU interface, one alt per profile alt; functional descriptor after the last alt', async () => {
  const emu = await opened('stm32f405');
  const head = await getDescriptor(emu.device, USB_DESCRIPTOR_TYPE.CONFIGURATION, 0, 9);
  assert.ok(head !== 'stall');
  const total = head[2]! | (head[3]! << 8);
  assert.equal(total, 54); // as stm32f4discovery.lsusb
  const full = await getDescriptor(emu.device, USB_DESCRIPTOR_TYPE.CONFIGURATION, 0, total);
  assert.ok(full !== 'stall');
  assert.equal(full.length, total);
  const cfg = parseConfig(full);
  assert.deepEqual([cfg.bNumInterfaces, cfg.bConfigurationValue, cfg.bmAttributes, cfg.bMaxPower], [1, 1, 0xc0, 50]);
  assert.deepEqual(
    cfg.alts.map((a) => [a.bInterfaceNumber, a.bAlternateSetting, a.class, a.subclass, a.protocol, a.iInterface]),
    [
      [0, 0, 0xfe, 1, 2, 4],
      [0, 1, 0xfe, 1, 2, 5],
      [0, 2, 0xfe, 1, 2, 6],
      [0, 3, 0xfe, 1, 2, 7],
    ],
  );
  assert.deepEqual(cfg.alts.slice(0, 3).map((a) => a.extra.length), [0, 0, 0]);
  assert.deepEqual([...cfg.alts[3]!.extra[0]!], [0x09, 0x21, 0x0b, 0xff, 0x00, 0x00, 0x08, 0x1a, 0x01]);
});

test('DFU functional descriptor: bmAttributes 0x0B, wDetachTimeOut 255, wTransferSize per profile, bcdDFUVersion 0x011A', async () => {
  for (const [chip, size] of [
    ['stm32f405', 2048],
    ['stm32f767', 2048],
    ['stm32h743', 1024],
    ['stm32g474', 1024],
  ] as const) {
    const emu = await opened(chip);
    const f = await getDescriptor(emu.device, USB_DESCRIPTOR_TYPE.DFU_FUNCTIONAL, 0, 9);
    assert.ok(f !== 'stall');
    assert.equal(f[0], 9);
    assert.equal(f[1], 0x21);
    assert.equal(f[2], 0x0b, 'canDnload | canUpload | willDetach, manifestation intolerant');
    assert.equal(f[3]! | (f[4]! << 8), 255);
    assert.equal(f[5]! | (f[6]! << 8), size, chip);
    assert.equal(f[7]! | (f[8]! << 8), 0x011a);
    assert.deepEqual([...emu.descriptors.functional], [...f]);
  }
});

test('every profile: iInterface strings are the profile layout strings, alt by alt; they parse', async () => {
  for (const c of listChips()) {
    const chip = resolveChip(c.name);
    const emu = await opened(c.name);
    const cfgBytes = await getDescriptor(emu.device, USB_DESCRIPTOR_TYPE.CONFIGURATION, 0, 1024);
    assert.ok(cfgBytes !== 'stall');
    const cfg = parseConfig(cfgBytes);
    assert.equal(cfg.alts.length, chip.dfu.alts.length, c.name);
    assert.equal(cfg.wTotalLength, 9 + 9 * chip.dfu.alts.length + 9);
    for (const a of cfg.alts) {
      const want = chip.dfu.alts.find((x) => x.alt === a.bAlternateSetting)!.layout;
      assert.equal(await getString(emu.device, a.iInterface), want, `${c.name} alt ${a.bAlternateSetting}`);
      parseLayoutString(want);
    }
    // the WebUSB configuration property says the same
    const alts = emu.device.configuration!.interfaces[0]!.alternates;
    assert.deepEqual(
      alts.map((a) => a.interfaceName),
      [...chip.dfu.alts].sort((x, y) => x.alt - y.alt).map((a) => a.layout),
    );
    assert.ok(alts.every((a) => a.interfaceClass === 0xfe && a.interfaceSubclass === 1 && a.interfaceProtocol === 2));
    assert.equal(emu.device.configuration!.configurationValue, 1);
  }
});

test('H7 generation: bcdDevice 0x0200, bcdUSB 2.00, product "DFU in FS Mode" (H750 dmesg capture)', async () => {
  const emu = await opened('stm32h750');
  const d = (await getDescriptor(emu.device, USB_DESCRIPTOR_TYPE.DEVICE, 0, 18)) as Uint8Array;
  assert.deepEqual([d[2], d[3], d[12], d[13]], [0x00, 0x02, 0x00, 0x02]);
  assert.equal(await getString(emu.device, 2), 'DFU in FS Mode');
  assert.deepEqual([emu.device.deviceVersionMajor, emu.device.deviceVersionMinor], [2, 0]);
});

test('F4 bootloader V3.0: bcdDevice 0x2100 and the g-typed alt strings of the 2012 F4 Discovery capture', async () => {
  const emu = await opened('stm32f405', { bootloaderVersion: 0x30 });
  assert.equal(emu.descriptors.bcdDevice, 0x2100);
  assert.deepEqual(emu.descriptors.strings.slice(4), [
    '@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg',
    '@Option Bytes  /0x1FFFC000/01*016 g',
    '@OTP Memory /0x1FFF7800/01*512 g,01*016 g',
    '@Device Feature/0xFFFF0000/01*004 g',
  ]);
  const v = createRomEmulator({ chip: 'stm32f405', bootloaderVersion: 'V9.1' });
  assert.equal(v.bootloaderVersion, 0x91);
  assert.equal(v.descriptors.strings[5], '@Option Bytes  /0x1FFFC000/01*016 e');
  assert.throws(() => createRomEmulator({ chip: 'stm32f405', bootloaderVersion: 0x55 }), /no bootloader 0x55 \(known: 0x30 V3.0, 0x31 V3.1, 0x90 V9.0, 0x91 V9.1\)/);
});

test('identity overrides: serial number, product, bcdDevice', async () => {
  const emu = await opened('stm32f411', { serialNumber: '3377337E3539', productName: 'X', bcdDevice: 0x2201 });
  assert.equal(await getString(emu.device, 3), '3377337E3539');
  assert.equal(emu.device.serialNumber, '3377337E3539');
  assert.equal(await getString(emu.device, 2), 'X');
  assert.deepEqual([emu.device.deviceVersionMajor, emu.device.deviceVersionMinor, emu.device.deviceVersionSubminor], [0x22, 0, 1]);
  // default serials are stable and differ by part
  assert.equal(createRomEmulator({ chip: 'stm32f411' }).descriptors.strings[3], createRomEmulator({ chip: 'stm32f411' }).descriptors.strings[3]);
  assert.notEqual(createRomEmulator({ chip: 'stm32f411' }).descriptors.strings[3], createRomEmulator({ chip: 'stm32f405' }).descriptors.strings[3]);
});

test('standard requests: GET_STATUS, GET_CONFIGURATION, SET_CONFIGURATION, GET/SET_INTERFACE, unknown descriptors STALL', async () => {
  const emu = await opened('stm32f405');
  const dev = emu.device;
  const std = { requestType: 'standard' as const, recipient: 'device' as const };
  const inb = async (request: number, value: number, index: number, length: number) => {
    const r = await dev.controlTransferIn({ ...std, request, value, index }, length);
    return r.status === 'ok' ? [...new Uint8Array(r.data!.buffer)] : 'stall';
  };
  assert.deepEqual(await inb(USB_REQUEST.GET_STATUS, 0, 0, 2), [1, 0]); // self powered (F4 Discovery: Device Status 0x0001)
  assert.deepEqual(await inb(USB_REQUEST.GET_CONFIGURATION, 0, 0, 1), [1]);
  assert.equal(await getDescriptor(dev, USB_DESCRIPTOR_TYPE.DEVICE_QUALIFIER, 0), 'stall'); // full-speed only
  assert.equal(await getDescriptor(dev, USB_DESCRIPTOR_TYPE.STRING, 9), 'stall');
  assert.equal(await getDescriptor(dev, USB_DESCRIPTOR_TYPE.CONFIGURATION, 1), 'stall');
  await dev.selectConfiguration(1);
  await assert.rejects(dev.selectConfiguration(2), /no configuration 2/);
  await dev.claimInterface(0);
  await dev.selectAlternateInterface(0, 2);
  assert.equal(emu.alt, 2);
  const gi = await dev.controlTransferIn({ requestType: 'standard', recipient: 'interface', request: USB_REQUEST.GET_INTERFACE, value: 0, index: 0 }, 1);
  assert.deepEqual([...new Uint8Array(gi.data!.buffer)], [2]);
  await assert.rejects(dev.selectAlternateInterface(0, 4), /no alternate setting 4/);
  // raw SET_INTERFACE to a missing alt STALLs (what a USB/IP client would see)
  assert.equal(emu.raw.control({ bmRequestType: 0x01, bRequest: USB_REQUEST.SET_INTERFACE, wValue: 7, wIndex: 0, wLength: 0 }).status, 'stall');
  assert.equal(emu.alt, 2);
  // standard STALLs do not touch the DFU state
  assert.equal(emu.state, 'dfuIDLE');
  assert.deepEqual(
    emu.log.map((e) => e.request),
    ['GET_STATUS', 'GET_CONFIGURATION', 'GET_DESCRIPTOR', 'GET_DESCRIPTOR', 'GET_DESCRIPTOR', 'SET_CONFIGURATION', 'SET_CONFIGURATION', 'SET_INTERFACE', 'GET_INTERFACE', 'SET_INTERFACE'],
  );
});

test('WebUSB rules: transfers need open(), class requests need the claimed interface', async () => {
  const emu = createRomEmulator({ chip: 'stm32f405' });
  const dev = emu.device;
  const getStatus = () => dev.controlTransferIn({ requestType: 'class', recipient: 'interface', request: 3, value: 0, index: 0 }, 6);
  await assert.rejects(getStatus(), /not open/);
  await dev.open();
  assert.equal(dev.opened, true);
  await assert.rejects(getStatus(), /interface 0 is not claimed/);
  await assert.rejects(dev.claimInterface(1), /no interface 1/);
  await dev.claimInterface(0);
  assert.equal((await getStatus()).status, 'ok');
  await dev.releaseInterface(0);
  await assert.rejects(getStatus(), /not claimed/);
  await dev.close();
  assert.equal(dev.opened, false);
});
