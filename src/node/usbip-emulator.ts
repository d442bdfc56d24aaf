/**
 * The STM32 ROM emulator (src/emulator) as a device a USB/IP server exports (usbip-server.ts): the part
 * `dfukit emulate` serves. It adds what a separate process needs around the in-process emulator:
 *
 *  - flash files: `flashIn` is the initial main flash (bank after bank, as `readFlash()` returns it; shorter is
 *    erased after its end); `flashOut` is written through on every erase and program with a positioned write,
 *    so the file is current after each request and a SIGKILLed emulator loses nothing. Both may name the same
 *    file (restart where a killed emulator stopped).
 *  - a JSON-lines log: one line per request the device saw (the emulator's LogEntry: request, wValue, state
 *    before/after, status, bwPollTimeout, the DfuSe command and the operation it ran), plus `device` (the
 *    enumeration) and, on the request after which it jumped, `jump` (hex address) next to `leave`.
 *  - enumerations: when the device leaves the bus (DFU leave, read-unprotect or option-byte reset) the server
 *    closes its connections and the ROM comes back as a fresh enumeration with the next device number, as a
 *    board held in the bootloader (BOOT0 high) does after a reset. The log tells what it jumped to.
 *  - `romRevision`: silicon revisions as bootloader versions plus the profile's quirks (H74x/H75x rev V:
 *    bootloader V9.0 with `h7-revV-bank2-erase-hang`; rev Y: V13.2, no hang).
 */
import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { EXIT_USAGE, FwError } from '../core/errors.ts';
import { formatSize, hex32 } from '../core/format.ts';
import { TransportError } from '../dfu/transport.ts';
import { createRomEmulator } from '../emulator/index.ts';
import type { LogEntry, RomEmulator, RomEmulatorOptions } from '../emulator/types.ts';
import type { BankMode, ChipProfile } from '../layout/chip-types.ts';
import { resolveChip } from '../layout/chips.ts';
import { URB_STATUS, USB_SPEED, type UsbipDeviceRecord, type UsbSetup } from '../usbip/protocol.ts';
import type { UrbOutcome, UsbipExportedDevice } from './usbip-server.ts';

export interface EmulatorExportOptions {
  chip: string;
  flashSize?: number;
  bankMode?: BankMode;
  /** Silicon revision letter (`V`, `Y`): a bootloader version and the profile's quirks for it (see `romRevision`). */
  romRev?: string;
  bootloaderVersion?: number | string;
  /** Quirk hooks by name, or `profile` (every implemented quirk the profile lists for the bootloader). */
  quirks?: readonly string[] | 'profile';
  /** Multiplies every reported bwPollTimeout (real host tools sleep it in real time). Default 1. */
  pollTimeoutScale?: number;
  flashIn?: string;
  flashOut?: string;
  /** JSON-lines request log. */
  logFile?: string;
  busid?: string;
  serialNumber?: string;
}

/** Where `--rom-rev` applies: parts whose ROM differs by silicon revision, with the bootloader each revision ships. */
export interface RomRevision {
  readonly bootloaderId: number;
  readonly quirks: 'profile';
  readonly note: string;
}

const HANG = 'h7-revV-bank2-erase-hang';

/**
 * H74x/H75x: rev V silicon ships bootloader V9.0/V9.1 (the bank-2 erase hang, AN2606 Table 136; field
 * reports in dfu-protocol.md §3 item 1), rev Y V13.2. Other parts have no revision-dependent ROM in the profiles.
 */
