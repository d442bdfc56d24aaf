/**
 * A WebUSB `USBDevice` (https://wicg.github.io/webusb/#device-usage) as a `DfuTransport`: the one adapter a
 * browser (`navigator.usb`) and Node (the `usb` package's `WebUSB`/`WebUSBDevice`) both go through, so the
 * code that flashes a real board is the same in both places and is what the test double exercises.
 *
 * What it adds to the raw device:
 *  - errors: WebUSB rejects with DOMExceptions (`NotFoundError` "The device was disconnected.", `NetworkError`
 *    "A transfer error has occurred.", `AbortError`, `InvalidStateError`, `TimeoutError`); node-usb rejects with
 *    plain Errors naming the libusb code (`controlTransferIn error: Error: LIBUSB_ERROR_NO_DEVICE`,
 *    `LIBUSB_TRANSFER_TIMED_OUT`). The host stack tells "device gone" (not retried: the job is resumed from a
 *    new connection) from "timeout" (Q3: still busy) from other I/O errors, so both are mapped to
 *    `TransportError` kinds here. A STALL stays `status: 'stall'` in the result, as WebUSB reports it.
 *  - transfer results: `data` may be `null` (browsers) or `undefined`; statuses other than ok/stall/babble are
 *    an I/O error.
 *  - interface names: the DfuSe memory-layout strings are the alternate settings' `interfaceName`. Browsers
 *    and node-usb fill it from the iInterface string descriptor, but a device object read before `open()` (or a
 *    browser that leaves it null) may have none; then the adapter reads the configuration descriptor and the
 *    string descriptors itself after `open()` with standard GET_DESCRIPTOR requests.
 *
 * Platform-neutral: no node:* import, no dependency on the `usb` package or on `@types/w3c-web-usb` (the shapes
 * below are structural subsets of both).
 */
import { DFU_INTERFACE_CLASS, DFU_INTERFACE_SUBCLASS, USB_DESCRIPTOR_TYPE, USB_LANGID_EN_US, USB_REQUEST } from './constants.ts';
import {
  TransportError,
  type DfuTransport,
  type UsbAlternateInterface,
  type UsbConfiguration,
  type UsbControlTransferParameters,
  type UsbInTransferResult,
  type UsbOutTransferResult,
} from './transport.ts';

/** The members of WebUSB's `USBDevice` the adapter uses. */
export interface WebUsbDeviceLike {
  readonly vendorId: number;
  readonly productId: number;
  readonly deviceVersionMajor: number;
  readonly deviceVersionMinor: number;
  readonly deviceVersionSubminor: number;
  readonly serialNumber?: string | null | undefined;
  readonly productName?: string | null | undefined;
  readonly manufacturerName?: string | null | undefined;
  readonly configuration?: UsbConfiguration | null | undefined;
  readonly opened: boolean;
  open(): Promise<void>;
  close(): Promise<void>;
  selectConfiguration(configurationValue: number): Promise<void>;
  claimInterface(interfaceNumber: number): Promise<void>;
  releaseInterface(interfaceNumber: number): Promise<void>;
  selectAlternateInterface(interfaceNumber: number, alternateSetting: number): Promise<void>;
  controlTransferIn(setup: UsbControlTransferParameters, length: number): Promise<{ readonly status?: string; readonly data?: DataView | null | undefined }>;
  controlTransferOut(setup: UsbControlTransferParameters, data?: BufferSource): Promise<{ readonly status?: string; readonly bytesWritten?: number }>;
  reset(): Promise<void>;
}

/** `navigator.usb` or node-usb's `WebUSB` instance: the part used to find devices. */
export interface WebUsbLike {
  getDevices(): Promise<WebUsbDeviceLike[]>;
}

/** `navigator.usb.requestDevice({ filters: DFU_DEVICE_FILTERS })` offers every device with a DFU interface (DFU 1.1 §4.2.3). */
export const DFU_DEVICE_FILTERS: readonly { readonly classCode: number; readonly subclassCode: number }[] = [
  { classCode: DFU_INTERFACE_CLASS, subclassCode: DFU_INTERFACE_SUBCLASS },
];

/** True when the device's current configuration has a DFU interface (class 0xFE, subclass 0x01). */
export function hasDfuInterface(d: Pick<WebUsbDeviceLike, 'configuration'>): boolean {
  return (d.configuration?.interfaces ?? []).some((i) => i.alternates.some(isDfuAlternate));
}

function isDfuAlternate(a: UsbAlternateInterface): boolean {
  return a.interfaceClass === DFU_INTERFACE_CLASS && a.interfaceSubclass === DFU_INTERFACE_SUBCLASS;
}

