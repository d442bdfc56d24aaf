/**
 * `dfukit list` and the real-device plumbing behind `--device usb`:
 *  - on this machine (no /sys/bus/usb) the command says so and exits 4; with the `usb` package blocked at
 *    import (a loader hook, as if it were not installed) it names the package and exits 4;
 *  - `--device emulator:...` lists emulated devices: identity, DFU descriptor, alternate settings, flash map,
 *    matching profiles; `--json` validates against the published schema;
 *  - the node-usb path (src/node/usb-devices.ts, device-select.ts) end to end with a fake `usb` module whose
 *    `WebUSBDevice`s are the USBDevice double over emulators: selectors, unopenable devices, identification,
 *    a flash, and re-enumeration by serial number.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, test } from 'node:test';
import { ListReportSchema } from '../../src/cli/render/list.ts';
import { executePlan } from '../../src/dfu/operations.ts';
import { prepareSession } from '../../src/dfu/quirks-identify.ts';
import { createRomEmulator, type RomEmulator } from '../../src/emulator/index.ts';
import { MemoryImage } from '../../src/image/memory-image.ts';
import { selectDevices, selectOne } from '../../src/node/device-select.ts';
import { loadUsbModule, scanUsbDfuDevices, usbSubsystemProblem, type NodeUsbDevice } from '../../src/node/usb-devices.ts';
import { createFlashPlan } from '../../src/plan/plan.ts';
import { firmware } from '../dfu/helpers.ts';
import { WebUsbDeviceDouble } from '../dfu/webusb-double.ts';
import { dfukit } from '../helpers/cli.ts';
import { ROOT } from '../helpers/corpus.ts';

const dir = mkdtempSync(join(tmpdir(), 'dfukit-cli-list-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const hasUsb = existsSync('/sys/bus/usb');

describe('dfukit list: no USB here, no usb package', () => {
  test('on a machine without a USB subsystem: a clear message, exit 4', () => {
    const r = dfukit(['list']);
    if (hasUsb) {
      assert.equal(r.status, 0, r.stderr);
      return;
    }
    assert.equal(r.status, 4);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^dfukit: error: --device usb: this machine has no USB subsystem \(\/sys\/bus\/usb does not exist: a container or virtual machine without USB passthrough\?\), so no USB device can be seen here; use --device emulator:PART to work with the in-process emulator \[DFU_NOT_AVAILABLE\]\n$/);
    assert.equal(dfukit(['flash', 'x.bin@0x08000000', '--device', 'usb']).status, 3, 'input errors come first');
  });

  test('without the `usb` package: the message names it and how to install it, exit 4', () => {
    // A loader hook that makes `import('usb')` fail as it does when the optional dependency is not installed.
    const hooks = join(dir, 'no-usb-hooks.mjs');
    writeFileSync(hooks, `export async function resolve(specifier, context, next) {\n  if (specifier === 'usb') { const e = new Error("Cannot find package 'usb'"); e.code = 'ERR_MODULE_NOT_FOUND'; throw e; }\n  return next(specifier, context);\n}\n`);
    const register = join(dir, 'no-usb.mjs');
    writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
    const r = spawnSync(process.execPath, ['--import', pathToFileURL(register).href, join(ROOT, 'bin', 'dfukit.js'), 'list'], { encoding: 'utf8', cwd: dir });
    assert.equal(r.status, 4, r.stderr);
    assert.match(r.stderr, /--device usb needs the npm package 'usb' \(node-usb 2\.x\), which is not installed: run `npm install usb@\^2\.18`.*\[DFU_NOT_AVAILABLE\]/);
  });

  test('library: the same two failures, and no subsystem check off Linux', async () => {
    const missing = Object.assign(new Error("Cannot find package 'usb'"), { code: 'ERR_MODULE_NOT_FOUND' });
    await assert.rejects(loadUsbModule(() => Promise.reject(missing)), (e: unknown) => (e as { code?: string }).code === 'DFU_NOT_AVAILABLE' && /npm install usb@\^2\.18/.test((e as Error).message));
    await assert.rejects(loadUsbModule(() => Promise.reject(new Error('No native build was found for platform=linux'))), /is installed but does not load \(No native build/);
    assert.match(usbSubsystemProblem('linux', () => false)!, /no USB subsystem/);
    assert.equal(usbSubsystemProblem('linux', () => true), undefined);
    assert.equal(usbSubsystemProblem('darwin', () => false), undefined);
    // The real package loads here (optional dependency installed): getDeviceList and WebUSBDevice are there.
    const real = await loadUsbModule();
    assert.equal(typeof real.getDeviceList, 'function');
  });
});

describe('dfukit list --device emulator:...', () => {
  test('two emulated F722 boards: identity, DFU descriptor, alternate settings, flash map, the profile', () => {
    const r = dfukit(['list', '--device', 'emulator:stm32f722,serials=A+B']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^2 DFU device\(s\)\n\n\[1\] 0483:df11 {2}serial A {2}bcdDevice 0x2200 {2}"STMicroelectronics" "STM32 {2}BOOTLOADER" {2}\(emulator\)\n/);
    assert.match(r.stdout, /\n {4}dfu {4}DfuSe \(bcdDFUVersion 0x011A\), wTransferSize 2048, download, upload, will-detach, manifestation-intolerant, detach timeout 255 ms\n/);
    assert.match(r.stdout, /\n {4}alt 0 {2}"@Internal Flash {2}\/0x08000000\/04\*016Kg,01\*64Kg,03\*128Kg"\n {11}0x08000000\.\.0x08010000 {2}4 x 16 KiB 'g' read\/erase\/write\n {11}0x08010000\.\.0x08020000 {2}1 x 64 KiB 'g' read\/erase\/write\n {11}0x08020000\.\.0x08080000 {2}3 x 128 KiB 'g' read\/erase\/write\n/);
    assert.match(r.stdout, /\n {4}alt 2 {2}"@OTP Memory \/0x1FF07800\/01\*528e"\n/);
    assert.match(r.stdout, /\n {4}flash {2}alt 0: 512 KiB in 8 sector\(s\)\n {4}chip {3}stm32f722\n {11}STM32F722xE \(stm32f722\) exact\n/);
    assert.match(r.stdout, /\n\[2\] 0483:df11 {2}serial B /);
  });

  test('H743/H745/H750 strings: the candidates are listed, flash would need --chip', () => {
    const r = dfukit(['list', '--device', 'emulator:stm32h745']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /chip {3}one of stm32h743, stm32h745, stm32h750: the DFU interface cannot tell them apart \(flash and erase need --chip\)/);
    assert.match(r.stdout, /STM32H750xB \(stm32h750\) h750-rom-layout-reports-2m/);
    writeFileSync(join(dir, 'app.bin'), firmware(0x08000000, 4096));
    const anon = dfukit(['flash', 'app.bin@0x08000000', '--device', 'emulator:stm32h745,anonymous'], { cwd: dir });
    assert.equal(anon.status, 2);
    assert.match(anon.stderr, /several chip profiles fit this device's layout strings: stm32h743, stm32h745, stm32h750;.*\[CHIP_AMBIGUOUS\]/);
    const named = dfukit(['flash', 'app.bin@0x08000000', '--device', 'emulator:stm32h745,anonymous', '--chip', 'stm32h745'], { cwd: dir });
    assert.equal(named.status, 0, named.stderr);
  });

  test('--json matches schemas/list-report.schema.json; --serial selects', () => {
    const r = dfukit(['list', '--device', 'emulator:stm32f767,serials=X+Y,bank=dual', '--serial', 'Y', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const report = ListReportSchema.parse(JSON.parse(r.stdout));
    assert.equal(report.devices.length, 1);
    const d = report.devices[0]!;
    assert.deepEqual([d.serial, d.vendorId, d.productId, d.bcdDevice, d.dfu?.transferSize, d.dfu?.version], ['Y', '0483', 'df11', '0x2200', 2048, '0x011A']);
    assert.deepEqual(d.alts.map((a) => a.kind), ['flash', 'option-bytes', 'otp', 'device-feature']);
    assert.deepEqual(d.flash?.segments.map((s) => [s.sectorCount, s.sectorSize]), [[4, 0x8000], [1, 0x20000], [7, 0x40000]], 'the single-bank map the ROM reports in dual-bank mode too');
    assert.equal(d.chips.identified, 'stm32f767');
    const dual = d.chips.matches.find((m) => m.bankMode === 'dual' && m.chip === 'STM32F767xI')!;
    assert.deepEqual(dual.differences.map((x) => x.quirk), ['f76x-dual-bank-rom-reports-single-map']);
  });
});

/** A fake `usb` module: legacy devices on bus 1 whose WebUSBDevice is the USBDevice double (node-usb flavour) over an emulator. */
function fakeUsb(emus: RomEmulator[], locked: { vid: number; pid: number; port: number }[] = []): () => Promise<unknown> {
  const legacy = (): NodeUsbDevice[] => [
    ...emus.filter((e) => e.connected).map((e, i) => ({ busNumber: 1, deviceAddress: 10 + i, portNumbers: [2, i + 1], deviceDescriptor: { idVendor: 0x0483, idProduct: 0xdf11, bcdDevice: e.descriptors.bcdDevice }, timeout: 1000, emu: e })),
    ...locked.map((l) => ({ busNumber: 1, deviceAddress: 40, portNumbers: [l.port], deviceDescriptor: { idVendor: l.vid, idProduct: l.pid, bcdDevice: 0x2200 }, timeout: 1000, locked: true })),
  ];
  const mod = {
    getDeviceList: legacy,
    WebUSBDevice: {
      createInstance: async (d: NodeUsbDevice & { emu?: RomEmulator; locked?: boolean }) => {
        if (d.locked === true) throw new Error('initialize error: LIBUSB_ERROR_ACCESS');
        assert.equal(d.timeout, 5000, 'the libusb timeout is set to 5 s before use');
        return new WebUsbDeviceDouble(d.emu!, { flavour: 'node-usb' });
      },
    },
  };
  return async () => mod;
}

