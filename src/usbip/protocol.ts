/**
 * USB/IP wire format, version 1.1.1 (Linux `Documentation/usb/usbip_protocol.rst`; peers.md part B (2)):
 * the messages a USB/IP server and client exchange over TCP (port 3240 by default).
 *
 *   client                               server
 *   OP_REQ_DEVLIST  ─────────────────►   OP_REP_DEVLIST (device records), connection closed
 *   OP_REQ_IMPORT(busid) ────────────►   OP_REP_IMPORT (status, device record); the connection now carries URBs:
 *   USBIP_CMD_SUBMIT(seqnum, setup, OUT data) ─►  USBIP_RET_SUBMIT(seqnum, status, actual_length, IN data)
 *   USBIP_CMD_UNLINK(seqnum, unlink_seqnum)  ─►  USBIP_RET_UNLINK(seqnum, status)
 *
 * The headers are big-endian (network order); the 8-byte USB setup packet inside CMD_SUBMIT keeps USB's
 * little-endian order. Every URB header (CMD_/RET_) is 48 bytes: a 20-byte basic header (command, seqnum,
 * devid, direction, ep) and 28 command-specific bytes. Data follows only in the direction it travels: OUT data
 * after CMD_SUBMIT (transfer_buffer_length bytes), IN data after RET_SUBMIT (actual_length bytes). A RET_SUBMIT
 * does not say which direction its URB had (its direction field is 0), so a client keeps that per seqnum.
 *
 * Platform-neutral: Uint8Array and DataView only. The framing helpers say how many bytes a message needs,
 * so a stream reader can wait for a whole one.
 */

export const USBIP_VERSION = 0x0111;
export const USBIP_DEFAULT_PORT = 3240;

export const OP_REQ_DEVLIST = 0x8005;
export const OP_REP_DEVLIST = 0x0005;
export const OP_REQ_IMPORT = 0x8003;
export const OP_REP_IMPORT = 0x0003;

export const USBIP_CMD_SUBMIT = 0x00000001;
export const USBIP_CMD_UNLINK = 0x00000002;
export const USBIP_RET_SUBMIT = 0x00000003;
export const USBIP_RET_UNLINK = 0x00000004;

export const USBIP_DIR_OUT = 0;
export const USBIP_DIR_IN = 1;

/** OP_REP_* status: 0 OK; the Linux tools use 1 "not available" (usbip_common.h ST_NA) for an unknown busid. */
export const OP_STATUS_OK = 0;
export const OP_STATUS_NA = 1;

/** Linux `enum usb_device_speed`: what the device record's `speed` field carries. */
export const USB_SPEED = { unknown: 0, low: 1, full: 2, high: 3, wireless: 4, super: 5 } as const;

/** URB status values (negative Linux errno) a RET_SUBMIT / RET_UNLINK carries. */
export const URB_STATUS = {
  ok: 0,
  /** STALL on the endpoint: libusb's LIBUSB_ERROR_PIPE, WebUSB's `status: 'stall'`. */
  stall: -32, // -EPIPE
  /** RET_UNLINK: the URB was cancelled before it completed. */
  unlinked: -104, // -ECONNRESET
  timeout: -110, // -ETIMEDOUT
  noDevice: -19, // -ENODEV
  shutdown: -108, // -ESHUTDOWN
  invalid: -22, // -EINVAL
} as const;

/** `number_of_packets` of a transfer that is not isochronous (usbip_protocol.rst). */
export const USBIP_NOT_ISO = 0xffffffff;

export const OP_HEADER_LENGTH = 8;
export const URB_HEADER_LENGTH = 48;
export const BUSID_LENGTH = 32;
export const PATH_LENGTH = 256;
/** Device record without the interface list: path, busid, 3 × u32, 3 × u16, 6 × u8. */
export const DEVICE_RECORD_LENGTH = PATH_LENGTH + BUSID_LENGTH + 12 + 6 + 6;
export const ISO_DESCRIPTOR_LENGTH = 16;

/** USB 2.0 §11.24.2.13 SetPortFeature(PORT_RESET): the URB the Linux stub server takes as "reset the device" (stub_rx.c is_reset_device_cmd). */
export const PORT_RESET_SETUP = { bmRequestType: 0x23, bRequest: 0x03, wValue: 4, wIndex: 0, wLength: 0 } as const;

export class UsbipProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsbipProtocolError';
  }
}

