/**
 * Host-side recoveries from known STM32 ROM misbehaviours (dfu-protocol.md §2.5), each a named switch so a test
 * can run the same host stack without it ("a plain DfuSe host") and show the failure the recovery fixes.
 *
 * Every recovery is triggered by what the device *does* (its symptom), never by the profile's name alone: a
 * dfuDNBUSY that outlives the operation's deadline, a STALLed early GETSTATUS, a GETSTATUS that times out while
 * an operation runs, bwPollTimeout 0 while busy. The profile quirks (schemas/chips/*.yaml) document where each
 * is known to happen; `HOST_RECOVERIES` maps one to the other, for messages and for `dfukit chips`.
 *
 * Platform-neutral: no node:* import.
 */

/** The switches. All on by default; `recoveries: false` turns every one off. */
export interface Recoveries {
  /**
   * Q1 (H74x/H75x rev V, bootloader 0x90/0x91): after a sector erase the ROM answers (OK, dfuDNBUSY, 1000 ms)
   * forever although the erase has completed. When dfuDNBUSY outlives the erase's deadline (and at least
   * `WEDGE_MIN_BUSY_POLLS` polls), CLRSTATUS → (errUNKNOWN, dfuERROR) → CLRSTATUS → (OK, dfuIDLE), then the
   * caller confirms the sector erased by read-back.
   */
  readonly wedgedBusyErase: boolean;
  /** Q1 variant: the same wedge after a data block written to bank 2; recovered the same way, confirmed by reading the block back. */
  readonly wedgedBusyWrite: boolean;
  /** Q2 (STM32L4): a GETSTATUS sent before the operation ends is STALLed; poll again after the last bwPollTimeout, at most `MAX_POLL_STALLS` times in a row. */
  readonly earlyPollStall: boolean;
  /**
   * Q3 (F405 mass erase: bwPollTimeout 100 ms, ~32 s of work): the ROM NAKs EP0 until done, so a host with a
   * control-transfer timeout (libusb, dfu-util 5 s) sees GETSTATUS time out. Treat that as "still busy" and poll
   * again until the operation's deadline.
   */
  readonly busyTimeout: boolean;
  /** Q7 (bwPollTimeout 0 while busy): back off 1, 2, 4 ... 50 ms instead of polling flat out; off = dfu-util's rule (no sleep, give up after 100 zero-timeout polls). */
  readonly zeroPollBackoff: boolean;
  /** Q4 (STM32C5 and strict DFU 1.1 ROMs STALL CLRSTATUS outside dfuERROR): GETSTATUS first and CLRSTATUS only in dfuERROR; off = CLRSTATUS first on connect, as pydfu does. */
  readonly clrStatusByState: boolean;
  /** Q6 (F76x/F77x dual bank, and every part whose bank mode an option bit selects): read the bank-mode option bit and use the real map instead of the single-bank string the ROM reports. */
  readonly bankModeFromOptionBytes: boolean;
}

export type RecoveryName = keyof Recoveries;

export const ALL_RECOVERIES: Recoveries = {
  wedgedBusyErase: true,
  wedgedBusyWrite: true,
  earlyPollStall: true,
  busyTimeout: true,
  zeroPollBackoff: true,
  clrStatusByState: true,
  bankModeFromOptionBytes: true,
};

export const NO_RECOVERIES: Recoveries = Object.fromEntries(Object.keys(ALL_RECOVERIES).map((k) => [k, false])) as unknown as Recoveries;

/** `true`/undefined: all on; `false`: all off (a plain DfuSe host); an object: those given, the rest on. */
export type RecoveryOption = boolean | Partial<Recoveries>;

export function resolveRecoveries(r: RecoveryOption | undefined): Recoveries {
  if (r === undefined || r === true) return ALL_RECOVERIES;
  if (r === false) return NO_RECOVERIES;
  return { ...ALL_RECOVERIES, ...r };
}