describe('--device usb through node-usb (fake usb module, USBDevice doubles)', () => {
  const noProblem = (): undefined => undefined;

  test('scan: DFU devices with their port path; selectors; a device without permission is reported with a hint', async () => {
    const a = createRomEmulator({ chip: 'stm32f405', serialNumber: 'AAA' });
    const b = createRomEmulator({ chip: 'stm32l476', serialNumber: 'BBB' });
    const importer = fakeUsb([a, b], [{ vid: 0x0483, pid: 0xdf11, port: 7 }]);
    const scan = await scanUsbDfuDevices({}, { importer, subsystemProblem: noProblem });
    assert.deepEqual(scan.devices.map((d) => [d.serial, d.path]), [['AAA', '1-2.1'], ['BBB', '1-2.2']]);
    assert.equal(scan.unopenable.length, 1);
    assert.match(scan.unopenable[0]!.hint, /^no permission to open it: on Linux add a udev rule, e\.g\. SUBSYSTEM=="usb", ATTR\{idVendor\}=="0483", ATTR\{idProduct\}=="df11", MODE="0666"$/);
    assert.deepEqual((await scanUsbDfuDevices({ path: '1-2.2' }, { importer, subsystemProblem: noProblem })).devices.map((d) => d.serial), ['BBB']);
    assert.deepEqual((await scanUsbDfuDevices({ serial: 'AAA' }, { importer, subsystemProblem: noProblem })).devices.map((d) => d.path), ['1-2.1']);
    await assert.rejects(selectOne('usb', {}, { importer, subsystemProblem: noProblem }), /2 DFU devices match: serial AAA at 1-2\.1, serial BBB at 1-2\.2; pick one with --serial or --path/);
    await assert.rejects(selectOne('usb', { serial: 'ZZZ' }, { importer, subsystemProblem: noProblem }), /no DFU device found with serial ZZZ; seen but not opened: 1-7 \(0483:df11\): no permission/);
  });

  test('identify, flash and verify a board through node-usb; after a reset it is found again by its serial number', async () => {
    const emu = createRomEmulator({ chip: 'stm32l476', serialNumber: 'L4-1' });
    const importer = fakeUsb([emu]);
    const h = await selectOne('usb', { serial: 'L4-1' }, { importer, subsystemProblem: noProblem });
    assert.equal(h.source, 'usb');
    assert.equal(h.description, 'USB 1-2.1 (0483:df11, serial L4-1)');
    const p = await prepareSession(h.transport, { clock: { now: () => emu.clock.nowMs, sleep: (ms) => emu.sleep(ms) } });
    assert.equal(p.profile.displayName, 'STM32L476xG');
    const image = new MemoryImage();
    image.add(0x08000000, firmware(0x08000000, 6000), 'app');
    const r = await executePlan(p.session, createFlashPlan(image, p.profile, { transferSize: p.session.dfuse.transferSize }));
    assert.equal(r.bytesVerified, 6000);
    // The device resets (option-byte write, unprotect) and enumerates again: reopen() polls for the same serial.
    emu.reconnect();
    const old = h.transport;
    const t = await h.reopen(2000);
    assert.notEqual(t, old);
    assert.equal(t.serialNumber, 'L4-1');
    const again = await prepareSession(t, { clock: { now: () => emu.clock.nowMs, sleep: (ms) => emu.sleep(ms) } });
    assert.equal(again.profile.displayName, 'STM32L476xG');
    const bus = [createRomEmulator({ chip: 'stm32f405', serialNumber: 'GONE' })];
    const h2 = (await selectDevices('usb', {}, { importer: fakeUsb(bus), subsystemProblem: noProblem })).handles[0]!;
    bus.length = 0; // it reset into its application and never came back in DFU mode
    await assert.rejects(h2.reopen(1000), /the device with serial GONE did not come back in DFU mode within 1 s after its reset/);
  });
});