export interface UsbipInterfaceRecord {
  readonly bInterfaceClass: number;
  readonly bInterfaceSubClass: number;
  readonly bInterfaceProtocol: number;
}

/** What OP_REP_DEVLIST and OP_REP_IMPORT say about a device (usbip_protocol.rst, "OP_REP_DEVLIST"). */
export interface UsbipDeviceRecord {
  /** sysfs path on a Linux server; free text elsewhere (at most 255 bytes). */
  readonly path: string;
  /** `1-1`: how OP_REQ_IMPORT names the device (at most 31 bytes). */
  readonly busid: string;
  readonly busnum: number;
  readonly devnum: number;
  readonly speed: number;
  readonly idVendor: number;
  readonly idProduct: number;
  readonly bcdDevice: number;
  readonly bDeviceClass: number;
  readonly bDeviceSubClass: number;
  readonly bDeviceProtocol: number;
  readonly bConfigurationValue: number;
  readonly bNumConfigurations: number;
  /** One entry per interface (bNumInterfaces). OP_REP_IMPORT carries only the count, so decoded imports list empty class triples. */
  readonly interfaces: readonly UsbipInterfaceRecord[];
}

export interface UsbSetup {
  readonly bmRequestType: number;
  readonly bRequest: number;
  readonly wValue: number;
  readonly wIndex: number;
  readonly wLength: number;
}

export interface CmdSubmit {
  readonly seqnum: number;
  readonly devid: number;
  readonly direction: 0 | 1;
  readonly ep: number;
  readonly transferFlags: number;
  readonly transferBufferLength: number;
  readonly startFrame: number;
  readonly numberOfPackets: number;
  readonly interval: number;
  readonly setup: UsbSetup;
  /** OUT data (transfer_buffer_length bytes); empty for IN. */
  readonly data: Uint8Array;
}

export interface RetSubmit {
  readonly seqnum: number;
  readonly status: number;
  readonly actualLength: number;
  readonly startFrame: number;
  readonly numberOfPackets: number;
  readonly errorCount: number;
  /** IN data (actual_length bytes); empty for OUT. */
  readonly data: Uint8Array;
}

export interface CmdUnlink {
  readonly seqnum: number;
  readonly devid: number;
  readonly direction: 0 | 1;
  readonly ep: number;
  readonly unlinkSeqnum: number;
}

export interface RetUnlink {
  readonly seqnum: number;
  readonly status: number;
}

/** `busnum << 16 | devnum`: how CMD_SUBMIT names the imported device. */
export function devidOf(busnum: number, devnum: number): number {
  return ((busnum & 0xffff) << 16 | (devnum & 0xffff)) >>> 0;
}

// -------------------------------------------------------------------------------------------------------
// Byte helpers

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function need(b: Uint8Array, n: number, what: string): void {
  if (b.length < n) throw new UsbipProtocolError(`${what}: ${b.length} bytes, need ${n}`);
}

function putString(b: Uint8Array, offset: number, size: number, s: string, what: string): void {
  const enc = new TextEncoder().encode(s);
  if (enc.length >= size) throw new UsbipProtocolError(`${what} '${s}' is ${enc.length} bytes; at most ${size - 1} fit`);
  b.set(enc, offset);
}

function getString(b: Uint8Array, offset: number, size: number): string {
  const field = b.subarray(offset, offset + size);
  const nul = field.indexOf(0);
  return new TextDecoder('utf-8').decode(nul < 0 ? field : field.subarray(0, nul));
}

function opHeader(code: number, status: number, extra: number): Uint8Array {
  const b = new Uint8Array(OP_HEADER_LENGTH + extra);
  const v = view(b);
  v.setUint16(0, USBIP_VERSION);
  v.setUint16(2, code);
  v.setUint32(4, status >>> 0);
  return b;
}

export interface OpHeader {
  readonly version: number;
  readonly code: number;
  readonly status: number;
}

/** The 8-byte header of every OP_ message (version, code, status). */
export function decodeOpHeader(b: Uint8Array): OpHeader {
  need(b, OP_HEADER_LENGTH, 'USB/IP operation header');
  const v = view(b);
  return { version: v.getUint16(0), code: v.getUint16(2), status: v.getUint32(4) };
}

// -------------------------------------------------------------------------------------------------------
// Setup packet (USB 2.0 §9.3, little-endian)

