/**
 * Chip profiles by name. The data is compiled from schemas/chips/*.yaml into chips.generated.ts
 * (`npm run chips:compile`), so nothing here parses YAML or loads zod.
 *
 * Names are case-insensitive and may be given as the family (`stm32h743`, `h743`), a sibling part that
 * shares the profile (`stm32h753`), or an ST part number with package and flash-size letters
 * (`STM32H743ZI`, `stm32h753xg`, `STM32H743ZIT6`); `x` stands for any package, as in ST's documents.
 *
 * A resolved profile is one flash size in one bank mode. Variants whose organisation an option bit selects
 * (F42x 1 MiB DB1M, F76x nDBANK, L47x DUALBANK, G47x DBANK) resolve to their factory mode unless
 * `bankMode` says otherwise; `bankModeFrom` records which.
 */
import { EXIT_USAGE, FwError } from '../core/errors.ts';
import { formatSize } from '../core/format.ts';
import type { BankMode, ChipProfileSource, FlashBankSource, FlashVariantSource, PartInfo } from './chip-schema.ts';
import type { BankModeSource, ChipProfile, ChipSummary, FlashBank, FlashSector, FlashSizeSource } from './chip-types.ts';
import { CHIP_PROFILES } from './chips.generated.ts';
import { effectiveBankMode, variantLayouts } from './layout-compare.ts';

export type { BankMode, BankModeSource, ChipProfile, ChipSummary, FlashBank, FlashSector } from './chip-types.ts';

export interface ResolveOptions {
  /** Flash size in bytes (`--flash-size`); must match one of the profile's variants. */
  flashSize?: number;
  /**
   * Bank mode (`--bank-mode`) for variants whose organisation an option bit selects (F42x 1 MiB DB1M,
   * F76x nDBANK, L47x DUALBANK, G47x DBANK). Default: the factory setting. Naming the mode a fixed
   * organisation already has is accepted; naming another is CHIP_BANK_MODE_UNSUPPORTED.
   */
  bankMode?: BankMode;
}

/** The accepted `--bank-mode` values. */
export const BANK_MODE_NAMES: readonly BankMode[] = ['single', 'dual'];

/** The compiled data is shared by every resolved profile: freeze it so no caller can change it for the others. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
deepFreeze(CHIP_PROFILES);

interface PartEntry {
  /** Name without the `stm32` prefix: `h743`. */
  key: string;
  part: PartInfo;
  profile: ChipProfileSource;
}

const ENTRIES: readonly PartEntry[] = CHIP_PROFILES.flatMap((profile) =>
  profile.parts.map((part) => ({ key: part.name.replace(/^stm32/, ''), part, profile })),
).sort((a, b) => b.key.length - a.key.length || a.key.localeCompare(b.key));

/** The compiled profile data, as in the YAML (not resolved to a part or flash size). */
export function chipProfileSources(): readonly ChipProfileSource[] {
  return CHIP_PROFILES;
}

/** The organisation a variant has with factory option bytes (the fixed one, or the default bank mode's). */
function defaultLayout(p: ChipProfileSource, v: FlashVariantSource): { mode: BankMode; banks: readonly FlashBankSource[] } {
  const layouts = variantLayouts(v);
  const l = layouts.find((x) => x.mode !== undefined && x.mode === p.flash.bankMode?.default) ?? layouts[0]!;
  return { mode: effectiveBankMode(l), banks: l.banks };
}

function sizeOf(p: ChipProfileSource, v: FlashVariantSource): { banks: number; sectors: number; bankModes: BankMode[] } {
  const l = defaultLayout(p, v);
  return {
    banks: l.banks.length,
    sectors: l.banks.reduce((n, b) => n + b.sectors.reduce((m, r) => m + r.count, 0), 0),
    bankModes: variantLayouts(v).map(effectiveBankMode),
  };
}

