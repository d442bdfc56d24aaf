/**
 * A test double with the exact shape of WebUSB's `USBDevice` (https://wicg.github.io/webusb/#device-usage),
 * talking to the ROM emulator's raw USB port (`emu.raw`: 8-byte setup in, USB semantics out) the way a browser
 * talks to a device: the configuration and the interface names come from parsing the descriptor bytes the
 * device enumerated with; transfers need `open()`, interface requests a claimed interface; results are
 * `USBInTransferResult` / `USBOutTransferResult` objects; a STALL is a result status, a vanished device a
 * rejected promise.
 *
 * Two flavours of errors, as the two implementations dfukit runs on throw them:
 *  - `browser` (Chromium): DOMException `NotFoundError` "The device was disconnected.", `InvalidStateError`,
 *    `TimeoutError`; a STALLed IN transfer has `data: null`.
 *  - `node-usb` (usb@2 `WebUSBDevice`): plain `Error`s naming the libusb code (`controlTransferIn error: Error:
 *    LIBUSB_ERROR_NO_DEVICE`, `LIBUSB_TRANSFER_TIMED_OUT`); a STALLed IN transfer has no `data`.
 * After the emulator re-enumerates (`emu.reconnect()`), the old object stays dead, as a real `USBDevice` does;
 * `FakeWebUsb.getDevices()` hands out the new one.
 */
import { TransportError, type UsbConfiguration, type UsbControlTransferParameters } from '../../src/dfu/transport.ts';
import type { RomEmulator } from '../../src/emulator/index.ts';

export type DoubleFlavour = 'browser' | 'node-usb';

export interface DoubleOptions {
  readonly flavour?: DoubleFlavour;
  /** `missing`: alternates carry no interfaceName (as a device object read before open may), so the adapter must read the strings. */
  readonly interfaceNames?: 'present' | 'missing';
}

export class USBInTransferResult {
  constructor(
    readonly status: 'ok' | 'stall' | 'babble',
    readonly data: DataView | null = null,
  ) {}
}

export class USBOutTransferResult {
  constructor(
    readonly status: 'ok' | 'stall',
    readonly bytesWritten = 0,
  ) {}
}

const TYPE_BITS = { standard: 0, class: 1, vendor: 2 } as const;
const RECIPIENT_BITS = { device: 0, interface: 1, endpoint: 2, other: 3 } as const;

function le16(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8);
}

/** The configuration a browser builds from the descriptors: interfaces by number, their alternates in order. */
function parseConfiguration(config: Uint8Array, strings: readonly string[], names: 'present' | 'missing'): UsbConfiguration {
  const interfaces = new Map<number, { interfaceNumber: number; alternates: { alternateSetting: number; interfaceClass: number; interfaceSubclass: number; interfaceProtocol: number; interfaceName: string | null }[] }>();
  for (let o = 0; o + 2 <= config.length; ) {
    const len = config[o]!;
    if (config[o + 1] === 4) {
      const n = config[o + 2]!;
      const i = interfaces.get(n) ?? { interfaceNumber: n, alternates: [] };
      interfaces.set(n, i);
      const iInterface = config[o + 8]!;
      i.alternates.push({
        alternateSetting: config[o + 3]!,
        interfaceClass: config[o + 5]!,
        interfaceSubclass: config[o + 6]!,
        interfaceProtocol: config[o + 7]!,
        interfaceName: names === 'present' && iInterface !== 0 ? (strings[iInterface] ?? null) : null,
      });
    }
    o += len;
  }
  return { configurationValue: config[5]!, interfaces: [...interfaces.values()] };
}

export class WebUsbDeviceDouble {
  readonly usbVersionMajor: number;
  readonly usbVersionMinor: number;
  readonly usbVersionSubminor: number;
  readonly deviceClass: number;
  readonly deviceSubclass: number;
  readonly deviceProtocol: number;
  readonly vendorId: number;
  readonly productId: number;
  readonly deviceVersionMajor: number;
  readonly deviceVersionMinor: number;
  readonly deviceVersionSubminor: number;
  readonly manufacturerName: string | null;
  readonly productName: string | null;
  readonly serialNumber: string | null;
  readonly configurations: readonly UsbConfiguration[];
  readonly flavour: DoubleFlavour;
  private current: UsbConfiguration | null;
  private isOpen = false;
  private readonly claimed = new Set<number>();
  /** The emulator's device instance this object was enumerated as (a reconnect makes a new one). */
  private readonly instance: unknown;

