import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRecipe } from '../../src/recipe/parse.ts';

type E = { code: string; exitStatus: number; message: string; location: { file?: string; line?: number; column?: number } };

function fails(text: string, code: string, line: number, msg: RegExp): void {
  assert.throws(() => parseRecipe(text, 'r/recipe.yaml'), (e: E) => {
    assert.equal(e.code, code, e.message);
    assert.equal(e.exitStatus, 3);
    assert.equal(e.location.file, 'r/recipe.yaml');
    assert.equal(e.location.line, line, `line of: ${e.message}`);
    assert.match(e.message, msg);
    return true;
  });
}

const FULL = `recipe: 1
description: demo
chip: stm32h745
flashSize: 2M
align: 32
fill: 0xFF
mergeGap: "4K"
overwrite: true
lenient: [image-size-includes-suffix]
inputs:
  - path: cm7.elf
  - path: ob.bin
    address: 0x5200201C
    alt: 1
  - path: boot.bin
    address: "0x0800_0000"
targets:
  - { alt: 1, name: Option Bytes }
suffix: { vid: 0x0483, pid: "0xDF11", bcdDevice: 0xFFFF }
steps: []
outputs:
  - path: out/fw.dfu
  - path: out/fw.img
    format: bin
manifest: out/fw.json
bankMode: dual
`;

test('a full recipe: numbers in YAML or CLI notation, output formats from the extension or `format`', () => {
  const r = parseRecipe(FULL, 'recipe.yaml');
  assert.equal(r.chip, 'stm32h745');
  assert.equal(r.bankMode, 'dual');
  assert.deepEqual([r.flashSize, r.align, r.fill, r.mergeGap, r.overwrite], [0x200000, 32, 0xff, 4096, true]);
  assert.deepEqual(r.lenient, ['image-size-includes-suffix']);
  assert.deepEqual(r.inputs, [{ path: 'cm7.elf' }, { path: 'ob.bin', address: 0x5200201c, alt: 1 }, { path: 'boot.bin', address: 0x08000000 }]);
  assert.deepEqual([...r.targetNames], [[1, 'Option Bytes']]);
  assert.deepEqual(r.suffix, { vid: 0x0483, pid: 0xdf11, bcdDevice: 0xffff });
  assert.deepEqual(r.outputs, [{ path: 'out/fw.dfu', format: 'dfu' }, { path: 'out/fw.img', format: 'bin' }]);
  assert.equal(r.manifest, 'out/fw.json');
  assert.deepEqual(r.locate(['inputs', 1, 'address']), { file: 'recipe.yaml', line: 13, column: 14 });
});

test('the minimum: recipe, inputs, outputs', () => {
  const r = parseRecipe('recipe: 1\ninputs: [{ path: a.hex }]\noutputs: [{ path: a.dfu }]\n', 'x.yaml');
  assert.equal(r.overwrite, false);
  assert.equal(r.chip, undefined);
});

test('YAML syntax errors name the line', () => {
  fails('recipe: 1\ninputs:\n  - path: a: b.elf\noutputs: []\n', 'RECIPE_YAML', 3, /not valid YAML: Nested mappings are not allowed in compact mappings/);
  fails('recipe: 1\nrecipe: 1\n', 'RECIPE_YAML', 2, /unique/i);
});

test('an unknown key is named, at its own line', () => {
  fails('recipe: 1\ninputs:\n  - path: a.elf\n    adress: 0x08000000\noutputs: [{ path: a.dfu }]\n', 'RECIPE_INVALID', 4, /^inputs\[0\]: unknown key 'adress'/);
});

test('a wrong value is named with its path, at its line', () => {
  fails('recipe: 1\ninputs:\n  - path: a.bin\n    address: banana\noutputs: [{ path: a.dfu }]\n', 'RECIPE_INVALID', 4, /^inputs\[0\]\.address: expected an address/);
  fails('recipe: 1\ninputs: [{ path: a.bin, alt: 300 }]\noutputs: [{ path: a.dfu }]\n', 'RECIPE_INVALID', 2, /inputs\[0\]\.alt/);
  fails('recipe: 2\ninputs: [{ path: a.hex }]\noutputs: [{ path: a.dfu }]\n', 'RECIPE_INVALID', 1, /^recipe: /);
  fails('recipe: 1\nfill: 0x100\ninputs: [{ path: a.hex }]\noutputs: [{ path: a.dfu }]\n', 'RECIPE_INVALID', 2, /^fill: expected a byte value/);
});

test('every problem is listed, each with its line', () => {
  fails('recipe: 1\nchip: 7\ninputs: []\noutputs: [{ path: a.dfu, format: uf2 }]\n', 'RECIPE_INVALID', 2, /^chip: .*\n  line 3: inputs: .*\n  line 4: outputs\[0\]\.format: /);
});

test('a missing key points at the map that lacks it', () => {
  fails('recipe: 1\ninputs:\n  - address: 0x08000000\noutputs: [{ path: a.dfu }]\n', 'RECIPE_INVALID', 3, /^inputs\[0\]\.path: /);
});

test('steps are reserved: none exist yet', () => {
  fails('recipe: 1\ninputs: [{ path: a.hex }]\nsteps:\n  - kind: header\noutputs: [{ path: a.dfu }]\n', 'RECIPE_INVALID', 4, /steps/);
});

test('absolute paths are refused: recipes must build the same on every machine', () => {
  fails('recipe: 1\ninputs: [{ path: /home/me/a.hex }]\noutputs: [{ path: a.dfu }]\n', 'RECIPE_ABSOLUTE_PATH', 2, /inputs\[0\]\.path: '\/home\/me\/a\.hex' is absolute; paths in a recipe are relative to the recipe file/);
  fails('recipe: 1\ninputs: [{ path: a.hex }]\noutputs: [{ path: "C:\\\\out\\\\a.dfu" }]\n', 'RECIPE_ABSOLUTE_PATH', 3, /is absolute/);
});

test('an output whose format cannot be told is located', () => {
  fails('recipe: 1\ninputs: [{ path: a.hex }]\noutputs:\n  - path: a.dfu\n  - path: a.img\n', 'CONVERT_OUTPUT_FORMAT', 5, /^outputs\[1\]: cannot tell the output format from 'a\.img'/);
});

test('values the schema cannot judge are located too', () => {
  fails('recipe: 1\nmergeGap: 99999999999999999999\ninputs: [{ path: a.hex }]\noutputs: [{ path: a.dfu }]\n', 'RECIPE_INVALID', 2, /mergeGap/);
  fails('recipe: 1\ntargets: [{ alt: 0, name: A }, { alt: 0, name: B }]\ninputs: [{ path: a.hex }]\noutputs: [{ path: a.dfu }]\n', 'RECIPE_VALUE', 2, /alt 0 is named twice/);
});
