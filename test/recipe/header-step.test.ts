/**
 * Recipe header steps: the `slots` map, `inputs[].header` (slot by name or inline, runSlot / staging, version
 * and layout options), the header put on the input's image before assembly and alignment, the report and the
 * manifest; errors at the recipe line that caused them. The golden case h745-ab-headers is checked with the
 * header engine's own verify.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FwError } from '../../src/core/errors.ts';
import { buildManifest } from '../../src/convert/manifest.ts';
import { ManifestSchema } from '../../src/convert/manifest-schema.ts';
import { runConversion } from '../../src/convert/pipeline.ts';
import { ConvertReportSchema } from '../../src/convert/report-schema.ts';
import { decodeDfuse, encodeDfuse } from '../../src/formats/dfuse-file.ts';
import { verifyHeader } from '../../src/header/verify.ts';
import { parseRecipe } from '../../src/recipe/parse.ts';
import { recipeRequest } from '../../src/recipe/request.ts';
import { MemoryImage } from '../../src/image/memory-image.ts';
import { dfukit } from '../helpers/cli.ts';
import { ROOT } from '../helpers/corpus.ts';

type E = { code: string; exitStatus: number; message: string; location: { file?: string; line?: number } };

/** A raw binary linked at `addr`: SP 0x24080000, reset handler 0x41 bytes in (Thumb), then filler. */
function app(addr: number, size = 3000, seed = 5): Uint8Array {
  const b = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  const dv = new DataView(b.buffer);
  dv.setUint32(0, 0x24080000, true);
  dv.setUint32(4, (addr + 0x41) >>> 0, true);
  return b;
}

function build(text: string, files: Record<string, Uint8Array>) {
  const recipe = parseRecipe(text, 'fw/recipe.yaml');
  const req = recipeRequest(recipe, (p) => {
    const b = files[p];
    if (b === undefined) throw new FwError('FILE_READ', 'cannot read the file: no such file', { file: p });
    return b;
  });
  return { recipe, req, outcome: () => runConversion(req) };
}

function fails(fn: () => unknown, code: string, line: number, msg: RegExp): void {
  assert.throws(fn, (e: E) => {
    assert.equal(e.code, code, e.message);
    assert.equal(e.exitStatus, 3, e.message);
    assert.equal(e.location.file, 'fw/recipe.yaml');
    assert.equal(e.location.line, line, `line of: ${e.message}`);
    assert.match(e.message, msg);
    return true;
  });
}

const SLOTS = `slots:
  A: 0x08020000+0x20000
  B: { address: 0x08040000, size: 128K }
`;

test('the slot map: "ADDRESS+SIZE" or { address, size }, in order; header slots by name or inline', () => {
  const r = parseRecipe(
    `recipe: 1
${SLOTS}inputs:
  - path: a.bin
    address: 0x08020400
    header: { layout: dfukit-ab-v1, slot: A, version: "1.2.3+4", options: { crc: stm32 }, headerSize: 0x400, programUnit: 32 }
  - path: b.bin
    address: 0x08060400
    header: { layout: dfukit-ab-v1, slot: "0x08060000+64K" }
  - path: c.bin
    address: 0x08020400
    header: { layout: dfukit-ab-v1, slot: B, runSlot: A }
  - path: d.bin
    address: 0x08020400
    header: { layout: dfukit-ab-v1, slot: { address: 0x08040000, size: 0x20000 }, staging: true, padHeader: true }
outputs: [{ path: fw.dfu }]
`,
    'recipe.yaml',
  );
  assert.deepEqual(r.slots, [
    { name: 'A', start: 0x08020000, size: 0x20000 },
    { name: 'B', start: 0x08040000, size: 0x20000 },
  ]);
  const [a, b, c, d] = r.inputs.map((i) => i.header!);
  assert.deepEqual(a, { layout: 'dfukit-ab-v1', slot: r.slots[0], version: '1.2.3+4', options: { crc: 'stm32' }, headerSize: 0x400, programUnit: 32 });
  assert.deepEqual(b!.slot, { name: 'slot', start: 0x08060000, size: 0x10000 });
  assert.deepEqual([c!.slot.name, c!.runSlot?.name], ['B', 'A']);
  assert.deepEqual([d!.slot, d!.staging, d!.padHeader], [{ name: 'slot', start: 0x08040000, size: 0x20000 }, true, true]);
});

