/**
 * The library calls the page makes, each the same one the CLI command makes with the same options, so the page
 * shows what `dfukit inspect`, `doctor`, `convert`, `diff` and `flash --dry-run` print for the same file and
 * chip (the browser tests compare them field by field). Pure: bytes in, reports out; no DOM.
 */
import { FwError, isFwError } from '../../src/core/errors.ts';
import type { Note } from '../../src/core/notes.ts';
import { assembleTargets } from '../../src/convert/assemble.ts';
import { PORTABLE_DIGESTS } from '../../src/convert/digests.ts';
import { loadInput } from '../../src/convert/load.ts';
import type { OutputFormat } from '../../src/convert/output.ts';
import { runConversion, type ConversionOutcome } from '../../src/convert/pipeline.ts';
import type { ConvertInput } from '../../src/convert/types.ts';
import { diagnose, type Diagnosis } from '../../src/doctor/diagnose.ts';
import { doctorFix } from '../../src/doctor/fix.ts';
import type { DoctorReport } from '../../src/doctor/report-schema.ts';
import { decodeFile } from '../../src/formats/decode.ts';
import { buildInspectReport } from '../../src/formats/inspect.ts';
import type { InspectReport } from '../../src/formats/inspect-report.ts';
import { detectHeaders } from '../../src/header/detect.ts';
import type { MemoryImage } from '../../src/image/memory-image.ts';
import type { BankMode, ChipProfile } from '../../src/layout/chip-types.ts';
import { resolveChip } from '../../src/layout/chips.ts';
import { createFlashPlan, type PlanOptions } from '../../src/plan/plan.ts';
import type { FlashPlan } from '../../src/plan/types.ts';
import { addHeaders } from '../../src/report/inspect-headers.ts';
import { ASSUMED_BIN_ADDRESS, diffSide, type DiffSide } from '../../src/report/diff-side.ts';
import { diffImages } from '../../src/verify/diff.ts';
import type { DiffReport } from '../../src/verify/report-schema.ts';

/** STM32 main flash starts here: where a raw binary without an address is shown (as `dfukit inspect` and `diff` do). */
export const ASSUMED_ADDRESS = ASSUMED_BIN_ADDRESS;

/** One dropped file. `address` is the load address the user gave (raw binaries, plain DFU payloads). */
export interface FileEntry {
  readonly id: number;
  readonly name: string;
  readonly bytes: Uint8Array;
  address?: number;
}

/** An error as the page shows it: the FwError's code and formatted message, or an internal error. */
export interface ShownError {
  readonly code: string;
  readonly message: string;
  readonly internal: boolean;
}

export function shownError(e: unknown, file?: string): ShownError {
  if (isFwError(e)) return { code: e.code, message: (file !== undefined ? e.withFile(file) : e).format(), internal: false };
  const err = e as Error;
  return { code: 'INTERNAL', message: `internal error: ${err?.message ?? String(e)} (this is a bug in dfukit: please report it)`, internal: true };
}

/** `resolveChip` for the chip field: undefined for an empty field; FwError (unknown chip, did you mean...) passes through. */
export function chipFor(name: string, bankMode?: BankMode): ChipProfile | undefined {
  if (name.trim() === '') return undefined;
  return resolveChip(name.trim(), bankMode !== undefined ? { bankMode } : {});
}

/** `dfukit inspect FILE[@ADDR] --json` (cli/run/inspect.ts): a raw binary without an address is shown at 0x08000000, with a note. */
export function inspectEntry(f: FileEntry): InspectReport {
  const decoded = decodeFile(f.bytes, { file: f.name, address: f.address ?? ASSUMED_ADDRESS });
  const report = buildInspectReport(f.name, f.bytes, decoded);
  addHeaders(report, decoded.decoded.targets);
  if (f.address === undefined && report.format === 'bin') {
    report.notes.push({
      code: 'BIN_ADDRESS_ASSUMED',
      severity: 'info',
      message: `no load address given: shown at 0x08000000 (give one as ${f.name}@ADDR)`,
      location: { file: f.name },
    });
  }
  return report;
}

/** `dfukit doctor FILE[@ADDR] [--chip C] --json` (cli/run/doctor.ts). */
export function doctorEntry(f: FileEntry, chip: ChipProfile | undefined): Diagnosis {
  return diagnose(f.bytes, {
    file: f.name,
    ...(chip !== undefined ? { chip } : {}),
    findHeaders: (image: MemoryImage) => detectHeaders(image),
    ...(f.address !== undefined ? { address: f.address } : {}),
  });
}