  constructor(
    private readonly emu: RomEmulator,
    opts: DoubleOptions = {},
  ) {
    this.flavour = opts.flavour ?? 'browser';
    this.instance = emu.device;
    const d = emu.descriptors.device;
    const bcdUsb = le16(d, 2);
    const bcdDevice = le16(d, 12);
    // Chromium splits BCD as major = high byte, minor = high nibble of the low byte, subminor = low nibble.
    this.usbVersionMajor = bcdUsb >> 8;
    this.usbVersionMinor = (bcdUsb >> 4) & 0xf;
    this.usbVersionSubminor = bcdUsb & 0xf;
    this.deviceClass = d[4]!;
    this.deviceSubclass = d[5]!;
    this.deviceProtocol = d[6]!;
    this.vendorId = le16(d, 8);
    this.productId = le16(d, 10);
    this.deviceVersionMajor = bcdDevice >> 8;
    this.deviceVersionMinor = (bcdDevice >> 4) & 0xf;
    this.deviceVersionSubminor = bcdDevice & 0xf;
    const s = emu.descriptors.strings;
    this.manufacturerName = s[d[14]!] ?? null;
    this.productName = s[d[15]!] ?? null;
    this.serialNumber = s[d[16]!] ?? null;
    this.current = parseConfiguration(emu.descriptors.configuration, s, opts.interfaceNames ?? 'present');
    this.configurations = [this.current];
  }

  get configuration(): UsbConfiguration | null {
    return this.current;
  }

  get opened(): boolean {
    return this.isOpen && this.alive();
  }

  private alive(): boolean {
    return this.emu.device === this.instance && this.emu.connected;
  }

  private gone(op: string): Error {
    return this.flavour === 'browser' ? new DOMException('The device was disconnected.', 'NotFoundError') : new Error(`${op} error: Error: LIBUSB_ERROR_NO_DEVICE`);
  }

  private invalidState(op: string, what: string): Error {
    return this.flavour === 'browser' ? new DOMException(what, 'InvalidStateError') : new Error(`${op} error: invalid state`);
  }

  private check(op: string, needOpen = true): void {
    if (!this.alive()) throw this.gone(op);
    if (needOpen && !this.isOpen) throw this.invalidState(op, 'The device must be opened first.');
  }

  /** One transfer on the raw port, with the flavour's errors. */
  private raw(op: string, setup: UsbControlTransferParameters, dirIn: boolean, wLength: number, data?: Uint8Array): { status: 'ok' | 'stall'; data: Uint8Array } {
    if (setup.recipient === 'interface' && !this.claimed.has(setup.index & 0xff)) throw this.invalidState(op, 'The specified interface has not been claimed.');
    const bmRequestType = (dirIn ? 0x80 : 0) | (TYPE_BITS[setup.requestType] << 5) | RECIPIENT_BITS[setup.recipient];
    try {
      return this.emu.raw.control({ bmRequestType, bRequest: setup.request & 0xff, wValue: setup.value & 0xffff, wIndex: setup.index & 0xffff, wLength }, data);
    } catch (e) {
      if (e instanceof TransportError && e.kind === 'timeout') {
        throw this.flavour === 'browser' ? new DOMException('The transfer timed out.', 'TimeoutError') : new Error(`${op} error: Error: LIBUSB_TRANSFER_TIMED_OUT`);
      }
      if (e instanceof TransportError && e.kind === 'disconnected') throw this.gone(op);
      throw this.flavour === 'browser' ? new DOMException('A transfer error has occurred.', 'NetworkError') : new Error(`${op} error: Error: LIBUSB_ERROR_IO`);
    }
  }

  async open(): Promise<void> {
    this.check('open', false);
    this.isOpen = true;
  }

  async close(): Promise<void> {
    this.isOpen = false;
    this.claimed.clear();
  }

  async forget(): Promise<void> {
    await this.close();
  }

  async selectConfiguration(configurationValue: number): Promise<void> {
    this.check('selectConfiguration');
    const r = this.raw('selectConfiguration', { requestType: 'standard', recipient: 'device', request: 9, value: configurationValue, index: 0 }, false, 0);
    if (r.status !== 'ok') throw this.flavour === 'browser' ? new DOMException('Unable to set device configuration.', 'NetworkError') : new Error('selectConfiguration error: LIBUSB_ERROR_PIPE');
  }

