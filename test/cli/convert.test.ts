/**
 * `dfukit convert` and `dfukit build` end to end, `main()` run in a child process through tsx: exit
 * codes (0 ok, 2 usage, 3 bad input), files written atomically and never over an input, --json against the
 * published schema, the manifest, and the --help promises (default flash window, dfu-util's VID/PID rule).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ManifestSchema } from '../../src/convert/manifest-schema.ts';
import { ConvertReportSchema } from '../../src/convert/report-schema.ts';
import { decodeDfuse } from '../../src/formats/dfuse-file.ts';
import { ROOT, fixturePath } from '../helpers/corpus.ts';

const dir = mkdtempSync(join(tmpdir(), 'dfukit-cli-convert-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const CM7 = fixturePath('elf', 'h745_cm7.elf');
const CM4 = fixturePath('elf', 'h745_cm4.elf');
const F722 = fixturePath('elf', 'f722.elf');

const TSX = import.meta.resolve('tsx');
const MAIN = new URL('../../src/cli/main.ts', import.meta.url).href;

/** Runs `dfukit ARGS` in a child process (the test runner owns this process's stdout), through tsx. */
function cli(args: string[], cwd = dir): Promise<{ code: number; out: string; err: string }> {
  const script = `import { main } from ${JSON.stringify(MAIN)}; process.exitCode = await main(process.argv.slice(1));`;
  return new Promise((done, fail) => {
    execFile(process.execPath, ['--import', TSX, '--input-type=module', '-e', script, ...args], { cwd, maxBuffer: 64 << 20 }, (e, out, err) => {
      const code = e === null ? 0 : typeof e.code === 'number' ? e.code : -1;
      if (code === -1) fail(e);
      else done({ code, out, err });
    });
  });
}

function noTempFiles(d: string): void {
  assert.deepEqual(readdirSync(d).filter((f) => f.endsWith('.tmp')), [], 'no temporary files left');
}

test('convert --chip stm32h745 cm7.elf cm4.elf: one target, two elements, report lists the pads', async () => {
  const r = await cli(['convert', '--chip', 'stm32h745', CM7, CM4, '-o', 'fw.dfu']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^wrote fw\.dfu: DfuSe, 312125 \(0x4C33D\) bytes, sha256 [0-9a-f]{64}\n/);
  assert.match(r.out, /program unit 32 bytes \(from the chip\), pad 0xFF, erased value 0xFF, merge within erase sectors/);
  assert.match(r.out, /0x080240E8\.\.0x08024100\s+24 \(0x18\) bytes\s+of 0xFF\s+align-end/);
  assert.ok(!r.out.split(/\s+/).some((w) => w.startsWith(ROOT)), 'no absolute paths: inputs given as absolute paths are shown relative');
  assert.match(r.out, /\.\.\/[^\s]*test\/fixtures\/elf\/h745_cm7\.elf/);
  const d = decodeDfuse(new Uint8Array(readFileSync(join(dir, 'fw.dfu'))));
  assert.deepEqual(d.dfuse.targets[0]!.elements.map((e) => [e.address, e.size]), [[0x08000000, 0x24100], [0x08100000, 0x28100]]);
  assert.ok(readFileSync(join(dir, 'fw.dfu')).equals(readFileSync(join(ROOT, 'golden-images', 'h745-dual-elf', 'expected.dfu'))), 'same bytes as the golden build');
  noTempFiles(dir);
});

test('--json prints a report that matches schemas/convert-report.schema.json; --manifest writes relative paths', async () => {
  mkdirSync(join(dir, 'out'), { recursive: true });
  writeFileSync(join(dir, 'extra.bin'), new Uint8Array([1, 2, 3]));
  const r = await cli(['convert', F722, 'extra.bin@0x08000801', '--chip', 'stm32f722', '-o', 'out/f.hex', '--manifest', 'out/f.json', '--json']);
  assert.equal(r.code, 0, r.err);
  const report = ConvertReportSchema.parse(JSON.parse(r.out));
  assert.equal(report.outputs[0]!.path, 'out/f.hex');
  assert.equal(report.manifest, 'out/f.json');
  assert.deepEqual(report.inputs.map((i) => i.format), ['elf', 'bin']);
  assert.ok(report.merges.length > 0);
  const m = ManifestSchema.parse(JSON.parse(readFileSync(join(dir, 'out', 'f.json'), 'utf8')));
  assert.equal(m.outputs[0]!.path, 'f.hex', 'relative to the manifest folder');
  assert.equal(m.inputs[1]!.path, '../extra.bin');
  assert.ok(!m.inputs[0]!.path.startsWith('/'));
  assert.equal(m.outputs[0]!.sha256, report.outputs[0]!.sha256);
  noTempFiles(join(dir, 'out'));
});

