/**
 * `DfuTransport`: the part of WebUSB's `USBDevice` (https://wicg.github.io/webusb/#device-usage) that DFU
 * needs. It is structurally a subset of `USBDevice`, so a browser's `navigator.usb` device and node-usb's
 * `WebUSBDevice` can be passed as they are, and the emulator, a USB/IP client and test doubles implement it too.
 *
 * A STALL is not an exception: WebUSB reports it as `status: 'stall'` in the transfer result, and DFU
 * (DFU 1.1 §6.1.2) uses STALL to say "request not valid in this state". A vanished device is an exception
 * (the WebUSB implementations throw a `NetworkError` DOMException; ours throw `TransportError`).
 */

export type UsbRequestType = 'standard' | 'class' | 'vendor';
export type UsbRecipient = 'device' | 'interface' | 'endpoint' | 'other';
export type UsbTransferStatus = 'ok' | 'stall' | 'babble';

export interface UsbControlTransferParameters {
  requestType: UsbRequestType;
  recipient: UsbRecipient;
  request: number;
  value: number;
  index: number;
}

export interface UsbInTransferResult {
  readonly status: UsbTransferStatus;
  readonly data?: DataView | undefined;
}

export interface UsbOutTransferResult {
  readonly status: UsbTransferStatus;
  readonly bytesWritten: number;
}

export interface UsbAlternateInterface {
  readonly alternateSetting: number;
  readonly interfaceClass: number;
  readonly interfaceSubclass: number;
  readonly interfaceProtocol: number;
  /** iInterface string: for an STM32 ROM, the DfuSe memory-layout string (`@Internal Flash  /0x08000000/...`). */
  readonly interfaceName?: string | null | undefined;
}

export interface UsbInterface {
  readonly interfaceNumber: number;
  readonly alternates: readonly UsbAlternateInterface[];
}

export interface UsbConfiguration {
  readonly configurationValue: number;
  readonly interfaces: readonly UsbInterface[];
}

/** The USBDevice subset. Every method may reject when the device is gone. */
export interface DfuTransport {
  readonly vendorId: number;
  readonly productId: number;
  /** bcdDevice split as WebUSB does: major = high byte, minor and subminor = the two nibbles of the low byte (0x2200 → 34.0.0). */
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
  controlTransferIn(setup: UsbControlTransferParameters, length: number): Promise<UsbInTransferResult>;
  controlTransferOut(setup: UsbControlTransferParameters, data?: BufferSource): Promise<UsbOutTransferResult>;
  reset(): Promise<void>;
}

/** A transport failure that is not a STALL: the device vanished, a timeout, a broken connection. */
export class TransportError extends Error {
  readonly kind: 'disconnected' | 'timeout' | 'io';
  constructor(kind: 'disconnected' | 'timeout' | 'io', message: string) {
    super(message);
    this.name = 'TransportError';
    this.kind = kind;
  }
}
