/**
 * `dfukit doctor --fix`: the mechanical repairs. The file's own data are kept byte for byte; what changes is how
 * they are cut and described:
 *
 *   DfuSe structure  counts, sizes, DFUImageSize, suffix fields and CRC rewritten; trailing bytes, garbage in
 *                    target names, empty elements and targets dropped; elements sorted; identical overlaps kept once
 *   elements         aligned and padded to the program unit and merged within an erase sector by the convert
 *                    pipeline (src/convert), with the erased value; then split at bank boundaries
 *
 * Only the erased value is ever added, and only where the flash would hold it after the erase anyway. Overlapping
 * elements with different bytes are not mechanical (which one is meant?): `DOCTOR_FIX_CONFLICT`, nothing written.
 * Data outside flash stay where they are (still an error in the new file's diagnosis).
 */
import { FwError } from '../core/errors.ts';
import { formatRange, hex32, hexN } from '../core/format.ts';
import { convert } from '../convert/convert.ts';
import { encodeOutput, type OutputFormat } from '../convert/output.ts';
import { DEFAULT_PROGRAM_UNIT } from '../convert/settings.ts';
import { DEFAULT_SUFFIX } from '../convert/suffix.ts';
import type { ConvertInput, ConvertOptions, ConvertResult, ConvertedTarget } from '../convert/types.ts';
import { encodeDfuse, type DfuseTargetInput } from '../formats/dfuse-file.ts';
import { MemoryImage } from '../image/memory-image.ts';
import type { ChipProfile } from '../layout/chip-types.ts';
import { diagnose, summarize, type Diagnosis, type DoctorOptions } from './diagnose.ts';
import type { DoctorReport, Finding, Repair } from './report-schema.ts';

export interface RepairOptions {
  /** Input name for sources and messages. */
  file: string;
  chip?: ChipProfile;
  /** Output path as given (the report's `output`) and its format. */
  output: string;
  format: OutputFormat;
}

export interface RepairResult {
  bytes: Uint8Array;
  /** Address of the first byte of a .bin output. */
  start?: number;
  repairs: Repair[];
  /** Codes of input errors and warnings that no repair addresses. */
  unrepaired: string[];
}

/** What each fixable file-structure finding becomes in the new file. */
const STRUCTURE_REPAIRS: Record<string, { action: Repair['action']; message: string }> = {
  DFUSE_SUFFIX_CRC: { action: 'rewrite', message: 'wrote the suffix CRC of the new file' },
  DFUSE_NO_SUFFIX: { action: 'rewrite', message: 'appended a DFU suffix (bcdDFU 0x011A, bLength 16, CRC)' },
  DFUSE_BCD_DFU: { action: 'rewrite', message: 'wrote bcdDFU 0x011A' },
  DFUSE_SUFFIX_LENGTH: { action: 'rewrite', message: 'wrote a 16-byte suffix' },
  DFUSE_VERSION: { action: 'rewrite', message: 'wrote bVersion 1' },
  DFUSE_IMAGE_SIZE: { action: 'rewrite', message: 'wrote DFUImageSize as the file length without the suffix' },
  DFUSE_TARGET_COUNT: { action: 'rewrite', message: 'wrote bTargets to match the targets' },
  DFUSE_ELEMENT_COUNT: { action: 'rewrite', message: 'wrote dwNbElements to match the elements' },
  DFUSE_TARGET_SIZE: { action: 'rewrite', message: 'wrote dwTargetSize to match the elements' },
  DFUSE_TRAILING_BYTES: { action: 'drop', message: 'dropped the bytes after the last target' },
  DFUSE_TARGET_NAME_GARBAGE: { action: 'rewrite', message: 'wrote the target name zero-filled' },
  DFUSE_TARGET_NAMED: { action: 'rewrite', message: 'wrote bTargetNamed as 1 (named) or 0' },
  DFUSE_ELEMENTS_UNSORTED: { action: 'sort', message: 'wrote the elements in address order' },
  DFUSE_ELEMENT_OVERLAP: { action: 'dedupe', message: 'kept bytes written twice with the same values once' },
  DFUSE_EMPTY_ELEMENT: { action: 'drop', message: 'dropped the empty element' },
  DFUSE_EMPTY_TARGET: { action: 'drop', message: 'dropped the target without elements' },
};

