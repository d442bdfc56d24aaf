/**
 * USB descriptors of the STM32 ROM bootloader in DFU mode, byte for byte as the captures show them
 * (shared/corpus/Stefan-Schmidt__dfu-util/device-logs/stm32f4discovery.lsusb, stm32f107.lsusb; dmesg of an
 * H750 ROM in layout-strings.md):
 *
 *   device        bcdUSB 1.00 (F1/F4 captures) / 2.00 (H7 generation), class 0/0/0, bMaxPacketSize0 64,
 *                 0483:DF11, iManufacturer 1, iProduct 2, iSerialNumber 3, one configuration
 *   configuration wTotalLength 9 + 9·alts + 9, one interface, bConfigurationValue 1, iConfiguration 0,
 *                 bmAttributes 0xC0 (self powered), bMaxPower 50 (100 mA)
 *   interface     #0, one descriptor per alternate setting, no endpoints, class 0xFE / subclass 1 /
 *                 protocol 2 (DFU mode, DFU 1.1 §4.2.3), iInterface = the alt's memory-layout string
 *   functional    after the last alternate setting (libusb files it in the last alt's `extra`): bLength 9,
 *                 type 0x21, bmAttributes 0x0B ("Will Detach, Manifestation Intolerant, Upload Supported,
 *                 Download Supported" in both lsusb captures), wDetachTimeOut 255, wTransferSize from the
 *                 profile, bcdDFUVersion 0x011A (DFU 1.1 §4.2.4 Table 4.2; UM0391)
 *
 * ROM identity by generation (the profile does not carry it; decided from the captures):
 *   - H7 and G4 ROMs (bootloader V9.x/V13.x of the "DFU in FS Mode" generation): bcdDevice 0x0200,
 *     bcdUSB 0x0200, iProduct "DFU in FS Mode" (H750 dmesg; `ver=0200` in the H7/G4 `dfu-util -l` listings).
 *   - F4, F7, L4 ROMs: bcdDevice 0x2200 (`ver=2200` in the F401/F411/L433 listings), bcdUSB 0x0100,
 *     iProduct "STM32  BOOTLOADER" (two spaces; F4 Discovery lsusb).
 *   - F4 bootloader V3.0 (0x30): bcdDevice 0x2100, the 2012 F4 Discovery capture (which also shows V3.0's
 *     'g'-typed alt strings).
 */
import {
  DFU_ATTRIBUTE,
  DFU_FUNCTIONAL_DESCRIPTOR_LENGTH,
  DFU_FUNCTIONAL_DESCRIPTOR_TYPE,
  DFU_INTERFACE_CLASS,
  DFU_INTERFACE_SUBCLASS,
  DFU_PROTOCOL_DFU_MODE,
  DFUSE_BCD_VERSION,
  USB_DESCRIPTOR_TYPE,
  USB_LANGID_EN_US,
} from '../dfu/constants.ts';
import type { UsbConfiguration } from '../dfu/transport.ts';
import { FwError } from '../core/errors.ts';
import type { ResolvedChip, RomDescriptors } from './types.ts';

export const ROM_MANUFACTURER = 'STMicroelectronics';
export const ROM_PRODUCT_CLASSIC = 'STM32  BOOTLOADER';
export const ROM_PRODUCT_FS = 'DFU in FS Mode';
/** bmAttributes of every ST ROM capture: canDnload | canUpload | willDetach, not manifestation tolerant. */
export const ROM_DFU_ATTRIBUTES = DFU_ATTRIBUTE.canDnload | DFU_ATTRIBUTE.canUpload | DFU_ATTRIBUTE.willDetach;
export const ROM_DETACH_TIMEOUT_MS = 255;
/** iInterface of alternate setting k is string 4 + k (strings 1..3: manufacturer, product, serial). */
export const FIRST_INTERFACE_STRING = 4;

export interface RomIdentity {
  bcdDevice: number;
  bcdUSB: number;
  product: string;
}

function isFsGeneration(chip: ResolvedChip): boolean {
  return /^stm32(h7|g4)/.test(chip.profile);
}

export function romIdentity(chip: ResolvedChip, bootloaderId: number): RomIdentity {
  if (isFsGeneration(chip)) return { bcdDevice: 0x0200, bcdUSB: 0x0200, product: ROM_PRODUCT_FS };
  const bcdDevice = chip.profile.startsWith('stm32f4') && bootloaderId === 0x30 ? 0x2100 : 0x2200;
  return { bcdDevice, bcdUSB: 0x0100, product: ROM_PRODUCT_CLASSIC };
}

/**
 * The layout string alt `alt` reports with this bootloader: an `otherLayouts` entry tied to the version
 * (F4 V3.0 types OB/OTP/Device Feature 'g'), else the profile's string.
 */
export function altLayoutString(chip: ResolvedChip, alt: number, bootloaderId: number): string {
  const a = chip.dfu.alts.find((x) => x.alt === alt);
  if (a === undefined) throw new FwError('EMULATOR_ALT', `${chip.displayName} has no DFU alt ${alt}`);
  const other = a.otherLayouts?.find((o) => o.bootloaderIds?.includes(bootloaderId) === true);
  return other?.layout ?? a.layout;
}

