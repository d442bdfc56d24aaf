import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FwError } from '../../src/core/errors.ts';
import { parseRecipe } from '../../src/recipe/parse.ts';
import { recipeRequest } from '../../src/recipe/request.ts';

type E = { code: string; exitStatus: number; message: string; location: { file?: string; line?: number } };
const read = (files: Record<string, Uint8Array>) => (p: string): Uint8Array => {
  const b = files[p];
  if (b === undefined) throw new FwError('FILE_READ', 'cannot read the file: no such file', { file: p });
  return b;
};

test('a recipe becomes a conversion request: inputs named by their recipe paths, options, outputs', () => {
  const r = parseRecipe(
    'recipe: 1\nchip: STM32H743ZI\nfill: 0\nmergeGap: 1K\ninputs:\n  - path: a.hex\n  - { path: ob.bin, address: 0x5200201C, alt: 1 }\ntargets: [{ alt: 0, name: Flash }]\nsuffix: { vid: 0x1209 }\noutputs: [{ path: out/a.dfu }]\n',
    'recipe.yaml',
  );
  const req = recipeRequest(r, read({ 'a.hex': new Uint8Array([1]), 'ob.bin': new Uint8Array([2]) }));
  assert.deepEqual(req.inputs.map((i) => [i.name, [...i.bytes], i.address, i.alt]), [['a.hex', [1], undefined, undefined], ['ob.bin', [2], 0x5200201c, 1]]);
  assert.equal(req.options.chip?.displayName, 'STM32H743ZI');
  assert.deepEqual([req.options.fill, req.options.mergeGap, req.options.suffix, [...(req.options.targetNames ?? [])]], [0, 1024, { vid: 0x1209 }, [[0, 'Flash']]]);
  assert.deepEqual(req.outputs, [{ path: 'out/a.dfu', format: 'dfu' }]);
});

test('an unknown chip is reported at the recipe line that names it (exit 3: the recipe is the bad input)', () => {
  const r = parseRecipe('recipe: 1\ninputs: [{ path: a.hex }]\nchip: stm32x999\noutputs: [{ path: a.dfu }]\n', 'recipe.yaml');
  assert.throws(() => recipeRequest(r, read({})), (e: E) => {
    assert.equal(e.code, 'CHIP_UNKNOWN');
    assert.equal(e.exitStatus, 3);
    assert.deepEqual([e.location.file, e.location.line], ['recipe.yaml', 3]);
    assert.match(e.message, /^chip: unknown chip 'stm32x999'/);
    return true;
  });
});

test('an unreadable input is reported at its recipe line', () => {
  const r = parseRecipe('recipe: 1\ninputs:\n  - path: a.hex\n  - path: missing.elf\noutputs: [{ path: a.dfu }]\n', 'recipe.yaml');
  assert.throws(() => recipeRequest(r, read({ 'a.hex': new Uint8Array(1) })), (e: E) =>
    e.code === 'FILE_READ' && e.location.line === 4 && /^inputs\[1\] missing\.elf: cannot read the file: no such file/.test(e.message));
});

test('flashSize without chip is refused', () => {
  const r = parseRecipe('recipe: 1\nflashSize: 1M\ninputs: [{ path: a.hex }]\noutputs: [{ path: a.dfu }]\n', 'recipe.yaml');
  assert.throws(() => recipeRequest(r, read({})), (e: E) => e.code === 'RECIPE_VALUE' && e.location.line === 2);
});