function located(f: Finding): Partial<Repair> {
  return {
    ...(f.alt !== undefined ? { alt: f.alt } : {}),
    ...(f.start !== undefined ? { start: f.start } : {}),
    ...(f.end !== undefined ? { end: f.end } : {}),
  };
}

/** The input's data as a clean DfuSe file: what the strict reader accepts and convert can take. */
function cleanDfuse(d: Diagnosis): Uint8Array {
  const targets: DfuseTargetInput[] = [];
  for (const t of d.analysis.targets) {
    const image = new MemoryImage();
    const sorted = t.elements.map((e, i) => ({ ...e, i })).sort((a, b) => a.address - b.address || a.i - b.i);
    for (const e of sorted) if (e.data.length > 0) image.add(e.address, e.data, undefined, { overwrite: true });
    if (image.isEmpty) continue;
    targets.push(t.name === undefined ? { alt: t.alt, image, named: false } : { alt: t.alt, image, name: t.name });
  }
  if (targets.length === 0) throw new FwError('DOCTOR_FIX_EMPTY', 'the file holds no data to write: nothing to repair', {}, 1);
  return encodeDfuse(targets, d.analysis.suffix ?? DEFAULT_SUFFIX);
}

/** Each segment of an internal-flash target cut where a bank ends. */
function splitAtBanks(result: ConvertResult, chip: ChipProfile | undefined, inputStarts: (alt: number) => Set<number>): { targets: ConvertedTarget[]; splits: Repair[] } {
  const splits: Repair[] = [];
  if (chip === undefined || chip.banks.length < 2) return { targets: result.targets, splits };
  const cuts = chip.banks.map((b) => b.start).slice(1);
  const targets = result.targets.map((t) => {
    if (t.kind !== 'internal-flash') return t;
    const image = new MemoryImage();
    for (const s of t.image.segments) {
      const end = s.addr + s.data.length;
      let at = s.addr;
      for (const c of cuts) {
        if (c <= at || c >= end) continue;
        image.add(at, s.data.subarray(at - s.addr, c - s.addr), s.source);
        // An element of the input already started there: the cut restores it, nothing new.
        if (!inputStarts(t.alt).has(c)) splits.push({
          code: 'LAYOUT_BANK_CROSSING',
          action: 'split',
          message: `split the element ${formatRange(s.addr, end)} at the bank boundary ${hex32(c)}`,
          alt: t.alt,
          start: s.addr,
          end,
        });
        at = c;
      }
      image.add(at, s.data.subarray(at - s.addr), s.source);
    }
    return { ...t, image };
  });
  return { targets, splits };
}

