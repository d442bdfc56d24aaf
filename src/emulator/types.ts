/**
 * Public types of the STM32 ROM bootloader emulator (see index.ts for the overview).
 */
import type { DfuStateName, DfuStatusName } from '../dfu/constants.ts';
import type { DfuTransport } from '../dfu/transport.ts';
import type { BankMode, ChipProfile, FlashSector } from '../layout/chips.ts';

/** A chip profile already resolved with `resolveChip` (one part, one flash size, one bank mode). */
export type ResolvedChip = ChipProfile;

/** What the ROM does when a write lands on bytes that are not erased. */
export type ProgramOverProgrammed = 'error' | 'and';

/**
 * What happens to a program unit (flash word) a write covers only partly.
 * `drop`: ECC flash (H7, L4, G4): a flash word is programmed once, whole; the ROM never programs a partial
 * word, so its bytes are lost and it stays erased (PX4 #19724, micropython #14405; dfu-protocol.md §3 item 7).
 * `keep`: byte-programmable flash (F4, F7): every byte written is programmed.
 */
export type PartialUnitMode = 'drop' | 'keep';

/**
 * How the ROM answers a request that arrives while a flash operation is still running.
 * `nak`: EP0 NAKs until the operation ends, then the request is served (ST USB stack: the operation runs in
 * the EP0 TX-complete handler after the DNBUSY reply; dfu-protocol.md §2.4). `stall`: GETSTATUS is STALLed,
 * the operation continues (L4 ROMs, Q2). `busy`: GETSTATUS answers dfuDNBUSY again with bwPollTimeout 0
 * (ROMs and loaders whose bwPollTimeout is 0 forever, Q7).
 */
export type EarlyPollMode = 'nak' | 'stall' | 'busy';

/** Faults injected at a given request (1-based count of every request the host sends, see `counters.requests`). */
export type Fault =
  /** The device vanishes: the request throws TransportError 'disconnected' (`phase: 'after'`: it is served first, the reply is lost). */
  | { kind: 'disconnect'; atRequest: number; phase?: 'before' | 'after' }
  /** The request is STALLed without being served; the device moves to (errSTALLEDPKT, dfuERROR) unless `keepState`. */
  | { kind: 'stall'; atRequest: number; keepState?: boolean }
  /** The request times out (TransportError 'timeout') without being served; the device stays as it was. */
  | { kind: 'timeout'; atRequest: number }
  /** The first GETSTATUS at or after request N reports `status` in dfuERROR; an operation not yet started is dropped. */
  | { kind: 'status'; atRequest: number; status: Exclude<DfuStatusName, 'OK'> }
  /** Erasing the sector that holds `address` fails with errERASE (content unchanged); `times` failures, then it works. Mass erase fails too. */
  | { kind: 'erase-fail'; address: number; times?: number }
  /**
   * A write covering `address` fails. errPROG/errWRITE: the program units before the one holding `address` are
   * programmed, the rest not. errVERIFY: everything is programmed but the byte at `address` reads back with its
   * lowest set bit cleared.
   */
  | { kind: 'program-fail'; address: number; status?: 'errPROG' | 'errVERIFY' | 'errWRITE'; times?: number }
  /** The sector holding `address` is write-protected: its erase is silently skipped (AN2662: no error), a write fails with errWRITE. */
  | { kind: 'write-protected'; address: number }
  /**
   * Writes into the sector holding `address` are acknowledged as usual (status OK, the same program time) but
   * nothing is stored: the sector keeps what it held (erased after its erase). A write lost without an error
   * (a loader that acknowledges a block it did not program): only a read-back finds it.
   */
  | { kind: 'program-drop'; address: number };

