import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { buildManifest, serializeManifest } from '../../src/convert/manifest.ts';
import { ManifestSchema } from '../../src/convert/manifest-schema.ts';
import { runConversion } from '../../src/convert/pipeline.ts';
import { resolveChip } from '../../src/layout/chips.ts';
import { filler, hexOf } from './helpers.ts';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function outcome() {
  const inputs = [
    { name: 'build/app.hex', bytes: hexOf([0x08000003, 40], [0x08000100, 7]) },
    { name: 'ob.bin', bytes: filler(4), address: 0x5200201c, alt: 1 },
  ];
  const o = runConversion({
    inputs,
    options: { chip: resolveChip('stm32h743zi') },
    outputs: [{ path: 'out/fw.dfu', format: 'dfu' }],
  });
  return { o, inputs };
}

test('the manifest lists output, inputs and every element with size, CRC-32 and sha256, plus pads and merges', () => {
  const { o, inputs } = outcome();
  const m = buildManifest(o.report, inputs.map((i) => i.bytes), { inputs: ['../build/app.hex', '../ob.bin'], outputs: ['fw.dfu'] });
  ManifestSchema.parse(m);
  assert.deepEqual(m.outputs, [{ path: 'fw.dfu', format: 'dfu', size: o.outputs[0]!.encoded.bytes.length, sha256: sha(o.outputs[0]!.encoded.bytes) }]);
  assert.deepEqual(m.inputs.map((i) => [i.path, i.format, i.sha256, i.alt, i.address]), [
    ['../build/app.hex', 'ihex', sha(inputs[0]!.bytes), undefined, undefined],
    ['../ob.bin', 'bin', sha(inputs[1]!.bytes), 1, 0x5200201c],
  ]);
  assert.equal(m.chip, 'STM32H743ZI');
  assert.equal(m.programUnit, 32);
  const flash = o.result.targets[0]!.image.segments;
  assert.deepEqual(
    m.targets[0]!.elements.map((e) => [e.address, e.size, e.sha256]),
    flash.map((s) => [s.addr, s.data.length, sha(s.data)]),
  );
  assert.deepEqual(m.targets.map((t) => [t.target, t.alt, t.name]), [[0, 0, 'ST...'], [1, 1, 'ST...']]);
  assert.deepEqual(m.pads.map((p) => p.reason), ['align-start', 'align-end', 'align-end']);
  assert.deepEqual(m.merges.map((x) => [x.start, x.end, x.reason, x.sector]), [[0x08000040, 0x08000100, 'same-sector', 'bank 1 sector 0']]);
});

test('the manifest text is stable: same inputs, same bytes; no time stamps', () => {
  const a = outcome();
  const b = outcome();
  const text = (x: ReturnType<typeof outcome>) => serializeManifest(buildManifest(x.o.report, x.inputs.map((i) => i.bytes), { inputs: ['a', 'b'], outputs: ['c'] }));
  assert.equal(text(a), text(b));
  assert.doesNotMatch(text(a), /20[0-9]{2}-[0-9]{2}-[0-9]{2}|time|date|host/i);
  assert.ok(text(a).endsWith('}\n'));
});