export function encodeSetup(s: UsbSetup): Uint8Array {
  const b = new Uint8Array(8);
  const v = view(b);
  v.setUint8(0, s.bmRequestType);
  v.setUint8(1, s.bRequest);
  v.setUint16(2, s.wValue, true);
  v.setUint16(4, s.wIndex, true);
  v.setUint16(6, s.wLength, true);
  return b;
}

export function decodeSetup(b: Uint8Array): UsbSetup {
  need(b, 8, 'setup packet');
  const v = view(b);
  return { bmRequestType: v.getUint8(0), bRequest: v.getUint8(1), wValue: v.getUint16(2, true), wIndex: v.getUint16(4, true), wLength: v.getUint16(6, true) };
}

// -------------------------------------------------------------------------------------------------------
// Device records

function encodeDeviceRecord(b: Uint8Array, offset: number, d: UsbipDeviceRecord, withInterfaces: boolean): void {
  putString(b, offset, PATH_LENGTH, d.path, 'path');
  putString(b, offset + PATH_LENGTH, BUSID_LENGTH, d.busid, 'busid');
  const v = view(b);
  let o = offset + PATH_LENGTH + BUSID_LENGTH;
  v.setUint32(o, d.busnum);
  v.setUint32(o + 4, d.devnum);
  v.setUint32(o + 8, d.speed);
  v.setUint16(o + 12, d.idVendor);
  v.setUint16(o + 14, d.idProduct);
  v.setUint16(o + 16, d.bcdDevice);
  o += 18;
  for (const x of [d.bDeviceClass, d.bDeviceSubClass, d.bDeviceProtocol, d.bConfigurationValue, d.bNumConfigurations, d.interfaces.length]) v.setUint8(o++, x);
  if (withInterfaces) {
    for (const i of d.interfaces) {
      v.setUint8(o, i.bInterfaceClass);
      v.setUint8(o + 1, i.bInterfaceSubClass);
      v.setUint8(o + 2, i.bInterfaceProtocol);
      v.setUint8(o + 3, 0); // padding
      o += 4;
    }
  }
}

function decodeDeviceRecord(b: Uint8Array, offset: number, withInterfaces: boolean): { record: UsbipDeviceRecord; length: number } {
  need(b, offset + DEVICE_RECORD_LENGTH, 'USB/IP device record');
  const v = view(b);
  let o = offset + PATH_LENGTH + BUSID_LENGTH;
  const numInterfaces = v.getUint8(o + 23);
  const length = DEVICE_RECORD_LENGTH + (withInterfaces ? 4 * numInterfaces : 0);
  need(b, offset + length, 'USB/IP device record with its interfaces');
  const interfaces: UsbipInterfaceRecord[] = [];
  const ifo = offset + DEVICE_RECORD_LENGTH;
  for (let i = 0; i < numInterfaces; i++) {
    interfaces.push(
      withInterfaces
        ? { bInterfaceClass: v.getUint8(ifo + 4 * i), bInterfaceSubClass: v.getUint8(ifo + 4 * i + 1), bInterfaceProtocol: v.getUint8(ifo + 4 * i + 2) }
        : { bInterfaceClass: 0, bInterfaceSubClass: 0, bInterfaceProtocol: 0 },
    );
  }
  const record: UsbipDeviceRecord = {
    path: getString(b, offset, PATH_LENGTH),
    busid: getString(b, offset + PATH_LENGTH, BUSID_LENGTH),
    busnum: v.getUint32(o),
    devnum: v.getUint32(o + 4),
    speed: v.getUint32(o + 8),
    idVendor: v.getUint16(o + 12),
    idProduct: v.getUint16(o + 14),
    bcdDevice: v.getUint16(o + 16),
    bDeviceClass: v.getUint8((o += 18)),
    bDeviceSubClass: v.getUint8(o + 1),
    bDeviceProtocol: v.getUint8(o + 2),
    bConfigurationValue: v.getUint8(o + 3),
    bNumConfigurations: v.getUint8(o + 4),
    interfaces,
  };
  return { record, length };
}

// -------------------------------------------------------------------------------------------------------
// OP_REQ_DEVLIST / OP_REP_DEVLIST

export function encodeOpReqDevlist(): Uint8Array {
  return opHeader(OP_REQ_DEVLIST, 0, 0);
}

export function encodeOpRepDevlist(devices: readonly UsbipDeviceRecord[]): Uint8Array {
  const total = devices.reduce((n, d) => n + DEVICE_RECORD_LENGTH + 4 * d.interfaces.length, 0);
  const b = opHeader(OP_REP_DEVLIST, OP_STATUS_OK, 4 + total);
  view(b).setUint32(8, devices.length);
  let o = 12;
  for (const d of devices) {
    encodeDeviceRecord(b, o, d, true);
    o += DEVICE_RECORD_LENGTH + 4 * d.interfaces.length;
  }
  return b;
}