export interface RomEmulatorOptions {
  /** A chip name for `resolveChip` (`stm32h743`, `STM32F405RG`...) or an already resolved profile. */
  chip: string | ResolvedChip;
  /** Passed to `resolveChip` when `chip` is a name. */
  flashSize?: number;
  bankMode?: BankMode;
  /** Bootloader ID byte (0x92) or version (`V9.2`); default: the last version the profile lists. */
  bootloaderVersion?: number | string;
  /** Initial main-flash content, bank after bank in address order (the hole of H7 xG parts is not included); shorter is padded erased. Default: all erased. */
  flash?: Uint8Array;
  /** ROM quirk hooks to switch on by name (`EMULATOR_QUIRKS`, or a memory-access quirk of the profile), or `'profile'` for every implemented quirk the profile lists for this bootloader version. Default: none (a clean ROM). */
  quirks?: readonly string[] | 'profile';
  faults?: readonly Fault[];
  /** iSerialNumber string; default 12 hex digits derived from the part name (ROMs derive it from the UID). */
  serialNumber?: string;
  /** Default `error` (errCHECK_ERASED). */
  programOverProgrammed?: ProgramOverProgrammed;
  /** Default by family: `keep` on F4/F7 (byte-programmable), `drop` elsewhere (ECC flash words). */
  partialUnit?: PartialUnitMode;
  /** Where leave jumps: `pointer` (the address pointer, AN3156) or `last-write` (the pointer "set through the last Write Memory operation", AN2662 wording). Default `pointer`. */
  leaveTarget?: 'pointer' | 'last-write';
  /** Initial read-protection level (written into the option bytes). Default 0. */
  readProtection?: 0 | 1 | 2;
  /** Write-through: called after every change of main flash (program, backdoor write) with the bytes now stored. */
  onFlashWrite?: (addr: number, bytes: Uint8Array) => void;
  /** Write-through: called after every sector erase (mass erase: once per sector). */
  onErase?: (sector: FlashSector) => void;
  /** Called when the device leaves the bus: `leave`, `reset` (read-unprotect, option-byte write), `fault`, `unplug` (reconnect while connected). */
  onDisconnect?: (reason: 'leave' | 'reset' | 'fault' | 'unplug') => void;
  /** How requests during a running operation are answered; default `nak`, or what the quirks imply. */
  earlyPoll?: EarlyPollMode;
  /** Host control-transfer timeout in ms: a request NAKed longer throws TransportError 'timeout' (dfu-util uses 5000). Default: none (WebUSB has none). */
  nakTimeoutMs?: number;
  /** Virtual time one control transfer takes, ms (default 1). */
  transferMs?: number;
  /** Multiplies the bwPollTimeout values reported (not the modelled durations); for real host tools over USB/IP, which sleep in real time. Default 1. */
  pollTimeoutScale?: number;
  /** Overrides of the USB identity (default per ROM generation, see descriptors.ts). */
  bcdDevice?: number;
  productName?: string;
  /** Keep at most this many log entries (oldest dropped). Default: unbounded. */
  logLimit?: number;
}

/** Where the device jumped on leave, and what it found there. */
export interface LeaveRecord {
  readonly address: number;
  /** Initial stack pointer and reset vector read at `address` (undefined when not readable). */
  readonly sp: number | undefined;
  readonly pc: number | undefined;
  /** SP inside (or at the top of) a RAM region and PC an odd (Thumb) address in flash or RAM. A real ROM then runs the application; else it faults/resets. */
  readonly vectorValid: boolean;
  readonly atMs: number;
}

/** A flash or memory operation the ROM executed (on the GETSTATUS after its DNLOAD). */
export interface OperationRecord {
  readonly kind: 'get-commands' | 'set-address' | 'erase' | 'mass-erase' | 'read-unprotect' | 'write' | 'option-bytes-write' | 'invalid-command';
  readonly address?: number;
  readonly length?: number;
  /** Sector index (`chip.sectors[i]`) for erases. */
  readonly sector?: number;
  readonly durationMs: number;
  readonly reportedPollMs: number;
  readonly status: DfuStatusName;
  readonly note?: string;
}

export type RequestResult = 'ok' | 'stall' | 'disconnected' | 'timeout';

export interface LogEntry {
  /** 1-based request number (the fault `atRequest` counts the same way). */
  readonly seq: number;
  /** Virtual time when the request arrived. */
  readonly atMs: number;
  /** `DNLOAD`, `GETSTATUS`... for DFU requests; `GET_DESCRIPTOR`, `SET_INTERFACE`... for standard ones; `USB_RESET`; `CLASS_0x07`/`VENDOR_0x01` otherwise. */
  readonly request: string;
  readonly requestType: 'standard' | 'class' | 'vendor' | 'reserved' | 'bus';
  readonly direction: 'in' | 'out';
  readonly wValue: number;
  readonly wIndex: number;
  readonly wLength: number;
  readonly alt: number;
  readonly stateBefore: DfuStateName;
  readonly stateAfter: DfuStateName;
  /** bStatus after the request. */
  readonly status: DfuStatusName;
  readonly result: RequestResult;
  /** bytes returned (IN) or accepted (OUT). */
  readonly bytes: number;
  /** bwPollTimeout of a GETSTATUS reply. */
  readonly pollTimeoutMs?: number;
  /** Decoded DfuSe payload of a DNLOAD/UPLOAD: `SET_ADDRESS_POINTER 0x08000000`, `WRITE 0x08000000 +2048`... */
  readonly command?: string;
  /** The operation this request executed (first GETSTATUS after a DNLOAD). */
  readonly op?: OperationRecord;
  /** The jump, on the GETSTATUS (or DNLOAD) that made the device leave. */
  readonly leave?: LeaveRecord;
  /** Virtual ms the request waited while the ROM NAKed EP0 (operation still running). */
  readonly nakMs?: number;
  readonly fault?: string;
  readonly quirk?: string;
  readonly note?: string;
}

