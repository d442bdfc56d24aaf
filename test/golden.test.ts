/**
 * Golden images (DESIGN.md "Tests and evidence"): every golden-images/<case>/recipe.yaml is rebuilt in-process,
 * as `dfukit build` builds it, and each output (and manifest) must equal the committed file byte for byte.
 * On a mismatch the differing byte ranges are printed. Every golden .dfu also decodes and re-encodes to the
 * same bytes, both through the DfuSe codec and through a `dfukit convert in.dfu -o out.dfu` re-encode.
 * Regenerate with `npm run golden:update` (and review the diff).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { planBuild } from '../src/cli/run/build.ts';
import { manifestText } from '../src/cli/run/convert.ts';
import { runConversion } from '../src/convert/pipeline.ts';
import { decodeDfuse, encodeDfuse, reencodeInputs } from '../src/formats/dfuse-file.ts';
import { ManifestSchema } from '../src/convert/manifest-schema.ts';
import { ROOT } from './helpers/corpus.ts';

const GOLDEN = join(ROOT, 'golden-images');
const CASES = readdirSync(GOLDEN, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(GOLDEN, d.name, 'recipe.yaml')))
  .map((d) => d.name)
  .sort();

/** Differing byte ranges of two buffers, coalesced, as `offset 0x1A..0x20 (6 bytes)` lines. */
function diffRanges(want: Uint8Array, got: Uint8Array, max = 20): string {
  const ranges: [number, number][] = [];
  const n = Math.max(want.length, got.length);
  for (let i = 0; i < n; i++) {
    if (want[i] === got[i]) continue;
    const last = ranges[ranges.length - 1];
    if (last !== undefined && last[1] === i) last[1] = i + 1;
    else ranges.push([i, i + 1]);
  }
  const hex = (v: number): string => '0x' + v.toString(16).toUpperCase();
  const lines = ranges.slice(0, max).map(([a, b]) => `  offset ${hex(a)}..${hex(b)} (${b - a} bytes): expected ${[...want.subarray(a, Math.min(b, a + 8))].map((x) => x.toString(16).padStart(2, '0')).join(' ')}, got ${[...got.subarray(a, Math.min(b, a + 8))].map((x) => x.toString(16).padStart(2, '0')).join(' ')}`);
  if (ranges.length > max) lines.push(`  ... and ${ranges.length - max} more ranges`);
  return `${ranges.length} differing range(s); sizes: expected ${want.length}, got ${got.length}\n${lines.join('\n')}`;
}

function assertSameBytes(got: Uint8Array, expectedPath: string): void {
  assert.ok(existsSync(expectedPath), `${relative(ROOT, expectedPath)} is missing: run npm run golden:update`);
  const want = new Uint8Array(readFileSync(expectedPath));
  if (Buffer.compare(Buffer.from(want), Buffer.from(got)) !== 0) {
    assert.fail(`${relative(ROOT, expectedPath)} differs from the rebuilt output (npm run golden:update regenerates it):\n${diffRanges(want, got)}`);
  }
}

test('there are golden cases', () => {
  assert.ok(CASES.length >= 7, `found ${CASES.join(', ')}`);
});

for (const name of CASES) {
  describe(`golden ${name}`, () => {
    const recipePath = relative(process.cwd(), join(GOLDEN, name, 'recipe.yaml'));
    const plan = planBuild(recipePath);

    test('every output equals the committed bytes', () => {
      plan.outcome.outputs.forEach((o, i) => assertSameBytes(o.encoded.bytes, plan.outputPaths[i]!));
    });

    if (plan.manifestPath !== undefined) {
      test('the manifest equals the committed one and matches its schema', () => {
        const text = manifestText(plan.outcome, plan.inputs, plan.inputPaths, plan.outputPaths, plan.manifestPath!);
        assertSameBytes(new TextEncoder().encode(text), plan.manifestPath!);
        const m = ManifestSchema.parse(JSON.parse(text));
        assert.ok(m.inputs.every((i) => !i.path.startsWith('/')), 'no absolute paths');
      });
    }

    plan.outcome.outputs.forEach((o, i) => {
      if (o.encoded.format !== 'dfu') return;
      const file = plan.outputPaths[i]!;
      test(`${relative(GOLDEN, file)} decodes and re-encodes to the same bytes`, () => {
        const bytes = new Uint8Array(readFileSync(file));
        const decoded = decodeDfuse(bytes, { file });
        const again = reencodeInputs(decoded);
        assertSameBytes(encodeDfuse(again.targets, again.suffix, again.options), file);
        // And through convert: a .dfu alone, without chip/align, is re-encoded with its elements kept.
        const re = runConversion({ inputs: [{ name: file, bytes }], options: {}, outputs: [{ path: 'out.dfu', format: 'dfu' }] });
        assert.equal(re.report.alignment.from, 'none');
        assertSameBytes(re.outputs[0]!.encoded.bytes, file);
      });
    });
  });
}

test('h745 from two ELF files and from one merged HEX give identical .dfu bytes', () => {
  const a = readFileSync(join(GOLDEN, 'h745-dual-elf', 'expected.dfu'));
  const b = readFileSync(join(GOLDEN, 'h745-dual-hex', 'expected.dfu'));
  assert.ok(a.equals(b), diffRanges(new Uint8Array(a), new Uint8Array(b)));
});

test('golden element layouts are what the recipes describe', () => {
  const elements = (c: string): string[] =>
    decodeDfuse(new Uint8Array(readFileSync(join(GOLDEN, c, 'expected.dfu')))).dfuse.targets.flatMap((t) =>
      t.elements.map((e) => `${t.alt}:${e.address.toString(16)}+${e.size.toString(16)}`),
    );
  // CM7 0x08000000..0x080240E8 and CM4 0x08100000..0x081280E4, each padded to the 32-byte flash word.
  assert.deepEqual(elements('h745-dual-elf'), ['0:8000000+24100', '0:8100000+28100']);
  // Sector 0 (0x08000000..0x08004000) holds everything up to the keys at 0x08003C00: one element; config in sector 7.
  assert.deepEqual(elements('f722-hole-far'), ['0:8000000+3c20', '0:8060000+30']);
  // No chip: 8-byte alignment only, nothing merged by sector.
  assert.deepEqual(elements('bin-hex-mix'), ['0:8000000+3f0', '0:8000400+128', '0:8003ff0+10', '0:800fff8+10']);
  // F722: boot, app and config share sector 0; the run across 0x08010000 spans sectors 3 and 4.
  assert.deepEqual(elements('bin-hex-f722'), ['0:8000000+4000', '0:800fff8+10']);
  // Option bytes (alt 1) are left exactly as given: 24 bytes at 0x5200201C.
  assert.deepEqual(elements('alt1-option-bytes'), ['0:8000000+e0', '1:5200201c+18']);
  // dfuse-pack's unaligned elements are kept.
  assert.deepEqual(elements('dfuse-pack-reencode'), ['0:8000000+309', '0:8004001+2d']);
});
