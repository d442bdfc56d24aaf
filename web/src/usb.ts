/**
 * WebUSB in the page. The browser's `USBDevice` goes through the shared adapter (src/dfu/webusb.ts, the same one
 * node-usb devices use), and from there through the library's identification (`describeDevice` /
 * `prepareSession`, src/dfu/quirks-identify.ts) to `executePlan`: the page flashes with the same plan, retries,
 * quirk recoveries, verify and leave as `dfukit flash`. What is the page's own is explaining the browser's
 * failures: no WebUSB, a cancelled chooser, a device the OS will not hand over (a driver other than WinUSB on
 * Windows, missing udev rules on Linux), another program holding the interface, a device that vanished.
 */
import { isDfuError } from '../../src/dfu/errors.ts';
import { readAltLayouts } from '../../src/dfu/descriptors.ts';
import { executePlan, type FlashEvent, type FlashResult } from '../../src/dfu/operations.ts';
import { describeDevice, prepareSession, type DeviceDescription, type PreparedDevice } from '../../src/dfu/quirks-identify.ts';
import { DFU_DEVICE_FILTERS, WebUsbTransport, type WebUsbDeviceLike } from '../../src/dfu/webusb.ts';
import type { MemoryImage } from '../../src/image/memory-image.ts';
import type { BankMode } from '../../src/layout/chip-types.ts';
import type { FlashPlan } from '../../src/plan/types.ts';
import { planFlash, type FlashSettings } from './analyze.ts';

/** The part of `navigator.usb` the page uses. */
export interface UsbLike {
  requestDevice(options: { filters: { vendorId?: number; productId?: number; classCode?: number; subclassCode?: number }[] }): Promise<WebUsbDeviceLike>;
  getDevices(): Promise<WebUsbDeviceLike[]>;
}

/** Any device with a DFU interface (the STM32 ROM has one), as the shared adapter asks for them. */
export const DEVICE_FILTERS = DFU_DEVICE_FILTERS.map((f) => ({ ...f }));

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

const DOM_ERRORS = /\b(SecurityError|NetworkError|NotFoundError|InvalidStateError|AbortError|TimeoutError|NotAllowedError|NotSupportedError)\b/;

/** The DOMException name behind an error: its own, or the one the shared adapter kept in its message (`open: SecurityError: Access denied.`). */
function errorName(e: unknown): string {
  const own = typeof e === 'object' && e !== null && 'name' in e ? String((e as { name: unknown }).name) : '';
  if (DOM_ERRORS.test(own)) return own;
  return DOM_ERRORS.exec(errorMessage(e))?.[1] ?? own;
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** What a WebUSB rejection means at `stage`, on this platform. */
export function explainUsbError(e: unknown, stage: 'request' | 'open' | 'claim' | 'transfer', platform: Platform): Problem {
  const name = errorName(e);
  const message = errorMessage(e);
  const detail = message.includes(name) ? message : `${name !== '' ? `${name}: ` : ''}${message}`;
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
    const title = code === 'DFU_VERIFY_MISMATCH' ? 'Verify failed' : code === 'DFU_ABORTED' ? 'Flash stopped' : code === 'DFU_DISCONNECTED' ? 'The device disconnected during the flash' : 'The flash failed';
    return { code, title, advice, detail: e.message };
  }
  const name = errorName(e);
  if (name !== '' && name !== 'Error' && name !== 'FwError') return explainUsbError(e, 'transfer', platform);
  return { code: (e as { code?: string }).code ?? 'ERROR', title: 'The flash failed', advice: [], detail: errorMessage(e) };
}

/** The device as the page shows it: identity, alternate settings, the chip profiles its layout strings fit. */
export interface DeviceSummary {
  readonly name: string;
  readonly usbId: string;
  readonly serial?: string;
  readonly alts: readonly { alt: number; name: string }[];
  /** Profiles that fit (exact or documented differences, of the ROM generation bcdDevice says): one names the chip. */
  readonly profiles: readonly string[];
}

export function summarize(d: DeviceDescription): DeviceSummary {
  const hex4 = (n: number): string => n.toString(16).toUpperCase().padStart(4, '0');
  return {
    name: [d.manufacturer, d.product].filter((x) => x !== undefined && x !== '').join(' ') || 'USB DFU device',
    usbId: `${hex4(d.vendorId)}:${hex4(d.productId)}`,
    ...(d.serial !== undefined && d.serial !== '' ? { serial: d.serial } : {}),
    alts: d.alts.map((a) => ({ alt: a.alt, name: a.name })),
    profiles: d.profiles,
  };
}

/** Carries a Problem through a rejection. */
export class ProblemError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.title);
  }
}

export function problemOf(e: unknown): Problem | undefined {
  return e instanceof ProblemError ? e.problem : undefined;
}

/** Asks the user for a device (the browser's chooser) and wraps it in the shared adapter. */
export async function requestTransport(usb: UsbLike, platform: Platform): Promise<WebUsbTransport> {
  try {
    return new WebUsbTransport(await usb.requestDevice({ filters: DEVICE_FILTERS }));
  } catch (e) {
    throw new ProblemError(explainUsbError(e, 'request', platform));
  }
}

/**
 * Opens the device and claims its DFU interface, so that a refusal is explained at once (with the browser's own
 * error, which the adapter keeps in its message); then reads what the device says about itself.
 */
export async function openAndDescribe(t: WebUsbTransport, platform: Platform): Promise<DeviceDescription> {
  try {
    await t.open();
    if (t.configuration === null || t.configuration === undefined) await t.selectConfiguration(1);
  } catch (e) {
    throw new ProblemError(explainUsbError(e, 'open', platform));
  }
  const found = readAltLayouts(t);
  if (found !== undefined) {
    try {
      await t.claimInterface(found.interfaceNumber);
    } catch (e) {
      throw new ProblemError(explainUsbError(e, 'claim', platform));
    }
  }
  return describeDevice(t);
}

export interface FlashJob {
  readonly prepared: PreparedDevice;
  readonly plan: FlashPlan;
  readonly result: FlashResult;
}

/**
 * `dfukit flash` in the page: prepare the session as the library does for any device (the chip named, else
 * identified; flash size and bank mode from the device; the flash map reconciled), plan with the device's
 * wTransferSize, execute with progress, verify and leave as the settings say.
 */
export async function flashDevice(
  t: WebUsbTransport,
  chip: { name?: string; bankMode?: BankMode },
  image: MemoryImage,
  settings: FlashSettings,
  platform: Platform,
  hooks: { onPrepared?: (p: PreparedDevice, plan: FlashPlan) => void; onEvent?: (e: FlashEvent) => void; signal?: AbortSignal },
): Promise<FlashJob> {
  await openAndDescribe(t, platform);
  const prepared = await prepareSession(t, { ...(chip.name !== undefined ? { chip: chip.name } : {}), ...(chip.bankMode !== undefined ? { bankMode: chip.bankMode } : {}) });
  const s = prepared.session;
  const plan = planFlash(image, prepared.profile, settings, { transferSize: s.dfuse.transferSize, from: s.info.transferSizeFrom, addressPerBlock: s.dfuse.addressPerBlock });
  hooks.onPrepared?.(prepared, plan);
  const result = await executePlan(s, plan, { ...(hooks.signal !== undefined ? { signal: hooks.signal } : {}), ...(hooks.onEvent !== undefined ? { onEvent: hooks.onEvent } : {}) });
  return { prepared, plan, result };
}