export function romRevision(profile: ChipProfile, rev: string): RomRevision {
  const hang = profile.quirks.find((q) => q.id === HANG);
  const r = rev.trim().toUpperCase();
  if (hang?.bootloaderIds === undefined || hang.bootloaderIds.length === 0) {
    throw new FwError('EMULATOR_ROM_REV', `--rom-rev: ${profile.displayName} has no ROM that depends on the silicon revision in its profile (use --bootloader and --quirks)`, {}, EXIT_USAGE);
  }
  const versions = profile.bootloader.versions;
  const name = (id: number): string => versions.find((v) => v.id === id)?.version ?? `0x${id.toString(16).toUpperCase()}`;
  if (r === 'V') {
    const id = hang.bootloaderIds[0]!;
    return { bootloaderId: id, quirks: 'profile', note: `rev V: bootloader ${name(id)} (0x${id.toString(16).toUpperCase()}) with ${HANG}` };
  }
  if (r === 'Y') {
    const v = versions.find((x) => !hang.bootloaderIds!.includes(x.id));
    if (v !== undefined) return { bootloaderId: v.id, quirks: 'profile', note: `rev Y: bootloader ${v.version} (0x${v.id.toString(16).toUpperCase()})` };
  }
  throw new FwError('EMULATOR_ROM_REV', `--rom-rev ${rev}: ${profile.displayName} revisions known: V (bank-2 erase hang), Y`, {}, EXIT_USAGE);
}

/** File offset of flash address `addr` in the bank-after-bank file, or undefined outside flash. */
function flashOffset(profile: ChipProfile, addr: number): number | undefined {
  let base = 0;
  for (const b of profile.banks) {
    if (addr >= b.start && addr < b.end) return base + (addr - b.start);
    base += b.size;
  }
  return undefined;
}

export class EmulatorExport implements UsbipExportedDevice {
  readonly busid: string;
  readonly profile: ChipProfile;
  readonly emulator: RomEmulator;
  readonly revisionNote: string | undefined;
  /** 1 for the first enumeration, +1 after every time the device left the bus. */
  enumeration = 1;
  devnum = 2;
  private flashFd: number | undefined;
  private logFd: number | undefined;
  private loggedSeq = 0;
  /** Leaves seen (each with its jump), newest last. */
  readonly leaves: { enumeration: number; address: number; vectorValid: boolean }[] = [];

  constructor(opts: EmulatorExportOptions) {
    this.busid = opts.busid ?? '1-1';
    this.profile = resolveChip(opts.chip, {
      ...(opts.flashSize !== undefined ? { flashSize: opts.flashSize } : {}),
      ...(opts.bankMode !== undefined ? { bankMode: opts.bankMode } : {}),
    });
    const rev = opts.romRev !== undefined ? romRevision(this.profile, opts.romRev) : undefined;
    this.revisionNote = rev?.note;
    const profile = this.profile;
    let initial: Uint8Array | undefined;
    if (opts.flashIn !== undefined) {
      if (!existsSync(opts.flashIn)) throw new FwError('EMULATOR_FLASH_FILE', `--flash-in ${opts.flashIn}: no such file`, { file: opts.flashIn }, EXIT_USAGE);
      const b = readFileSync(opts.flashIn);
      if (b.length > profile.flashSize) {
        throw new FwError('EMULATOR_FLASH_FILE', `--flash-in ${opts.flashIn} holds ${formatSize(b.length)} bytes, more than the ${formatSize(profile.flashSize)} of ${profile.displayName} flash`, { file: opts.flashIn }, EXIT_USAGE);
      }
      initial = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    }
    if (opts.flashOut !== undefined) this.flashFd = openSync(opts.flashOut, existsSync(opts.flashOut) ? 'r+' : 'w+');
    if (opts.logFile !== undefined) this.logFd = openSync(opts.logFile, 'w');
    const quirks = opts.quirks ?? rev?.quirks;
    const bootloader = opts.bootloaderVersion ?? rev?.bootloaderId;
    const emuOpts: RomEmulatorOptions = {
      chip: profile,
      ...(initial !== undefined ? { flash: initial } : {}),
      ...(quirks !== undefined ? { quirks } : {}),
      ...(bootloader !== undefined ? { bootloaderVersion: bootloader } : {}),
      ...(opts.pollTimeoutScale !== undefined ? { pollTimeoutScale: opts.pollTimeoutScale } : {}),
      ...(opts.serialNumber !== undefined ? { serialNumber: opts.serialNumber } : {}),
      logLimit: 4096,
      onFlashWrite: (addr, bytes) => this.putFlash(addr, bytes),
      onErase: (sector) => this.putFlash(sector.start, new Uint8Array(sector.size).fill(profile.erasedValue)),
    };
    this.emulator = createRomEmulator(emuOpts);
    // The output file holds the whole flash from the start (it may be shorter, or a new file).
    if (this.flashFd !== undefined) this.putRaw(0, this.emulator.readFlash());
  }

