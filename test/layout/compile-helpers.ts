/** Helpers for tests that compile edited copies of the chip profiles. */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileChipDir } from '../../scripts/compile-chips.ts';
import type { FwError } from '../../src/core/errors.ts';
import { ROOT } from '../helpers/corpus.ts';

export const CHIPS_DIR = join(ROOT, 'schemas', 'chips');

/** Copies every real profile into a temp dir, applies `edit` to `file`, compiles the dir; the edit must break it. */
export function compileEdited(file: string, edit: (text: string) => string): { errors: FwError[]; text: string } {
  const dir = mkdtempSync(join(tmpdir(), 'dfukit-chips-'));
  try {
    let edited = '';
    for (const name of readdirSync(CHIPS_DIR).filter((n) => n.endsWith('.yaml'))) {
      const original = readFileSync(join(CHIPS_DIR, name), 'utf8');
      const text = name === file ? edit(original) : original;
      if (name === file) {
        assert.notEqual(text, original, 'the edit changed nothing');
        edited = text;
      }
      writeFileSync(join(dir, name), text);
    }
    assert.notEqual(edited, '', `${file} is not a profile`);
    const result = compileChipDir(dir, dir);
    assert.equal(result.moduleText, undefined, 'a broken profile must not produce a module');
    return { errors: result.errors, text: edited };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** 1-based line of the first line containing `needle` at or after the first line containing `after`. */
export function lineOf(text: string, needle: string, after = ''): number {
  const lines = text.split('\n');
  const from = after === '' ? 0 : lines.findIndex((l) => l.includes(after));
  const i = lines.findIndex((l, k) => k >= from && l.includes(needle));
  assert.ok(i >= 0, `'${needle}' not found`);
  return i + 1;
}