export function repairFile(bytes: Uint8Array, diagnosis: Diagnosis, opts: RepairOptions): RepairResult {
  const { analysis, report } = diagnosis;
  if (analysis.conflicts.length > 0) {
    const c = analysis.conflicts[0]!;
    throw new FwError(
      'DOCTOR_FIX_CONFLICT',
      `alt ${c.alt}: ${analysis.format === 'dfuse' ? 'elements overlap' : analysis.format === 'elf' ? 'sections overlap' : 'records overlap'} at ${formatRange(c.start, c.end)} with different bytes` +
        `${analysis.conflicts.length > 1 ? ` (and ${analysis.conflicts.length - 1} more places)` : ''}: ` +
        'which of them is meant cannot be told from the file, so --fix writes nothing; rebuild the file from the firmware',
      { file: opts.file, address: c.start },
      1,
    );
  }
  const repairs: Repair[] = [];
  const input: ConvertInput = { name: opts.file, bytes: analysis.format === 'dfuse' ? cleanDfuse(diagnosis) : bytes };
  if (analysis.format === 'dfuse') {
    for (const f of report.findings) {
      const r = STRUCTURE_REPAIRS[f.code];
      if (r === undefined || !f.fixable) continue;
      // One repair per kind of structural fix, however many findings it covers.
      if (repairs.some((x) => x.code === f.code)) continue;
      repairs.push({ code: f.code, action: r.action, message: r.message, ...located(f) });
    }
  }
  if (analysis.address !== undefined) input.address = analysis.address;
  const options: ConvertOptions = {
    lenient: ['all'],
    overwrite: true,
    ...(opts.chip !== undefined ? { chip: opts.chip } : { align: DEFAULT_PROGRAM_UNIT }),
  };
  const result = convert([input], options);
  const fill = hexN(result.alignment.fill, 2);
  for (const p of result.pads) {
    const word = `${result.alignment.unit}-byte flash word`;
    const why = p.reason === 'align-end' ? `the data ended inside a ${word}` : p.reason === 'align-start' ? `the data started inside a ${word}` : `a gap inside a ${word} that two runs share`;
    const n = p.end - p.start;
    repairs.push({
      code: p.reason === 'align-end' ? 'LAYOUT_ELEMENT_PARTIAL_WORD' : 'LAYOUT_ELEMENT_START_UNALIGNED',
      action: 'pad',
      message: `padded ${formatRange(p.start, p.end)} (${n} byte${n === 1 ? '' : 's'}) with ${fill}: ${why}`,
      alt: p.alt,
      start: p.start,
      end: p.end,
    });
  }
  for (const m of result.merges) {
    repairs.push({
      code: 'LAYOUT_SECTOR_SHARED',
      action: 'merge',
      message: `merged the elements on either side of ${formatRange(m.start, m.end)}${m.sector !== undefined ? ` (both in ${m.sector})` : ''}, the gap written with ${hexN(m.fill, 2)}`,
      alt: m.alt,
      start: m.start,
      end: m.end,
    });
  }
  const startsOf = (alt: number): Set<number> =>
    new Set(analysis.targets.filter((t) => t.alt === alt).flatMap((t) => t.elements.filter((e) => e.data.length > 0).map((e) => e.address)));
  const { targets, splits } = splitAtBanks(result, opts.chip, startsOf);
  // Elements that now continue the one before them: contiguous data written as one element.
  for (const t of analysis.targets) {
    const out = targets.find((x) => x.alt === t.alt);
    if (out === undefined || out.kind !== 'internal-flash') continue;
    const starts = new Set(out.image.segments.map((s) => s.addr));
    const joined = t.elements.filter((e) => e.data.length > 0 && !starts.has(e.address) && out.image.byteAt(e.address - 1) !== undefined);
    const covered = new Set(repairs.filter((r) => r.action === 'merge' || r.action === 'pad').map((r) => r.end));
    for (const e of joined) {
      if (covered.has(e.address)) continue;
      repairs.push({
        code: 'DOCTOR_ELEMENTS_JOINED',
        action: 'merge',
        message: `joined the data at ${hex32(e.address)} to the element before it, which ends there`,
        alt: t.alt,
        start: e.address,
      });
    }
  }
  repairs.push(...splits);
  const encoded = encodeOutput({ ...result, targets }, opts.format, opts.output);
  const repairedCodes = new Set(repairs.map((r) => r.code));
  const unrepaired = [
    ...new Set(report.findings.filter((f) => f.severity !== 'info' && !(f.fixable && (repairedCodes.has(f.code) || STRUCTURE_REPAIRS[f.code] !== undefined || f.code.startsWith('LAYOUT_')))).map((f) => f.code)),
  ];
  return { bytes: encoded.bytes, ...(encoded.start !== undefined ? { start: encoded.start } : {}), repairs, unrepaired };
}

export interface FixOptions extends Omit<DoctorOptions, 'format' | 'address'> {
  /** Output path as it should appear in the report, and its format. */
  output: string;
  format: OutputFormat;
}

/**
 * Diagnosis + repair + diagnosis of the result: the report of the input with its `fix` section, and the bytes to
 * write. Throws DOCTOR_FIX_CONFLICT (exit 1) when the repair is not mechanical.
 */
export function doctorFix(bytes: Uint8Array, diagnosis: Diagnosis, opts: FixOptions): { report: DoctorReport; bytes: Uint8Array } {
  const file = diagnosis.report.file;
  const fixed = repairFile(bytes, diagnosis, { file, output: opts.output, format: opts.format, ...(opts.chip !== undefined ? { chip: opts.chip } : {}) });
  const after = diagnose(fixed.bytes, {
    file: opts.output,
    ...(opts.chip !== undefined ? { chip: opts.chip } : {}),
    ...(opts.dualCore === true ? { dualCore: true } : {}),
    ...(opts.findHeaders !== undefined ? { findHeaders: opts.findHeaders } : {}),
    ...(fixed.start !== undefined ? { address: fixed.start } : {}),
  }).report;
  const report: DoctorReport = {
    ...diagnosis.report,
    fix: {
      output: opts.output,
      format: opts.format,
      size: fixed.bytes.length,
      repairs: fixed.repairs,
      unrepaired: fixed.unrepaired,
      findings: after.findings,
      summary: summarize(after.findings),
    },
  };
  return { report, bytes: fixed.bytes };
}