test('usage errors exit 2', async () => {
  const cases = [
    [['convert', CM7], /required option '-o, --output <file>'/],
    [['convert', CM7, '-o', 'x.dfu', '--align', 'abc'], /expected a size/],
    [['convert', CM7, '-o', 'x.dfu', '--align', '24'], /CONVERT_ALIGN/],
    [['convert', CM7, '-o', 'x.dfu', '--fill', '0x100'], /expected a byte value/],
    [['convert', CM7, '-o', 'x.dfu', '--vid', '0x10000'], /expected a 16-bit value/],
    [['convert', CM7, '-o', 'x.dfu', '--chip', 'stm32q999'], /unknown chip 'stm32q999'.*\[CHIP_UNKNOWN\]/],
    [['convert', CM7, '-o', 'x.img'], /cannot tell the output format .*\[CONVERT_OUTPUT_FORMAT\]/],
    [['convert', CM7, '-o', 'x.dfu', '--alt', 'one:x.bin'], /expected ALT:FILE/],
    [['convert', CM7, '-o', 'x.dfu', '--lenient', 'typo'], /unknown leniency 'typo'/],
    [['convert', CM7, '-o', 'x.dfu', '--flash-size', '1M'], /--flash-size needs --chip \[USAGE_NEEDS_CHIP\]/],
    [['convert', 'raw.bin', '-o', 'x.dfu'], /give one, e\.g\. raw\.bin@0x08000000 \[BIN_NO_ADDRESS\]/],
  ] as const;
  writeFileSync(join(dir, 'raw.bin'), new Uint8Array(4));
  const results = await Promise.all(cases.map(([args]) => cli([...args])));
  cases.forEach(([args, pattern], i) => {
    assert.equal(results[i]!.code, 2, `${args.join(' ')}: ${results[i]!.err}`);
    assert.match(results[i]!.err, pattern);
  });
  assert.ok(!existsSync(join(dir, 'x.dfu')));
});

test('bad input exits 3: a missing file, overlapping inputs (both named)', async () => {
  const missing = await cli(['convert', 'nope.hex', '-o', 'x.dfu']);
  assert.equal(missing.code, 3);
  assert.match(missing.err, /^dfukit: error: nope\.hex: cannot read the file: no such file \[FILE_READ\]/);
  writeFileSync(join(dir, 'a.bin'), new Uint8Array(16));
  writeFileSync(join(dir, 'b.bin'), new Uint8Array(16));
  const overlap = await cli(['convert', 'a.bin@0x08000000', 'b.bin@0x08000008', '-o', 'x.dfu']);
  assert.equal(overlap.code, 3);
  assert.match(overlap.err, /b\.bin 0x08000008\.\.0x08000018 overlaps a\.bin 0x08000000\.\.0x08000010 .*--overwrite lets later inputs win.*\[CONVERT_OVERLAP\]/);
  const over = await cli(['convert', 'a.bin@0x08000000', 'b.bin@0x08000008', '-o', 'x.dfu', '--overwrite']);
  assert.equal(over.code, 0, over.err);
  assert.match(over.out, /overwrites: 1\n\s+alt 0\s+0x08000008\.\.0x08000010\s+b\.bin over a\.bin/);
});

test('an input is never overwritten; the failure leaves it intact', async () => {
  copyFileSync(F722, join(dir, 'in.elf'));
  const before = readFileSync(join(dir, 'in.elf'));
  const r = await cli(['convert', 'in.elf', '-o', 'in.elf', '--to', 'dfu']);
  assert.equal(r.code, 2);
  assert.match(r.err, /refusing to write in\.elf: it is an input of this command \(inputs are never overwritten\) \[OUTPUT_IS_INPUT\]/);
  assert.ok(readFileSync(join(dir, 'in.elf')).equals(before));
  const m = await cli(['convert', 'in.elf', '-o', 'y.dfu', '--manifest', 'in.elf']);
  assert.equal(m.code, 2);
  assert.ok(!existsSync(join(dir, 'y.dfu')), 'nothing written when one destination is refused');
});

test('--alt: an option-byte target; HEX output then refuses two targets', async () => {
  writeFileSync(join(dir, 'ob.bin'), new Uint8Array([1, 2, 3, 4, 5]));
  const r = await cli(['convert', F722, '--alt', '1:ob.bin@0x1FFF0000', '--chip', 'stm32f722', '--target-name', 'Internal Flash', '--target-name', '1:Option Bytes', '-o', 'two.dfu']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /target 1 alt 1 "Option Bytes" \(not internal flash: left as is\): 1 element, 5 \(0x5\) bytes/);
  const d = decodeDfuse(new Uint8Array(readFileSync(join(dir, 'two.dfu'))));
  assert.deepEqual(d.targets.map((t) => [t.alt, t.name]), [[0, 'Internal Flash'], [1, 'Option Bytes']]);
  const hex = await cli(['convert', F722, '--alt', '1:ob.bin@0x1FFF0000', '-o', 'two.hex']);
  assert.equal(hex.code, 2);
  assert.match(hex.err, /two\.hex: a HEX file holds one address space, but the conversion has 2 targets \(alt 0, alt 1\)/);
});

