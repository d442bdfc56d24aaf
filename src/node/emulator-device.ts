/**
 * `--device SPEC` for the CLI. `usb` (the default) is a real device through the `usb` package (usb-devices.ts);
 * `usbip://HOST:PORT[/BUSID]` a device exported over USB/IP (usbip-client.ts); `emulator:PART[,option...]`
 * creates STM32 ROM emulators in this process:
 *
 *   flash=FILE            keep the emulated flash in FILE (bank after bank, as `readFlash()` returns it): read at
 *                         start (a missing file starts erased and is created) and written through on every erase and
 *                         program, so a cut-off flash leaves the file as the device would be and `--resume` sees it.
 *                         With several serials FILE must contain `{serial}`.
 *   quirks=a+b|profile    ROM quirk hooks (src/emulator/quirks.ts)
 *   bootloader=0x90       bootloader version (bl= too)
 *   serials=A+B           one emulated device per serial (default one, with the part's default serial);
 *   count=N               N devices with serials EMU1..EMUN
 *   faults=[SERIAL:]KIND@WHERE  an injected fault (repeatable): disconnect@N, stall@N, timeout@N (request number),
 *                         status@N=errPROG, erase-fail@ADDR[*TIMES], program-fail@ADDR[*TIMES][=errVERIFY], write-protected@ADDR
 *   bank=single|dual      the flash organisation of parts whose bank mode an option bit selects (the option bit is
 *                         written to match, as on a real part)
 *   rdp=0|1               initial read-protection level
 *   usb-timeout=MS        the host's control-transfer timeout: a request the ROM NAKs longer fails (libusb 5000)
 *   anonymous             do not tell dfukit the part: it identifies the chip from the device, as for USB
 */
import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { EXIT_USAGE, FwError } from '../core/errors.ts';
import { formatSize } from '../core/format.ts';
import { parseNumber } from '../core/parse-number.ts';
import { DFU_STATUS, type DfuStatusName } from '../dfu/constants.ts';
import type { Clock } from '../dfu/protocol.ts';
import type { DfuTransport } from '../dfu/transport.ts';
import { createRomEmulator } from '../emulator/index.ts';
import type { Fault, RomEmulator } from '../emulator/types.ts';
import type { BankMode } from '../layout/chip-schema.ts';
import type { ChipProfile } from '../layout/chip-types.ts';
import { resolveChip } from '../layout/chips.ts';
import { encodeOptionBytes, optionByteRegions } from '../layout/option-bytes.ts';
import { parseUsbipUrl, type UsbipSpec } from './usbip-client.ts';

export interface EmulatorSpec {
  readonly kind: 'emulator';
  readonly part: string;
  readonly flashFile?: string;
  readonly quirks?: readonly string[];
  readonly bootloader?: number | string;
  readonly serials?: readonly string[];
  readonly faults?: readonly { readonly serial?: string; readonly fault: Fault }[];
  readonly bank?: BankMode;
  readonly rdp?: 0 | 1 | 2;
  readonly usbTimeoutMs?: number;
  readonly anonymous?: boolean;
}

/** `usbip://HOST:PORT[/BUSID]`: a device another process exports over USB/IP (usbip-client.ts). */
export type UsbipDeviceSpec = UsbipSpec & { readonly kind: 'usbip' };

export type DeviceSpec = EmulatorSpec | { readonly kind: 'usb' } | UsbipDeviceSpec;

const EXAMPLE = 'usb, usbip://HOST:PORT[/BUSID], emulator:stm32h745, emulator:stm32f405,flash=f405.bin,quirks=profile, emulator:stm32f722,serials=A+B';
const OPTIONS = 'flash=FILE, quirks=a+b|profile, bootloader=0x90, serials=A+B, count=N, faults=[SERIAL:]KIND@WHERE, bank=single|dual, rdp=0|1, usb-timeout=MS, anonymous';

function specError(spec: string, why: string): FwError {
  return new FwError('DEVICE_SPEC', `--device '${spec}': ${why}`, {}, EXIT_USAGE);
}

const STATUS_NAMES = Object.keys(DFU_STATUS).filter((n) => n !== 'OK') as Exclude<DfuStatusName, 'OK'>[];

