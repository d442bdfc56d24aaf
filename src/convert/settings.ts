/**
 * The alignment settings of a conversion, from the options: the program unit comes from `align`, else the
 * chip profile, else 8 bytes (one 64-bit flash line: the ROM write alignment of every STM32 family and the
 * ECC word of L4/G4/WB). A pure re-encode (only DfuSe inputs, no chip, no `align`, no `mergeGap`) aligns
 * and merges nothing: the elements stay as they are. `align` 1 turns alignment off but keeps merging.
 */
import { EXIT_USAGE, FwError } from '../core/errors.ts';
import { formatRange, hexN } from '../core/format.ts';
import type { Note } from '../core/notes.ts';
import type { FlashMap } from './flash-map.ts';
import type { AlignmentSettings, ConvertOptions, LoadedInput, UnitSource } from './types.ts';

export const DEFAULT_PROGRAM_UNIT = 8;
export const MAX_ALIGN = 0x100000;

function usage(code: string, message: string): FwError {
  return new FwError(code, message, {}, EXIT_USAGE);
}

export function checkByte(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) throw usage('CONVERT_OPTION', `${name} must be a byte value 0..0xFF, got ${v}`);
}

export function alignmentSettings(opts: ConvertOptions, inputs: readonly LoadedInput[], flash: FlashMap, notes: Note[]): AlignmentSettings {
  const chip = opts.chip;
  const erasedValue = chip?.erasedValue ?? 0xff;
  const fill = opts.fill ?? erasedValue;
  checkByte('--fill', fill);
  if (opts.mergeGap !== undefined && !(Number.isSafeInteger(opts.mergeGap) && opts.mergeGap >= 0)) {
    throw usage('CONVERT_OPTION', `--merge-gap must be a size in bytes, got ${opts.mergeGap}`);
  }
  const chipUnit = chip === undefined ? undefined : Math.max(chip.programUnit, chip.bootloaderWriteAlignment);
  let unit: number;
  let unitFrom: UnitSource;
  if (opts.align !== undefined) {
    const a = opts.align;
    if (!Number.isInteger(a) || a < 1 || a > MAX_ALIGN || (a & (a - 1)) !== 0) {
      throw usage('CONVERT_ALIGN', `--align must be a power of two from 1 to ${MAX_ALIGN} bytes, got ${a}`);
    }
    unit = a;
    unitFrom = 'option';
    if (chipUnit !== undefined && a < chipUnit) {
      notes.push({
        code: 'CONVERT_ALIGN_BELOW_UNIT',
        severity: 'warning',
        message: `--align ${a} is below the ${chipUnit}-byte program unit of ${chip!.displayName}: two elements can share a flash word, which the flash cannot program twice`,
        location: {},
      });
    }
  } else if (chipUnit !== undefined) {
    unit = chipUnit;
    unitFrom = 'chip';
  } else if (opts.mergeGap === undefined && inputs.length > 0 && inputs.every((i) => i.format === 'dfuse')) {
    unit = 1;
    unitFrom = 'none';
  } else {
    unit = DEFAULT_PROGRAM_UNIT;
    unitFrom = 'default';
  }
  for (const f of flash.ranges) {
    if (f.start % unit !== 0 || f.end % unit !== 0) {
      throw usage('CONVERT_ALIGN', `--align ${unit} does not divide the internal flash bounds ${formatRange(f.start, f.end)}`);
    }
  }
  if (fill !== erasedValue) {
    notes.push({
      code: 'CONVERT_FILL_NOT_ERASED',
      severity: 'info',
      message: `pads are ${hexN(fill, 2)} while erased flash reads ${hexN(erasedValue, 2)}: pad bytes change flash contents; gaps bridged by merges stay ${hexN(erasedValue, 2)}`,
      location: {},
    });
  }
  const settings: AlignmentSettings = {
    unit,
    unitFrom,
    fill,
    erasedValue,
    flash: flash.ranges,
    flashFrom: flash.from,
    sectorMerge: chip !== undefined,
  };
  if (opts.mergeGap !== undefined) settings.mergeGap = opts.mergeGap;
  return settings;
}
