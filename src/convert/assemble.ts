/**
 * Inputs into targets. Every input goes to the target of its alt (0, the internal flash, unless `--alt`);
 * a DfuSe input's targets go to the targets of their own alts, keeping their names. Targets appear in the
 * order their alts first appear. Overlapping data is an error naming both sides, unless `overwrite` lets later
 * inputs win (each replaced range is returned). Inputs keep their element boundaries: a DfuSe file's elements
 * stay separate segments; other formats contribute their contiguous runs.
 */
import { EXIT_USAGE, FwError, isFwError } from '../core/errors.ts';
import type { Range } from '../core/range.ts';
import { DEFAULT_TARGET_NAME } from '../formats/dfuse-file.ts';
import { MemoryImage } from '../image/memory-image.ts';
import type { LoadedInput, OverwriteRecord } from './types.ts';

export interface AssembledTarget {
  alt: number;
  name?: string;
  image: MemoryImage;
  contributions: { input: string; ranges: Range[] }[];
}

export function assembleTargets(
  inputs: readonly LoadedInput[],
  opts: { overwrite?: boolean; targetNames?: ReadonlyMap<number, string> },
): { targets: AssembledTarget[]; overwrites: OverwriteRecord[] } {
  const targets: AssembledTarget[] = [];
  const overwrites: OverwriteRecord[] = [];
  for (const input of inputs) {
    // A DfuSe file with two targets of the same alt keeps them apart (as the file does); across inputs,
    // data for one alt goes into one target.
    const usedHere = new Set<AssembledTarget>();
    for (const t of input.targets) {
      let target = targets.find((x) => x.alt === t.alt && !usedHere.has(x));
      if (target === undefined) {
        target = { alt: t.alt, image: new MemoryImage(), contributions: [] };
        targets.push(target);
      }
      usedHere.add(target);
      if (t.named && t.name !== undefined && target.name === undefined) target.name = t.name;
      else if (!t.named && input.format !== 'dfuse' && target.name === undefined) target.name = DEFAULT_TARGET_NAME;
      const parts = input.format === 'dfuse' ? t.image.segments : t.image.runs();
      for (const s of parts) {
        try {
          for (const o of target.image.add(s.addr, s.data, s.source ?? input.name, { overwrite: opts.overwrite === true })) {
            overwrites.push({ alt: t.alt, start: o.start, end: o.end, previous: o.previousSource, by: o.source });
          }
        } catch (e) {
          if (isFwError(e) && e.code === 'IMAGE_OVERLAP') {
            throw new FwError('CONVERT_OVERLAP', `alt ${t.alt}: ${e.message} (--overwrite lets later inputs win)`, { ...e.location, file: input.name });
          }
          throw e;
        }
      }
      target.contributions.push({ input: input.name, ranges: t.image.ranges() });
    }
  }
  for (const [alt, name] of opts.targetNames ?? []) {
    const named = targets.filter((t) => t.alt === alt);
    if (named.length === 0) {
      throw new FwError('CONVERT_TARGET_NAME', `a target name ("${name}") is given for alt ${alt}, but no input goes to alt ${alt}`, {}, EXIT_USAGE);
    }
    for (const t of named) t.name = name;
  }
  for (const t of targets) {
    if (t.image.isEmpty) {
      const from = t.contributions.map((c) => c.input).join(', ');
      throw new FwError('CONVERT_NO_DATA', `alt ${t.alt}: ${from} hold${t.contributions.length === 1 ? 's' : ''} no data: a DfuSe target needs at least one element`, { file: t.contributions[0]?.input ?? '' });
    }
  }
  return { targets, overwrites };
}