test('re-encoding a .dfu without --chip/--align keeps its elements and IDs; --vid/--pid/--bcd-device set the suffix', async () => {
  const src = join(ROOT, 'golden-images', 'dfuse-pack-reencode', 'dfuse-pack.dfu');
  const r = await cli(['convert', src, '-o', 're.dfu', '--lenient', 'image-size-includes-suffix']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /elements kept as they are \(re-encode of DfuSe inputs/);
  assert.match(r.out, /suffix 0483:DF11, bcdDevice 0x0000 \(from the \.dfu input\)/);
  const s = await cli(['convert', 're.dfu', '-o', 'ids.dfu', '--vid', '0x1209', '--pid', '0xDB42', '--bcd-device', '0x0100']);
  assert.equal(s.code, 0, s.err);
  const d = decodeDfuse(new Uint8Array(readFileSync(join(dir, 'ids.dfu'))));
  assert.deepEqual([d.dfuse.suffix.idVendor, d.dfuse.suffix.idProduct, d.dfuse.suffix.bcdDevice], [0x1209, 0xdb42, 0x0100]);
  assert.deepEqual(d.dfuse.targets[0]!.elements.map((e) => e.size), [777, 45]);
});

test('--help documents the default flash window, the alignment rules and dfu-util\'s VID/PID rule', async () => {
  const r = await cli(['convert', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.out, /internal flash is taken to be 0x08000000\.\.0x0FFFFFFF in alt 0/);
  assert.match(r.out, /dfu-util\s+refuses a file whose VID\/PID match neither the device nor\s+the 0xFFFF wildcard/);
  assert.match(r.out, /--merge-gap <bytes>/);
  const b = await cli(['build', '--help']);
  assert.match(b.out, /Paths are\s+relative to the recipe file/);
});

test('build RECIPE: outputs and manifest next to the recipe, --json report; errors name the recipe line', async () => {
  const d = join(dir, 'proj');
  mkdirSync(join(d, 'build'), { recursive: true });
  copyFileSync(CM7, join(d, 'build', 'cm7.elf'));
  copyFileSync(CM4, join(d, 'build', 'cm4.elf'));
  writeFileSync(
    join(d, 'recipe.yaml'),
    'recipe: 1\nchip: stm32h745\ninputs:\n  - path: build/cm7.elf\n  - path: build/cm4.elf\noutputs:\n  - path: out/fw.dfu\n  - path: out/fw.srec\nmanifest: out/fw.json\n',
  );
  mkdirSync(join(d, 'out'));
  const r = await cli(['build', 'proj/recipe.yaml', '--json']);
  assert.equal(r.code, 0, r.err);
  const report = ConvertReportSchema.parse(JSON.parse(r.out));
  assert.equal(report.recipe, 'proj/recipe.yaml');
  assert.deepEqual(report.outputs.map((o) => [o.path, o.format]), [['out/fw.dfu', 'dfu'], ['out/fw.srec', 'srec']]);
  assert.deepEqual(report.inputs.map((i) => i.name), ['build/cm7.elf', 'build/cm4.elf']);
  assert.ok(readFileSync(join(d, 'out', 'fw.dfu')).equals(readFileSync(join(ROOT, 'golden-images', 'h745-dual-elf', 'expected.dfu'))));
  const m = ManifestSchema.parse(JSON.parse(readFileSync(join(d, 'out', 'fw.json'), 'utf8')));
  assert.deepEqual(m.inputs.map((i) => i.path), ['../build/cm7.elf', '../build/cm4.elf']);
  assert.deepEqual(m.outputs.map((o) => o.path), ['fw.dfu', 'fw.srec']);

  writeFileSync(join(d, 'bad.yaml'), 'recipe: 1\ninputs:\n  - path: build/cm7.elf\n    adress: 0x08000000\noutputs: [{ path: x.dfu }]\n');
  const bad = await cli(['build', 'proj/bad.yaml']);
  assert.equal(bad.code, 3);
  assert.match(bad.err, /^dfukit: error: proj\/bad\.yaml, line 4:5: inputs\[0\]: unknown key 'adress' \[RECIPE_INVALID\]/);

  writeFileSync(join(d, 'self.yaml'), 'recipe: 1\ninputs: [{ path: build/cm7.elf }]\noutputs: [{ path: self.yaml, format: hex }]\n');
  const self = await cli(['build', 'proj/self.yaml']);
  assert.equal(self.code, 2);
  assert.match(self.err, /refusing to write proj\/self\.yaml/);
});