/** `dfukit doctor --fix FILE -o NAME` without writing: the repaired bytes and the report of both. */
export function fixEntry(f: FileEntry, diagnosis: Diagnosis, chip: ChipProfile | undefined, output: string, format: OutputFormat): { bytes: Uint8Array; report: DoctorReport } {
  return doctorFix(f.bytes, diagnosis, { ...(chip !== undefined ? { chip } : {}), findHeaders: (image: MemoryImage) => detectHeaders(image), output, format });
}

function convertInput(f: FileEntry): ConvertInput {
  return f.address !== undefined ? { name: f.name, bytes: f.bytes, address: f.address } : { name: f.name, bytes: f.bytes };
}

/** `dfukit convert FILES... [--chip C] -o NAME` (cli/run/convert.ts) without writing: the outcome holds the bytes. */
export function convertEntries(files: readonly FileEntry[], chip: ChipProfile | undefined, output: string, format: OutputFormat): ConversionOutcome {
  return runConversion({
    inputs: files.map(convertInput),
    options: { ...(chip !== undefined ? { chip } : {}), suffix: {} },
    outputs: [{ path: output, format }],
    digests: PORTABLE_DIGESTS,
  });
}

/** The file name for a conversion of `files` into `format`: the first input's base name with the new extension. */
export function outputName(files: readonly FileEntry[], format: OutputFormat, suffix = ''): string {
  const base = (files[0]?.name ?? 'firmware').replace(/\.[^.]*$/, '');
  return `${base}${suffix}.${format}`;
}

/** One side of `dfukit diff`: the same function the CLI uses (report/diff-side.ts). */
function sideOf(f: FileEntry, which: 'expected' | 'actual'): DiffSide {
  return diffSide({ name: f.name, bytes: f.bytes, ...(f.address !== undefined ? { address: f.address } : {}) }, which);
}

/** `dfukit diff EXPECTED ACTUAL [--chip C] [--whole] --json`. */
export function diffEntries(expected: FileEntry, actual: FileEntry, chip: ChipProfile | undefined, whole: boolean): DiffReport {
  const e = sideOf(expected, 'expected');
  const a = sideOf(actual, 'actual');
  if (e.image.isEmpty) throw new FwError('DIFF_EXPECTED_EMPTY', `the expected image ${expected.name} holds no data`, { file: expected.name });
  return diffImages(e.image, a.image, {
    ...(whole ? { whole: true } : {}),
    ...(chip !== undefined ? { chip } : {}),
    expected: e.label,
    actual: a.label,
    notes: [...(chip?.warnings ?? []).map((m): Note => ({ code: 'CHIP_WARNING', severity: 'warning', message: m, location: {} })), ...e.notes, ...a.notes],
  });
}

/** What `dfukit flash FILES...` writes (cli/run/flash.ts `loadFlashImage`): the inputs as one alt-0 image. */
export function flashImage(files: readonly FileEntry[]): MemoryImage {
  if (files.length === 0) throw new FwError('FLASH_USAGE', 'nothing to flash: tick the files to flash in the file list');
  const notes: Note[] = [];
  const loaded = files.map((f) => loadInput(convertInput(f), {}, notes));
  const { targets } = assembleTargets(loaded, {});
  const other = targets.filter((t) => t.alt !== 0);
  if (other.length > 0) {
    throw new FwError(
      'FLASH_ALT',
      `flash writes the internal flash (alt 0); ${other.map((t) => `alt ${t.alt} (${t.contributions.map((c) => c.input).join(', ')})`).join(', ')} cannot be flashed yet`,
    );
  }
  return targets[0]!.image;
}

export interface FlashSettings {
  readonly verify: boolean;
  readonly leave: boolean;
  readonly massErase: boolean;
}

/** `dfukit flash ... --dry-run` options, or the device's transfer size once connected. */
export function planFlash(image: MemoryImage, chip: ChipProfile, s: FlashSettings, device?: { transferSize: number; from: 'descriptor' | 'profile'; addressPerBlock: boolean }): FlashPlan {
  const opts: PlanOptions = {
    transferSize: device?.transferSize ?? chip.dfu.wTransferSize,
    transferSizeFrom: device?.from ?? 'profile',
    ...(device?.addressPerBlock === true ? { addressEveryBlock: true } : {}),
    verify: s.verify,
    ...(s.massErase ? { massErase: true } : {}),
    ...(s.leave ? { leave: true } : {}),
  };
  return createFlashPlan(image, chip, opts);
}
