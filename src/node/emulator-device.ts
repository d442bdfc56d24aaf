/**
 * `--device SPEC` for the CLI: `emulator:PART[,flash=FILE][,quirks=a+b][,bootloader=0x90]` creates the STM32
 * ROM emulator in this process; `usb` (real devices through `usb`) comes with a later issue and is refused
 * with a clear error.
 *
 * `flash=FILE` keeps the emulated flash in a file (the main flash, bank after bank, as `readFlash()` returns
 * it): read at start (a missing file starts erased and is created), and written through on every erase and
 * program, so a flash cut off half way leaves the file as a cut-off device would be, and `--resume` in the next
 * process sees it.
 */
import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { EXIT_DEVICE, EXIT_USAGE, FwError } from '../core/errors.ts';
import { formatSize } from '../core/format.ts';
import { parseNumber } from '../core/parse-number.ts';
import { realClock, type Clock } from '../dfu/protocol.ts';
import { DfuError } from '../dfu/errors.ts';
import type { DfuTransport } from '../dfu/transport.ts';
import { createRomEmulator } from '../emulator/index.ts';
import type { RomEmulator } from '../emulator/types.ts';
import type { ChipProfile } from '../layout/chip-types.ts';
import { resolveChip } from '../layout/chips.ts';
import { formatUsbipUrl, parseUsbipUrl, UsbipTransport, type UsbipSpec } from './usbip-client.ts';

export type DeviceSpec =
  | { readonly kind: 'emulator'; readonly part: string; readonly flashFile?: string; readonly quirks?: readonly string[]; readonly bootloader?: number | string }
  | { readonly kind: 'usb'; readonly selector?: string }
  /** `usbip://HOST:PORT[/BUSID]` (usbip-client.ts); `profile` is filled in once the device has been identified. */
  | (UsbipSpec & { readonly kind: 'usbip'; readonly profile?: ChipProfile });

const EXAMPLE = 'emulator:stm32h745, emulator:stm32f405,flash=f405.bin,quirks=profile, or usb';

/** Parses `--device`; a usage error (exit 2) names the accepted forms. */
export function parseDeviceSpec(spec: string): DeviceSpec {
  const s = spec.trim();
  if (/^usbip:/i.test(s)) return { kind: 'usbip', ...parseUsbipUrl(s) };
  if (s === 'usb' || s.startsWith('usb:')) return s === 'usb' ? { kind: 'usb' } : { kind: 'usb', selector: s.slice(4) };
  const m = /^emulator:([^,]+)((?:,[^,]*)*)$/i.exec(s);
  if (m === null) throw new FwError('DEVICE_SPEC', `--device '${spec}': expected ${EXAMPLE}`, {}, EXIT_USAGE);
  let flashFile: string | undefined;
  let quirks: string[] | undefined;
  let bootloader: number | string | undefined;
  for (const opt of m[2]!.split(',').slice(1)) {
    const eq = opt.indexOf('=');
    const key = eq < 0 ? opt : opt.slice(0, eq);
    const value = eq < 0 ? '' : opt.slice(eq + 1);
    if (key === 'flash' && value !== '') flashFile = value;
    else if (key === 'quirks' && value !== '') quirks = value.split('+').filter((q) => q !== '');
    else if ((key === 'bootloader' || key === 'bl') && value !== '') bootloader = parseNumber(value) ?? value;
    else throw new FwError('DEVICE_SPEC', `--device '${spec}': unknown emulator option '${opt}' (flash=FILE, quirks=a+b or quirks=profile, bootloader=0x90)`, {}, EXIT_USAGE);
  }
  return {
    kind: 'emulator',
    part: m[1]!,
    ...(flashFile !== undefined ? { flashFile } : {}),
    ...(quirks !== undefined ? { quirks } : {}),
    ...(bootloader !== undefined ? { bootloader } : {}),
  };
}

export interface OpenedDevice {
  readonly transport: DfuTransport;
  readonly profile: ChipProfile;
  /** The clock device time is measured on: the emulator's virtual clock (its sleep advances it). */
  readonly clock: Clock;
  /** `emulator stm32h745 (STM32H745xI), flash in fw.bin` */
  readonly description: string;
  readonly emulator?: RomEmulator;
  close(): void;
}

