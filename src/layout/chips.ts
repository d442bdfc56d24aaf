/**
 * Chip profiles by name. The data is compiled from schemas/chips/*.yaml into chips.generated.ts
 * (`npm run chips:compile`), so nothing here parses YAML or loads zod.
 *
 * Names are case-insensitive and may be given as the family (`stm32h743`, `h743`), a sibling part that
 * shares the profile (`stm32h753`), or an ST part number with package and flash-size letters
 * (`STM32H743ZI`, `stm32h753xg`, `STM32H743ZIT6`); `x` stands for any package, as in ST's documents.
 */
import { EXIT_USAGE, FwError } from '../core/errors.ts';
import { formatSize } from '../core/format.ts';
import type { ChipProfileSource, FlashVariantSource, PartInfo } from './chip-schema.ts';
import type { ChipProfile, ChipSummary, FlashBank, FlashSector, FlashSizeSource } from './chip-types.ts';
import { CHIP_PROFILES } from './chips.generated.ts';

export type { ChipProfile, ChipSummary, FlashBank, FlashSector } from './chip-types.ts';

export interface ResolveOptions {
  /** Flash size in bytes (`--flash-size`); must match one of the profile's variants. */
  flashSize?: number;
}

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

function sizeOf(v: FlashVariantSource): { banks: number; sectors: number } {
  return { banks: v.banks.length, sectors: v.banks.reduce((n, b) => n + b.sectors.reduce((m, r) => m + r.count, 0), 0) };
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
      flashSizes: [...p.flash.variants].sort((a, b) => b.size - a.size).map((v) => ({ code: v.code, size: v.size, ...sizeOf(v) })),
      defaultFlashCode: p.flash.defaultVariant,
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

function expand(v: FlashVariantSource): { banks: FlashBank[]; sectors: FlashSector[] } {
  const sectors: FlashSector[] = [];
  const banks: FlashBank[] = [];
  for (const b of v.banks) {
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
 * CHIP_FLASH_SIZE_CONFLICT. Combinations ST does not sell resolve with a warning.
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

  const { banks, sectors } = expand(variant);
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
    banks,
    sectors,
    ram: part.ram ?? profile.ram,
    memories: profile.memories,
    cores: profile.cores,
    dfu: profile.dfu,
    bootloader: profile.bootloader,
    quirks: profile.quirks.filter((q) => q.parts === undefined || q.parts.includes(part.name)),
    warnings,
  } satisfies ChipProfile);
}
