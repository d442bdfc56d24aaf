/**
 * Start-up cost of `dfukit convert` (target: a 2 MB dual-core convert in 0.3 s, whole process): the compiled
 * CLI must not load zod, yaml or the header engine on the convert path. zod alone is ~95 modules (its
 * locales included) and ~25 ms; a runtime import of a *-schema.ts module is the usual way it sneaks in.
 * The modules a run loads are listed with a module-customization hook (node:module register).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { fixturePath, ROOT } from '../helpers/corpus.ts';

const tmp = mkdtempSync(join(tmpdir(), 'dfukit-imports-'));
const hooks = join(tmp, 'hooks.mjs');
writeFileSync(hooks, "export async function load(url, context, next) { process.stderr.write('LOADED ' + url + '\\n'); return next(url, context); }\n");
const register = join(tmp, 'register.mjs');
writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);

function loadedModules(args: string[]): string[] {
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(register).href, join(ROOT, 'bin', 'dfukit.js'), ...args], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stderr
    .split('\n')
    .filter((l) => l.startsWith('LOADED '))
    .map((l) => l.slice(7));
}

test('dfukit convert (with --chip and --manifest) loads neither zod, yaml nor the header engine', () => {
  const out = join(tmp, 'fw.dfu');
  const mods = loadedModules(['convert', '--chip', 'stm32h745', fixturePath('elf', 'h745_cm7.elf'), fixturePath('elf', 'h745_cm4.elf'), '-o', out, '--manifest', join(tmp, 'fw.json')]);
  assert.ok(mods.some((m) => m.endsWith('/dist/src/convert/convert.js')), 'the hook sees the modules');
  const unwanted = mods.filter((m) => /\/node_modules\/(zod|yaml)\/|\/dist\/src\/(header|recipe)\/|-schema\.js$|inspect-report\.js$/.test(m));
  assert.deepEqual(unwanted, []);
});

test('dfukit inspect loads neither zod nor yaml', () => {
  const mods = loadedModules(['inspect', fixturePath('elf', 'h745_cm7.elf')]);
  assert.deepEqual(
    mods.filter((m) => /\/node_modules\/(zod|yaml)\//.test(m)),
    [],
  );
});
