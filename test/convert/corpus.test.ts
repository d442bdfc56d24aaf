/**
 * Every real .hex/.elf of the corpus (../shared/corpus, read in place; skipped when absent) converts: with the
 * chip profile of the part its MANIFEST row names when dfukit has one, otherwise with `align: 8`. The output's
 * data must be the input's data plus erased-value padding only: every input byte unchanged at its address,
 * every other byte 0xFF, internal-flash elements on the program unit, data outside internal flash untouched.
 * The synthetic fwupd fixtures are not firmware (ELF machine None) and are left out.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runConversion } from '../../src/convert/pipeline.ts';
import { decodeDfuse } from '../../src/formats/dfuse-file.ts';
import { decodeFile } from '../../src/formats/decode.ts';
import { MemoryImage } from '../../src/image/memory-image.ts';
import { resolveChip } from '../../src/layout/chips.ts';
import type { ChipProfile } from '../../src/layout/chip-types.ts';
import { corpusOrSkip, manifestEntries, type ManifestEntry } from '../helpers/corpus.ts';

const corpus = corpusOrSkip();

/** The chip named at the start of the MANIFEST description (`STM32H743 (...)`), when dfukit has its profile. */
function chipFor(e: ManifestEntry): ChipProfile | undefined {
  const m = /^(STM32[A-Z][0-9A-Z]+)/.exec(e.description);
  if (m === null) return undefined;
  try {
    return resolveChip(m[1]!);
  } catch {
    return undefined;
  }
}

describe('corpus: every real .hex/.elf converts to data + erased-value padding only', { skip: corpus.skip }, () => {
  const entries = corpus.dir === undefined ? [] : manifestEntries(corpus.dir).filter((e) => (e.kind === 'hex' || e.kind === 'elf') && !e.repo.includes('fwupd'));

  test('the corpus holds the expected files', () => {
    assert.ok(entries.length >= 35, `${entries.length} files`);
    assert.ok(entries.some((e) => chipFor(e) !== undefined), 'some files have a chip profile');
  });

  for (const e of entries) {
    const chip = chipFor(e);
    test(`${e.file} (${chip !== undefined ? chip.displayName : 'align 8'})`, () => {
      const bytes = new Uint8Array(readFileSync(join(corpus.dir!, e.file)));
      const options = chip !== undefined ? { chip } : { align: 8 };
      const o = runConversion({ inputs: [{ name: e.file, bytes }], options, outputs: [{ path: 'out.dfu', format: 'dfu' }] });
      const input = new MemoryImage();
      for (const t of decodeFile(bytes, { file: e.file }).decoded.targets) input.addImage(t.image);
      const out = decodeDfuse(o.outputs[0]!.encoded.bytes).targets[0]!.image;
      const unit = o.report.alignment.programUnit;
      assert.equal(unit, chip !== undefined ? Math.max(chip.programUnit, chip.bootloaderWriteAlignment) : 8);

      // Every input byte is in the output, unchanged.
      for (const r of input.ranges()) {
        assert.ok(out.covers(r.start, r.end), `0x${r.start.toString(16)}..0x${r.end.toString(16)} missing`);
        assert.ok(Buffer.from(out.read(r.start, r.end - r.start)).equals(Buffer.from(input.read(r.start, r.end - r.start))), `data changed in 0x${r.start.toString(16)}..`);
      }
      // Every added byte is the erased value, and lies in internal flash.
      const flash = o.report.alignment.flash;
      for (const s of out.segments) {
        for (const g of input.gaps(s.addr, s.addr + s.data.length)) {
          assert.ok(s.data.subarray(g.start - s.addr, g.end - s.addr).every((b) => b === 0xff), `non-0xFF padding at 0x${g.start.toString(16)}`);
          assert.ok(flash.some((f) => g.start >= f.start && g.end <= f.end), `padding outside internal flash at 0x${g.start.toString(16)}`);
        }
        const inFlash = flash.some((f) => s.addr >= f.start && s.addr + s.data.length <= f.end);
        if (inFlash) {
          assert.equal(s.addr % unit, 0, `element 0x${s.addr.toString(16)} not on the ${unit}-byte unit`);
          assert.equal(s.data.length % unit, 0, `element 0x${s.addr.toString(16)} length ${s.data.length} not a multiple of ${unit}`);
        } else {
          assert.ok(input.covers(s.addr, s.addr + s.data.length), 'data outside internal flash is never padded');
        }
      }
      // The report accounts for every added byte.
      const added = out.size - input.size;
      const reported = o.report.pads.reduce((n, p) => n + p.size, 0) + o.report.merges.reduce((n, m) => n + m.size, 0);
      assert.equal(reported, added, 'pads + merges = bytes added');
    });
  }
});
