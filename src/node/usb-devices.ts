/**
 * Real DFU devices in Node through the `usb` package (node-usb 2.x, libusb; an optionalDependency of dfukit):
 * loaded with `await import('usb')` only when a real device is asked for, so every other command works where the
 * native part is missing. Devices are enumerated with node-usb's device list (bus, port path, descriptors
 * without opening), wrapped in node-usb's `WebUSBDevice` and then in the same WebUSB adapter a browser uses
 * (src/dfu/webusb.ts): the code that talks to the board is the browser's.
 *
 * Failure modes named for what they are (npm.md §5): the package is not installed or its native binding does
 * not load; the machine has no USB subsystem (Linux without /sys/bus/usb: a container or VM without USB
 * passthrough; node-usb then just lists nothing); a device is there but cannot be opened (permissions: a
 * udev rule for 0483:df11 is needed; on Windows the WinUSB driver).
 */
import { existsSync } from 'node:fs';
import { EXIT_DEVICE } from '../core/errors.ts';
import { DFU_INTERFACE_CLASS, DFU_INTERFACE_SUBCLASS, ST_DFU_PRODUCT_ID, ST_VENDOR_ID } from '../dfu/constants.ts';
import { DfuError } from '../dfu/errors.ts';
import { WebUsbTransport, type WebUsbDeviceLike } from '../dfu/webusb.ts';

/** The npm package, imported by name at run time only. */
export const USB_PACKAGE = 'usb';
/** libusb control-transfer timeout set on every device (dfu-util's; node-usb's default is 1000 ms). */
export const USB_TIMEOUT_MS = 5000;

/** The part of node-usb's legacy `Device` used here. */
export interface NodeUsbDevice {
  readonly busNumber: number;
  readonly deviceAddress: number;
  readonly portNumbers?: readonly number[];
  readonly deviceDescriptor: { readonly idVendor: number; readonly idProduct: number; readonly bcdDevice: number };
  /** Throws on some platforms for a device that is not open. */
  readonly configDescriptor?: { readonly interfaces: readonly (readonly { readonly bInterfaceClass: number; readonly bInterfaceSubClass: number }[])[] } | undefined;
  timeout: number;
}

/** The part of the `usb` module used here. */
export interface UsbModule {
  getDeviceList(): NodeUsbDevice[];
  WebUSBDevice: { createInstance(device: NodeUsbDevice): Promise<WebUsbDeviceLike> };
}

export type UsbImporter = () => Promise<unknown>;

const defaultImporter: UsbImporter = () => import(USB_PACKAGE);

function notAvailable(message: string): DfuError {
  return new DfuError('DFU_NOT_AVAILABLE', message, { operation: 'connect' }, EXIT_DEVICE);
}

