import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { convert } from '../../src/convert/convert.ts';
import { runConversion } from '../../src/convert/pipeline.ts';
import { ConvertReportSchema } from '../../src/convert/report-schema.ts';
import { encodeDfu } from '../../src/formats/dfu-suffix.ts';
import { decodeDfuse } from '../../src/formats/dfuse-file.ts';
import { decodeIhex } from '../../src/formats/ihex.ts';
import { resolveChip } from '../../src/layout/chips.ts';
import { fixturePath } from '../helpers/corpus.ts';
import { dfuseOf, filler, hexOf, image, layout } from './helpers.ts';

const elf = (name: string): Uint8Array => new Uint8Array(readFileSync(fixturePath('elf', name)));
type E = { code: string; exitStatus: number; message: string; location: { file?: string } };

test('no inputs is a usage error', () => {
  assert.throws(() => convert([]), (e: E) => e.code === 'CONVERT_NO_INPUTS' && e.exitStatus === 2);
});

test('overlapping inputs are an error naming both inputs (exit 3)', () => {
  const inputs = [
    { name: 'a.hex', bytes: hexOf([0x08000000, 32]) },
    { name: 'b.bin', bytes: filler(8), address: 0x08000010 },
  ];
  assert.throws(() => convert(inputs), (e: E) => {
    assert.equal(e.code, 'CONVERT_OVERLAP');
    assert.equal(e.exitStatus, 3);
    assert.match(e.message, /alt 0: b\.bin 0x08000010\.\.0x08000018 overlaps a\.hex lines? [0-9-]+ 0x08000000\.\.0x08000020 at 0x08000010\.\.0x08000018 \(--overwrite lets later inputs win\)/);
    return true;
  });
});

test('--overwrite: later inputs win, and each replaced range is reported', () => {
  const o = runConversion({
    inputs: [
      { name: 'a.hex', bytes: hexOf([0x08000000, 32]) },
      { name: 'b.bin', bytes: new Uint8Array(8), address: 0x08000010 },
    ],
    options: { overwrite: true },
    outputs: [{ path: 'o.dfu', format: 'dfu' }],
  });
  assert.deepEqual(o.report.overwrites.map((x) => [x.start, x.end, x.by]), [[0x08000010, 0x08000018, 'b.bin']]);
  assert.match(o.report.overwrites[0]!.previous, /^a\.hex/);
  assert.ok(o.result.targets[0]!.image.read(0x08000010, 8).every((b) => b === 0));
});

test('the CM7 and CM4 ELF files of an H745 give one target with one element per core', () => {
  const r = convert(
    [
      { name: 'cm7.elf', bytes: elf('h745_cm7.elf') },
      { name: 'cm4.elf', bytes: elf('h745_cm4.elf') },
    ],
    { chip: resolveChip('stm32h745') },
  );
  assert.equal(r.targets.length, 1);
  assert.equal(r.targets[0]!.name, 'ST...');
  assert.deepEqual(layout(r.targets[0]!.image), ['8000000+24100', '8100000+28100']);
  assert.deepEqual(r.targets[0]!.contributions.map((c) => c.input), ['cm7.elf', 'cm4.elf']);
  assert.equal(r.entry, undefined, 'two cores, two entry points: none for HEX');
  assert.ok(r.notes.some((n) => n.code === 'CONVERT_SEVERAL_ENTRIES'));
});

test('--alt puts an input into its own target, which is not aligned (option bytes, OTP, external memory)', () => {
  const r = convert(
    [
      { name: 'app.hex', bytes: hexOf([0x08000000, 5]) },
      { name: 'ob.bin', bytes: filler(5), address: 0x5200201c, alt: 1 },
    ],
    { chip: resolveChip('stm32h743'), targetNames: new Map([[1, 'Option Bytes']]) },
  );
  assert.deepEqual(r.targets.map((t) => [t.alt, t.name, t.kind, t.aligned, layout(t.image)]), [
    [0, 'ST...', 'internal-flash', true, ['8000000+20']],
    [1, 'Option Bytes', 'other', false, ['5200201c+5']],
  ]);
});

test('without a chip, only alt 0 is internal flash', () => {
  const r = convert([{ name: 'x.bin', bytes: filler(5), address: 0x08000000, alt: 2 }]);
  assert.deepEqual([r.targets[0]!.kind, layout(r.targets[0]!.image)], ['other', ['8000000+5']]);
});

