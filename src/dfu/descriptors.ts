/**
 * What a DFU device says about itself before any class request: the DFU functional descriptor (DFU 1.1 §4.1.3
 * Table 4.2: bmAttributes, wDetachTimeOut, wTransferSize, bcdDFUVersion) read from the configuration descriptor
 * with a standard GET_DESCRIPTOR (USB 2.0 §9.4.3), and the DfuSe memory-layout string of each alternate setting
 * (UM0424 §4.3.2: the iInterface string, which WebUSB exposes as `interfaceName`).
 *
 * wTransferSize matters twice: it is the largest DNLOAD/UPLOAD, and the ST ROM computes a block's address as
 * pointer + (wBlockNum − 2) × wTransferSize with the *descriptor* value (dfu-protocol.md §2.3), so every block but
 * the last of a run must be exactly that long. The host therefore reads it from the device; the chip profile's
 * value is the fallback when the device does not answer (STM32C5 ROM: §2.1).
 */
import type { ChipProfile } from '../layout/chip-types.ts';
import { DFU_INTERFACE_CLASS, DFU_INTERFACE_SUBCLASS, USB_DESCRIPTOR_TYPE, USB_REQUEST } from './constants.ts';
import { parseLayoutString, type MemoryLayout } from '../layout/layout-string.ts';
import { DfuError, transportError } from './errors.ts';
import type { DfuTransport } from './transport.ts';

/** DFU 1.1 §4.1.3 Table 4.2. */
export interface DfuFunctionalDescriptor {
  /** bit0 bitCanDnload, bit1 bitCanUpload, bit2 bitManifestationTolerant, bit3 bitWillDetach. */
  readonly bmAttributes: number;
  readonly canDownload: boolean;
  readonly canUpload: boolean;
  readonly manifestationTolerant: boolean;
  readonly willDetach: boolean;
  readonly wDetachTimeOut: number;
  readonly wTransferSize: number;
  /** 0x011A on DfuSe devices (the DfuSe marker dfu-util and fwupd use), 0x0110 on plain DFU 1.1. */
  readonly bcdDFUVersion: number;
}

const USB_DT_CONFIG = USB_DESCRIPTOR_TYPE.CONFIGURATION;
const USB_DT_INTERFACE = USB_DESCRIPTOR_TYPE.INTERFACE;
const USB_DT_DFU_FUNCTIONAL = USB_DESCRIPTOR_TYPE.DFU_FUNCTIONAL;

export function decodeFunctionalDescriptor(b: Uint8Array): DfuFunctionalDescriptor | undefined {
  if (b.length < 7 || b[1] !== USB_DT_DFU_FUNCTIONAL) return undefined;
  const attr = b[2]!;
  return {
    bmAttributes: attr,
    canDownload: (attr & 1) !== 0,
    canUpload: (attr & 2) !== 0,
    manifestationTolerant: (attr & 4) !== 0,
    willDetach: (attr & 8) !== 0,
    wDetachTimeOut: b[3]! | (b[4]! << 8),
    wTransferSize: b[5]! | (b[6]! << 8),
    // DFU 1.0 devices end the descriptor after wTransferSize (7 bytes).
    bcdDFUVersion: b.length >= 9 ? b[7]! | (b[8]! << 8) : 0x0100,
  };
}

/** The first DFU functional descriptor following a DFU-class interface descriptor in a configuration descriptor. */
export function findFunctionalDescriptor(config: Uint8Array): DfuFunctionalDescriptor | undefined {
  let inDfu = false;
  for (let o = 0; o + 2 <= config.length; ) {
    const len = config[o]!;
    if (len < 2 || o + len > config.length) break;
    const type = config[o + 1]!;
    if (type === USB_DT_INTERFACE && len >= 9) inDfu = config[o + 5] === DFU_INTERFACE_CLASS && config[o + 6] === DFU_INTERFACE_SUBCLASS;
    else if (type === USB_DT_DFU_FUNCTIONAL && inDfu) return decodeFunctionalDescriptor(config.subarray(o, o + len));
    o += len;
  }
  return undefined;
}

/**
 * Reads the configuration descriptor (9 bytes for wTotalLength, then the whole) and finds the functional
 * descriptor. Undefined when the device STALLs the request or has none; transport failures throw.
 */
