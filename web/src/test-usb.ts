/**
 * TEST ONLY, never part of dist/web: a `navigator.usb` whose one device is the STM32 ROM bootloader emulator
 * (src/emulator), for the browser tests. Bundled by `buildTestUsb` (scripts/build-web.ts) as a classic script
 * that Playwright injects with `addInitScript` before the page's own code runs; it acts only when the page URL
 * asks for it:
 *
 *   ?test-usb=stm32h745                  the device, a clean ROM of that part (erased flash)
 *   &test-usb-fail=none-selected         requestDevice rejects as a cancelled chooser (NotFoundError)
 *   &test-usb-fail=access-denied         open() rejects as Chromium does for a device bound to another driver
 *                                        on Windows, or without udev permission on Linux (SecurityError)
 *   &test-usb-fail=busy                  claimInterface() rejects as when another program holds it (NetworkError)
 *   &test-usb-disconnect-at=N            the device vanishes at its N-th USB request (a cut cable mid-flash)
 *
 * `window.__dfukitTestUsb.emulator` is the emulator, for reading the flash back after a flash.
 */
import type { DfuTransport, UsbControlTransferParameters } from '../../src/dfu/transport.ts';
import { createRomEmulator } from '../../src/emulator/index.ts';
import type { RomEmulator } from '../../src/emulator/types.ts';

type Failure = 'none-selected' | 'access-denied' | 'busy' | null;

/** A WebUSB `USBDevice` look-alike over the emulator's current device instance (a new one after each reconnect). */
class TestUsbDevice {
  readonly usbVersionMajor = 2;
  readonly usbVersionMinor = 0;
  readonly usbVersionSubminor = 0;
  readonly deviceClass = 0;
  readonly deviceSubclass = 0;
  readonly deviceProtocol = 0;

  constructor(
    private readonly emu: RomEmulator,
    private readonly fail: Failure,
  ) {}

  private get d(): DfuTransport {
    return this.emu.device;
  }

  get vendorId(): number {
    return this.d.vendorId;
  }
  get productId(): number {
    return this.d.productId;
  }
  get deviceVersionMajor(): number {
    return this.d.deviceVersionMajor;
  }
  get deviceVersionMinor(): number {
    return this.d.deviceVersionMinor;
  }
  get deviceVersionSubminor(): number {
    return this.d.deviceVersionSubminor;
  }
  get manufacturerName(): string | null | undefined {
    return this.d.manufacturerName;
  }
  get productName(): string | null | undefined {
    return this.d.productName;
  }
  get serialNumber(): string | null | undefined {
    return this.d.serialNumber;
  }
  get configuration(): DfuTransport['configuration'] {
    return this.d.configuration;
  }
  get configurations(): NonNullable<DfuTransport['configuration']>[] {
    return this.d.configuration !== undefined && this.d.configuration !== null ? [this.d.configuration] : [];
  }
  get opened(): boolean {
    return this.d.opened;
  }

  async open(): Promise<void> {
    if (this.fail === 'access-denied') throw new DOMException('Access denied.', 'SecurityError');
    return this.d.open();
  }
  close(): Promise<void> {
    return this.d.close();
  }
  selectConfiguration(v: number): Promise<void> {
    return this.d.selectConfiguration(v);
  }
  async claimInterface(n: number): Promise<void> {
    if (this.fail === 'busy') throw new DOMException('Unable to claim interface.', 'NetworkError');
    return this.d.claimInterface(n);
  }
  releaseInterface(n: number): Promise<void> {
    return this.d.releaseInterface(n);
  }
  selectAlternateInterface(n: number, alt: number): Promise<void> {
    return this.d.selectAlternateInterface(n, alt);
  }
  controlTransferIn(setup: UsbControlTransferParameters, length: number): ReturnType<DfuTransport['controlTransferIn']> {
    return this.d.controlTransferIn(setup, length);
  }
  controlTransferOut(setup: UsbControlTransferParameters, data?: BufferSource): ReturnType<DfuTransport['controlTransferOut']> {
    return this.d.controlTransferOut(setup, data);
  }
  reset(): Promise<void> {
    return this.d.reset();
  }
}

function install(part: string, fail: Failure, disconnectAt: number | undefined): void {
  // The host sleeps bwPollTimeout in real time; the emulator reports it 1000x shorter and, polled early, NAKs
  // until the operation ends on its virtual clock (as a ROM's EP0 does), so a test flash takes seconds, not minutes.
  const emulator = createRomEmulator({
    chip: part,
    pollTimeoutScale: 0.001,
    ...(disconnectAt !== undefined ? { faults: [{ kind: 'disconnect' as const, atRequest: disconnectAt }] } : {}),
  });
  const device = new TestUsbDevice(emulator, fail);
  let granted = false;
  const usb = {
    requestDevice: async (_options: unknown): Promise<TestUsbDevice> => {
      if (fail === 'none-selected') throw new DOMException('No device selected.', 'NotFoundError');
      granted = true;
      return device;
    },
    getDevices: async (): Promise<TestUsbDevice[]> => (granted ? [device] : []),
    addEventListener: (): void => undefined,
    removeEventListener: (): void => undefined,
  };
  Object.defineProperty(Navigator.prototype, 'usb', { configurable: true, get: () => usb });
  (window as unknown as { __dfukitTestUsb: unknown }).__dfukitTestUsb = { emulator, device, part };
}

const params = new URLSearchParams(location.search);
const part = params.get('test-usb');
const cut = Number(params.get('test-usb-disconnect-at') ?? NaN);
if (part !== null && part !== '') install(part, params.get('test-usb-fail') as Failure, Number.isInteger(cut) && cut > 0 ? cut : undefined);
