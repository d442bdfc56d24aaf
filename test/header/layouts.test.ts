/** The compiled layouts: current with the YAML, valid, and the compiler's errors point at the YAML line. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { compileLayoutDir, compileLayoutSources, GENERATED_HEADER } from '../../scripts/compile-headers.ts';
import { getLayout, layoutNames, listLayouts } from '../../src/header/layouts.ts';
import { validateHeaderLayout } from '../../src/header/validate.ts';
import { ROOT } from '../helpers/corpus.ts';
import { fwError } from './helpers.ts';

const DIR = join(ROOT, 'schemas', 'headers');

test('src/header/layouts.generated.ts is current (regenerate with npm run headers:compile)', () => {
  const result = compileLayoutDir(DIR, ROOT);
  assert.deepEqual(result.errors.map((e) => e.format()), []);
  const committed = readFileSync(join(ROOT, 'src', 'header', 'layouts.generated.ts'), 'utf8');
  assert.ok(committed.startsWith(GENERATED_HEADER + '\n'));
  assert.equal(committed, result.moduleText);
  assert.deepEqual(listLayouts(), result.layouts);
});

test('the three shipped layouts pass the semantic checks', () => {
  assert.deepEqual(layoutNames(), ['dfukit-ab-v1', 'mcuboot', 'simple-crc']);
  for (const l of listLayouts()) assert.deepEqual(validateHeaderLayout(l, l.name), [], l.name);
});

test('an unknown layout is a usage error listing the known ones', () => {
  assert.throws(() => getLayout('mcuboot2'), fwError('HEADER_LAYOUT_UNKNOWN', 2, (e) => assert.match(e.message, /known: dfukit-ab-v1, mcuboot, simple-crc/)));
  assert.equal(getLayout('MCUBOOT').name, 'mcuboot');
});

const BASE = readFileSync(join(DIR, 'simple-crc.yaml'), 'utf8');

function compileText(text: string): string[] {
  return compileLayoutSources([{ file: 'schemas/headers/simple-crc.yaml', text }]).errors.map((e) => `${e.code} ${e.location.line}: ${e.message}`);
}

test('compile errors name the check and the YAML line', () => {
  // A field moved onto another.
  const overlap = BASE.replace('default: 4\n    max: 0xFFFF\n    description: offset of the size', 'default: 2\n    max: 0xFFFF\n    description: offset of the size');
  const e1 = compileText(overlap);
  assert.equal(e1.length, 1, e1.join('\n'));
  assert.match(e1[0]!, /^HEADER_LAYOUT_OVERLAP \d+: fields\.1\.offset: field 'size' overlaps field 'magic'/);
  // A reference to an option that does not exist.
  const e2 = compileText(BASE.replace('variantOption: crc }', 'variantOption: crc-kind }'));
  assert.ok(e2.some((x) => /^HEADER_LAYOUT_REFERENCE \d+: fields\.2\.value: option 'crc-kind' is not declared/.test(x)), e2.join('\n'));
  // Schema violations: unknown key, bad type.
  const bad = BASE.replace('    type: u32\n    value: { option: magic }', '    type: u24\n    value: { option: magic }');
  const line = bad.split('\n').findIndex((l) => l.includes('type: u24')) + 1;
  const e3 = compileText(bad);
  assert.ok(e3.some((x) => x.startsWith(`HEADER_LAYOUT_SCHEMA ${line}: fields.0.type`)), e3.join('\n'));
  // File name must match the layout name.
  const e4 = compileLayoutSources([{ file: 'schemas/headers/other.yaml', text: BASE }]).errors.map((e) => e.code);
  assert.deepEqual(e4, ['HEADER_LAYOUT_FILE_NAME']);
});
