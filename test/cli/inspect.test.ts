import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { InspectOutputSchema } from '../../src/formats/inspect-report.ts';
import { dfukit } from '../helpers/cli.ts';
import { fixturePath } from '../helpers/corpus.ts';

const tmp = mkdtempSync(join(tmpdir(), 'dfukit-cli-'));

describe('dfukit inspect (compiled CLI)', () => {
  test('--json prints one schema-valid report per file, exit 0', () => {
    const r = dfukit(['inspect', '--json', fixturePath('elf', 'f722.elf'), fixturePath('elf', 'h745_cm4.elf')]);
    assert.equal(r.status, 0, r.stderr);
    const out = InspectOutputSchema.parse(JSON.parse(r.stdout));
    assert.deepEqual(out.map((x) => x.format), ['elf', 'elf']);
  });

  test('human output names format, elements and vector table', () => {
    const r = dfukit(['inspect', fixturePath('elf', 'h745_cm4.elf')]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /ELF32 little-endian/);
    assert.match(r.stdout, /vector table at 0x08100000: initial SP 0x[0-9A-F]{8}, reset 0x081[0-9A-F]{5} \(Thumb\)/);
  });

  test('bad checksum: exit 3, file, line and both checksums, stable code, no stack trace', () => {
    const f = join(tmp, 'bad.hex');
    writeFileSync(f, ':020000040800F2\n:0400000001020304F0\n:00000001FF\n');
    const r = dfukit(['inspect', f]);
    assert.equal(r.status, 3);
    assert.match(r.stderr, /bad\.hex/);
    assert.match(r.stderr, /line 2/);
    assert.match(r.stderr, /\[IHEX_CHECKSUM\]/);
    assert.match(r.stderr, /0xF0/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });

  test('missing file: exit 3 with FILE_READ', () => {
    const r = dfukit(['inspect', join(tmp, 'nope.dfu')]);
    assert.equal(r.status, 3);
    assert.match(r.stderr, /nope\.dfu: cannot read the file: no such file \[FILE_READ\]/);
  });

  test('unknown option and bad --format: exit 2', () => {
    assert.equal(dfukit(['inspect', '--frobnicate', 'x']).status, 2);
    const r = dfukit(['inspect', '--format', 'zip', 'x']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /expected one of elf, ihex, srec, bin, dfuse, dfu, got 'zip'/);
  });

  test('a path containing @ that is not an address is read as a path', () => {
    const f = join(tmp, 'NICLA@d975abca.bin');
    writeFileSync(f, new Uint8Array([0, 0x10, 0, 0x20, 0x99, 1, 0, 8]));
    const r = dfukit(['inspect', '--json', `${f}@0x08010000`]);
    assert.equal(r.status, 0, r.stderr);
    const [rep] = InspectOutputSchema.parse(JSON.parse(r.stdout));
    assert.equal(rep!.targets[0]!.elements[0]!.address, 0x08010000);
  });
});