function isModuleNotFound(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

/** Loads `usb`; a clear DFU_NOT_AVAILABLE (exit 4) naming the package when it is missing or its native part fails. */
export async function loadUsbModule(importer: UsbImporter = defaultImporter): Promise<UsbModule> {
  let mod: unknown;
  try {
    mod = await importer();
  } catch (e) {
    if (isModuleNotFound(e)) {
      throw notAvailable(
        `--device usb needs the npm package '${USB_PACKAGE}' (node-usb 2.x), which is not installed: run \`npm install ${USB_PACKAGE}@^2.18\` next to dfukit (it is an optional dependency, skipped when its install fails); --device emulator:PART works without it`,
      );
    }
    throw notAvailable(`--device usb: the npm package '${USB_PACKAGE}' is installed but does not load (${e instanceof Error ? e.message : String(e)}); its native libusb binding may not match this platform or Node version`);
  }
  const m = ((mod as { default?: unknown }).default ?? mod) as Partial<UsbModule>;
  const named = mod as Partial<UsbModule>;
  const getDeviceList = named.getDeviceList ?? m.getDeviceList;
  const WebUSBDevice = named.WebUSBDevice ?? m.WebUSBDevice;
  if (typeof getDeviceList !== 'function' || WebUSBDevice === undefined) {
    throw notAvailable(`--device usb: the installed '${USB_PACKAGE}' package has no getDeviceList/WebUSBDevice; dfukit needs ${USB_PACKAGE}@^2.18`);
  }
  return { getDeviceList, WebUSBDevice };
}

/** Why this machine cannot have USB devices, or undefined. Linux only: elsewhere libusb is asked. */
export function usbSubsystemProblem(platform: string = process.platform, exists: (p: string) => boolean = existsSync): string | undefined {
  if (platform !== 'linux') return undefined;
  if (!exists('/sys/bus/usb')) {
    return 'this machine has no USB subsystem (/sys/bus/usb does not exist: a container or virtual machine without USB passthrough?), so no USB device can be seen here';
  }
  return undefined;
}

export interface UsbSelectors {
  readonly serial?: string;
  /** `BUS-PORT[.PORT...]` as sysfs and dfu-util -p name it (`1-2.3`). */
  readonly path?: string;
  readonly vid?: number;
  readonly pid?: number;
}

export interface UsbDfuDevice {
  readonly transport: WebUsbTransport;
  readonly serial?: string;
  readonly path: string;
  readonly vendorId: number;
  readonly productId: number;
}

export interface UsbUnopenable {
  readonly path: string;
  readonly vendorId: number;
  readonly productId: number;
  readonly error: string;
  readonly hint: string;
}

export interface UsbScan {
  readonly devices: UsbDfuDevice[];
  /** DFU devices seen on the bus that could not be opened (permissions, driver). */
  readonly unopenable: UsbUnopenable[];
}

export function usbPath(d: Pick<NodeUsbDevice, 'busNumber' | 'portNumbers' | 'deviceAddress'>): string {
  return d.portNumbers !== undefined && d.portNumbers.length > 0 ? `${d.busNumber}-${d.portNumbers.join('.')}` : `${d.busNumber}:${d.deviceAddress}`;
}

function looksDfu(d: NodeUsbDevice): boolean {
  try {
    const c = d.configDescriptor;
    if (c !== undefined) return c.interfaces.some((alts) => alts.some((a) => a.bInterfaceClass === DFU_INTERFACE_CLASS && a.bInterfaceSubClass === DFU_INTERFACE_SUBCLASS));
  } catch {
    // Not readable without opening on this platform: fall back to the ST ROM's IDs.
  }
  return d.deviceDescriptor.idVendor === ST_VENDOR_ID && d.deviceDescriptor.idProduct === ST_DFU_PRODUCT_ID;
}

function permissionHint(error: string, d: NodeUsbDevice): string {
  const id = `${d.deviceDescriptor.idVendor.toString(16).padStart(4, '0')}:${d.deviceDescriptor.idProduct.toString(16).padStart(4, '0')}`;
  if (/ACCESS/.test(error)) return `no permission to open it: on Linux add a udev rule, e.g. SUBSYSTEM=="usb", ATTR{idVendor}=="${id.slice(0, 4)}", ATTR{idProduct}=="${id.slice(5)}", MODE="0666"`;
  if (/NOT_SUPPORTED/.test(error)) return 'the device is bound to a driver libusb cannot use: on Windows install WinUSB for it (Zadig)';
  if (/BUSY/.test(error)) return 'another program has it open';
  return 'it could not be opened';
}

/** Every DFU device node-usb can see, filtered by the selectors. Throws DFU_NOT_AVAILABLE without `usb` or without a USB subsystem. */
export async function scanUsbDfuDevices(sel: UsbSelectors = {}, opts: { importer?: UsbImporter; subsystemProblem?: () => string | undefined } = {}): Promise<UsbScan> {
  const usb = await loadUsbModule(opts.importer);
  const problem = (opts.subsystemProblem ?? usbSubsystemProblem)();
  if (problem !== undefined) throw notAvailable(`--device usb: ${problem}; use --device emulator:PART to work with the in-process emulator`);
  const devices: UsbDfuDevice[] = [];
  const unopenable: UsbUnopenable[] = [];
  for (const d of usb.getDeviceList()) {
    const dd = d.deviceDescriptor;
    if (sel.vid !== undefined && dd.idVendor !== sel.vid) continue;
    if (sel.pid !== undefined && dd.idProduct !== sel.pid) continue;
    const path = usbPath(d);
    if (sel.path !== undefined && path !== sel.path) continue;
    if (!looksDfu(d)) continue;
    d.timeout = USB_TIMEOUT_MS;
    let web: WebUsbDeviceLike;
    try {
      web = await usb.WebUSBDevice.createInstance(d);
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      unopenable.push({ path, vendorId: dd.idVendor, productId: dd.idProduct, error, hint: permissionHint(error, d) });
      continue;
    }
    const t = new WebUsbTransport(web);
    const serial = web.serialNumber ?? undefined;
    if (sel.serial !== undefined && serial !== sel.serial) continue;
    devices.push({ transport: t, ...(serial !== undefined && serial !== '' ? { serial } : {}), path, vendorId: dd.idVendor, productId: dd.idProduct });
  }
  return { devices, unopenable };
}

/**
 * Waits for a device with `serial` to enumerate again (after an option-byte write or read-unprotect the ROM
 * resets; after leave a bad vector table brings it back): polls the bus every `pollMs` up to `timeoutMs`.
 */
export async function waitForUsbDevice(
  serial: string,
  sel: UsbSelectors,
  timeoutMs: number,
  opts: { importer?: UsbImporter; subsystemProblem?: () => string | undefined; pollMs?: number } = {},
): Promise<UsbDfuDevice | undefined> {
  const end = Date.now() + timeoutMs;
  const pollMs = opts.pollMs ?? 250;
  for (;;) {
    const scan = await scanUsbDfuDevices({ ...sel, serial }, { ...(opts.importer !== undefined ? { importer: opts.importer } : {}), ...(opts.subsystemProblem !== undefined ? { subsystemProblem: opts.subsystemProblem } : {}) });
    if (scan.devices.length > 0) return scan.devices[0];
    if (Date.now() >= end) return undefined;
    await new Promise((done) => setTimeout(done, pollMs));
  }
}