export interface Counters {
  /** Every request the host sent (control transfers, SET_CONFIGURATION/SET_INTERFACE, USB resets). */
  requests: number;
  /** Requests by log name (`DNLOAD`, `GETSTATUS`, `GET_DESCRIPTOR`, ...). */
  byRequest: Record<string, number>;
  stalls: number;
  /** Sector erases performed (mass erase counts each sector). */
  sectorErases: number;
  massErases: number;
  /** Bytes programmed into flash/OTP and written to RAM/option bytes by DNLOAD. */
  bytesWritten: number;
  /** Bytes returned by UPLOAD data blocks. */
  bytesRead: number;
  /** Times the device disconnected (leave, reset, fault). */
  disconnects: number;
}

/** The raw USB view of the device, for a USB/IP server: 8-byte setup fields in, USB semantics out. */
export interface RawUsbPort {
  /** One control transfer. STALL is `status: 'stall'`; a vanished device throws TransportError. */
  control(
    setup: { bmRequestType: number; bRequest: number; wValue: number; wIndex: number; wLength: number },
    data?: Uint8Array,
  ): { status: 'ok' | 'stall'; data: Uint8Array };
  /** USB bus reset (port reset). */
  reset(): void;
}

export interface VirtualClock {
  /** Virtual milliseconds since the emulator was created. */
  readonly nowMs: number;
  advance(ms: number): void;
}

export interface RomDescriptors {
  readonly device: Uint8Array;
  /** The full configuration descriptor (wTotalLength bytes): configuration, interface per alt, DFU functional. */
  readonly configuration: Uint8Array;
  readonly functional: Uint8Array;
  /** String descriptors by index (0 is the LANGID list, shown as ''). */
  readonly strings: readonly string[];
  readonly bcdDevice: number;
  readonly bcdUSB: number;
}

export interface RomEmulator {
  readonly chip: ResolvedChip;
  /** The current device instance (a new one after `reconnect()`). */
  readonly device: DfuTransport;
  readonly clock: VirtualClock;
  /** Host-side wait on the virtual clock: advances it and resolves at once. Pass it to the host stack as its `sleep`. */
  sleep(ms: number): Promise<void>;
  /** Test backdoor: bytes of any mapped memory (flash, RAM, option bytes, OTP, system memory); throws on unmapped bytes. */
  readMemory(addr: number, length: number): Uint8Array;
  /** Test backdoor: raw write (no NOR rules, no timing); flash writes go through `onFlashWrite`. */
  writeMemory(addr: number, bytes: Uint8Array): void;
  /** The whole main flash, bank after bank (what `flash` takes at construction). */
  readFlash(): Uint8Array;
  readonly log: readonly LogEntry[];
  readonly counters: Readonly<Counters>;
  /** A new device instance after leave, reset or disconnect (power-cycle into the ROM: dfuIDLE, alt 0, pointer 0x08000000); the old one stays dead. */
  reconnect(): DfuTransport;
  readonly state: DfuStateName;
  readonly status: DfuStatusName;
  readonly connected: boolean;
  readonly alt: number;
  readonly addressPointer: number;
  readonly readProtection: 0 | 1 | 2;
  /** Backdoor: set the RDP level in the option bytes (as if programmed earlier). */
  setReadProtection(level: 0 | 1 | 2): void;
  readonly lastLeave: LeaveRecord | undefined;
  /** The quirk hooks in effect. */
  readonly quirks: readonly string[];
  readonly bootloaderVersion: number;
  readonly descriptors: RomDescriptors;
  readonly raw: RawUsbPort;
}