function describe(e: unknown): { name: string; message: string } {
  const name = typeof e === 'object' && e !== null && typeof (e as { name?: unknown }).name === 'string' ? (e as { name: string }).name : 'Error';
  const message = e instanceof Error || (typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string') ? (e as { message: string }).message : String(e);
  return { name, message };
}

/**
 * Maps what a WebUSB implementation throws to a `TransportError`: `disconnected` for a vanished device
 * (NotFoundError, AbortError, libusb NO_DEVICE), `timeout` (TimeoutError, libusb TIMED_OUT/TIMEOUT), `io` otherwise.
 */
export function webUsbError(e: unknown, operation: string): TransportError {
  if (e instanceof TransportError) return e;
  const { name, message } = describe(e);
  const text = `${operation}: ${name === 'Error' ? '' : `${name}: `}${message}`;
  if (name === 'NotFoundError' || name === 'AbortError' || /NO_DEVICE|disconnected/i.test(message)) return new TransportError('disconnected', text);
  if (name === 'TimeoutError' || /TIMED_OUT|LIBUSB_ERROR_TIMEOUT/.test(message)) return new TransportError('timeout', text);
  return new TransportError('io', text);
}

/** UTF-16LE string descriptor (USB 2.0 §9.6.7) → string; undefined when it is not one. */
export function decodeStringDescriptor(b: Uint8Array): string | undefined {
  if (b.length < 2 || b[1] !== USB_DESCRIPTOR_TYPE.STRING) return undefined;
  const len = Math.min(b[0]!, b.length);
  let s = '';
  for (let i = 2; i + 1 < len; i += 2) s += String.fromCharCode(b[i]! | (b[i + 1]! << 8));
  return s;
}

/** iInterface of every (interface, alternate setting) in a configuration descriptor (USB 2.0 §9.6.5). */
export function interfaceStringIndices(config: Uint8Array): { interfaceNumber: number; alternateSetting: number; iInterface: number }[] {
  const out: { interfaceNumber: number; alternateSetting: number; iInterface: number }[] = [];
  for (let o = 0; o + 2 <= config.length; ) {
    const len = config[o]!;
    if (len < 2 || o + len > config.length) break;
    if (config[o + 1] === USB_DESCRIPTOR_TYPE.INTERFACE && len >= 9) out.push({ interfaceNumber: config[o + 2]!, alternateSetting: config[o + 3]!, iInterface: config[o + 8]! });
    o += len;
  }
  return out;
}

const STATUSES = new Set(['ok', 'stall', 'babble']);

/** The adapter. One instance per device object; a re-enumerated device is a new `USBDevice` and a new adapter. */
export class WebUsbTransport implements DfuTransport {
  readonly device: WebUsbDeviceLike;
  /** Interface names read by the adapter, `${interface}/${alt}` → string, for alternates that came without one. */
  private names = new Map<string, string>();

  constructor(device: WebUsbDeviceLike) {
    this.device = device;
  }

  get vendorId(): number {
    return this.device.vendorId;
  }
  get productId(): number {
    return this.device.productId;
  }
  get deviceVersionMajor(): number {
    return this.device.deviceVersionMajor;
  }
  get deviceVersionMinor(): number {
    return this.device.deviceVersionMinor;
  }
  get deviceVersionSubminor(): number {
    return this.device.deviceVersionSubminor;
  }
  get serialNumber(): string | null | undefined {
    return this.device.serialNumber;
  }
  get productName(): string | null | undefined {
    return this.device.productName;
  }
  get manufacturerName(): string | null | undefined {
    return this.device.manufacturerName;
  }
  get opened(): boolean {
    return this.device.opened;
  }

  /** The device's configuration, with interface names the adapter had to read itself filled in. */
  get configuration(): UsbConfiguration | null | undefined {
    const c = this.device.configuration;
    if (c === null || c === undefined || this.names.size === 0) return c;
    return {
      configurationValue: c.configurationValue,
      interfaces: c.interfaces.map((i) => ({
        interfaceNumber: i.interfaceNumber,
        alternates: i.alternates.map((a) => {
          const name = this.names.get(`${i.interfaceNumber}/${a.alternateSetting}`);
          return name === undefined || (a.interfaceName ?? '') !== '' ? a : { ...copyAlternate(a), interfaceName: name };
        }),
      })),
    };
  }

  private async call<T>(operation: string, body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (e) {
      throw webUsbError(e, operation);
    }
  }

  async open(): Promise<void> {
    if (!this.device.opened) await this.call('open', () => this.device.open());
    await this.fillInterfaceNames();
  }

  async close(): Promise<void> {
    if (this.device.opened) await this.call('close', () => this.device.close());
  }

  selectConfiguration(configurationValue: number): Promise<void> {
    return this.call('selectConfiguration', () => this.device.selectConfiguration(configurationValue));
  }

  claimInterface(interfaceNumber: number): Promise<void> {
    return this.call('claimInterface', () => this.device.claimInterface(interfaceNumber));
  }

  releaseInterface(interfaceNumber: number): Promise<void> {
    return this.call('releaseInterface', () => this.device.releaseInterface(interfaceNumber));
  }

  selectAlternateInterface(interfaceNumber: number, alternateSetting: number): Promise<void> {
    return this.call('selectAlternateInterface', () => this.device.selectAlternateInterface(interfaceNumber, alternateSetting));
  }

  async controlTransferIn(setup: UsbControlTransferParameters, length: number): Promise<UsbInTransferResult> {
    const r = await this.call('controlTransferIn', () => this.device.controlTransferIn(setup, length));
    const status = r.status ?? 'ok';
    if (!STATUSES.has(status)) throw new TransportError('io', `controlTransferIn: transfer status '${status}'`);
    return { status: status as UsbInTransferResult['status'], data: r.data ?? undefined };
  }

  async controlTransferOut(setup: UsbControlTransferParameters, data?: BufferSource): Promise<UsbOutTransferResult> {
    const r = await this.call('controlTransferOut', () => (data === undefined ? this.device.controlTransferOut(setup) : this.device.controlTransferOut(setup, data)));
    const status = r.status ?? 'ok';
    if (!STATUSES.has(status)) throw new TransportError('io', `controlTransferOut: transfer status '${status}'`);
    return { status: status as UsbOutTransferResult['status'], bytesWritten: r.bytesWritten ?? 0 };
  }

  reset(): Promise<void> {
    return this.call('reset', () => this.device.reset());
  }

  /** Reads the iInterface strings of DFU alternates that came without a name (needs an open device). */
  private async fillInterfaceNames(): Promise<void> {
    const c = this.device.configuration;
    const missing = (c?.interfaces ?? []).flatMap((i) => i.alternates.filter((a) => isDfuAlternate(a) && (a.interfaceName ?? '') === '').map((a) => ({ i: i.interfaceNumber, a: a.alternateSetting })));
    if (missing.length === 0) return;
    const get = async (value: number, index: number, length: number): Promise<Uint8Array | undefined> => {
      const r = await this.controlTransferIn({ requestType: 'standard', recipient: 'device', request: USB_REQUEST.GET_DESCRIPTOR, value, index }, length);
      return r.status === 'ok' && r.data !== undefined ? new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength) : undefined;
    };
    const head = await get((USB_DESCRIPTOR_TYPE.CONFIGURATION << 8) | 0, 0, 9);
    if (head === undefined || head.length < 4) return;
    const config = await get((USB_DESCRIPTOR_TYPE.CONFIGURATION << 8) | 0, 0, head[2]! | (head[3]! << 8));
    if (config === undefined) return;
    const indices = interfaceStringIndices(config);
    for (const m of missing) {
      const idx = indices.find((x) => x.interfaceNumber === m.i && x.alternateSetting === m.a)?.iInterface ?? 0;
      if (idx === 0) continue;
      const s = await get((USB_DESCRIPTOR_TYPE.STRING << 8) | idx, USB_LANGID_EN_US, 255);
      const text = s === undefined ? undefined : decodeStringDescriptor(s);
      if (text !== undefined) this.names.set(`${m.i}/${m.a}`, text);
    }
  }
}

function copyAlternate(a: UsbAlternateInterface): UsbAlternateInterface {
  return { alternateSetting: a.alternateSetting, interfaceClass: a.interfaceClass, interfaceSubclass: a.interfaceSubclass, interfaceProtocol: a.interfaceProtocol, interfaceName: a.interfaceName };
}

/** A WebUSB device as a DfuTransport. */
export function fromWebUsbDevice(device: WebUsbDeviceLike): DfuTransport {
  return device instanceof WebUsbTransport ? device : new WebUsbTransport(device);
}

/** The DFU devices `usb.getDevices()` knows (a browser: those the user granted; node-usb: every device it can open). */
export async function webUsbDfuDevices(usb: WebUsbLike): Promise<WebUsbTransport[]> {
  const all = await usb.getDevices().catch((e: unknown) => {
    throw webUsbError(e, 'getDevices');
  });
  return all.filter(hasDfuInterface).map((d) => new WebUsbTransport(d));
}