/** STALLed GETSTATUS polls tolerated in a row while busy (§2.5 Q2; dfu-util's limit). */
export const MAX_POLL_STALLS = 3;
/** dfuDNBUSY answers (the first included) before a wedge is declared, on top of the deadline. */
export const WEDGE_MIN_BUSY_POLLS = 5;
/** dfu-util gives up after this many busy polls with bwPollTimeout 0 (the plain behaviour). */
export const PLAIN_ZERO_POLL_LIMIT = 100;
/**
 * Back-off for busy polls with bwPollTimeout 0 (then the last value on). The first two polls follow at once,
 * as the device asked (most devices that say 0 are done by then: dfu-util's pace over a fast link), then the
 * wait grows so a device that says 0 while busy for seconds is not polled thousands of times.
 */
export const ZERO_TIMEOUT_BACKOFF: readonly number[] = [0, 0, 1, 2, 4, 8, 16, 32, 50];

/** What the host did, for the job's report. */
export interface RecoveryEvent {
  readonly recovery: RecoveryName;
  /** dfu-protocol.md §2.5 number. */
  readonly ref: string;
  readonly operation: string;
  readonly address?: number;
  readonly message: string;
}

export interface HostRecoveryInfo {
  readonly ref: string;
  readonly symptom: string;
  readonly action: string;
  /** Profile quirk ids that document where it happens (schemas/chips/*.yaml). */
  readonly profileQuirks: readonly string[];
  /** The emulator hook that reproduces it (src/emulator/quirks.ts); `strict ROM` is the emulator's default. */
  readonly emulator: string;
}

export const HOST_RECOVERIES: Readonly<Record<RecoveryName, HostRecoveryInfo>> = {
  wedgedBusyErase: {
    ref: 'Q1',
    symptom: 'dfuDNBUSY past the erase deadline (bwPollTimeout 1000 ms repeated)',
    action: 'CLRSTATUS, CLRSTATUS, then read the sector back to confirm it is erased',
    profileQuirks: ['h7-revV-bank2-erase-hang'],
    emulator: 'h7-revV-bank2-erase-hang',
  },
  wedgedBusyWrite: {
    ref: 'Q1',
    symptom: 'dfuDNBUSY past the block deadline after a write',
    action: 'CLRSTATUS, CLRSTATUS, then read the block back to confirm it is written',
    profileQuirks: ['h7-revV-bank2-erase-hang'],
    emulator: 'h7-revV-bank2-write-hang',
  },
  earlyPollStall: {
    ref: 'Q2',
    symptom: 'GETSTATUS STALLed while the operation runs',
    action: `poll again after the last bwPollTimeout, at most ${MAX_POLL_STALLS} times in a row`,
    profileQuirks: ['l4-getstatus-stall-early'],
    emulator: 'l4-getstatus-stall-early',
  },
  busyTimeout: {
    ref: 'Q3',
    symptom: 'GETSTATUS times out (EP0 NAKed) while the operation runs',
    action: "poll again until the operation's deadline (35 s and more for a mass erase)",
    profileQuirks: ['f4-mass-erase-polltimeout', 'f74x-erase-polltimeout', 'f7-erase-polltimeout'],
    emulator: 'f4-mass-erase-polltimeout (with a host control-transfer timeout)',
  },
  zeroPollBackoff: {
    ref: 'Q7',
    symptom: 'bwPollTimeout 0 while dfuDNBUSY',
    action: 'back off 1, 2, 4 ... 50 ms; bounded by the deadline with an error naming the zero timeout',
    profileQuirks: [],
    emulator: 'polltimeout-zero',
  },
  clrStatusByState: {
    ref: 'Q4',
    symptom: 'CLRSTATUS STALLed outside dfuERROR',
    action: 'GETSTATUS first; CLRSTATUS only in dfuERROR, ABORT in the idle states',
    profileQuirks: [],
    emulator: 'strict ROM (the default; h7-clrstatus-outside-dfuerror is the lenient opposite)',
  },
  bankModeFromOptionBytes: {
    ref: 'Q6',
    symptom: 'a part whose bank mode an option bit selects reports one layout string for both modes',
    action: 'read the bank-mode option bit through the option-bytes alt and use that map',
    profileQuirks: ['f76x-dual-bank-rom-reports-single-map'],
    emulator: 'any F76x/F42x/L47x/G47x with the option bit written (--device emulator:stm32f767,bank=dual)',
  },
};