test('slot and header mistakes are reported at their recipe line', () => {
  const p = (t: string) => () => parseRecipe(t, 'fw/recipe.yaml');
  const head = (h: string, slots = SLOTS) => `recipe: 1\n${slots}inputs:\n  - path: a.bin\n    address: 0x08020400\n    header: ${h}\noutputs: [{ path: fw.dfu }]\n`;
  fails(p(head('{ layout: dfukit-ab-v1, slot: C }')), 'RECIPE_VALUE', 8, /inputs\[0\]\.header\.slot: no slot named 'C' \(the slots are A, B\)/);
  fails(p(head('{ layout: dfukit-ab-v1, slot: A }', '')), 'RECIPE_VALUE', 5, /no slot named 'A' \(the recipe has no `slots` map\)/);
  fails(p(head('{ layout: dfukit-ab-v1, slot: "0x08020000" }')), 'RECIPE_INVALID', 8, /expected the name of a slot in `slots`, or a slot: "ADDRESS\+SIZE"/);
  fails(p(head('{ layout: dfukit-ab-v1, slot: A, version: 1.2 }')), 'RECIPE_INVALID', 8, /quote it: YAML reads 1\.2 as a number/);
  fails(p(head('{ layout: dfukit-ab-v1, slot: A, version: "1.0", options: { version: "2.0" } }')), 'RECIPE_VALUE', 8, /the version is given twice/);
  fails(p(head('{ layout: dfukit-ab-v1, slot: B, runSlot: A, staging: true }')), 'RECIPE_VALUE', 8, /give runSlot or staging, not both/);
  fails(p(head('{ layout: dfukit-ab-v1, slot: A, sloth: 1 }')), 'RECIPE_INVALID', 8, /unknown key 'sloth'/);
  fails(p(head('{ layout: dfukit-ab-v1, slot: A }', 'slots:\n  A: 0x08020000+0x20000\n  B: 0x08030000+0x20000\n')), 'RECIPE_VALUE', 4, /slots\.B overlaps slots\.A/);
  fails(p(head('{ layout: dfukit-ab-v1, slot: A }', 'slots:\n  A: 0xFFFF0000+0x20000\n')), 'RECIPE_VALUE', 3, /not a slot inside the 32-bit address space/);
  fails(p(head('{ layout: dfukit-ab-v1, slot: A }', 'slots:\n  9a: 0x08020000+0x20000\n')), 'RECIPE_INVALID', 3, /slots: '9a': a slot name starts with a letter/);
});

test('layout and options are checked before any input is read, at the line of the key at fault', () => {
  const req = (h: string) => () =>
    build(`recipe: 1\n${SLOTS}inputs:\n  - path: a.bin\n    address: 0x08020400\n    header:\n      layout: ${h}\noutputs: [{ path: fw.dfu }]\n`, {});
  fails(req('dfukit-ab-v2\n      slot: A'), 'HEADER_LAYOUT_UNKNOWN', 9, /^inputs\[0\]\.header\.layout: unknown header layout 'dfukit-ab-v2'/);
  fails(req('dfukit-ab-v1\n      slot: A\n      options:\n        crc: crc16'), 'HEADER_OPTION', 12, /option crc: 'crc16' is not allowed/);
  fails(req('dfukit-ab-v1\n      slot: A\n      options:\n        frobs: 1'), 'HEADER_OPTION', 12, /has no option 'frobs'/);
  fails(req('dfukit-ab-v1\n      slot: A\n      version: "1.02"'), 'HEADER_VERSION', 11, /version '1\.02' is not MAJ\.MIN\.REV\+BUILD/);
});

