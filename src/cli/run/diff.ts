/**
 * `dfukit diff EXPECTED ACTUAL`: reads both inputs (any format; raw binaries at @ADDR, else at 0x08000000 with a
 * note), runs `diffImages`, prints the human report or `--json`. Exit 0 equal, 1 different; unreadable inputs
 * are FwErrors (exit 3), bad options usage errors (exit 2).
 */
import { EXIT_USAGE, FwError } from '../../core/errors.ts';
import { hex32 } from '../../core/format.ts';
import type { Note } from '../../core/notes.ts';
import { decodeFile } from '../../formats/decode.ts';
import type { MemoryImage } from '../../image/memory-image.ts';
import { resolveChip } from '../../layout/chips.ts';
import { readInput } from '../../node/files.ts';
import { diffImages, type SideLabel } from '../../verify/diff.ts';
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

/** The STM32 flash base: where a raw binary without @ADDR is taken to start (as `dfukit inspect` does). */
export const ASSUMED_BIN_ADDRESS = 0x08000000;

export interface LoadedSide {
  readonly image: MemoryImage;
  readonly label: SideLabel;
  readonly notes: Note[];
}

/** One input as a memory image: the DfuSe target `alt` (default 0, else the only target). */
export function loadDiffInput(spec: string, which: 'expected' | 'actual', alt: number | undefined, lenient: readonly string[] = []): LoadedSide {
  const f = readInput(spec);
  const notes: Note[] = [];
  try {
    // The address matters only to raw binaries and plain DFU payloads; the others carry their own.
    const sniff = decodeFile(f.bytes, { file: f.path, address: f.address ?? ASSUMED_BIN_ADDRESS, ...(lenient.length > 0 ? { lenient } : {}) });
    const fmt = sniff.decoded.format;
    let address = f.address;
    if ((fmt === 'bin' || fmt === 'dfu') && address === undefined) {
      address = ASSUMED_BIN_ADDRESS;
      notes.push({
        code: 'DIFF_ADDRESS_ASSUMED',
        severity: 'warning',
        message: `${which} ${f.path}: no load address given, taken as ${hex32(ASSUMED_BIN_ADDRESS)} (give one as ${f.path}@ADDR)`,
        location: { file: f.path },
      });
    } else if (fmt !== 'bin' && fmt !== 'dfu' && f.address !== undefined) {
      notes.push({
        code: 'DIFF_ADDRESS_IGNORED',
        severity: 'warning',
        message: `${which} ${f.path}: @${hex32(f.address)} ignored: a ${fmt} file carries its own addresses`,
        location: { file: f.path },
      });
    }
    const targets = sniff.decoded.targets;
    const target = alt !== undefined ? targets.find((t) => t.alt === alt) : (targets.find((t) => t.alt === 0) ?? (targets.length === 1 ? targets[0] : undefined));
    if (target === undefined) {
      const have = targets.map((t) => t.alt).join(', ');
      throw new FwError(
        'DIFF_NO_TARGET',
        `no DfuSe target for alt ${alt ?? 0} in the ${which} image (it has alt ${have || 'none'}): choose one with --alt`,
        { file: f.path },
        EXIT_USAGE,
      );
    }
    for (const n of sniff.decoded.notes) if (n.severity === 'warning' || n.leniency !== undefined) notes.push(n);
    return {
      image: target.image,
      label: {
        name: f.spec,
        format: fmt,
        detectedBy: sniff.detection.reason,
        ...(fmt === 'dfuse' ? { alt: target.alt } : {}),
        ...(address !== undefined && (fmt === 'bin' || fmt === 'dfu') ? { address } : {}),
      },
      notes,
    };
  } catch (e) {
    throw e instanceof FwError ? e.withFile(f.path) : e;
  }
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
