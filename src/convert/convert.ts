/**
 * The conversion pipeline, as pure functions over bytes (no file access, no printing):
 *
 *   inputs ─ load (detect, decode) ─ each input's steps (a recipe's header step) ─ assemble (targets by alt, overlap check)
 *          ─ per internal-flash target: align to the program unit, merge within erase sectors / merge gap
 *          ─ ConvertResult (targets + every pad, merge and overwrite applied + notes)
 *
 * Encoding into .dfu/.hex/.srec/.bin is `encodeOutput` (output.ts), which never aligns.
 */
import { EXIT_USAGE, FwError } from '../core/errors.ts';
import { hex32 } from '../core/format.ts';
import type { Note } from '../core/notes.ts';
import { alignFlashTarget } from './align.ts';
import { assembleTargets } from './assemble.ts';
import { flashMap } from './flash-map.ts';
import { loadInput } from './load.ts';
import { mergeFlashTarget } from './merge.ts';
import { alignmentSettings } from './settings.ts';
import { applySteps } from './steps.ts';
import { resolveSuffix } from './suffix.ts';
import type { ConvertInput, ConvertOptions, ConvertResult, ConvertedTarget, HeaderStepReport, MergeRecord, PadRecord } from './types.ts';

export function convert(inputs: readonly ConvertInput[], opts: ConvertOptions = {}): ConvertResult {
  if (inputs.length === 0) throw new FwError('CONVERT_NO_INPUTS', 'no input files: give at least one', {}, EXIT_USAGE);
  const notes: Note[] = [];
  if (opts.chip !== undefined) {
    for (const w of opts.chip.warnings) notes.push({ code: 'CHIP_WARNING', severity: 'warning', message: w, location: {} });
  }
  const headers: HeaderStepReport[] = [];
  const loaded = inputs.map((i) => applySteps(loadInput(i, opts, notes), i, opts.chip, notes, headers));
  const flash = flashMap(opts.chip);
  const alignment = alignmentSettings(opts, loaded, flash, notes);
  const assembled = assembleTargets(loaded, {
    ...(opts.overwrite === true ? { overwrite: true } : {}),
    ...(opts.targetNames !== undefined ? { targetNames: opts.targetNames } : {}),
  });

  const pads: PadRecord[] = [];
  const merges: MergeRecord[] = [];
  const processing = alignment.unitFrom !== 'none';
  const targets = assembled.targets.map((t): ConvertedTarget => {
    const kind = flash.kindOfAlt(t.alt);
    const base = { alt: t.alt, kind, contributions: t.contributions, ...(t.name !== undefined ? { name: t.name } : {}) };
    if (!processing || kind !== 'internal-flash') return { ...base, aligned: false, image: t.image };
    const a = alignFlashTarget(t.image, t.alt, alignment.unit, alignment.fill, flash);
    notes.push(...a.notes);
    pads.push(...a.pads);
    const m = mergeFlashTarget(a.image, flash, {
      alt: t.alt,
      erasedValue: alignment.erasedValue,
      sectorMerge: alignment.sectorMerge,
      ...(alignment.mergeGap !== undefined ? { mergeGap: alignment.mergeGap } : {}),
    });
    merges.push(...m.merges);
    return { ...base, aligned: true, image: m.image };
  });

  const result: ConvertResult = {
    inputs: loaded,
    alignment,
    targets,
    pads,
    merges,
    overwrites: assembled.overwrites,
    suffix: resolveSuffix(opts.suffix, loaded, notes),
    headers,
    notes,
  };
  if (opts.chip !== undefined) result.chip = opts.chip;
  const entries = [...new Set(loaded.flatMap((i) => (i.entry === undefined ? [] : [i.entry])))];
  if (entries.length === 1) result.entry = entries[0]!;
  else if (entries.length > 1) {
    notes.push({
      code: 'CONVERT_SEVERAL_ENTRIES',
      severity: 'info',
      message: `the inputs state ${entries.length} different entry points (${entries.map(hex32).join(', ')}): HEX and S-record outputs get none`,
      location: {},
    });
  }
  return result;
}
