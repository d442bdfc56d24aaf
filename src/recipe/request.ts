/**
 * A parsed recipe as a conversion request. File access stays with the caller: `read` gets each input path as
 * the recipe wrote it (relative to the recipe) and returns its bytes. Errors about a recipe value (unknown
 * chip, unreadable input, bad alignment) point at the recipe line that holds it.
 */
import { FwError } from '../core/errors.ts';
import type { ConversionRequest } from '../convert/pipeline.ts';
import type { ConvertInput, ConvertOptions } from '../convert/types.ts';
import { resolveChip } from '../layout/chips.ts';
import { atRecipe, type Recipe } from './parse.ts';
import { headerStep } from './steps.ts';

export { atRecipe } from './parse.ts';

export function recipeRequest(recipe: Recipe, read: (path: string) => Uint8Array): ConversionRequest {
  let chip;
  if (recipe.chip !== undefined) {
    try {
      chip = resolveChip(recipe.chip, {
        ...(recipe.flashSize !== undefined ? { flashSize: recipe.flashSize } : {}),
        ...(recipe.bankMode !== undefined ? { bankMode: recipe.bankMode } : {}),
      });
    } catch (e) {
      throw atRecipe(recipe, ['chip'], e, 'chip');
    }
  } else if (recipe.flashSize !== undefined || recipe.bankMode !== undefined) {
    const key = recipe.flashSize !== undefined ? 'flashSize' : 'bankMode';
    throw new FwError('RECIPE_VALUE', `${key} needs chip`, recipe.locate([key]));
  }
  // Header steps are checked (layout, options) before any input is read.
  const steps = recipe.inputs.map((r, i) => (r.header !== undefined ? [headerStep(recipe, i, r.header)] : []));
  const inputs = recipe.inputs.map((r, i): ConvertInput => {
    let bytes: Uint8Array;
    try {
      bytes = read(r.path);
    } catch (e) {
      throw atRecipe(recipe, ['inputs', i, 'path'], e, `inputs[${i}] ${r.path}`);
    }
    const input: ConvertInput = { name: r.path, bytes };
    if (r.address !== undefined) input.address = r.address;
    if (r.alt !== undefined) input.alt = r.alt;
    if (steps[i]!.length > 0) input.steps = steps[i]!;
    return input;
  });
  const options: ConvertOptions = {
    ...(chip !== undefined ? { chip } : {}),
    ...(recipe.align !== undefined ? { align: recipe.align } : {}),
    ...(recipe.fill !== undefined ? { fill: recipe.fill } : {}),
    ...(recipe.mergeGap !== undefined ? { mergeGap: recipe.mergeGap } : {}),
    ...(recipe.overwrite ? { overwrite: true } : {}),
    ...(recipe.lenient !== undefined ? { lenient: recipe.lenient } : {}),
    ...(recipe.targetNames.size > 0 ? { targetNames: recipe.targetNames } : {}),
    suffix: recipe.suffix,
  };
  return { inputs, options, outputs: recipe.outputs.map((o) => ({ path: o.path, format: o.format })) };
}
