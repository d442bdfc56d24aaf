/**
 * Which addresses are internal flash, which erase sector an address is in, and which targets are internal
 * flash. With a chip profile all three come from its banks, sectors and DFU alts. Without one, STM32 flash is
 * assumed at 0x08000000..0x10000000 (every STM32 maps its main flash there, and nothing else) in the alt-0
 * target, and sectors are unknown, so nothing is merged by sector.
 */
import { formatRange } from '../core/format.ts';
import type { Note } from '../core/notes.ts';
import { unionRanges, type Range } from '../core/range.ts';
import type { ChipProfile } from '../layout/chip-types.ts';
import { altForAddress, classifyAddress, sectorAt } from '../layout/sectors.ts';
import type { TargetKind } from './types.ts';

/** Internal flash of any STM32 when no chip is named: the 128 MiB window starting at the flash base. */
export const STM32_FLASH_DEFAULT: Range = { start: 0x0800_0000, end: 0x1000_0000 };

export interface FlashMap {
  /** Internal flash ranges, sorted and merged (contiguous banks form one range). */
  readonly ranges: Range[];
  readonly from: 'chip' | 'stm32-default';
  /** The erase sector holding `addr` and its name, or undefined (no chip, or not flash). */
  sectorOf(addr: number): { start: number; end: number; name: string } | undefined;
  /** Internal flash target or not, by DFU alt. */
  kindOfAlt(alt: number): TargetKind;
  /** Why a run of a flash target outside the flash ranges is there (for the warning). */
  describeOutside(start: number, end: number, alt: number): Note;
}

export function flashMap(chip: ChipProfile | undefined): FlashMap {
  if (chip === undefined) {
    return {
      ranges: [STM32_FLASH_DEFAULT],
      from: 'stm32-default',
      sectorOf: () => undefined,
      kindOfAlt: (alt) => (alt === 0 ? 'internal-flash' : 'other'),
      describeOutside: (start, end, alt) => ({
        code: 'CONVERT_OUTSIDE_FLASH',
        severity: 'warning',
        message:
          `alt ${alt}: ${formatRange(start, end)} is outside ${formatRange(STM32_FLASH_DEFAULT.start, STM32_FLASH_DEFAULT.end)}, ` +
          `taken as STM32 internal flash without --chip: left unaligned`,
        location: { address: start },
      }),
    };
  }
  const ranges = unionRanges(chip.banks.map((b) => ({ start: b.start, end: b.end })));
  const flashAlts = new Set(chip.dfu.alts.filter((a) => a.kind === 'flash').map((a) => a.alt));
  return {
    ranges,
    from: 'chip',
    sectorOf: (addr) => {
      const s = sectorAt(chip, addr);
      return s === undefined ? undefined : { start: s.start, end: s.end, name: `bank ${s.bank} sector ${s.sector}` };
    },
    kindOfAlt: (alt) => (flashAlts.has(alt) ? 'internal-flash' : 'other'),
    describeOutside: (start, end, alt) => {
      const what = classifyAddress(chip, start);
      const owner = altForAddress(chip, start);
      let why: string;
      if (what.kind === 'ram') why = `${what.name} RAM: RAM data in a flash image usually means a section without AT> FLASH in the linker script`;
      else if (owner !== undefined && owner !== alt) why = `${what.name}, which the ROM serves on alt ${owner}: give this data with --alt ${owner}:FILE`;
      else if (what.kind !== 'unknown') why = `${what.name}, not main flash`;
      else why = `not in the flash of ${chip.displayName} (${ranges.map((r) => formatRange(r.start, r.end)).join(', ')})`;
      return {
        code: 'CONVERT_OUTSIDE_FLASH',
        severity: 'warning',
        message: `alt ${alt}: ${formatRange(start, end)} is ${why}; left unaligned`,
        location: { address: start },
      };
    },
  };
}

/** `ranges` split into the parts inside and outside `flash`. */
export function splitByFlash(ranges: readonly Range[], flash: readonly Range[]): { inside: Range[]; outside: Range[] } {
  const inside: Range[] = [];
  const outside: Range[] = [];
  for (const r of ranges) {
    let at = r.start;
    for (const f of flash) {
      if (f.end <= at || f.start >= r.end) continue;
      if (f.start > at) outside.push({ start: at, end: f.start });
      const s = Math.max(at, f.start);
      const e = Math.min(r.end, f.end);
      inside.push({ start: s, end: e });
      at = e;
    }
    if (at < r.end) outside.push({ start: at, end: r.end });
  }
  return { inside, outside };
}