test('a .dfu input keeps its targets, alts, names (or namelessness), elements and suffix IDs', () => {
  const bytes = dfuseOf(
    [
      { alt: 0, name: 'Internal Flash', image: image([0x08000000, 5], [0x08000005, 3]) },
      { alt: 1, named: false, image: image([0x1fff0000, 3]) },
    ],
    { vid: 0x1209, pid: 0xdb42, bcdDevice: 0x0102 },
  );
  const o = runConversion({ inputs: [{ name: 'in.dfu', bytes }], options: {}, outputs: [{ path: 'out.dfu', format: 'dfu' }] });
  assert.ok(Buffer.from(o.outputs[0]!.encoded.bytes).equals(Buffer.from(bytes)), 'byte-identical re-encode');
  assert.equal(o.report.alignment.from, 'none');
  assert.deepEqual(o.report.suffix, { vid: 0x1209, pid: 0xdb42, bcdDevice: 0x0102, from: 'input' });
  assert.deepEqual(o.report.targets.map((t) => [t.alt, t.name, t.elements.length]), [[0, 'Internal Flash', 2], [1, undefined, 1]]);
});

test('a .dfu with a chip is aligned and merged like any input; --vid/--pid override its IDs', () => {
  const bytes = dfuseOf([{ alt: 0, image: image([0x08000000, 5], [0x08000005, 3], [0x08000100, 1]) }]);
  const o = runConversion({
    inputs: [{ name: 'in.dfu', bytes }],
    options: { chip: resolveChip('stm32h743'), suffix: { vid: 0xffff, pid: 0xffff } },
    outputs: [{ path: 'out.dfu', format: 'dfu' }],
  });
  const d = decodeDfuse(o.outputs[0]!.encoded.bytes);
  assert.deepEqual(layout(d.targets[0]!.image), ['8000000+120']);
  assert.deepEqual([d.dfuse.suffix.idVendor, d.dfuse.suffix.idProduct, d.dfuse.suffix.bcdDevice], [0xffff, 0xffff, 0xffff]);
  assert.equal(o.report.suffix.from, 'options');
});

test('DfuSe inputs with different IDs: the defaults apply, and the disagreement is reported', () => {
  const a = dfuseOf([{ alt: 0, image: image([0x08000000, 8]) }], { vid: 1, pid: 2, bcdDevice: 3 });
  const b = dfuseOf([{ alt: 0, image: image([0x08001000, 8]) }], { vid: 4, pid: 5, bcdDevice: 6 });
  const r = convert([{ name: 'a.dfu', bytes: a }, { name: 'b.dfu', bytes: b }]);
  assert.deepEqual(r.suffix, { vid: 0x0483, pid: 0xdf11, bcdDevice: 0xffff, from: 'default' });
  assert.match(r.notes.find((n) => n.code === 'CONVERT_SUFFIX_DISAGREE')!.message, /a\.dfu 0001:0002 bcdDevice 0x0003, b\.dfu 0004:0005 bcdDevice 0x0006/);
  assert.deepEqual(layout(r.targets[0]!.image), ['8000000+8', '8001000+8'], 'one target for both files');
});

