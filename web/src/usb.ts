/**
 * WebUSB in the page. A browser `USBDevice` is structurally a `DfuTransport` (src/dfu/transport.ts), so it goes
 * to the library's `connect` / `executePlan` as it is: the page flashes with the same plan, retries, verify and
 * leave as `dfukit flash`. What is the page's own is explaining the browser's failures: no WebUSB, a cancelled
 * chooser, a device the OS will not hand over (a Windows driver other than WinUSB, missing udev rules on
 * Linux), another program holding the interface, a device that vanished.
 */
import { isDfuError } from '../../src/dfu/errors.ts';
import { readAltLayouts } from '../../src/dfu/descriptors.ts';
import { connect, executePlan, type FlashEvent, type FlashResult } from '../../src/dfu/operations.ts';
import type { DfuTransport } from '../../src/dfu/transport.ts';
import type { MemoryImage } from '../../src/image/memory-image.ts';
import type { ChipProfile } from '../../src/layout/chip-types.ts';
import { matchProfiles, type ProfileMatch } from '../../src/layout/match.ts';
import type { FlashPlan } from '../../src/plan/types.ts';
import { planFlash, type FlashSettings } from './analyze.ts';

/** The part of `navigator.usb` the page uses. */
export interface UsbLike {
  requestDevice(options: { filters: { vendorId?: number; productId?: number; classCode?: number; subclassCode?: number }[] }): Promise<DfuTransport>;
  getDevices(): Promise<DfuTransport[]>;
}

/** The STM32 ROM bootloader, and any DFU-class interface (custom bootloaders, other vendors' DfuSe). */
export const DEVICE_FILTERS = [
  { vendorId: 0x0483, productId: 0xdf11 },
  { classCode: 0xfe, subclassCode: 0x01 },
];

export type Platform = 'windows' | 'linux' | 'mac' | 'android' | 'chromeos' | 'other';

export function platformOf(userAgent: string): Platform {
  if (/Windows/.test(userAgent)) return 'windows';
  if (/Android/.test(userAgent)) return 'android';
  if (/CrOS/.test(userAgent)) return 'chromeos';
  if (/Macintosh|Mac OS X/.test(userAgent)) return 'mac';
  if (/Linux|X11/.test(userAgent)) return 'linux';
  return 'other';
}

/** A failure the page explains: a title, what to do, and the browser's own words. */
export interface Problem {
  readonly code: string;
  readonly title: string;
  readonly advice: readonly string[];
  readonly detail?: string;
}

const UDEV_RULE = 'SUBSYSTEM=="usb", ATTR{idVendor}=="0483", ATTR{idProduct}=="df11", MODE="0660", TAG+="uaccess"';

/** `navigator.usb`, or why there is none. */
export function webUsb(nav: Navigator, secure: boolean): { usb: UsbLike } | { problem: Problem } {
  const usb = (nav as Navigator & { usb?: UsbLike }).usb;
  if (usb !== undefined && usb !== null) return { usb };
  if (!secure) {
    return {
      problem: {
        code: 'WEBUSB_INSECURE',
        title: 'WebUSB needs a secure page',
        advice: ['Browsers offer WebUSB only to pages served over https or from this computer (http://localhost, http://127.0.0.1).', 'Run `dfukit web` and open the address it prints, or serve the page over https.'],
      },
    };
  }
  return {
    problem: {
      code: 'WEBUSB_UNSUPPORTED',
      title: 'This browser has no WebUSB',
      advice: [
        'Flashing from a web page needs WebUSB: Chrome, Edge, Opera or another Chromium-based browser on a desktop. Firefox and Safari do not implement it.',
        'Everything else on this page (inspect, map, doctor, convert, diff) works here; to flash, open the page in a Chromium browser or run `dfukit flash FILE --device usb`.',
      ],
    },
  };
}