test('a header step puts the header on its input before alignment: report, manifest, and a valid header', () => {
  const { outcome } = build(
    `recipe: 1
chip: stm32h745
${SLOTS}inputs:
  - path: boot.bin
    address: 0x08000000
  - path: app.bin
    address: 0x08020400
    header: { layout: dfukit-ab-v1, slot: A, version: "2.1.0+99", options: { crc: stm32, core: cm7 } }
outputs: [{ path: fw.dfu }]
manifest: fw.json
`,
    { 'boot.bin': app(0x08000000, 100, 1), 'app.bin': app(0x08020400, 3001) },
  );
  const o = outcome();
  const report = ConvertReportSchema.parse(o.report);
  assert.equal(report.headers?.length, 1);
  const h = report.headers![0]!;
  assert.deepEqual(
    [h.input, h.layout, h.slot.name, h.headerStart, h.headerSize, h.headerSpace, h.payloadStart, h.payloadSize, h.loadAddress],
    ['app.bin', 'dfukit-ab-v1', 'A', 0x08020000, 0x400, 'added', 0x08020400, 3001, 0x08020400],
  );
  assert.equal(h.options.version, '2.1.0+99');
  assert.equal(h.fields.find((f) => f.name === 'payload_size')?.value, 3001);
  // The input now starts at the slot; the header and payload form one element, padded to the 32-byte unit.
  assert.deepEqual(report.inputs[1]!.targets[0]!.ranges, [{ start: 0x08020000, end: 0x08020400 + 3001 }]);
  const elements = report.targets[0]!.elements.map((e) => [e.address, e.size, e.inputs]);
  assert.deepEqual(elements, [
    [0x08000000, 128, ['boot.bin']],
    [0x08020000, 0x400 + 3008, ['app.bin']],
  ]);
  const image = o.result.targets[0]!.image;
  const v = verifyHeader(image, { layout: 'dfukit-ab-v1', slot: { name: 'A', start: 0x08020000, size: 0x20000 }, options: { version: '2.1.0+99' } });
  assert.ok(v.ok, v.reason?.message);
  // The manifest lists the header with the input path relative to the manifest, every field by name.
  const m = ManifestSchema.parse(buildManifest(o.report, [new Uint8Array(100), new Uint8Array(3001)], { inputs: ['../boot.bin', '../app.bin'], outputs: ['fw.dfu'] }));
  assert.equal(m.headers?.[0]?.input, '../app.bin');
  assert.equal(m.headers?.[0]?.fields.version_build, 99);
  assert.equal(m.headers?.[0]?.fields.flags, 0x002);
});

test('without header steps, report and manifest have no `headers` key (earlier manifests stay byte-identical)', () => {
  const { outcome } = build('recipe: 1\ninputs: [{ path: a.bin, address: 0x08000000 }]\noutputs: [{ path: fw.dfu }]\n', { 'a.bin': app(0x08000000, 64) });
  const o = outcome();
  assert.equal('headers' in o.report, false);
  assert.equal('headers' in buildManifest(o.report, [new Uint8Array(64)], { inputs: ['a.bin'], outputs: ['fw.dfu'] }), false);
});

for (const how of ['runSlot: A', 'staging: true']) {
  test(`staging copy (${how}): linked for slot A, stored in slot B, load address in slot A`, () => {
    const { outcome } = build(
      `recipe: 1\n${SLOTS}inputs:\n  - path: app.bin\n    address: 0x08020400\n    header: { layout: dfukit-ab-v1, slot: B, ${how}, version: "1.0.0" }\noutputs: [{ path: fw.dfu }]\n`,
      { 'app.bin': app(0x08020400, 2000) },
    );
    const o = outcome();
    const h = o.report.headers![0]!;
    assert.deepEqual([h.slot.name, h.runSlot.name, h.headerStart, h.payloadStart, h.loadAddress], ['B', 'A', 0x08040000, 0x08040400, 0x08020400]);
    const image = o.result.targets[0]!.image;
    assert.equal(image.start, 0x08040000, 'nothing left in slot A');
    const slots = [
      { name: 'A', start: 0x08020000, size: 0x20000 },
      { name: 'B', start: 0x08040000, size: 0x20000 },
    ];
    const v = verifyHeader(image, { layout: 'dfukit-ab-v1', slot: slots[1]!, slots });
    assert.ok(v.ok, v.reason?.message);
  });
}

test('staging: the image must lie in a slot of the map other than the one it is stored in', () => {
  const { outcome } = build(
    `recipe: 1\n${SLOTS}inputs:\n  - path: app.bin\n    address: 0x08040400\n    header: { layout: dfukit-ab-v1, slot: B, staging: true }\noutputs: [{ path: fw.dfu }]\n`,
    { 'app.bin': app(0x08040400, 2000) },
  );
  fails(outcome, 'HEADER_SLOT_UNKNOWN', 8, /^inputs\[0\]\.header \(dfukit-ab-v1, slot B\): staging: the image is linked for slot B/);
});

test('an image that leaves no room for the header: HEADER_NO_ROOM at the slot line, exit 3', () => {
  const { outcome } = build(
    `recipe: 1\n${SLOTS}inputs:\n  - path: app.bin\n    address: 0x08020000\n    header:\n      layout: dfukit-ab-v1\n      slot: A\noutputs: [{ path: fw.dfu }]\n`,
    { 'app.bin': app(0x08020000, 2000) },
  );
  fails(outcome, 'HEADER_NO_ROOM', 10, /^inputs\[0\]\.header \(dfukit-ab-v1, slot A\): no room for the 1024-byte/);
});

