/**
 * Doctor on every firmware file of the real corpus (read in place; skipped without it), with the chip profile of
 * its part. The findings must equal test/doctor/corpus-findings.json, whose every finding was checked by hand
 * (corpus-findings.md; re-derived independently by corpus-verify.py). Files known to work in the field (OpenMV
 * and ArduPilot releases) must get no errors, and --fix must turn every file with a chip into one without errors
 * that holds the same data plus erased-value padding.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { decodeFile } from '../../src/formats/decode.ts';
import { diagnose } from '../../src/doctor/diagnose.ts';
import { doctorFix } from '../../src/doctor/fix.ts';
import { MemoryImage } from '../../src/image/memory-image.ts';
import { resolveChip } from '../../src/layout/chips.ts';
import { corpusOrSkip, manifestEntries } from '../helpers/corpus.ts';
import { corpusCase, FIRMWARE_KINDS } from './corpus-cases.ts';
import { FINDINGS_JSON, runCorpus, type RecordedFile } from './corpus-run.ts';

const corpus = corpusOrSkip();

describe('doctor on the real corpus', { skip: corpus.skip }, () => {
  const dir = corpus.dir!;
  const actual = corpus.skip === false ? runCorpus(dir) : [];

  test('findings equal the hand-checked table (test/doctor/corpus-findings.json)', () => {
    const expected = JSON.parse(readFileSync(FINDINGS_JSON, 'utf8')) as RecordedFile[];
    assert.deepEqual(
      actual.map((f) => f.file),
      expected.map((f) => f.file),
      'the same files',
    );
    for (const [i, e] of expected.entries()) assert.deepEqual(actual[i], e, `findings of ${e.file} changed: check them by hand, then regenerate with corpus-run.ts --write`);
  });

  test('every firmware file of the corpus is diagnosed (none unreadable)', () => {
    const firmware = manifestEntries(dir).filter((e) => FIRMWARE_KINDS.has(e.kind));
    assert.equal(actual.length, firmware.length);
    assert.ok(actual.length > 100);
  });

  test('files known to work in the field get no errors', () => {
    const field = actual.filter((f) => /^(openmv__openmv|ArduPilot__ardupilot)\//.test(f.file));
    assert.ok(field.length >= 50);
    for (const f of field) assert.deepEqual(f.findings.filter((x) => x.severity === 'error'), [], f.file);
  });

  test('--fix: every file with a chip becomes one without errors, same data plus 0xFF padding', () => {
    for (const e of manifestEntries(dir)) {
      if (!['dfuse', 'hex', 'elf'].includes(e.kind)) continue;
      const c = corpusCase(e);
      if (c.chip === undefined) continue;
      const chip = resolveChip(c.chip);
      const bytes = new Uint8Array(readFileSync(join(dir, e.file)));
      const d = diagnose(bytes, { file: e.file, chip });
      const { report, bytes: out } = doctorFix(bytes, d, { chip, output: 'fixed.dfu', format: 'dfu' });
      assert.equal(report.fix!.summary.errors, 0, `${e.file}: ${JSON.stringify(report.fix!.findings.filter((f) => f.severity === 'error'))}`);
      const before = decodeFile(bytes, { lenient: ['all'], overwrite: true }).decoded.targets[0]!.image;
      const after = new MemoryImage();
      for (const t of decodeFile(out).decoded.targets) after.addImage(t.image);
      for (const s of before.segments) assert.deepEqual(after.read(s.addr, s.data.length, 0), s.data, `${e.file}: data at ${s.addr.toString(16)}`);
      let added = 0;
      for (const s of after.segments) {
        for (let i = 0; i < s.data.length; i++) {
          if (before.byteAt(s.addr + i) === undefined) {
            added++;
            assert.equal(s.data[i], 0xff, `${e.file}: added byte at ${(s.addr + i).toString(16)}`);
          }
        }
      }
      assert.equal(after.size, before.size + added);
    }
  });
});
