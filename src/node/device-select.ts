/**
 * Device selection for the CLI: `--device` (usb, the default, or emulator:PART) plus `--serial`, `--path`,
 * `--vid/--pid`, resolved to handles with one shape whatever the device is. A handle follows its device across
 * re-enumeration by serial number: after an option-byte write or a read-unprotect the ROM resets, and
 * `reopen()` waits for the same serial to come back and returns its new transport.
 */
import { EXIT_DEVICE, EXIT_USAGE, FwError } from '../core/errors.ts';
import { DfuError } from '../dfu/errors.ts';
import { realClock, type Clock } from '../dfu/protocol.ts';
import type { DfuTransport } from '../dfu/transport.ts';
import type { RomEmulator } from '../emulator/types.ts';
import type { BankMode } from '../layout/chip-schema.ts';
import { openEmulators, parseDeviceSpec, type DeviceSpec } from './emulator-device.ts';
import { scanUsbDfuDevices, waitForUsbDevice, type UsbImporter, type UsbScan, type UsbSelectors, type UsbUnopenable } from './usb-devices.ts';
import { formatUsbipUrl, UsbipTransport } from './usbip-client.ts';

export interface Selectors extends UsbSelectors {}

export interface DeviceHandle {
  readonly source: 'usb' | 'emulator' | 'usbip';
  /** The device's current transport (a new one after `reopen`). */
  readonly transport: DfuTransport;
  /** iSerialNumber, the name the handle follows the device by. */
  readonly serial: string;
  /** USB port path (`1-2.3`), for USB devices. */
  readonly path?: string;
  /** Where the device is, for the plan header: `the in-process ROM emulator (flash in f.bin)`, `USB 1-2.3 (0483:df11, serial ...)`. */
  readonly description: string;
  readonly clock: Clock;
  /** The part the device is known to be (an emulator's PART unless `anonymous`): identification starts from it. */
  readonly chip?: string;
  readonly emulator?: RomEmulator;
  /** Waits for the device to enumerate again after a reset and returns its new transport. */
  reopen(timeoutMs?: number): Promise<DfuTransport>;
  close(): void;
}

export interface SelectOptions {
  readonly flashSize?: number;
  readonly bankMode?: BankMode;
  /** For tests: how `usb` is imported, and the no-USB-subsystem check. */
  readonly importer?: UsbImporter;
  readonly subsystemProblem?: () => string | undefined;
}

export interface Selection {
  readonly handles: DeviceHandle[];
  /** USB DFU devices seen but not opened (permissions). */
  readonly unopenable: readonly UsbUnopenable[];
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}