test('the header fills space the image reserved (0xFF before the vector table)', () => {
  const bytes = new Uint8Array(0x400 + 1500).fill(0xff);
  bytes.set(app(0x08020400, 1500), 0x400);
  const { outcome } = build(`recipe: 1\n${SLOTS}inputs:\n  - path: app.bin\n    address: 0x08020000\n    header: { layout: dfukit-ab-v1, slot: A }\noutputs: [{ path: fw.dfu }]\n`, { 'app.bin': bytes });
  const h = outcome().report.headers![0]!;
  assert.deepEqual([h.headerSpace, h.headerStart, h.payloadSize], ['reserved', 0x08020000, 1500]);
});

test('a DfuSe input with two targets cannot take a header step', () => {
  const m = new MemoryImage();
  m.add(0x08020400, app(0x08020400, 100));
  const ob = new MemoryImage();
  ob.add(0x5200201c, new Uint8Array(8));
  const dfu = encodeDfuse([{ alt: 0, image: m }, { alt: 1, image: ob }], { vid: 0x0483, pid: 0xdf11, bcdDevice: 0xffff });
  const { outcome } = build(`recipe: 1\n${SLOTS}inputs:\n  - path: two.dfu\n    header: { layout: dfukit-ab-v1, slot: A }\noutputs: [{ path: fw.dfu }]\n`, { 'two.dfu': dfu });
  assert.throws(outcome, (e: E) => e.code === 'CONVERT_STEP_TARGETS' && /holds 2 targets \(alt 0, alt 1\)/.test(e.message));
});

test('golden h745-ab-headers: both headers verify in expected.dfu, for their slots and against the slot map', () => {
  const dfu = decodeDfuse(new Uint8Array(readFileSync(join(ROOT, 'golden-images', 'h745-ab-headers', 'expected.dfu'))));
  const image = dfu.targets[0]!.image;
  const slots = [
    { name: 'cm7-a', start: 0x08020000, size: 0x60000 },
    { name: 'cm7-b', start: 0x08080000, size: 0x60000 },
    { name: 'cm4-a', start: 0x08120000, size: 0x60000 },
    { name: 'cm4-b', start: 0x08180000, size: 0x60000 },
  ];
  for (const [slot, core, crc] of [
    [slots[0]!, 'cm7', 'iso-hdlc'],
    [slots[2]!, 'cm4', 'stm32'],
  ] as const) {
    const v = verifyHeader(image, { layout: 'dfukit-ab-v1', slot, slots, options: { version: '1.4.0+17', core, crc } });
    assert.ok(v.ok, `${slot.name}: ${v.reason?.message}`);
  }
  assert.deepEqual(
    dfu.dfuse.targets[0]!.elements.map((e) => [e.address, e.size]),
    [
      [0x08020000, 0x2500],
      [0x08120000, 0x1500],
    ],
  );
});

test('dfukit build (compiled CLI) of the golden recipe in another folder: same bytes, headers in the report', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dfukit-ab-'));
  const golden = join(ROOT, 'golden-images', 'h745-ab-headers');
  for (const f of ['recipe.yaml', 'cm7-slot-a.elf', 'cm4-slot-a.elf']) copyFileSync(join(golden, f), join(dir, f));
  const human = dfukit(['build', join(dir, 'recipe.yaml')]);
  assert.equal(human.status, 0, human.stderr);
  assert.match(human.stdout, /header dfukit-ab-v1 on cm7-slot-a\.elf: slot cm7-a 0x08020000\.\.0x08080000/);
  assert.match(human.stdout, /in space the image reserved/);
  assert.ok(readFileSync(join(dir, 'expected.dfu')).equals(readFileSync(join(golden, 'expected.dfu'))));
  assert.ok(readFileSync(join(dir, 'expected.manifest.json')).equals(readFileSync(join(golden, 'expected.manifest.json'))));
  const json = dfukit(['build', '--json', join(dir, 'recipe.yaml')]);
  assert.equal(json.status, 0, json.stderr);
  const report = ConvertReportSchema.parse(JSON.parse(json.stdout));
  assert.deepEqual(report.headers?.map((h) => [h.input, h.slot.name, h.headerSpace]), [
    ['cm7-slot-a.elf', 'cm7-a', 'added'],
    ['cm4-slot-a.elf', 'cm4-a', 'reserved'],
  ]);
});
