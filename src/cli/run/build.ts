/**
 * `dfukit build RECIPE.yaml`: read the recipe, read its inputs (paths relative to the recipe file), run the same
 * conversion as `dfukit convert`, write every output and the manifest atomically, report.
 * `planBuild` does everything but the writing: the golden-image test and `npm run golden:update` use it.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FwError, isFwError } from '../../core/errors.ts';
import { runConversion, type ConversionOutcome } from '../../convert/pipeline.ts';
import type { ConvertInput } from '../../convert/types.ts';
import { parseRecipe, type Recipe } from '../../recipe/parse.ts';
import { atRecipe, recipeRequest } from '../../recipe/request.ts';
import { checkLeniencies } from '../leniency.ts';
import { renderConvert } from '../render/convert.ts';
import { displayPath, NODE_DIGESTS, writeConversion } from './convert.ts';

export interface BuildPlan {
  recipe: Recipe;
  /** The inputs as converted (bytes named by their recipe paths) and their file-system paths. */
  inputs: ConvertInput[];
  inputPaths: string[];
  outcome: ConversionOutcome;
  /** File-system paths of the outputs, in the recipe's order. */
  outputPaths: string[];
  manifestPath?: string;
}

/** A file named literally (a recipe path has no `@ADDR` suffix: `address:` says it). */
function readLiteral(path: string): Uint8Array {
  try {
    if (statSync(path).isDirectory()) throw new FwError('FILE_IS_DIRECTORY', `${displayPath(path)} is a directory, expected a file`, { file: displayPath(path) });
    const b = readFileSync(path);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    if (isFwError(e)) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String((e as Error).message);
    throw new FwError('FILE_READ', `cannot read the file: ${why}`, { file: displayPath(path) });
  }
}

/** Option errors of the conversion, and the recipe key that holds the option. */
const RECIPE_KEYS: Record<string, string> = { CONVERT_ALIGN: 'align', CONVERT_TARGET_NAME: 'targets' };

/** Reads and converts; writes nothing. */
export function planBuild(recipeFile: string): BuildPlan {
  const recipe = parseRecipe(new TextDecoder('utf-8').decode(readLiteral(recipeFile)), displayPath(recipeFile));
  try {
    checkLeniencies(recipe.lenient);
  } catch (e) {
    throw atRecipe(recipe, ['lenient'], e, 'lenient');
  }
  const dir = dirname(recipeFile);
  const fsPath = (p: string): string => join(dir, p);
  const request = recipeRequest(recipe, (p) => readLiteral(fsPath(p)));
  let outcome: ConversionOutcome;
  try {
    outcome = runConversion({ ...request, digests: NODE_DIGESTS });
  } catch (e) {
    // Usage-class errors about one input (a binary without an address...) belong to that input's recipe entry.
    const i = isFwError(e) && e.exitStatus === 2 ? recipe.inputs.findIndex((r) => r.path === e.location.file) : -1;
    if (i >= 0) throw atRecipe(recipe, ['inputs', i], e, `inputs[${i}] ${recipe.inputs[i]!.path}`);
    const key = isFwError(e) ? RECIPE_KEYS[e.code] : undefined;
    if (key !== undefined) throw atRecipe(recipe, [key], e, key);
    throw e;
  }
  outcome.report.recipe = recipe.file;
  const plan: BuildPlan = {
    recipe,
    inputs: request.inputs,
    inputPaths: recipe.inputs.map((r) => fsPath(r.path)),
    outcome,
    outputPaths: recipe.outputs.map((o) => fsPath(o.path)),
  };
  if (recipe.manifest !== undefined) {
    plan.manifestPath = fsPath(recipe.manifest);
    outcome.report.manifest = recipe.manifest;
  }
  return plan;
}

/** Writes the outputs and the manifest; never over an input or the recipe. */
export function writeBuild(plan: BuildPlan, recipeFile: string): void {
  writeConversion(plan.outcome, plan.inputs, plan.inputPaths, plan.outputPaths, plan.manifestPath, [recipeFile]);
}

export function runBuild(recipeFile: string, opts: { json?: true }): number {
  const plan = planBuild(recipeFile);
  writeBuild(plan, recipeFile);
  process.stdout.write(opts.json === true ? JSON.stringify(plan.outcome.report, null, 2) + '\n' : renderConvert(plan.outcome.report));
  return 0;
}