  async claimInterface(interfaceNumber: number): Promise<void> {
    this.check('claimInterface');
    if (!this.current?.interfaces.some((i) => i.interfaceNumber === interfaceNumber)) {
      throw this.flavour === 'browser' ? new DOMException('The interface number provided is not supported by the device in its current configuration.', 'NotFoundError') : new Error('claimInterface error: interface not found');
    }
    this.claimed.add(interfaceNumber);
  }

  async releaseInterface(interfaceNumber: number): Promise<void> {
    this.check('releaseInterface');
    this.claimed.delete(interfaceNumber);
  }

  async selectAlternateInterface(interfaceNumber: number, alternateSetting: number): Promise<void> {
    this.check('selectAlternateInterface');
    if (!this.claimed.has(interfaceNumber)) throw this.invalidState('selectAlternateInterface', 'The specified interface has not been claimed.');
    const alts = this.current!.interfaces.find((i) => i.interfaceNumber === interfaceNumber)!.alternates;
    if (!alts.some((a) => a.alternateSetting === alternateSetting)) {
      throw this.flavour === 'browser' ? new DOMException('The alternate setting provided is not supported by the device in its current configuration.', 'NotFoundError') : new Error('selectAlternateInterface error: LIBUSB_ERROR_NOT_FOUND');
    }
    const r = this.raw('selectAlternateInterface', { requestType: 'standard', recipient: 'interface', request: 11, value: alternateSetting, index: interfaceNumber }, false, 0);
    if (r.status !== 'ok') throw this.flavour === 'browser' ? new DOMException('Unable to set device interface.', 'NetworkError') : new Error('selectAlternateInterface error: LIBUSB_ERROR_PIPE');
  }

  async controlTransferIn(setup: UsbControlTransferParameters, length: number): Promise<USBInTransferResult | { status: 'stall' }> {
    this.check('controlTransferIn');
    const r = this.raw('controlTransferIn', setup, true, length);
    if (r.status === 'stall') return this.flavour === 'browser' ? new USBInTransferResult('stall') : { status: 'stall' };
    const buf = new ArrayBuffer(r.data.length);
    new Uint8Array(buf).set(r.data);
    return new USBInTransferResult('ok', new DataView(buf));
  }

  async controlTransferOut(setup: UsbControlTransferParameters, data?: BufferSource): Promise<USBOutTransferResult> {
    this.check('controlTransferOut');
    const bytes = data === undefined ? new Uint8Array(0) : data instanceof ArrayBuffer ? new Uint8Array(data.slice(0)) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    const r = this.raw('controlTransferOut', setup, false, bytes.length, bytes);
    return new USBOutTransferResult(r.status, r.status === 'ok' ? bytes.length : 0);
  }

  async reset(): Promise<void> {
    this.check('reset');
    this.emu.raw.reset();
  }

  async clearHalt(): Promise<void> {
    throw new DOMException('The device has no such endpoint.', 'NotFoundError');
  }
  async transferIn(): Promise<never> {
    throw new DOMException('The device has no such endpoint.', 'NotFoundError');
  }
  async transferOut(): Promise<never> {
    throw new DOMException('The device has no such endpoint.', 'NotFoundError');
  }
  async isochronousTransferIn(): Promise<never> {
    throw new DOMException('The device has no such endpoint.', 'NotFoundError');
  }
  async isochronousTransferOut(): Promise<never> {
    throw new DOMException('The device has no such endpoint.', 'NotFoundError');
  }
}

/** `navigator.usb` over a set of emulators: `getDevices()` lists the connected ones, re-enumerated ones as new objects. */
export class FakeWebUsb {
  private readonly cache = new Map<RomEmulator, { instance: unknown; device: WebUsbDeviceDouble }>();
  constructor(
    readonly emulators: readonly RomEmulator[],
    private readonly opts: DoubleOptions = {},
  ) {}

  async getDevices(): Promise<WebUsbDeviceDouble[]> {
    const out: WebUsbDeviceDouble[] = [];
    for (const emu of this.emulators) {
      if (!emu.connected) continue;
      let c = this.cache.get(emu);
      if (c === undefined || c.instance !== emu.device) {
        c = { instance: emu.device, device: new WebUsbDeviceDouble(emu, this.opts) };
        this.cache.set(emu, c);
      }
      out.push(c.device);
    }
    return out;
  }
}
