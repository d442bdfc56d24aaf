/**
 * A chip profile resolved for one part and one flash size: what every consumer (convert, doctor, planner,
 * emulator) works with. Built by `resolveChip` from the compiled YAML data; sectors are expanded from the
 * run-length lists and numbered.
 */
import type { BankMode, BootloaderInfo, CoreInfo, DfuInfo, MemoryRegion, OptionBytesInfo, Quirk, RamRegion, Timing } from './chip-schema.ts';

export type { BankMode } from './chip-schema.ts';

export interface FlashSector {
  /** Position in the part's sector list, 0-based, address order (the planner's handle). */
  readonly index: number;
  /** Bank number as the reference manual counts them (1-based). */
  readonly bank: number;
  /** Sector number as the reference manual and FLASH_CR.SNB number it (restarts at 0 in each H7 bank). */
  readonly sector: number;
  readonly start: number;
  /** One past the last byte. */
  readonly end: number;
  readonly size: number;
}

export interface FlashBank {
  readonly bank: number;
  readonly start: number;
  readonly end: number;
  readonly size: number;
  readonly sectors: readonly FlashSector[];
}

export type FlashSizeSource = 'default' | 'part-number' | 'option' | 'only-size';

/**
 * Where the bank mode came from: `fixed` (the variant has one organisation), `default` (the factory option
 * bytes of a variant whose organisation an option bit selects), `option` (the caller's `bankMode`).
 */
export type BankModeSource = 'fixed' | 'default' | 'option';

export interface ChipProfile {
  /** Profile (YAML file) name, e.g. `stm32h743`. */
  readonly profile: string;
  /** The part the name resolved to, e.g. `stm32h753`. */
  readonly part: string;
  /** Full name as resolved, upper case ST style with the flash letter: `STM32H753xI`. */
  readonly displayName: string;
  /** What the caller asked for, as given. */
  readonly requested: string;
  readonly title: string;
  readonly referenceManual: string;
  /** Package letter from the part number, when one was given (`Z` in STM32H743ZI). */
  readonly packageCode?: string;
  /** Flash-size letter of the resolved variant (`I`). */
  readonly flashCode: string;
  readonly flashSize: number;
  /** Where the flash size came from. */
  readonly flashSizeFrom: FlashSizeSource;
  readonly programUnit: number;
  readonly bootloaderWriteAlignment: number;
  readonly erasedValue: number;
  /**
   * Organisation of the resolved variant: `dual` when it has two banks (fixed or option-selected), else
   * `single`. `bankModes` lists the modes the variant can be switched between (one entry when fixed).
   */
  readonly bankMode: BankMode;
  readonly bankModeFrom: BankModeSource;
  readonly bankModes: readonly BankMode[];
  /** The option bit that selects the mode, when the variant has more than one. */
  readonly bankModeSelectedBy?: string;
  readonly banks: readonly FlashBank[];
  /** All sectors of all banks, address order; `sectors[i].index === i`. */
  readonly sectors: readonly FlashSector[];
  readonly ram: readonly RamRegion[];
  readonly memories: readonly MemoryRegion[];
  readonly cores: readonly CoreInfo[];
  readonly dfu: DfuInfo;
  readonly bootloader: BootloaderInfo;
  /** Datasheet flash timings (for the family; see `Timing.confidence`). */
  readonly timing: Timing;
  /** Quirks that apply to this part, flash size and bank mode (filtered by `parts`, `flashCodes`, `bankModes`). */
  readonly quirks: readonly Quirk[];
  /** Option-byte field maps, when the profile has them. */
  readonly optionBytes?: OptionBytesInfo;
  /** Things the caller should be told: a part/flash-size combination ST does not sell, an unknown package letter. */
  readonly warnings: readonly string[];
}

export interface ChipSummary {
  readonly name: string;
  readonly title: string;
  readonly referenceManual: string;
  /** Every part name that resolves to this profile, the profile's own first. */
  readonly parts: readonly string[];
  readonly flashSizes: readonly { code: string; size: number; banks: number; sectors: number; bankModes: readonly BankMode[] }[];
  readonly defaultFlashCode: string;
  /** Factory bank mode of the variants whose organisation an option bit selects. */
  readonly defaultBankMode?: BankMode;
  readonly programUnit: number;
  readonly cores: readonly string[];
  readonly quirks: readonly string[];
}