/** Deterministic 12-hex-digit serial from a name (ROMs derive theirs from the 96-bit UID). FNV-1a, 48 bits. */
export function defaultSerial(name: string): string {
  let h = 0xcbf29ce484222325n;
  for (const c of name) h = ((h ^ BigInt(c.codePointAt(0)!)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return (h & 0xffffffffffffn).toString(16).toUpperCase().padStart(12, '0');
}

function stringDescriptor(s: string): Uint8Array {
  const len = 2 + 2 * s.length;
  if (len > 255) throw new FwError('EMULATOR_STRING', `USB string descriptor too long (${s.length} characters, at most 126): ${JSON.stringify(s)}`);
  const out = new Uint8Array(len);
  out[0] = len;
  out[1] = USB_DESCRIPTOR_TYPE.STRING;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out[2 + 2 * i] = c & 0xff;
    out[3 + 2 * i] = c >> 8;
  }
  return out;
}

export interface BuiltDescriptors extends RomDescriptors {
  /** Raw string descriptors by index (index 0: LANGID list). */
  readonly stringDescriptors: readonly Uint8Array[];
  readonly webusbConfiguration: UsbConfiguration;
  readonly product: string;
  readonly serial: string;
  readonly altLayouts: readonly { alt: number; layout: string }[];
}

export function buildDescriptors(
  chip: ResolvedChip,
  bootloaderId: number,
  opts: { serial?: string | undefined; bcdDevice?: number | undefined; productName?: string | undefined },
): BuiltDescriptors {
  const id = romIdentity(chip, bootloaderId);
  const bcdDevice = opts.bcdDevice ?? id.bcdDevice;
  const product = opts.productName ?? id.product;
  const serial = opts.serial ?? defaultSerial(chip.displayName);
  const alts = [...chip.dfu.alts].sort((a, b) => a.alt - b.alt);
  alts.forEach((a, i) => {
    if (a.alt !== i) throw new FwError('EMULATOR_ALT', `${chip.displayName}: DFU alts must be numbered 0..${alts.length - 1}`);
  });
  const altLayouts = alts.map((a) => ({ alt: a.alt, layout: altLayoutString(chip, a.alt, bootloaderId) }));

  const le16 = (v: number): [number, number] => [v & 0xff, (v >> 8) & 0xff];
  const device = Uint8Array.from([
    18,
    USB_DESCRIPTOR_TYPE.DEVICE,
    ...le16(id.bcdUSB),
    0x00, // bDeviceClass: defined at interface level
    0x00,
    0x00,
    64, // bMaxPacketSize0
    ...le16(chip.dfu.usbVid),
    ...le16(chip.dfu.usbPid),
    ...le16(bcdDevice),
    1, // iManufacturer
    2, // iProduct
    3, // iSerialNumber
    1, // bNumConfigurations
  ]);
  const functional = Uint8Array.from([
    DFU_FUNCTIONAL_DESCRIPTOR_LENGTH,
    DFU_FUNCTIONAL_DESCRIPTOR_TYPE,
    ROM_DFU_ATTRIBUTES,
    ...le16(ROM_DETACH_TIMEOUT_MS),
    ...le16(chip.dfu.wTransferSize),
    ...le16(DFUSE_BCD_VERSION),
  ]);
  const total = 9 + 9 * alts.length + functional.length;
  const config: number[] = [9, USB_DESCRIPTOR_TYPE.CONFIGURATION, ...le16(total), 1, 1, 0, 0xc0, 50];
  alts.forEach((a, i) => {
    config.push(9, USB_DESCRIPTOR_TYPE.INTERFACE, 0, a.alt, 0, DFU_INTERFACE_CLASS, DFU_INTERFACE_SUBCLASS, DFU_PROTOCOL_DFU_MODE, FIRST_INTERFACE_STRING + i);
  });
  config.push(...functional);
  const configuration = Uint8Array.from(config);

  const strings = ['', ROM_MANUFACTURER, product, serial, ...altLayouts.map((a) => a.layout)];
  const langids = Uint8Array.from([4, USB_DESCRIPTOR_TYPE.STRING, ...le16(USB_LANGID_EN_US)]);
  const stringDescriptors = [langids, ...strings.slice(1).map(stringDescriptor)];

  const webusbConfiguration: UsbConfiguration = {
    configurationValue: 1,
    interfaces: [
      {
        interfaceNumber: 0,
        alternates: altLayouts.map((a) => ({
          alternateSetting: a.alt,
          interfaceClass: DFU_INTERFACE_CLASS,
          interfaceSubclass: DFU_INTERFACE_SUBCLASS,
          interfaceProtocol: DFU_PROTOCOL_DFU_MODE,
          interfaceName: a.layout,
        })),
      },
    ],
  };
  return {
    device,
    configuration,
    functional,
    strings,
    bcdDevice,
    bcdUSB: id.bcdUSB,
    stringDescriptors,
    webusbConfiguration,
    product,
    serial,
    altLayouts,
  };
}
