/**
 * `dfukit diff EXPECTED ACTUAL`: reads both inputs (any format; raw binaries at @ADDR, else at 0x08000000 with a
 * note), runs `diffImages`, prints the human report or `--json`. Exit 0 equal, 1 different; unreadable inputs
 * are FwErrors (exit 3), bad options usage errors (exit 2).
 */
import { EXIT_USAGE, FwError } from '../../core/errors.ts';
import type { Note } from '../../core/notes.ts';
import { resolveChip } from '../../layout/chips.ts';
import { readInput } from '../../node/files.ts';
import { diffSide, type DiffSide } from '../../report/diff-side.ts';
import { diffImages } from '../../verify/diff.ts';
import { checkLeniencies } from '../leniency.ts';
import { renderDiff } from '../render/diff.ts';

export interface DiffCliOptions {
  whole?: true;
  merge?: number;
  context?: number;
  chip?: string;
  align?: number;
  erasedValue?: number;
  alt?: number;
  lenient?: string[];
  maxRanges?: number;
  json?: true;
}

/** One input as a memory image (see report/diff-side.ts). */
export function loadDiffInput(spec: string, which: 'expected' | 'actual', alt: number | undefined, lenient: readonly string[] = []): DiffSide {
  const f = readInput(spec);
  return diffSide(
    { name: f.spec, bytes: f.bytes, ...(f.address !== undefined ? { address: f.address } : {}), ...(alt !== undefined ? { alt } : {}), lenient },
    which,
  );
}

export function runDiff(expectedSpec: string, actualSpec: string, opts: DiffCliOptions): number {
  if (opts.align !== undefined && opts.align < 1) throw new FwError('USAGE_ALIGN', '--align must be at least 1', {}, EXIT_USAGE);
  const chip = opts.chip !== undefined ? resolveChip(opts.chip) : undefined;
  checkLeniencies(opts.lenient);
  const expected = loadDiffInput(expectedSpec, 'expected', opts.alt, opts.lenient);
  const actual = loadDiffInput(actualSpec, 'actual', opts.alt, opts.lenient);
  if (expected.image.isEmpty) throw new FwError('DIFF_EXPECTED_EMPTY', `the expected image ${expectedSpec} holds no data`, { file: expected.label.name });
  const report = diffImages(expected.image, actual.image, {
    ...(opts.whole === true ? { whole: true } : {}),
    ...(opts.merge !== undefined ? { merge: opts.merge } : {}),
    ...(opts.context !== undefined ? { context: opts.context } : {}),
    ...(chip !== undefined ? { chip } : {}),
    ...(opts.align !== undefined ? { programUnit: opts.align } : {}),
    ...(opts.erasedValue !== undefined ? { erasedValue: opts.erasedValue } : {}),
    expected: expected.label,
    actual: actual.label,
    notes: [...(chip?.warnings ?? []).map((m): Note => ({ code: 'CHIP_WARNING', severity: 'warning', message: m, location: {} })), ...expected.notes, ...actual.notes],
  });
  if (opts.json === true) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else process.stdout.write(renderDiff(report, opts.maxRanges !== undefined ? { maxRanges: opts.maxRanges } : {}));
  return report.equal ? 0 : 1;
}