  private putRaw(offset: number, bytes: Uint8Array): void {
    if (this.flashFd === undefined) return;
    let done = 0;
    while (done < bytes.length) done += writeSync(this.flashFd, bytes, done, bytes.length - done, offset + done);
  }

  private putFlash(addr: number, bytes: Uint8Array): void {
    const o = flashOffset(this.profile, addr);
    if (o !== undefined) this.putRaw(o, bytes);
  }

  /** Appends the log entries not written yet (the emulator keeps the last 4096). */
  private flushLog(): void {
    const log = this.emulator.log;
    let i = log.length;
    while (i > 0 && log[i - 1]!.seq > this.loggedSeq) i--;
    for (; i < log.length; i++) {
      const e = log[i]!;
      this.loggedSeq = e.seq;
      if (e.leave !== undefined) this.leaves.push({ enumeration: this.enumeration, address: e.leave.address, vectorValid: e.leave.vectorValid });
      if (this.logFd !== undefined) writeSync(this.logFd, JSON.stringify(logLine(e, this.enumeration)) + '\n');
    }
  }

  record(): UsbipDeviceRecord | undefined {
    if (!this.emulator.connected) return undefined;
    const d = this.emulator.descriptors.device;
    const le16 = (o: number): number => d[o]! | (d[o + 1]! << 8);
    return {
      path: `/dfukit/emulator/${this.profile.profile}/${this.busid}`,
      busid: this.busid,
      busnum: 1,
      devnum: this.devnum,
      speed: USB_SPEED.full,
      idVendor: le16(8),
      idProduct: le16(10),
      bcdDevice: le16(12),
      bDeviceClass: d[4]!,
      bDeviceSubClass: d[5]!,
      bDeviceProtocol: d[6]!,
      bConfigurationValue: 1,
      bNumConfigurations: d[17]!,
      interfaces: [{ bInterfaceClass: 0xfe, bInterfaceSubClass: 0x01, bInterfaceProtocol: 0x02 }],
    };
  }

  private serve(run: () => { status: 'ok' | 'stall'; data: Uint8Array } | void): UrbOutcome {
    if (!this.emulator.connected) return { kind: 'gone' };
    try {
      const r = run();
      this.flushLog();
      const left = !this.emulator.connected;
      if (r === undefined) return { kind: 'reply', status: 0, left };
      return { kind: 'reply', status: r.status === 'ok' ? URB_STATUS.ok : URB_STATUS.stall, data: r.data, left };
    } catch (e) {
      this.flushLog();
      if (e instanceof TransportError && e.kind === 'timeout') return { kind: 'reply', status: URB_STATUS.timeout };
      if (e instanceof TransportError) return { kind: 'gone' };
      throw e;
    }
  }

  control(setup: UsbSetup, data: Uint8Array): UrbOutcome {
    const dirIn = (setup.bmRequestType & 0x80) !== 0;
    return this.serve(() => this.emulator.raw.control(setup, dirIn ? undefined : data));
  }

  reset(): UrbOutcome {
    return this.serve(() => this.emulator.raw.reset());
  }

  /** Back on the bus after leaving it: the ROM again (fresh DFU state, same memories), next device number. */
  reenumerate(): void {
    this.emulator.reconnect();
    this.flushLog();
    this.enumeration++;
    this.devnum = this.devnum >= 127 ? 2 : this.devnum + 1;
  }

  close(): void {
    this.flushLog();
    if (this.flashFd !== undefined) closeSync(this.flashFd);
    if (this.logFd !== undefined) closeSync(this.logFd);
    this.flashFd = undefined;
    this.logFd = undefined;
  }
}

/** One log line: the emulator's entry, the enumeration, and the jump address in hex on a leave. */
export function logLine(e: LogEntry, enumeration: number): Record<string, unknown> {
  return { device: enumeration, ...e, ...(e.leave !== undefined ? { jump: hex32(e.leave.address) } : {}) };
}