/** `[SERIAL:]KIND@WHERE` → a fault (see the module comment). */
export function parseFaultSpec(text: string, spec = text): { serial?: string; fault: Fault } {
  const m = /^(?:([^:@]+):)?([a-z-]+)@([^=*]+)(?:\*(\d+))?(?:=(\w+))?$/.exec(text.trim());
  if (m === null) throw specError(spec, `fault '${text}': expected [SERIAL:]KIND@WHERE, e.g. B:program-fail@0x08004000*3 or disconnect@120`);
  const serial = m[1];
  const kind = m[2]!;
  const where = parseNumber(m[3]!);
  const times = m[4] !== undefined ? Number(m[4]) : undefined;
  const status = m[5];
  if (where === undefined) throw specError(spec, `fault '${text}': '${m[3]}' is not a number`);
  const withSerial = (fault: Fault): { serial?: string; fault: Fault } => ({ ...(serial !== undefined ? { serial } : {}), fault });
  switch (kind) {
    case 'disconnect':
      return withSerial({ kind: 'disconnect', atRequest: where });
    case 'stall':
      return withSerial({ kind: 'stall', atRequest: where });
    case 'timeout':
      return withSerial({ kind: 'timeout', atRequest: where });
    case 'status': {
      const st = STATUS_NAMES.find((n) => n === status);
      if (st === undefined) throw specError(spec, `fault '${text}': status@N=NAME needs a DFU status name (${STATUS_NAMES.join(', ')})`);
      return withSerial({ kind: 'status', atRequest: where, status: st });
    }
    case 'erase-fail':
      return withSerial({ kind: 'erase-fail', address: where, ...(times !== undefined ? { times } : {}) });
    case 'program-fail': {
      if (status !== undefined && status !== 'errPROG' && status !== 'errVERIFY' && status !== 'errWRITE') throw specError(spec, `fault '${text}': program-fail takes =errPROG, =errVERIFY or =errWRITE`);
      return withSerial({ kind: 'program-fail', address: where, ...(times !== undefined ? { times } : {}), ...(status !== undefined ? { status } : {}) });
    }
    case 'write-protected':
      return withSerial({ kind: 'write-protected', address: where });
    case 'program-drop':
      return withSerial({ kind: 'program-drop', address: where });
    default:
      throw specError(spec, `fault '${text}': unknown kind '${kind}' (disconnect, stall, timeout, status, erase-fail, program-fail, program-drop, write-protected)`);
  }
}

/** Parses `--device`; a usage error (exit 2) names the accepted forms. */
export function parseDeviceSpec(spec: string): DeviceSpec {
  const s = spec.trim();
  if (s === 'usb') return { kind: 'usb' };
  if (/^usbip:/i.test(s)) return { kind: 'usbip', ...parseUsbipUrl(s) };
  const m = /^emulator:([^,]+)((?:,[^,]*)*)$/i.exec(s);
  if (m === null) throw new FwError('DEVICE_SPEC', `--device '${spec}': expected ${EXAMPLE}`, {}, EXIT_USAGE);
  let flashFile: string | undefined;
  let quirks: string[] | undefined;
  let bootloader: number | string | undefined;
  let serials: string[] | undefined;
  const faults: { serial?: string; fault: Fault }[] = [];
  let bank: BankMode | undefined;
  let rdp: 0 | 1 | 2 | undefined;
  let usbTimeoutMs: number | undefined;
  let anonymous = false;
  for (const opt of m[2]!.split(',').slice(1)) {
    const eq = opt.indexOf('=');
    const key = eq < 0 ? opt : opt.slice(0, eq);
    const value = eq < 0 ? '' : opt.slice(eq + 1);
    if (key === 'flash' && value !== '') flashFile = value;
    else if (key === 'quirks' && value !== '') quirks = value.split('+').filter((q) => q !== '');
    else if ((key === 'bootloader' || key === 'bl') && value !== '') bootloader = parseNumber(value) ?? value;
    else if ((key === 'serials' || key === 'serial') && value !== '') serials = value.split('+').filter((x) => x !== '');
    else if (key === 'count' && /^[1-9]\d?$/.test(value)) serials = Array.from({ length: Number(value) }, (_, i) => `EMU${i + 1}`);
    else if (key === 'faults' || key === 'fault') faults.push(...value.split(';').filter((x) => x !== '').map((f) => parseFaultSpec(f, spec)));
    else if (key === 'bank' && (value === 'single' || value === 'dual')) bank = value;
    else if (key === 'rdp' && /^[012]$/.test(value)) rdp = Number(value) as 0 | 1 | 2;
    else if (key === 'usb-timeout' && parseNumber(value) !== undefined) usbTimeoutMs = parseNumber(value)!;
    else if (key === 'anonymous' && value === '') anonymous = true;
    else throw specError(spec, `unknown emulator option '${opt}' (${OPTIONS})`);
  }
  if (serials !== undefined && new Set(serials).size !== serials.length) throw specError(spec, 'serials must differ');
  for (const f of faults) {
    if (f.serial !== undefined && !(serials ?? []).includes(f.serial)) throw specError(spec, `fault for serial '${f.serial}', which serials= does not list`);
  }
  if (flashFile !== undefined && (serials?.length ?? 1) > 1 && !flashFile.includes('{serial}')) throw specError(spec, 'with several serials, flash=FILE must contain {serial} (one file per device)');
  return {
    kind: 'emulator',
    part: m[1]!,
    ...(flashFile !== undefined ? { flashFile } : {}),
    ...(quirks !== undefined ? { quirks } : {}),
    ...(bootloader !== undefined ? { bootloader } : {}),
    ...(serials !== undefined ? { serials } : {}),
    ...(faults.length > 0 ? { faults } : {}),
    ...(bank !== undefined ? { bank } : {}),
    ...(rdp !== undefined ? { rdp } : {}),
    ...(usbTimeoutMs !== undefined ? { usbTimeoutMs } : {}),
    ...(anonymous ? { anonymous } : {}),
  };
}