/** File offset of flash address `addr` in the bank-after-bank file, or undefined outside flash. */
function offsetOf(profile: ChipProfile, addr: number): number | undefined {
  let base = 0;
  for (const b of profile.banks) {
    if (addr >= b.start && addr < b.end) return base + (addr - b.start);
    base += b.size;
  }
  return undefined;
}

/** The chip the device is: for the emulator its PART; `usb` is not available yet. */
export function deviceProfile(spec: DeviceSpec, opts: { flashSize?: number; bankMode?: 'single' | 'dual' } = {}): ChipProfile {
  if (spec.kind === 'usb') throw usbNotAvailable();
  if (spec.kind === 'usbip') return usbipProfile(spec);
  return resolveChip(spec.part, opts);
}

function usbNotAvailable(): DfuError {
  return new DfuError(
    'DFU_NOT_AVAILABLE',
    '--device usb: real USB devices are not available in this version yet (coming with the node `usb` transport); use --device emulator:PART to try a flash in-process',
    { operation: 'connect' },
    EXIT_DEVICE,
  );
}

/** A usbip spec's chip, once `identifyUsbipDevice` (run/flash.ts deviceAndChip) has filled it in. */
function usbipProfile(spec: Extract<DeviceSpec, { kind: 'usbip' }>): ChipProfile {
  if (spec.profile === undefined) throw new FwError('DEVICE_SPEC', `${formatUsbipUrl(spec)}: the chip is not known yet (identify the device first, or name it with --chip)`, {}, EXIT_USAGE);
  return spec.profile;
}

export function openDevice(spec: DeviceSpec, opts: { flashSize?: number; bankMode?: 'single' | 'dual' } = {}): OpenedDevice {
  if (spec.kind === 'usb') throw usbNotAvailable();
  if (spec.kind === 'usbip') {
    // Connects on open(): DEVLIST/IMPORT and the descriptors over USB/IP; device time is real time.
    const transport = new UsbipTransport(spec);
    const profile = usbipProfile(spec);
    return { transport, profile, clock: realClock, description: `${formatUsbipUrl(spec)} (${profile.displayName}, over USB/IP)`, close: () => transport.disconnect() };
  }
  const profile = resolveChip(spec.part, opts);
  let fd: number | undefined;
  let initial: Uint8Array | undefined;
  if (spec.flashFile !== undefined) {
    if (existsSync(spec.flashFile)) {
      const b = readFileSync(spec.flashFile);
      if (b.length > profile.flashSize) {
        throw new FwError('DEVICE_FLASH_FILE', `${spec.flashFile} holds ${formatSize(b.length)} bytes, more than the ${formatSize(profile.flashSize)} of ${profile.displayName} flash`, { file: spec.flashFile }, EXIT_USAGE);
      }
      initial = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      fd = openSync(spec.flashFile, 'r+');
    } else fd = openSync(spec.flashFile, 'w+');
  }
  const put = (offset: number, bytes: Uint8Array): void => {
    if (fd === undefined) return;
    let done = 0;
    while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, offset + done);
  };
  const emulator = createRomEmulator({
    chip: profile,
    ...(initial !== undefined ? { flash: initial } : {}),
    ...(spec.quirks !== undefined ? { quirks: spec.quirks.length === 1 && spec.quirks[0] === 'profile' ? 'profile' : spec.quirks } : {}),
    ...(spec.bootloader !== undefined ? { bootloaderVersion: spec.bootloader } : {}),
    onFlashWrite: (addr, bytes) => {
      const o = offsetOf(profile, addr);
      if (o !== undefined) put(o, bytes);
    },
    onErase: (sector) => {
      const o = offsetOf(profile, sector.start);
      if (o !== undefined) put(o, new Uint8Array(sector.size).fill(profile.erasedValue));
    },
  });
  // A new or short file gets the whole (erased) flash, so its size is the flash size from the start.
  if (fd !== undefined && (initial === undefined || initial.length < profile.flashSize)) put(0, emulator.readFlash());
  return {
    transport: emulator.device,
    profile,
    clock: { now: () => emulator.clock.nowMs, sleep: (ms) => emulator.sleep(ms) },
    description: `the in-process ROM emulator${spec.flashFile !== undefined ? ` (flash in ${spec.flashFile})` : ''}`,
    emulator,
    close: () => {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}
