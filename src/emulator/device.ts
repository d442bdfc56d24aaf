/**
 * The emulated ROM as a `DfuTransport` (the WebUSB `USBDevice` subset). One instance per enumeration:
 * after leave, read-unprotect, an option-byte write or an injected disconnect the instance is dead (every
 * call rejects with TransportError 'disconnected') and `RomEmulator.reconnect()` hands out a new one.
 *
 * WebUSB rules kept (https://wicg.github.io/webusb/): transfers need `open()`; requests to the interface,
 * `selectAlternateInterface` and class requests need `claimInterface(0)`; a STALL is `status: 'stall'`,
 * not an exception. `deviceVersionMajor/Minor/Subminor` split bcdDevice as Chromium and node-usb do
 * (major = bits 15..8, minor = 7..4, subminor = 3..0: 0x2200 → 34.0.0).
 */
import {
  TransportError,
  type DfuTransport,
  type UsbConfiguration,
  type UsbControlTransferParameters,
  type UsbInTransferResult,
  type UsbOutTransferResult,
} from '../dfu/transport.ts';
import { USB_REQUEST } from '../dfu/constants.ts';
import type { ControlSetup, RomCore } from './rom.ts';

const TYPE_BITS = { standard: 0, class: 1, vendor: 2 } as const;
const RECIPIENT_BITS = { device: 0, interface: 1, endpoint: 2, other: 3 } as const;

function toBytes(data: BufferSource | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  if (data instanceof ArrayBuffer) return new Uint8Array(data.slice(0));
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
}

export class EmulatedRomDevice implements DfuTransport {
  readonly vendorId: number;
  readonly productId: number;
  readonly deviceVersionMajor: number;
  readonly deviceVersionMinor: number;
  readonly deviceVersionSubminor: number;
  readonly serialNumber: string;
  readonly productName: string;
  readonly manufacturerName: string;
  readonly configuration: UsbConfiguration;
  private isOpen = false;
  private readonly claimed = new Set<number>();

  constructor(
    private readonly core: RomCore,
    private readonly generation: number,
  ) {
    const d = core.descriptors;
    this.vendorId = core.chip.dfu.usbVid;
    this.productId = core.chip.dfu.usbPid;
    this.deviceVersionMajor = d.bcdDevice >> 8;
    this.deviceVersionMinor = (d.bcdDevice >> 4) & 0xf;
    this.deviceVersionSubminor = d.bcdDevice & 0xf;
    this.serialNumber = d.serial;
    this.productName = d.product;
    this.manufacturerName = d.strings[1]!;
    this.configuration = d.webusbConfiguration;
  }

  get opened(): boolean {
    return this.isOpen && this.current() && this.core.connected;
  }

  /** False once the emulator has enumerated a newer instance (reconnect). */
  private current(): boolean {
    return this.core.generation === this.generation;
  }

  /**
   * A stale instance (after reconnect) fails locally; the current instance of a vanished device passes its
   * transfers to the core, which logs them as `disconnected` and throws.
   */
  private assertAlive(): void {
    if (!this.current() || (!this.core.connected && !this.isOpen)) {
      throw new TransportError('disconnected', 'device disconnected; call reconnect() on the emulator for the new device instance');
    }
  }

  private assertOpen(): void {
    this.assertAlive();
    if (!this.isOpen) throw new TransportError('io', 'device is not open (call open() first)');
  }

  private assertClaimed(n: number): void {
    this.assertOpen();
    if (!this.claimed.has(n)) throw new TransportError('io', `interface ${n} is not claimed (call claimInterface(${n}) first)`);
  }

  private checkInterface(n: number): void {
    if (!this.configuration.interfaces.some((i) => i.interfaceNumber === n)) throw new TransportError('io', `the device has no interface ${n}`);
  }

  async open(): Promise<void> {
    this.assertAlive();
    this.isOpen = true;
  }

  async close(): Promise<void> {
    this.isOpen = false;
    this.claimed.clear();
  }

  async selectConfiguration(configurationValue: number): Promise<void> {
    this.assertOpen();
    const r = this.call({ bmRequestType: 0x00, bRequest: USB_REQUEST.SET_CONFIGURATION, wValue: configurationValue, wIndex: 0, wLength: 0 }, new Uint8Array(0));
    if (r.status !== 'ok') throw new TransportError('io', `the device has no configuration ${configurationValue}`);
  }

  async claimInterface(interfaceNumber: number): Promise<void> {
    this.assertOpen();
    this.checkInterface(interfaceNumber);
    this.claimed.add(interfaceNumber);
  }

  async releaseInterface(interfaceNumber: number): Promise<void> {
    this.assertOpen();
    this.claimed.delete(interfaceNumber);
  }

  async selectAlternateInterface(interfaceNumber: number, alternateSetting: number): Promise<void> {
    this.assertClaimed(interfaceNumber);
    const alts = this.configuration.interfaces.find((i) => i.interfaceNumber === interfaceNumber)!.alternates;
    if (!alts.some((a) => a.alternateSetting === alternateSetting)) throw new TransportError('io', `interface ${interfaceNumber} has no alternate setting ${alternateSetting}`);
    const r = this.call({ bmRequestType: 0x01, bRequest: USB_REQUEST.SET_INTERFACE, wValue: alternateSetting, wIndex: interfaceNumber, wLength: 0 }, new Uint8Array(0));
    if (r.status !== 'ok') throw new TransportError('io', `SET_INTERFACE ${alternateSetting} was STALLed`);
  }

  private setup(p: UsbControlTransferParameters, dirIn: boolean, wLength: number): ControlSetup {
    if (p.recipient === 'interface') this.assertClaimed(p.index & 0xff);
    else this.assertOpen();
    const bmRequestType = (dirIn ? 0x80 : 0) | (TYPE_BITS[p.requestType] << 5) | RECIPIENT_BITS[p.recipient];
    return { bmRequestType, bRequest: p.request & 0xff, wValue: p.value & 0xffff, wIndex: p.index & 0xffff, wLength };
  }

  private call(setup: ControlSetup, out: Uint8Array | undefined): { status: 'ok' | 'stall'; data: Uint8Array } {
    this.assertAlive();
    return this.core.control(setup, out);
  }

  async controlTransferIn(setup: UsbControlTransferParameters, length: number): Promise<UsbInTransferResult> {
    if (!Number.isInteger(length) || length < 0 || length > 0xffff) throw new TransportError('io', `bad IN transfer length ${length}`);
    const r = this.call(this.setup(setup, true, length), undefined);
    if (r.status !== 'ok') return { status: r.status };
    const buf = new ArrayBuffer(r.data.length);
    new Uint8Array(buf).set(r.data);
    return { status: 'ok', data: new DataView(buf) };
  }

  async controlTransferOut(setup: UsbControlTransferParameters, data?: BufferSource): Promise<UsbOutTransferResult> {
    const bytes = toBytes(data);
    if (bytes.length > 0xffff) throw new TransportError('io', `OUT transfer of ${bytes.length} bytes exceeds wLength`);
    const r = this.call(this.setup(setup, false, bytes.length), bytes);
    return { status: r.status, bytesWritten: r.status === 'ok' ? bytes.length : 0 };
  }

  async reset(): Promise<void> {
    this.assertOpen();
    this.core.busReset();
  }
}