/** One line per profile: for `dfukit chips` and for tools that want to offer a choice. */
export function listChips(): ChipSummary[] {
  return [...CHIP_PROFILES]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((p) => ({
      name: p.name,
      title: p.title,
      referenceManual: p.referenceManual,
      parts: [p.name, ...p.parts.map((x) => x.name).filter((n) => n !== p.name)],
      flashSizes: [...p.flash.variants].sort((a, b) => b.size - a.size).map((v) => ({ code: v.code, size: v.size, ...sizeOf(p, v) })),
      defaultFlashCode: p.flash.defaultVariant,
      ...(p.flash.bankMode !== undefined ? { defaultBankMode: p.flash.bankMode.default } : {}),
      programUnit: p.flash.programUnit,
      cores: p.cores.map((c) => c.name),
      quirks: p.quirks.map((q) => q.id),
    }));
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

/** Known part names close to `key` (without the stm32 prefix), best first. */
function closeNames(key: string): string[] {
  const scored = ENTRIES.map((e) => {
    const d = Math.min(levenshtein(key, e.key), levenshtein(key.slice(0, e.key.length), e.key));
    return { name: e.part.name, d };
  })
    .filter((s) => s.d <= 2)
    .sort((a, b) => a.d - b.d || a.name.localeCompare(b.name));
  // Only the nearest ring: a one-letter typo should not list every sibling two letters away.
  const best = scored[0]?.d;
  return scored.filter((s) => s.d === best).map((s) => s.name);
}

function unknown(name: string, key: string): FwError {
  const close = closeNames(key);
  const known = ENTRIES.map((e) => e.part.name).sort();
  const hint = close.length > 0 ? `; did you mean ${close.join(', ')}?` : '';
  return new FwError('CHIP_UNKNOWN', `unknown chip '${name}'${hint} (known: ${known.join(', ')}; a part number such as STM32H743ZI works too)`, {}, EXIT_USAGE);
}

function variantList(p: ChipProfileSource): string {
  return [...p.flash.variants]
    .sort((a, b) => b.size - a.size)
    .map((v) => `x${v.code} = ${formatSize(v.size)}`)
    .join(', ');
}

function expand(bankList: readonly FlashBankSource[]): { banks: FlashBank[]; sectors: FlashSector[] } {
  const sectors: FlashSector[] = [];
  const banks: FlashBank[] = [];
  for (const b of bankList) {
    const own: FlashSector[] = [];
    let addr = b.start;
    let n = b.firstSector ?? 0;
    for (const run of b.sectors) {
      for (let k = 0; k < run.count; k++) {
        const s: FlashSector = { index: sectors.length, bank: b.bank, sector: n++, start: addr, end: addr + run.size, size: run.size };
        sectors.push(s);
        own.push(s);
        addr += run.size;
      }
    }
    banks.push({ bank: b.bank, start: b.start, end: addr, size: addr - b.start, sectors: own });
  }
  return { banks, sectors };
}

/**
 * The profile for `name`, resolved to one part and one flash size. Unknown names throw FwError
 * CHIP_UNKNOWN (exit 2) listing close names; a flash size the family does not have throws
 * CHIP_FLASH_SIZE_UNKNOWN; a part-number letter that contradicts `opts.flashSize` throws
 * CHIP_FLASH_SIZE_CONFLICT; a bank mode the variant cannot be switched to throws CHIP_BANK_MODE_UNSUPPORTED.
 * Combinations ST does not sell resolve with a warning.
 */
export function resolveChip(name: string, opts: ResolveOptions = {}): ChipProfile {
  const lower = name.trim().toLowerCase();
  const key = lower.replace(/^stm32/, '');
  if (key.length === 0) throw unknown(name, key);
  const entry = ENTRIES.find((e) => key.startsWith(e.key));
  if (entry === undefined) throw unknown(name, key);
  const { part, profile } = entry;
  const rest = key.slice(entry.key.length);
  const warnings: string[] = [];

  let packageCode: string | undefined;
  let codeFromName: string | undefined;
  if (rest.length > 0) {
    // <package><flash size>[<package type><temperature>[options]]: ZI, ZIT6, ZIT6U, xG
    const m = /^([a-z])([a-z0-9])(?:[a-z][0-9][a-z0-9]*)?$/.exec(rest);
    if (m === null) {
      throw new FwError(
        'CHIP_PART_NUMBER',
        `cannot read '${rest.toUpperCase()}' in '${name}': after ${part.name.toUpperCase()} a part number has a package letter and a flash-size letter (${part.name.toUpperCase()}ZI, ${part.name.toUpperCase()}xI)`,
        {},
        EXIT_USAGE,
      );
    }
    const pkg = m[1]!.toUpperCase();
    codeFromName = m[2]!.toUpperCase();
    if (pkg !== 'X') {
      packageCode = pkg;
      if (!part.packages.includes(pkg)) {
        warnings.push(`ST does not list a ${part.name.toUpperCase()} in package '${pkg}' (known: ${part.packages.join(', ')}); the flash geometry does not depend on it`);
      }
    }
  }

  const byCode = (code: string): FlashVariantSource | undefined => profile.flash.variants.find((v) => v.code === code);
  let variant: FlashVariantSource | undefined;
  let from: FlashSizeSource;
  if (codeFromName !== undefined) {
    variant = byCode(codeFromName);
    if (variant === undefined) {
      throw new FwError(
        'CHIP_FLASH_SIZE_UNKNOWN',
        `'${name}': flash-size letter '${codeFromName}' is not a ${profile.name.toUpperCase()} variant (${variantList(profile)})`,
        {},
        EXIT_USAGE,
      );
    }
    from = 'part-number';
    if (opts.flashSize !== undefined && opts.flashSize !== variant.size) {
      throw new FwError(
        'CHIP_FLASH_SIZE_CONFLICT',
        `'${name}' has ${formatSize(variant.size)} of flash (x${variant.code}), but --flash-size says ${formatSize(opts.flashSize)}`,
        {},
        EXIT_USAGE,
      );
    }
  } else if (opts.flashSize !== undefined) {
    variant = profile.flash.variants.find((v) => v.size === opts.flashSize);
    if (variant === undefined) {
      throw new FwError(
        'CHIP_FLASH_SIZE_UNKNOWN',
        `${part.name.toUpperCase()} has no variant with ${formatSize(opts.flashSize)} of flash (${variantList(profile)})`,
        {},
        EXIT_USAGE,
      );
    }
    from = 'option';
  } else if (part.flashCodes.length === 1) {
    variant = byCode(part.flashCodes[0]!)!;
    from = 'only-size';
  } else {
    variant = byCode(profile.flash.defaultVariant)!;
    from = 'default';
  }
  if (!part.flashCodes.includes(variant.code)) {
    warnings.push(
      `ST does not sell ${part.name.toUpperCase()} with ${formatSize(variant.size)} of flash (x${variant.code}; sold: ${part.flashCodes
        .map((c) => `x${c}`)
        .join(', ')}); using the family's x${variant.code} geometry`,
    );
  }

  const layouts = variantLayouts(variant);
  const modes = layouts.map(effectiveBankMode);
  let layout = defaultLayout(profile, variant);
  let bankModeFrom: BankModeSource = layouts.length > 1 ? 'default' : 'fixed';
  if (opts.bankMode !== undefined) {
    const i = modes.indexOf(opts.bankMode);
    if (i < 0) {
      throw new FwError(
        'CHIP_BANK_MODE_UNSUPPORTED',
        `${part.name.toUpperCase()}x${variant.code} has a fixed ${modes[0]}-bank organisation; --bank-mode ${opts.bankMode} does not apply` +
          (profile.flash.variants.some((v) => v.bankModes !== undefined)
            ? ` (selectable on ${profile.flash.variants
                .filter((v) => v.bankModes !== undefined)
                .map((v) => `x${v.code}`)
                .join(', ')}: ${profile.flash.bankMode?.selectedBy ?? 'option bytes'})`
            : ''),
        {},
        EXIT_USAGE,
      );
    }
    layout = { mode: modes[i]!, banks: layouts[i]!.banks };
    if (layouts.length > 1) bankModeFrom = 'option';
  }
  const bankMode = layout.mode;

  const { banks, sectors } = expand(layout.banks);
  return deepFreeze({
    profile: profile.name,
    part: part.name,
    displayName: `${part.name.toUpperCase()}${packageCode ?? 'x'}${variant.code}`,
    requested: name,
    title: profile.title,
    referenceManual: profile.referenceManual,
    ...(packageCode !== undefined ? { packageCode } : {}),
    flashCode: variant.code,
    flashSize: variant.size,
    flashSizeFrom: from,
    programUnit: profile.flash.programUnit,
    bootloaderWriteAlignment: profile.flash.bootloaderWriteAlignment,
    erasedValue: profile.flash.erasedValue,
    bankMode,
    bankModeFrom,
    bankModes: modes,
    ...(layouts.length > 1 && profile.flash.bankMode !== undefined ? { bankModeSelectedBy: profile.flash.bankMode.selectedBy } : {}),
    banks,
    sectors,
    ram: part.ram ?? profile.ram,
    memories: profile.memories,
    cores: profile.cores,
    dfu: profile.dfu,
    bootloader: profile.bootloader,
    timing: profile.timing,
    quirks: profile.quirks.filter(
      (q) =>
        (q.parts === undefined || q.parts.includes(part.name)) &&
        (q.flashCodes === undefined || q.flashCodes.includes(variant.code)) &&
        (q.bankModes === undefined || q.bankModes.includes(bankMode)),
    ),
    ...(profile.optionBytes !== undefined ? { optionBytes: profile.optionBytes } : {}),
    warnings,
  } satisfies ChipProfile);
}