/** Every device the spec and selectors name. */
export async function selectDevices(spec: DeviceSpec | string, sel: Selectors = {}, opts: SelectOptions = {}): Promise<Selection> {
  const s = typeof spec === 'string' ? parseDeviceSpec(spec) : spec;
  if (s.kind === 'emulator') {
    if (sel.path !== undefined) throw new FwError('DEVICE_SELECT', '--path selects a USB port; emulated devices have none (use --serial)', {}, EXIT_USAGE);
    const all = openEmulators(s, { ...(opts.flashSize !== undefined ? { flashSize: opts.flashSize } : {}), ...(opts.bankMode !== undefined ? { bankMode: opts.bankMode } : {}) });
    const handles: DeviceHandle[] = [];
    for (const e of all) {
      const vid = e.profile.dfu.usbVid;
      const pid = e.profile.dfu.usbPid;
      if ((sel.serial !== undefined && e.serial !== sel.serial) || (sel.vid !== undefined && sel.vid !== vid) || (sel.pid !== undefined && sel.pid !== pid)) {
        e.close();
        continue;
      }
      let transport = e.transport();
      handles.push({
        source: 'emulator',
        get transport() {
          return transport;
        },
        serial: e.serial,
        description: e.description,
        clock: e.clock,
        ...(s.anonymous === true ? {} : { chip: s.part }),
        emulator: e.emulator,
        reopen: async () => {
          transport = e.reconnect();
          return transport;
        },
        close: () => e.close(),
      });
    }
    return { handles, unopenable: [] };
  }
  if (s.kind === 'usbip') {
    // Attached here to read the descriptors (serial, strings); a `dfukit emulate` server names its part in the record path.
    let transport = new UsbipTransport(s);
    await transport.attach();
    const hint = /^\/dfukit\/emulator\/([^/]+)\//.exec(transport.record?.path ?? '')?.[1];
    const serial = transport.serialNumber ?? '';
    if (sel.serial !== undefined && sel.serial !== serial) {
      transport.disconnect();
      return { handles: [], unopenable: [] };
    }
    const url = formatUsbipUrl(s);
    return {
      handles: [
        {
          source: 'usbip',
          get transport() {
            return transport;
          },
          serial,
          description: `${transport.url} (over USB/IP)`,
          clock: realClock,
          ...(hint !== undefined ? { chip: hint } : {}),
          reopen: async (timeoutMs = 60_000) => {
            transport.disconnect();
            const end = Date.now() + timeoutMs;
            for (;;) {
              const t = new UsbipTransport(s);
              try {
                await t.attach();
                if (serial === '' || t.serialNumber === serial) {
                  transport = t;
                  return t;
                }
                t.disconnect();
              } catch {
                t.disconnect();
              }
              if (Date.now() >= end) throw new DfuError('DFU_DISCONNECTED', `${url}: the device${serial !== '' ? ` with serial ${serial}` : ''} did not come back within ${Math.round(timeoutMs / 1000)} s after its reset`, { operation: 'reconnect' });
              await new Promise((done) => setTimeout(done, 250));
            }
          },
          close: () => transport.disconnect(),
        },
      ],
      unopenable: [],
    };
  }
  const scan: UsbScan = await scanUsbDfuDevices(sel, { ...(opts.importer !== undefined ? { importer: opts.importer } : {}), ...(opts.subsystemProblem !== undefined ? { subsystemProblem: opts.subsystemProblem } : {}) });
  const handles = scan.devices.map((d): DeviceHandle => {
    let transport: DfuTransport = d.transport;
    const serial = d.serial ?? '';
    return {
      source: 'usb',
      get transport() {
        return transport;
      },
      serial,
      path: d.path,
      description: `USB ${d.path} (${hex4(d.vendorId)}:${hex4(d.productId)}${serial !== '' ? `, serial ${serial}` : ''})`,
      clock: realClock,
      reopen: async (timeoutMs = 60_000) => {
        if (serial === '') throw new DfuError('DFU_DISCONNECTED', `the device at ${d.path} reset and has no serial number to find it again by: run the command again`, { operation: 'reconnect' });
        try {
          await transport.close();
        } catch {
          // Gone already.
        }
        const again = await waitForUsbDevice(serial, { vid: d.vendorId, pid: d.productId }, timeoutMs, {
          ...(opts.importer !== undefined ? { importer: opts.importer } : {}),
          ...(opts.subsystemProblem !== undefined ? { subsystemProblem: opts.subsystemProblem } : {}),
        });
        if (again === undefined) throw new DfuError('DFU_DISCONNECTED', `the device with serial ${serial} did not come back in DFU mode within ${Math.round(timeoutMs / 1000)} s after its reset (BOOT0 low? it may be running its application)`, { operation: 'reconnect' });
        transport = again.transport;
        return transport;
      },
      close: () => {
        void transport.close().catch(() => {});
      },
    };
  });
  return { handles, unopenable: scan.unopenable };
}

/** Exactly one device: none is a device error (exit 4) naming what was looked for; several is a usage error listing them. */
export async function selectOne(spec: DeviceSpec | string, sel: Selectors = {}, opts: SelectOptions = {}): Promise<DeviceHandle> {
  const { handles, unopenable } = await selectDevices(spec, sel, opts);
  if (handles.length === 1) return handles[0]!;
  if (handles.length === 0) {
    const what = [sel.serial !== undefined ? `serial ${sel.serial}` : '', sel.path !== undefined ? `path ${sel.path}` : '', sel.vid !== undefined ? `VID ${hex4(sel.vid)}` : '', sel.pid !== undefined ? `PID ${hex4(sel.pid)}` : '']
      .filter((x) => x !== '')
      .join(', ');
    const locked = unopenable.map((u) => `${u.path} (${hex4(u.vendorId)}:${hex4(u.productId)}): ${u.hint}`).join('; ');
    throw new FwError(
      'DFU_NO_DEVICE',
      `no DFU device found${what !== '' ? ` with ${what}` : ''}${locked !== '' ? `; seen but not opened: ${locked}` : ': is the board in DFU mode (BOOT0 high, reset) and connected?'}`,
      {},
      EXIT_DEVICE,
    );
  }
  for (const h of handles) h.close();
  throw new FwError(
    'DEVICE_AMBIGUOUS',
    `${handles.length} DFU devices match: ${handles.map((h) => `serial ${h.serial || '(none)'}${h.path !== undefined ? ` at ${h.path}` : ''}`).join(', ')}; pick one with --serial or --path (flash takes --all for every one)`,
    {},
    EXIT_USAGE,
  );
}