/** Bytes the OP_REP_DEVLIST at the start of `b` takes, or undefined while more are needed to tell. */
export function opRepDevlistLength(b: Uint8Array): number | undefined {
  if (b.length < 12) return undefined;
  const n = view(b).getUint32(8);
  let o = 12;
  for (let i = 0; i < n; i++) {
    if (b.length < o + DEVICE_RECORD_LENGTH) return undefined;
    o += DEVICE_RECORD_LENGTH + 4 * b[o + DEVICE_RECORD_LENGTH - 1]!;
  }
  return o;
}

export function decodeOpRepDevlist(b: Uint8Array): UsbipDeviceRecord[] {
  const h = decodeOpHeader(b);
  if (h.code !== OP_REP_DEVLIST) throw new UsbipProtocolError(`expected OP_REP_DEVLIST (0x0005), got 0x${h.code.toString(16).padStart(4, '0')}`);
  if (h.status !== OP_STATUS_OK) throw new UsbipProtocolError(`OP_REP_DEVLIST status ${h.status}`);
  need(b, 12, 'OP_REP_DEVLIST');
  const n = view(b).getUint32(8);
  const out: UsbipDeviceRecord[] = [];
  let o = 12;
  for (let i = 0; i < n; i++) {
    const r = decodeDeviceRecord(b, o, true);
    out.push(r.record);
    o += r.length;
  }
  return out;
}

// -------------------------------------------------------------------------------------------------------
// OP_REQ_IMPORT / OP_REP_IMPORT

export function encodeOpReqImport(busid: string): Uint8Array {
  const b = opHeader(OP_REQ_IMPORT, 0, BUSID_LENGTH);
  putString(b, OP_HEADER_LENGTH, BUSID_LENGTH, busid, 'busid');
  return b;
}

export function decodeOpReqImport(b: Uint8Array): string {
  const h = decodeOpHeader(b);
  if (h.code !== OP_REQ_IMPORT) throw new UsbipProtocolError(`expected OP_REQ_IMPORT (0x8003), got 0x${h.code.toString(16).padStart(4, '0')}`);
  need(b, OP_HEADER_LENGTH + BUSID_LENGTH, 'OP_REQ_IMPORT');
  return getString(b, OP_HEADER_LENGTH, BUSID_LENGTH);
}

/** OP_REP_IMPORT: status, then (status 0 only) the device record without its interface list. */
export function encodeOpRepImport(device: UsbipDeviceRecord | undefined): Uint8Array {
  if (device === undefined) return opHeader(OP_REP_IMPORT, OP_STATUS_NA, 0);
  const b = opHeader(OP_REP_IMPORT, OP_STATUS_OK, DEVICE_RECORD_LENGTH);
  encodeDeviceRecord(b, OP_HEADER_LENGTH, device, false);
  return b;
}

export function opRepImportLength(b: Uint8Array): number | undefined {
  if (b.length < OP_HEADER_LENGTH) return undefined;
  return view(b).getUint32(4) === OP_STATUS_OK ? OP_HEADER_LENGTH + DEVICE_RECORD_LENGTH : OP_HEADER_LENGTH;
}

/** The imported device's record, or undefined when the server refused (status ≠ 0). */
export function decodeOpRepImport(b: Uint8Array): UsbipDeviceRecord | undefined {
  const h = decodeOpHeader(b);
  if (h.code !== OP_REP_IMPORT) throw new UsbipProtocolError(`expected OP_REP_IMPORT (0x0003), got 0x${h.code.toString(16).padStart(4, '0')}`);
  if (h.status !== OP_STATUS_OK) return undefined;
  return decodeDeviceRecord(b, OP_HEADER_LENGTH, false).record;
}

/** Bytes the OP_REQ_ message at the start of `b` takes (server side, before import), or undefined while fewer than 8 have arrived. */
export function opRequestLength(b: Uint8Array): number | undefined {
  if (b.length < OP_HEADER_LENGTH) return undefined;
  const code = view(b).getUint16(2);
  if (code === OP_REQ_IMPORT) return OP_HEADER_LENGTH + BUSID_LENGTH;
  return OP_HEADER_LENGTH;
}

