/**
 * Regenerates the expected outputs of every golden image (golden-images/<case>/recipe.yaml) by building the
 * recipe, exactly as `dfukit build` does. The only way to change them: review the diff before committing.
 * Usage: npm run golden:update [-- CASE...]
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { planBuild, writeBuild } from '../src/cli/run/build.ts';

const root = join(import.meta.dirname, '..', 'golden-images');
const only = process.argv.slice(2);
const cases = readdirSync(root, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(root, d.name, 'recipe.yaml')))
  .map((d) => d.name)
  .filter((c) => only.length === 0 || only.includes(c))
  .sort();
if (only.length > 0 && cases.length !== only.length) {
  console.error(`unknown case(s): ${only.filter((c) => !cases.includes(c)).join(', ')}`);
  process.exit(2);
}
for (const c of cases) {
  const recipe = relative(process.cwd(), join(root, c, 'recipe.yaml'));
  const plan = planBuild(recipe);
  writeBuild(plan, recipe);
  const written = [...plan.outputPaths, ...(plan.manifestPath !== undefined ? [plan.manifestPath] : [])];
  console.log(`${c}: ${written.map((p) => relative(process.cwd(), p)).join(', ')}`);
}