function errorName(e: unknown): string {
  return typeof e === 'object' && e !== null && 'name' in e ? String((e as { name: unknown }).name) : '';
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** What a WebUSB rejection means at `stage`, on this platform. */
export function explainUsbError(e: unknown, stage: 'request' | 'open' | 'claim' | 'transfer', platform: Platform): Problem {
  const name = errorName(e);
  const detail = `${name !== '' ? `${name}: ` : ''}${errorMessage(e)}`;
  if (stage === 'request' && name === 'NotFoundError') {
    return {
      code: 'WEBUSB_NO_DEVICE_CHOSEN',
      title: 'No device was chosen',
      advice: [
        'If the board was not in the list, it is not in DFU mode: hold BOOT0 high (or set the boot jumper) and reset it, or use your firmware\'s way into its bootloader.',
        platform === 'windows' ? 'On Windows a board listed but greyed out has no usable driver: see "Access denied" below once you pick it.' : 'Check the cable: some USB cables carry power only.',
      ],
      detail,
    };
  }
  if (stage === 'request' && name === 'SecurityError') {
    return {
      code: 'WEBUSB_BLOCKED',
      title: 'The browser does not let this page ask for USB devices',
      advice: ['The chooser opens only from a click on the page, and not inside a frame whose permissions policy forbids "usb". Open the page directly and click "Connect" again.'],
      detail,
    };
  }
  if ((stage === 'open' || stage === 'claim') && name === 'SecurityError') {
    const advice =
      platform === 'windows'
        ? [
            'Windows has the device bound to a driver the browser cannot use. The ST DFU driver that STM32CubeProgrammer and DfuSe install ("STM Device in DFU Mode", STTub30) blocks WebUSB; the browser needs WinUSB.',
            'With the board in DFU mode, run Zadig (zadig.akeo.ie), select "STM32 BOOTLOADER" (USB ID 0483 DF11), choose WinUSB and click "Replace Driver"; then unplug and replug the board and connect again. dfu-util uses the same driver; STM32CubeProgrammer needs its own driver back (reinstall it from the Device Manager).',
          ]
        : platform === 'linux' || platform === 'chromeos'
          ? [
              'Permission denied: your user may not open this USB device. Add a udev rule, e.g. in /etc/udev/rules.d/50-stm32-dfu.rules:',
              UDEV_RULE,
              'then run `sudo udevadm control --reload-rules` and unplug and replug the board. (Snap and Flatpak browsers also need USB access granted to them.)',
            ]
          : ['The system refused access to the device. Close other programs that use it (STM32CubeProgrammer, dfu-util, another browser tab), unplug and replug the board, and connect again.'];
    return { code: 'WEBUSB_ACCESS_DENIED', title: 'Access to the device was denied', advice, detail };
  }
  if (stage === 'claim' || (stage === 'open' && name === 'NetworkError')) {
    return {
      code: 'WEBUSB_BUSY',
      title: 'Another program is using the device',
      advice: [
        'Close STM32CubeProgrammer, dfu-util, a serial terminal or another browser tab that has the board open, then connect again.',
        platform === 'windows' ? 'If nothing else has it open, Windows may have bound a driver other than WinUSB to it: see Zadig (zadig.akeo.ie), device "STM32 BOOTLOADER".' : 'Unplugging and replugging the board releases it.',
      ],
      detail,
    };
  }
  if (name === 'NotFoundError' || /disconnected/i.test(errorMessage(e))) {
    return {
      code: 'WEBUSB_DISCONNECTED',
      title: 'The device disconnected',
      advice: ['Check the cable and the board\'s power, put it back into DFU mode, connect again and flash again: the flash erases and writes what the file needs, so a second run completes an interrupted one.'],
      detail,
    };
  }
  return { code: 'WEBUSB_ERROR', title: 'The USB request failed', advice: ['Unplug and replug the board, put it into DFU mode and connect again.'], detail };
}

/** Explains a failure of a flash job: a DFU error keeps the library's message (operation, address, state, status). */
export function explainFlashError(e: unknown, platform: Platform): Problem {
  if (isDfuError(e)) {
    const code = e.code;
    const advice: string[] = [];
    if (code === 'DFU_DISCONNECTED' || code === 'DFU_TRANSPORT') {
      const why = explainUsbError(new Error(e.message), 'transfer', platform);
      advice.push(...why.advice);
    } else if (code === 'DFU_VERIFY_MISMATCH') {
      advice.push('What was read back differs from the file: the report below says where and the likely cause.');
    } else if (code === 'DFU_ABORTED') {
      advice.push('Stopped between two requests: the device is back in dfuIDLE. Flash again to complete it.');
    } else if (code === 'DFU_DESCRIPTOR' || code === 'DFU_LAYOUT') {
      advice.push('Check that the chip chosen above is the board\'s chip, and that the board is in its ROM bootloader.');
    } else {
      advice.push('The message names the operation, the address, the request and the device state. Reset the board into DFU mode and flash again.');
    }
    return { code, title: code === 'DFU_VERIFY_MISMATCH' ? 'Verify failed' : code === 'DFU_ABORTED' ? 'Flash stopped' : 'The flash failed', advice, detail: e.message };
  }
  const name = errorName(e);
  if (name !== '' && name !== 'Error' && name !== 'FwError') return explainUsbError(e, 'transfer', platform);
  return { code: (e as { code?: string }).code ?? 'ERROR', title: 'The flash failed', advice: [], detail: errorMessage(e) };
}

/** The device as the page shows it, with the chip profiles its memory-layout strings fit best. */
export interface DeviceSummary {
  readonly name: string;
  readonly usbId: string;
  readonly serial?: string;
  readonly alts: readonly { alt: number; name: string }[];
  readonly matches: readonly ProfileMatch[];
}

export function describeDevice(d: DfuTransport): DeviceSummary {
  const layouts = readAltLayouts(d);
  const strings: (string | undefined)[] = [];
  for (const a of layouts?.alts ?? []) strings[a.alt] = a.name;
  let matches: ProfileMatch[] = [];
  try {
    matches = matchProfiles(strings);
  } catch {
    matches = [];
  }
  const hex4 = (n: number): string => n.toString(16).toUpperCase().padStart(4, '0');
  return {
    name: [d.manufacturerName, d.productName].filter((x) => x !== undefined && x !== null && x !== '').join(' ') || 'USB DFU device',
    usbId: `${hex4(d.vendorId)}:${hex4(d.productId)}`,
    ...(d.serialNumber !== undefined && d.serialNumber !== null && d.serialNumber !== '' ? { serial: d.serialNumber } : {}),
    alts: (layouts?.alts ?? []).map((a) => ({ alt: a.alt, name: a.name })),
    matches: matches.slice(0, 3),
  };
}

/**
 * Opens the device and claims its DFU interface here, before the library does, so a refusal is explained with
 * the browser's own error (the library wraps it as a transport error). The library's `connect` then finds it open.
 */
export async function openForDfu(d: DfuTransport, platform: Platform): Promise<void> {
  try {
    if (!d.opened) await d.open();
    if (d.configuration === null || d.configuration === undefined) await d.selectConfiguration(1);
  } catch (e) {
    throw Object.assign(new Error('open'), { problem: explainUsbError(e, 'open', platform) });
  }
  const found = readAltLayouts(d);
  if (found === undefined) return; // connect() says there is no DFU interface
  try {
    await d.claimInterface(found.interfaceNumber);
  } catch (e) {
    throw Object.assign(new Error('claim'), { problem: explainUsbError(e, 'claim', platform) });
  }
}

export function problemOf(e: unknown): Problem | undefined {
  return typeof e === 'object' && e !== null && 'problem' in e ? (e as { problem: Problem }).problem : undefined;
}

export interface FlashJob {
  readonly plan: FlashPlan;
  readonly result: FlashResult;
}

/**
 * `dfukit flash` in the page: connect (wTransferSize from the device), plan with it, execute with progress,
 * verify and leave as the settings say. `onPlan` sees the plan before the first erase.
 */
export async function flashDevice(
  d: DfuTransport,
  chip: ChipProfile,
  image: MemoryImage,
  settings: FlashSettings,
  platform: Platform,
  hooks: { onPlan?: (plan: FlashPlan) => void; onEvent?: (e: FlashEvent) => void; signal?: AbortSignal },
): Promise<FlashJob> {
  await openForDfu(d, platform);
  const session = await connect(d, chip);
  const plan = planFlash(image, chip, settings, { transferSize: session.dfuse.transferSize, from: session.info.transferSizeFrom, addressPerBlock: session.dfuse.addressPerBlock });
  hooks.onPlan?.(plan);
  const result = await executePlan(session, plan, { ...(hooks.signal !== undefined ? { signal: hooks.signal } : {}), ...(hooks.onEvent !== undefined ? { onEvent: hooks.onEvent } : {}) });
  return { plan, result };
}