// -------------------------------------------------------------------------------------------------------
// URBs

function urbHeader(command: number, seqnum: number, devid: number, direction: number, ep: number): Uint8Array {
  const b = new Uint8Array(URB_HEADER_LENGTH);
  const v = view(b);
  v.setUint32(0, command);
  v.setUint32(4, seqnum >>> 0);
  v.setUint32(8, devid >>> 0);
  v.setUint32(12, direction);
  v.setUint32(16, ep);
  return b;
}

function isoCount(numberOfPackets: number): number {
  return numberOfPackets === USBIP_NOT_ISO ? 0 : numberOfPackets;
}

export function encodeCmdSubmit(c: Omit<CmdSubmit, 'transferBufferLength' | 'startFrame' | 'numberOfPackets' | 'interval' | 'transferFlags'> & Partial<CmdSubmit>): Uint8Array {
  const outData = c.direction === USBIP_DIR_OUT ? c.data : new Uint8Array(0);
  const length = c.transferBufferLength ?? (c.direction === USBIP_DIR_IN ? c.setup.wLength : c.data.length);
  if (c.direction === USBIP_DIR_OUT && outData.length !== length) throw new UsbipProtocolError(`CMD_SUBMIT OUT: ${outData.length} data bytes for transfer_buffer_length ${length}`);
  const h = urbHeader(USBIP_CMD_SUBMIT, c.seqnum, c.devid, c.direction, c.ep);
  const v = view(h);
  v.setUint32(20, c.transferFlags ?? 0);
  v.setUint32(24, length);
  v.setUint32(28, c.startFrame ?? 0);
  v.setUint32(32, c.numberOfPackets ?? USBIP_NOT_ISO);
  v.setUint32(36, c.interval ?? 0);
  h.set(encodeSetup(c.setup), 40);
  if (outData.length === 0) return h;
  const b = new Uint8Array(URB_HEADER_LENGTH + outData.length);
  b.set(h);
  b.set(outData, URB_HEADER_LENGTH);
  return b;
}

/**
 * Bytes the CMD_ message at the start of `b` takes (server side, after import): the 48-byte header, OUT data,
 * ISO descriptors. Undefined while the header is incomplete.
 */
export function cmdLength(b: Uint8Array): number | undefined {
  if (b.length < URB_HEADER_LENGTH) return undefined;
  const v = view(b);
  const command = v.getUint32(0);
  if (command === USBIP_CMD_UNLINK) return URB_HEADER_LENGTH;
  if (command !== USBIP_CMD_SUBMIT) throw new UsbipProtocolError(`unknown USB/IP command 0x${command.toString(16).padStart(8, '0')}`);
  const out = v.getUint32(12) === USBIP_DIR_OUT ? v.getUint32(24) : 0;
  return URB_HEADER_LENGTH + out + ISO_DESCRIPTOR_LENGTH * isoCount(v.getUint32(32));
}

/** The command word of the URB message at the start of `b` (needs 4 bytes). */
export function urbCommand(b: Uint8Array): number {
  need(b, 4, 'USB/IP URB header');
  return view(b).getUint32(0);
}

export function decodeCmdSubmit(b: Uint8Array): CmdSubmit {
  need(b, URB_HEADER_LENGTH, 'CMD_SUBMIT');
  const v = view(b);
  if (v.getUint32(0) !== USBIP_CMD_SUBMIT) throw new UsbipProtocolError(`expected CMD_SUBMIT, got command ${v.getUint32(0)}`);
  const direction = v.getUint32(12);
  if (direction !== USBIP_DIR_OUT && direction !== USBIP_DIR_IN) throw new UsbipProtocolError(`CMD_SUBMIT direction ${direction}`);
  const transferBufferLength = v.getUint32(24);
  const data = direction === USBIP_DIR_OUT ? b.slice(URB_HEADER_LENGTH, URB_HEADER_LENGTH + transferBufferLength) : new Uint8Array(0);
  if (data.length !== (direction === USBIP_DIR_OUT ? transferBufferLength : 0)) throw new UsbipProtocolError(`CMD_SUBMIT: ${data.length} of ${transferBufferLength} OUT bytes`);
  return {
    seqnum: v.getUint32(4),
    devid: v.getUint32(8),
    direction,
    ep: v.getUint32(16),
    transferFlags: v.getUint32(20),
    transferBufferLength,
    startFrame: v.getUint32(28),
    numberOfPackets: v.getUint32(32),
    interval: v.getUint32(36),
    setup: decodeSetup(b.subarray(40, 48)),
    data,
  };
}