/** One emulated device, ready for the CLI. */
export interface EmulatedDevice {
  readonly emulator: RomEmulator;
  readonly profile: ChipProfile;
  readonly serial: string;
  readonly clock: Clock;
  /** `the in-process ROM emulator (flash in f.bin)` */
  readonly description: string;
  /** The current device instance (a new one after `reconnect()`). */
  transport(): DfuTransport;
  /** Power-cycle / re-enumerate into the ROM: the new instance. */
  reconnect(): DfuTransport;
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

/**
 * Writes the bank-mode option bit of the emulator's option bytes to match its flash organisation, as a real
 * part in that mode has it (the emulator's factory image does not know the mode). No-op for fixed organisations.
 */
export function setEmulatorBankMode(emu: RomEmulator, profile: ChipProfile): void {
  const f = profile.optionBytes?.fields.find((x) => x.kind === 'bank-mode');
  const where = optionByteRegions(profile);
  if (f === undefined || where === undefined || profile.bankModes.length < 2) return;
  const regions = where.regions.map((g) => ({ start: g.start, bytes: emu.readMemory(g.start, g.size) }));
  const value = f.values?.find((v) => v.value === (profile.bankMode === 'dual' ? f.dual : 1 - f.dual!))?.name ?? String(profile.bankMode === 'dual' ? f.dual : 1 - f.dual!);
  const e = encodeOptionBytes(profile, regions, [`${f.name}=${value}`]);
  for (const i of e.changedRegions) emu.writeMemory(e.regions[i]!.start, e.regions[i]!.bytes);
}

/** Creates the emulated devices of a spec: one per serial. */
export function openEmulators(spec: EmulatorSpec, opts: { flashSize?: number; bankMode?: BankMode } = {}): EmulatedDevice[] {
  const bankMode = spec.bank ?? opts.bankMode;
  const profile = resolveChip(spec.part, { ...(opts.flashSize !== undefined ? { flashSize: opts.flashSize } : {}), ...(bankMode !== undefined ? { bankMode } : {}) });
  const serials: readonly (string | undefined)[] = spec.serials ?? [undefined];
  return serials.map((serial) => openOne(spec, profile, serial));
}

function openOne(spec: EmulatorSpec, profile: ChipProfile, serial: string | undefined): EmulatedDevice {
  const flashFile = spec.flashFile?.replaceAll('{serial}', serial ?? 'default');
  let fd: number | undefined;
  let initial: Uint8Array | undefined;
  if (flashFile !== undefined) {
    if (existsSync(flashFile)) {
      const b = readFileSync(flashFile);
      if (b.length > profile.flashSize) {
        throw new FwError('DEVICE_FLASH_FILE', `${flashFile} holds ${formatSize(b.length)} bytes, more than the ${formatSize(profile.flashSize)} of ${profile.displayName} flash`, { file: flashFile }, EXIT_USAGE);
      }
      initial = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      fd = openSync(flashFile, 'r+');
    } else fd = openSync(flashFile, 'w+');
  }
  const put = (offset: number, bytes: Uint8Array): void => {
    if (fd === undefined) return;
    let done = 0;
    while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, offset + done);
  };
  const faults = (spec.faults ?? []).filter((f) => f.serial === undefined || f.serial === serial).map((f) => f.fault);
  const emulator = createRomEmulator({
    chip: profile,
    ...(initial !== undefined ? { flash: initial } : {}),
    ...(spec.quirks !== undefined ? { quirks: spec.quirks.length === 1 && spec.quirks[0] === 'profile' ? 'profile' : spec.quirks } : {}),
    ...(spec.bootloader !== undefined ? { bootloaderVersion: spec.bootloader } : {}),
    ...(serial !== undefined ? { serialNumber: serial } : {}),
    ...(faults.length > 0 ? { faults } : {}),
    ...(spec.rdp !== undefined ? { readProtection: spec.rdp } : {}),
    ...(spec.usbTimeoutMs !== undefined ? { nakTimeoutMs: spec.usbTimeoutMs } : {}),
    onFlashWrite: (addr, bytes) => {
      const o = offsetOf(profile, addr);
      if (o !== undefined) put(o, bytes);
    },
    onErase: (sector) => {
      const o = offsetOf(profile, sector.start);
      if (o !== undefined) put(o, new Uint8Array(sector.size).fill(profile.erasedValue));
    },
  });
  setEmulatorBankMode(emulator, profile);
  // A new or short file gets the whole (erased) flash, so its size is the flash size from the start.
  if (fd !== undefined && (initial === undefined || initial.length < profile.flashSize)) put(0, emulator.readFlash());
  return {
    emulator,
    profile,
    serial: emulator.descriptors.strings[3]!,
    clock: { now: () => emulator.clock.nowMs, sleep: (ms) => emulator.sleep(ms) },
    description: `the in-process ROM emulator${flashFile !== undefined ? ` (flash in ${flashFile})` : ''}`,
    transport: () => emulator.device,
    reconnect: () => emulator.reconnect(),
    close: () => {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}