export async function readFunctionalDescriptor(t: DfuTransport, configIndex = 0): Promise<DfuFunctionalDescriptor | undefined> {
  const ctx = { operation: 'read descriptors' };
  const get = async (length: number): Promise<Uint8Array | undefined> => {
    try {
      const r = await t.controlTransferIn({ requestType: 'standard', recipient: 'device', request: USB_REQUEST.GET_DESCRIPTOR, value: (USB_DT_CONFIG << 8) | configIndex, index: 0 }, length);
      if (r.status !== 'ok' || r.data === undefined) return undefined;
      return new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength);
    } catch (e) {
      throw transportError(ctx, 'GET_DESCRIPTOR(CONFIGURATION)', e);
    }
  };
  const head = await get(9);
  if (head === undefined || head.length < 4) return undefined;
  const total = head[2]! | (head[3]! << 8);
  const full = total > head.length ? await get(total) : head;
  return full === undefined ? undefined : findFunctionalDescriptor(full);
}

export interface AltLayout {
  readonly alt: number;
  /** The interface string as the device reports it. */
  readonly name: string;
  /** Parsed DfuSe layout, or undefined when the string is not one (plain DFU device, garbage). */
  readonly layout?: MemoryLayout;
  readonly parseError?: string;
}

/** The DFU interface number and its alternate settings' layout strings, from the transport's configuration. */
export function readAltLayouts(t: DfuTransport): { interfaceNumber: number; alts: AltLayout[] } | undefined {
  for (const intf of t.configuration?.interfaces ?? []) {
    const dfuAlts = intf.alternates.filter((a) => a.interfaceClass === DFU_INTERFACE_CLASS && a.interfaceSubclass === DFU_INTERFACE_SUBCLASS);
    if (dfuAlts.length === 0) continue;
    return {
      interfaceNumber: intf.interfaceNumber,
      alts: dfuAlts.map((a) => {
        const name = a.interfaceName ?? '';
        try {
          return { alt: a.alternateSetting, name, layout: parseLayoutString(name) };
        } catch (e) {
          return { alt: a.alternateSetting, name, parseError: e instanceof Error ? e.message : String(e) };
        }
      }),
    };
  }
  return undefined;
}

export interface DeviceInfo {
  readonly interfaceNumber: number;
  readonly alts: AltLayout[];
  readonly functional?: DfuFunctionalDescriptor;
  /** The wTransferSize the host uses, and where it came from. */
  readonly transferSize: number;
  readonly transferSizeFrom: 'descriptor' | 'profile';
}

/**
 * Opens the device for DFU: open, configuration 1 when none is selected, claim the DFU interface, read the
 * functional descriptor. The chip profile supplies wTransferSize when the descriptor is missing.
 */
export async function openDfuDevice(t: DfuTransport, profile: ChipProfile | undefined): Promise<DeviceInfo> {
  const ctx = { operation: 'connect' };
  try {
    if (!t.opened) await t.open();
    if (t.configuration === null || t.configuration === undefined) await t.selectConfiguration(1);
  } catch (e) {
    throw transportError(ctx, 'open', e);
  }
  const found = readAltLayouts(t);
  if (found === undefined) {
    throw new DfuError('DFU_DESCRIPTOR', 'connect: the device has no DFU interface (class 0xFE, subclass 0x01): is it in DFU mode (BOOT0 high, or the application\'s DFU entry)?', { operation: 'connect' });
  }
  try {
    await t.claimInterface(found.interfaceNumber);
  } catch (e) {
    throw transportError(ctx, 'claimInterface', e);
  }
  const functional = await readFunctionalDescriptor(t);
  const fromDevice = functional !== undefined && functional.wTransferSize >= 64 ? functional.wTransferSize : undefined;
  const transferSize = fromDevice ?? profile?.dfu.wTransferSize;
  if (transferSize === undefined) {
    throw new DfuError('DFU_DESCRIPTOR', 'connect: the device reports no DFU functional descriptor (wTransferSize) and no chip profile gives one: name the chip', { operation: 'connect' });
  }
  return {
    interfaceNumber: found.interfaceNumber,
    alts: found.alts,
    ...(functional !== undefined ? { functional } : {}),
    transferSize,
    transferSizeFrom: fromDevice !== undefined ? 'descriptor' : 'profile',
  };
}