/** RET_SUBMIT; `data` goes on the wire only for IN URBs (the caller passes none for OUT). */
export function encodeRetSubmit(r: { seqnum: number; status: number; actualLength?: number; data?: Uint8Array; startFrame?: number; numberOfPackets?: number; errorCount?: number }): Uint8Array {
  const data = r.data ?? new Uint8Array(0);
  const b = new Uint8Array(URB_HEADER_LENGTH + data.length);
  b.set(urbHeader(USBIP_RET_SUBMIT, r.seqnum, 0, 0, 0));
  const v = view(b);
  v.setInt32(20, r.status);
  v.setUint32(24, r.actualLength ?? data.length);
  v.setUint32(28, r.startFrame ?? 0);
  v.setUint32(32, r.numberOfPackets ?? USBIP_NOT_ISO);
  v.setUint32(36, r.errorCount ?? 0);
  b.set(data, URB_HEADER_LENGTH);
  return b;
}

/**
 * Bytes the RET_ message at the start of `b` takes (client side). `isIn(seqnum)` says whether that URB was IN
 * (only then does data follow). Undefined while the header is incomplete.
 */
export function retLength(b: Uint8Array, isIn: (seqnum: number) => boolean): number | undefined {
  if (b.length < URB_HEADER_LENGTH) return undefined;
  const v = view(b);
  const command = v.getUint32(0);
  if (command === USBIP_RET_UNLINK) return URB_HEADER_LENGTH;
  if (command !== USBIP_RET_SUBMIT) throw new UsbipProtocolError(`unknown USB/IP reply 0x${command.toString(16).padStart(8, '0')}`);
  const data = isIn(v.getUint32(4)) ? v.getUint32(24) : 0;
  return URB_HEADER_LENGTH + data + ISO_DESCRIPTOR_LENGTH * isoCount(v.getUint32(32));
}

export function decodeRetSubmit(b: Uint8Array, isIn: boolean): RetSubmit {
  need(b, URB_HEADER_LENGTH, 'RET_SUBMIT');
  const v = view(b);
  if (v.getUint32(0) !== USBIP_RET_SUBMIT) throw new UsbipProtocolError(`expected RET_SUBMIT, got command ${v.getUint32(0)}`);
  const actualLength = v.getUint32(24);
  const data = isIn ? b.slice(URB_HEADER_LENGTH, URB_HEADER_LENGTH + actualLength) : new Uint8Array(0);
  if (isIn && data.length !== actualLength) throw new UsbipProtocolError(`RET_SUBMIT: ${data.length} of ${actualLength} IN bytes`);
  return { seqnum: v.getUint32(4), status: v.getInt32(20), actualLength, startFrame: v.getUint32(28), numberOfPackets: v.getUint32(32), errorCount: v.getUint32(36), data };
}

export function encodeCmdUnlink(c: CmdUnlink): Uint8Array {
  const b = urbHeader(USBIP_CMD_UNLINK, c.seqnum, c.devid, c.direction, c.ep);
  view(b).setUint32(20, c.unlinkSeqnum >>> 0);
  return b;
}

export function decodeCmdUnlink(b: Uint8Array): CmdUnlink {
  need(b, URB_HEADER_LENGTH, 'CMD_UNLINK');
  const v = view(b);
  if (v.getUint32(0) !== USBIP_CMD_UNLINK) throw new UsbipProtocolError(`expected CMD_UNLINK, got command ${v.getUint32(0)}`);
  const direction = v.getUint32(12);
  return { seqnum: v.getUint32(4), devid: v.getUint32(8), direction: direction === USBIP_DIR_IN ? 1 : 0, ep: v.getUint32(16), unlinkSeqnum: v.getUint32(20) };
}

export function encodeRetUnlink(r: RetUnlink): Uint8Array {
  const b = urbHeader(USBIP_RET_UNLINK, r.seqnum, 0, 0, 0);
  view(b).setInt32(20, r.status);
  return b;
}

export function decodeRetUnlink(b: Uint8Array): RetUnlink {
  need(b, URB_HEADER_LENGTH, 'RET_UNLINK');
  const v = view(b);
  if (v.getUint32(0) !== USBIP_RET_UNLINK) throw new UsbipProtocolError(`expected RET_UNLINK, got command ${v.getUint32(0)}`);
  return { seqnum: v.getUint32(4), status: v.getInt32(20) };
}