test('inputs that cannot be placed are usage errors naming the file', () => {
  const cases: [Parameters<typeof convert>[0], string, RegExp][] = [
    [[{ name: 'raw.bin', bytes: filler(4) }], 'BIN_NO_ADDRESS', /give one, e\.g\. raw\.bin@0x08000000/],
    [[{ name: 'a.hex', bytes: hexOf([0x08000000, 4]), address: 0x08000000 }], 'CONVERT_ADDRESS_NOT_APPLICABLE', /a\.hex@ADDR: a load address applies to raw binaries only; this is Intel HEX/],
    [[{ name: 'p.dfu', bytes: encodeDfu(filler(4), { vid: 0x483, pid: 0xdf11, bcdDevice: 0 }) }], 'CONVERT_NO_ADDRESS', /plain DFU file .* give one, e\.g\. p\.dfu@0x08000000/],
    [[{ name: 'x.dfu', bytes: dfuseOf([{ alt: 0, image: image([0x08000000, 4]) }]), alt: 1 }], 'CONVERT_ALT_DFUSE', /--alt 1:x\.dfu: a DfuSe file's targets carry their own alt settings \(0\)/],
  ];
  for (const [inputs, code, msg] of cases) {
    assert.throws(() => convert(inputs), (e: E) => {
      assert.equal(e.code, code);
      assert.equal(e.exitStatus, 2);
      assert.match(e.message, msg);
      assert.equal(e.location.file, inputs[0]!.name);
      return true;
    });
  }
});

test('decode errors keep the input file in their location (exit 3)', () => {
  const bad = new TextEncoder().encode(':0400000001020304F0\n:00000001FF\n');
  assert.throws(() => convert([{ name: 'bad.hex', bytes: bad }]), (e: E) => e.exitStatus === 3 && e.location.file === 'bad.hex');
});

test('a plain DFU payload with an address is placed there', () => {
  const r = convert([{ name: 'p.dfu', bytes: encodeDfu(filler(4), { vid: 0x483, pid: 0xdf11, bcdDevice: 0 }), address: 0x08000000 }]);
  assert.deepEqual(layout(r.targets[0]!.image), ['8000000+8']);
});

test('HEX output carries the entry point the inputs agree on', () => {
  const o = runConversion({ inputs: [{ name: 'f722.elf', bytes: elf('f722.elf') }], options: {}, outputs: [{ path: 'o.hex', format: 'hex' }] });
  assert.equal(decodeIhex(o.outputs[0]!.encoded.bytes).entry, 0x08000045);
});

test('--target-name names the flash target; a DfuSe input name is kept otherwise', () => {
  const r = convert([{ name: 'a.hex', bytes: hexOf([0x08000000, 8]) }], { targetNames: new Map([[0, 'Internal Flash']]) });
  assert.equal(r.targets[0]!.name, 'Internal Flash');
});

test('the report matches its schema; its pads and merges account for every added byte; it is deterministic', () => {
  const run = () =>
    runConversion({
      inputs: [{ name: 'f722.elf', bytes: elf('f722.elf') }, { name: 'extra.bin', bytes: filler(3), address: 0x08000801 }],
      options: { chip: resolveChip('stm32f722') },
      outputs: [{ path: 'o.dfu', format: 'dfu' }, { path: 'o.hex', format: 'hex' }],
    });
  const o = run();
  ConvertReportSchema.parse(o.report);
  const data = o.report.inputs.reduce((n, i) => n + i.size, 0);
  const total = o.report.targets.reduce((n, t) => n + t.size, 0);
  const added = o.report.pads.reduce((n, p) => n + p.size, 0) + o.report.merges.reduce((n, m) => n + m.size, 0);
  assert.equal(total, data + added);
  assert.deepEqual(o.report.merges.map((m) => m.sector), ['bank 1 sector 0', 'bank 1 sector 0', 'bank 1 sector 0']);
  assert.deepEqual(o.report.targets[0]!.elements.map((e) => e.inputs), [['f722.elf', 'extra.bin'], ['f722.elf']]);
  assert.equal(JSON.stringify(run().report), JSON.stringify(o.report));
  assert.ok(Buffer.from(run().outputs[0]!.encoded.bytes).equals(Buffer.from(o.outputs[0]!.encoded.bytes)));
});

test('chip warnings (a part/flash-size combination ST does not sell) reach the notes', () => {
  const r = convert([{ name: 'a.hex', bytes: hexOf([0x08000000, 8]) }], { chip: resolveChip('stm32h755xg') });
  assert.ok(r.notes.some((n) => n.code === 'CHIP_WARNING' && /does not sell/.test(n.message)));
});

test('a target name for an alt no input goes to is a usage error; an input without data is bad input', () => {
  assert.throws(() => convert([{ name: 'a.hex', bytes: hexOf([0x08000000, 8]) }], { targetNames: new Map([[2, 'OTP']]) }), (e: E) =>
    e.code === 'CONVERT_TARGET_NAME' && e.exitStatus === 2 && /given for alt 2, but no input goes to alt 2/.test(e.message));
  const empty = new TextEncoder().encode(':00000001FF\n');
  assert.throws(() => convert([{ name: 'empty.hex', bytes: empty }]), (e: E) =>
    e.code === 'CONVERT_NO_DATA' && e.exitStatus === 3 && /alt 0: empty\.hex holds no data/.test(e.message));
});

test('the bank mode decides the sectors, and so the merges (STM32F767: 32 KiB sectors single-bank, 16 KiB dual-bank)', () => {
  const inputs = [{ name: 'a.hex', bytes: hexOf([0x08000000, 8], [0x08004000, 8]) }];
  const single = convert(inputs, { chip: resolveChip('stm32f767zi', { bankMode: 'single' }) });
  const dual = convert(inputs, { chip: resolveChip('stm32f767zi', { bankMode: 'dual' }) });
  assert.deepEqual(layout(single.targets[0]!.image), ['8000000+4008']);
  assert.deepEqual(layout(dual.targets[0]!.image), ['8000000+8', '8004000+8']);
});
