/**
 * Running an input's image steps (recipe `inputs[].header`): each step gets the input's image as read and
 * returns the edited image, which then takes the input's place in assembly, alignment and merging. A step
 * works on one address space, so an input with several targets (a DfuSe file with two alts) cannot take one.
 */
import { EXIT_USAGE, FwError } from '../core/errors.ts';
import type { Note } from '../core/notes.ts';
import type { ChipProfile } from '../layout/chip-types.ts';
import type { ConvertInput, HeaderStepReport, LoadedInput } from './types.ts';

export function applySteps(loaded: LoadedInput, input: ConvertInput, chip: ChipProfile | undefined, notes: Note[], headers: HeaderStepReport[]): LoadedInput {
  const steps = input.steps ?? [];
  if (steps.length === 0) return loaded;
  if (loaded.targets.length !== 1) {
    throw new FwError(
      'CONVERT_STEP_TARGETS',
      `${input.name}: a ${steps[0]!.kind} step edits one image, but this input holds ${loaded.targets.length} targets (alt ${loaded.targets.map((t) => t.alt).join(', alt ')})`,
      { file: input.name },
      EXIT_USAGE,
    );
  }
  const target = loaded.targets[0]!;
  let image = target.image;
  for (const step of steps) {
    const r = step.apply(image, { input: loaded.name, alt: target.alt, ...(chip !== undefined ? { chip } : {}) });
    image = r.image;
    if (r.header !== undefined) headers.push(r.header);
    if (r.notes !== undefined) notes.push(...r.notes);
  }
  return { ...loaded, targets: [{ ...target, image }] };
}
