/**
 * `dfukit doctor`: every problem dfukit knows of in one firmware file for one chip. The file is read leniently
 * (every reader leniency on, later data winning where records overlap), and everything the strict reader would
 * reject becomes a finding, next to the file-format checks here and the image × chip checks of layout/check.ts.
 *
 * Pure: bytes in, report out. The CLI reads and writes files (cli/run/doctor.ts); `repairFile` (fix.ts) uses the
 * analysis kept here to rebuild the file.
 */
import { FwError } from '../core/errors.ts';
import { formatRange, formatSize, hex32, hexN } from '../core/format.ts';
import type { Note } from '../core/notes.ts';
import type { Range } from '../core/range.ts';
import { decodeFile, type AnyDecoded } from '../formats/decode.ts';
import { detectFormat, type Detection } from '../formats/detect.ts';
import { parseDfuse } from '../formats/dfuse-file.ts';
import { PT_LOAD, type ElfDecoded } from '../formats/elf.ts';
import { ALL_LENIENCIES, type FormatName } from '../formats/types.ts';
import { MemoryImage } from '../image/memory-image.ts';
import { checkImageDetailed, type CheckElement, type CheckTarget, type Diagnostic, type FilePosition } from '../layout/check.ts';
import type { ChipProfile } from '../layout/chip-types.ts';
import { classifyAddress, isInFlash } from '../layout/sectors.ts';
import { scanDfuse, type ScannedDfuse } from './dfuse-scan.ts';
import type { ChipRef, DoctorReport, Finding, Summary } from './report-schema.ts';

/** STM32 main flash starts here on every family: the address assumed for a raw binary or plain DFU payload. */
export const DEFAULT_LOAD_ADDRESS = 0x0800_0000;

export interface DoctorOptions {
  /** File name as the user gave it, for the report and messages. */
  file?: string;
  chip?: ChipProfile;
  /** Check both cores' images of a dual-core part even when the file holds only one. */
  dualCore?: boolean;
  /** Load address of a raw binary or plain DFU payload (`file.bin@0x08000000`); default 0x08000000, reported. */
  address?: number;
  /** Skip content detection. */
  format?: FormatName;
  /**
   * Finds A/B image headers in the flash image (`detectHeaders` of src/header, which doctor does not import:
   * the CLI passes it). Image starts with a header get no vector-table check.
   */
  findHeaders?: (image: MemoryImage) => readonly { address: number; layout: string }[];
}

/** One target of the input as doctor saw it: what --fix rebuilds from. */
export interface AnalyzedTarget {
  alt: number;
  name?: string;
  /** Elements in file order (DfuSe) or contiguous runs (other formats). */
  elements: { address: number; data: Uint8Array }[];
  image: MemoryImage;
}

export interface Analysis {
  format: FormatName;
  targets: AnalyzedTarget[];
  /** DfuSe/DFU suffix IDs, when the file has a suffix. */
  suffix?: { vid: number; pid: number; bcdDevice: number };
  /** Load address used for a raw binary or plain DFU payload. */
  address?: number;
  /** Element ranges of one alt that overlap with different bytes: --fix cannot choose between them. */
  conflicts: { alt: number; start: number; end: number }[];
}

export interface Diagnosis {
  report: DoctorReport;
  analysis: Analysis;
}

const SEVERITY_RANK: Record<string, number> = { error: 0, warning: 1, info: 2 };

/** Errors first, then warnings, then info; within each by address, then file offset. */
export function sortFindings<T extends Pick<Finding, 'severity' | 'start' | 'offset' | 'code'>>(f: readonly T[]): T[] {
  return [...f].sort(
    (a, b) =>
      SEVERITY_RANK[a.severity]! - SEVERITY_RANK[b.severity]! ||
      (a.start ?? -1) - (b.start ?? -1) ||
      (a.offset ?? -1) - (b.offset ?? -1) ||
      a.code.localeCompare(b.code),
  );
}

export function summarize(findings: readonly Finding[]): Summary {
  return {
    errors: findings.filter((f) => f.severity === 'error').length,
    warnings: findings.filter((f) => f.severity === 'warning').length,
    infos: findings.filter((f) => f.severity === 'info').length,
    fixable: findings.filter((f) => f.fixable).length,
  };
}

export function chipRef(chip: ChipProfile): ChipRef {
  return { profile: chip.profile, part: chip.displayName, flashSize: chip.flashSize, programUnit: chip.programUnit, bankMode: chip.bankMode };
}

function toFinding(d: Diagnostic): Finding {
  const cap = (x: string): string => (/^[a-z]+[A-Z]/.test(x) ? x : x.charAt(0).toUpperCase() + x.slice(1));
  const f: Finding = { severity: d.severity, code: d.code, message: cap(d.message), fix: cap(d.fix), fixable: d.fixable };
  for (const k of ['alt', 'offset', 'line', 'start', 'end', 'subject', 'sector', 'quirk', 'core', 'leniency'] as const) {
    const v = d[k];
    if (v !== undefined) (f as Record<string, unknown>)[k] = v;
  }
  return f;
}

export function diagnose(bytes: Uint8Array, opts: DoctorOptions = {}): Diagnosis {
  const detection: Detection = opts.format !== undefined ? { format: opts.format, reason: '--format' } : detectFormat(bytes);
  const chip = opts.chip;
  const out: Diagnostic[] = [];
  let analysis: Analysis;
  let targets: CheckTarget[];
  const reported: Range[] = [];

  if (detection.format === 'dfuse') {
    ({ analysis, targets } = analyzeDfuse(bytes, opts, out));
  } else {
    const needsAddress = detection.format === 'bin' || detection.format === 'dfu';
    const address = needsAddress ? (opts.address ?? DEFAULT_LOAD_ADDRESS) : undefined;
    if (needsAddress && opts.address === undefined) {
      out.push({
        severity: 'info',
        code: 'DOCTOR_ADDRESS_ASSUMED',
        message: `A ${detection.format === 'bin' ? 'raw binary' : 'plain DFU file'} has no load address; it is checked as placed at ${hex32(DEFAULT_LOAD_ADDRESS)}, the start of STM32 flash.`,
        fix: `Give the address it is flashed to (what you pass to \`dfu-util -s\`), e.g. ${opts.file ?? 'FILE'}@0x08020000.`,
        fixable: false,
        start: DEFAULT_LOAD_ADDRESS,
      });
    }
    let decoded: AnyDecoded;
    try {
      decoded = decodeFile(bytes, {
        format: detection.format,
        lenient: [ALL_LENIENCIES],
        overwrite: true,
        ...(opts.file !== undefined ? { file: opts.file } : {}),
        ...(address !== undefined ? { address } : {}),
      }).decoded;
    } catch (e) {
      throw e instanceof FwError && opts.file !== undefined ? e.withFile(opts.file) : e;
    }
    for (const n of decoded.notes) {
      const d = noteFinding(n);
      if (d !== undefined) out.push(d);
    }
    const image = decoded.targets[0]?.image ?? new MemoryImage();
    const runs = image.runs();
    const elements: CheckElement[] = runs.map((r, i) => ({ label: runs.length === 1 ? 'data' : `run ${i}`, address: r.addr, size: r.data.length }));
    let locate: (a: number) => FilePosition;
    if (decoded.format === 'elf') {
      const elf = decoded as ElfDecoded;
      // Name each run by the sections it holds: "run 1 (.data)".
      elements.forEach((e, i) => {
        const names = elf.loads.filter((l) => l.size > 0 && l.lma >= e.address && l.lma < e.address + e.size).map((l) => l.name);
        if (names.length > 0) e.label = `${runs.length === 1 ? 'data' : `run ${i}`} (${names.length <= 3 ? names.join(', ') : `${names.slice(0, 2).join(', ')}, ... ${names[names.length - 1]}`})`;
      });
      locate = (a) => {
        const l = elf.loads.find((x) => a >= x.lma && a < x.lma + x.size);
        return l === undefined ? {} : { offset: l.offset + (a - l.lma) };
      };
      reported.push(...checkElf(elf, chip, out));
    } else if (decoded.format === 'ihex' || decoded.format === 'srec') {
      locate = (a) => {
        const s = image.segments.find((x) => x.addr === a);
        const m = s?.source === undefined ? null : /lines? (\d+)/.exec(s.source);
        return m === null || m === undefined ? {} : { line: Number(m[1]) };
      };
    } else {
      const base = address ?? 0;
      locate = (a) => (a >= base && a < base + image.size ? { offset: a - base } : {});
    }
    targets = [{ alt: 0, label: '', image, elements, kind: 'run', locate }];
    // Records or sections that write different bytes to one address: --fix cannot choose between them.
    const conflicts = decoded.notes
      .filter((n) => n.location.address !== undefined && (n.code === 'ELF_LOAD_OVERWRITTEN' || (/_OVERLAP$/.test(n.code) && / different /.test(n.message))))
      .map((n) => ({ alt: 0, start: n.location.address!, end: n.location.address! + 1 }));
    analysis = {
      format: detection.format,
      targets: [{ alt: 0, elements: runs.map((r) => ({ address: r.addr, data: r.data })), image }],
      conflicts,
      ...(address !== undefined ? { address } : {}),
    };
    if (decoded.format === 'dfu') {
      const s = decoded.suffix;
      analysis.suffix = { vid: s.idVendor, pid: s.idProduct, bcdDevice: s.bcdDevice };
    }
  }

  // A/B headers at image starts: the vector table is behind them.
  const headers = new Map<number, string>();
  for (const t of opts.findHeaders === undefined ? [] : targets) {
    if (t.alt !== 0 || t.image.isEmpty) continue;
    try {
      for (const h of opts.findHeaders!(t.image)) headers.set(h.address, h.layout);
    } catch {
      // An image that confuses header detection is simply not an A/B image.
    }
  }
  const checked = checkImageDetailed(targets, chip, { ...(opts.dualCore === true ? { dualCore: true } : {}), headers, reported });
  out.push(...checked.diagnostics);
  if (opts.dualCore === true && chip !== undefined && chip.cores.length < 2) {
    out.push({
      severity: 'info',
      code: 'DOCTOR_CHIP_NOTE',
      message: `--dual-core has no effect: ${chip.displayName} has one core.`,
      fix: 'Drop --dual-core, or name the dual-core part (stm32h745, stm32h747...).',
      fixable: false,
    });
  }

  if (chip === undefined) {
    out.push({
      severity: 'info',
      code: 'DOCTOR_NO_CHIP',
      message: 'No chip given: flash words, erase sectors, banks, RAM regions and ROM quirks were not checked.',
      fix: 'Name the part: --chip stm32h743 (see `dfukit chips`).',
      fixable: false,
    });
  } else {
    for (const w of chip.warnings) {
      out.push({ severity: 'info', code: 'DOCTOR_CHIP_NOTE', message: w, fix: 'Check the part number given to --chip.', fixable: false });
    }
    if (analysis.suffix !== undefined) checkSuffixIds(analysis.suffix, chip, bytes.length, out);
  }

  const findings = sortFindings(out.map(toFinding));
  const report: DoctorReport = {
    file: opts.file ?? '(bytes)',
    format: detection.format,
    detectedBy: detection.reason,
    dualCore: checked.dualCore,
    findings,
    summary: summarize(findings),
  };
  if (chip !== undefined) report.chip = chipRef(chip);
  if (analysis.address !== undefined) report.address = analysis.address;
  return { report, analysis };
}

// ---------------------------------------------------------------------------------------------------------
// DfuSe.

function analyzeDfuse(bytes: Uint8Array, opts: DoctorOptions, out: Diagnostic[]): { analysis: Analysis; targets: CheckTarget[] } {
  let scan: ScannedDfuse;
  try {
    scan = scanDfuse(bytes, opts.file);
  } catch (e) {
    throw e instanceof FwError && opts.file !== undefined ? e.withFile(opts.file) : e;
  }
  out.push(...scan.findings);
  // The strict reader with every leniency: each leniency it needed must be one of the findings above.
  try {
    const parsed = parseDfuse(bytes, { lenient: [ALL_LENIENCIES], ...(opts.file !== undefined ? { file: opts.file } : {}) });
    for (const n of parsed.notes) {
      if (n.leniency === undefined || scan.findings.some((f) => f.code === n.code)) continue;
      const d = noteFinding(n);
      if (d !== undefined) out.push(d);
    }
  } catch {
    // Structural faults the lenient reader still refuses: the scan has reported them.
  }

  const conflicts: Analysis['conflicts'] = [];
  const targets: CheckTarget[] = [];
  const analyzed: AnalyzedTarget[] = [];
  for (const t of scan.targets) {
    const label = `target ${t.index}`;
    const image = new MemoryImage();
    for (const e of t.elements) image.add(e.address, e.data, `${label} element ${e.index}`, { overwrite: true });
    // Order: dfu-util erases as it goes and remembers only the last page it erased.
    for (let i = 1; i < t.elements.length; i++) {
      const e = t.elements[i]!;
      const prev = t.elements.slice(0, i).reduce((m, x) => (x.address > m.address ? x : m));
      if (e.size === 0 || e.address >= prev.address) continue;
      out.push({
        severity: 'error',
        code: 'DFUSE_ELEMENTS_UNSORTED',
        message:
          `${label} element ${e.index} (${hex32(e.address)}) comes after element ${prev.index} (${hex32(prev.address)}) in the file. ` +
          'dfu-util erases page by page as it writes and remembers only the last page erased, so it can erase again a page an earlier element wrote.',
        fix: 'Write the elements in address order; --fix does.',
        fixable: true,
        alt: t.alt,
        offset: e.offset,
        start: e.address,
        end: e.address + e.size,
        subject: `${label} element ${e.index}`,
      });
    }
    // Overlap, within the target and with earlier targets of the same alt.
    const sameAlt = scan.targets.filter((x) => x.alt === t.alt && x.index <= t.index);
    const earlier = sameAlt.flatMap((x) => x.elements.map((e) => ({ t: x, e }))).filter((p) => p.e.size > 0);
    for (const { e } of earlier.filter((p) => p.t === t)) {
      for (const { t: ot, e: o } of earlier) {
        if (o === e || (ot === t && o.offset >= e.offset)) continue;
        const lo = Math.max(e.address, o.address);
        const hi = Math.min(e.address + e.size, o.address + o.size);
        if (lo >= hi) continue;
        const a = e.data.subarray(lo - e.address, hi - e.address);
        const b = o.data.subarray(lo - o.address, hi - o.address);
        const same = a.every((x, i) => x === b[i]);
        if (!same) conflicts.push({ alt: t.alt, start: lo, end: hi });
        const other = `${ot === t ? '' : `target ${ot.index} `}element ${o.index}`;
        out.push({
          severity: 'error',
          code: 'DFUSE_ELEMENT_OVERLAP',
          message:
            `${label} element ${e.index} (${formatRange(e.address, e.address + e.size)}) overlaps ${other} (${formatRange(o.address, o.address + o.size)}) ` +
            `at ${formatRange(lo, hi)}, with ${same ? 'the same' : 'different'} bytes: flash cannot be written twice without an erase, so the second write fails or leaves a mix.`,
          fix: same ? 'Keep the bytes once; --fix does.' : 'Rebuild the file from the firmware: which of the two is meant cannot be told from the file.',
          fixable: same,
          alt: t.alt,
          offset: e.offset,
          start: lo,
          end: hi,
          subject: `${label} element ${e.index}`,
        });
      }
    }
    const elements: CheckElement[] = t.elements.map((e) => ({ label: `element ${e.index}`, address: e.address, size: e.size, headerOffset: e.offset }));
    const locate = (a: number): FilePosition => {
      for (let i = t.elements.length - 1; i >= 0; i--) {
        const e = t.elements[i]!;
        if (a >= e.address && a < e.address + e.size) return { offset: e.offset + 8 + (a - e.address) };
      }
      return {};
    };
    targets.push({ alt: t.alt, label: scan.targets.length > 1 || t.index > 0 ? label : 'target 0', image, elements, kind: 'element', locate });
    const at: AnalyzedTarget = { alt: t.alt, elements: t.elements.map((e) => ({ address: e.address, data: e.data })), image };
    if (t.name !== undefined) at.name = t.name;
    analyzed.push(at);
  }
  const analysis: Analysis = { format: 'dfuse', targets: analyzed, conflicts };
  if (scan.suffix !== undefined) analysis.suffix = { vid: scan.suffix.idVendor, pid: scan.suffix.idProduct, bcdDevice: scan.suffix.bcdDevice };
  return { analysis, targets };
}

/** dfu-util refuses a file whose VID/PID match neither the device nor the 0xFFFF wildcard. */
function checkSuffixIds(s: { vid: number; pid: number; bcdDevice: number }, chip: ChipProfile, size: number, out: Diagnostic[]): void {
  const vidOk = s.vid === 0xffff || s.vid === chip.dfu.usbVid;
  const pidOk = s.pid === 0xffff || s.pid === chip.dfu.usbPid;
  if (vidOk && pidOk) return;
  const ids = `${hexN(s.vid, 4).slice(2)}:${hexN(s.pid, 4).slice(2)}`;
  const rom = `${hexN(chip.dfu.usbVid, 4).slice(2)}:${hexN(chip.dfu.usbPid, 4).slice(2)}`;
  out.push({
    severity: 'warning',
    code: 'DFUSE_SUFFIX_IDS',
    message:
      `The suffix names USB device ${ids}, which is neither the ${chip.displayName} ROM bootloader (${rom}) nor the ffff wildcard: ` +
`\`dfu-util -d ${rom.toLowerCase()}\` refuses it ("File ID ${ids} does not match device"); without -d, dfu-util takes the file's IDs for the device's and goes ahead. ` +
      'Fine if the file is meant for a custom bootloader with that ID.',
    fix: `For the ROM bootloader, rewrite the IDs: dfukit convert FILE --vid 0x${rom.slice(0, 4)} --pid 0x${rom.slice(5)} -o out.dfu.`,
    fixable: false,
    offset: size - 12,
  });
}

// ---------------------------------------------------------------------------------------------------------
// Reader notes and ELF specifics.

/** Severity and fix for reader notes doctor passes on; the reader's message is kept. */
const NOTE_POLICY: Record<string, { severity?: Diagnostic['severity']; fix: string; fixable?: boolean } | null> = {
  // Superseded by doctor's own checks.
  DFUSE_ELEMENTS_UNSORTED: null,
  DFUSE_ELEMENT_OVERWRITE: null,
  DFU_NO_ADDRESS: null,
  DFU_SUFFIX_CRC: { severity: 'error', fix: 'Get a fresh copy if the file may be damaged; if it was edited on purpose, rewrite the suffix (dfu-suffix -D then -a).' },
  DFU_BCD_DFUSE_WITHOUT_PREFIX: { fix: 'Write the suffix with bcdDFU 0x0100 for a raw download, or convert to DfuSe: dfukit convert FILE@ADDR -o out.dfu.' },
  DFU_SUFFIX_EXTRA: { fix: 'Nothing needed for fwupd; other tools ignore the extra suffix bytes.' },
  DFU_EMPTY_PAYLOAD: { fix: 'Rebuild the file: it holds no firmware.' },
  BIN_EMPTY: { severity: 'error', fix: 'The file holds no firmware: rebuild it.' },
  BIN_HAS_DFU_SUFFIX: { fix: 'Strip the suffix (dfu-suffix -D) before flashing it raw, or read the file as DFU.' },
  IHEX_MISSING_EOF: { fix: 'Check that the file is complete; a generator that stopped early leaves no end-of-file record.' },
  IHEX_DATA_AFTER_EOF: { fix: 'Remove everything after the end-of-file record (":00000001FF"), or find out why it is there.' },
  IHEX_SEGMENT_WRAP: { severity: 'error', fix: 'Regenerate the file with extended linear address records (type 04), as objcopy writes them.' },
  IHEX_START_DUPLICATE: { fix: 'Keep one start-address record.' },
  IHEX_OVERLAP: { fix: 'Rebuild the file: two records write the same addresses.' },
  SREC_MISSING_EOF: { fix: 'Check that the file is complete.' },
  SREC_DATA_AFTER_EOF: { fix: 'Remove everything after the termination record.' },
  SREC_COUNT_MISMATCH: { fix: 'Regenerate the file; the S5/S6 record count disagrees with the data records.' },
  SREC_OVERLAP: { fix: 'Rebuild the file: two records write the same addresses.' },
  SREC_NO_TERMINATION: { fix: 'Check that the file is complete.' },
  ELF_LOAD_OVERWRITTEN: { severity: 'error', fix: 'Fix the linker script: two sections load at the same address.' },
  ELF_LMA_MISALIGNED: { fix: 'Align the load address in the linker script (`. = ALIGN(8);` before the section, or `ALIGN_WITH_INPUT`).' },
  ELF_SECTION_OUTSIDE_SEGMENTS: { fix: 'Check the linker script: give the section a PT_LOAD segment (or mark it NOLOAD) so every tool writes the same bytes.' },
  ELF_SEGMENT_PADDING: { fix: 'Nothing needed; dfukit writes the sections, as objcopy does.' },
  ELF_PADDR_ZERO: { fix: 'Check the linker script: load addresses (AT>) were lost.' },
  ELF_MACHINE_NONE: { fix: 'Nothing needed for a test file; a real firmware ELF names its machine (EM_ARM).' },
};

function noteFinding(n: Note): Diagnostic | undefined {
  const policy = NOTE_POLICY[n.code];
  if (policy === null) return undefined;
  let severity = policy?.severity ?? n.severity;
  if ((n.code === 'IHEX_OVERLAP' || n.code === 'SREC_OVERLAP') && / different /.test(n.message)) severity = 'error';
  const message = n.message.charAt(0).toUpperCase() + n.message.slice(1) + (/[.!]$/.test(n.message) ? '' : '.');
  const d: Diagnostic = {
    severity,
    code: n.code,
    message: n.leniency !== undefined ? `${message} The strict reader rejects this (leniency '${n.leniency}').` : message,
    fix: policy?.fix ?? 'See `dfukit inspect` for the details.',
    fixable: policy?.fixable ?? false,
  };
  if (n.location.offset !== undefined) d.offset = n.location.offset;
  if (n.location.line !== undefined) d.line = n.location.line;
  if (n.location.address !== undefined) d.start = n.location.address;
  if (n.leniency !== undefined) d.leniency = n.leniency;
  return d;
}

/** ELF sections loaded at RAM addresses and empty segments in flash. Returns the RAM ranges reported. */
function checkElf(elf: ElfDecoded, chip: ChipProfile | undefined, out: Diagnostic[]): Range[] {
  const reported: Range[] = [];
  const ramOf = (a: number): string | undefined => {
    if (chip !== undefined) {
      const k = classifyAddress(chip, a);
      return k.kind === 'ram' ? `${k.name} RAM` : undefined;
    }
    return a >= 0x2000_0000 && a < 0x4000_0000 ? 'the Cortex-M SRAM region' : undefined;
  };
  for (const l of elf.loads) {
    if (l.size === 0) continue;
    const ram = ramOf(l.lma);
    if (ram === undefined) continue;
    const what = l.kind === 'section' ? `section ${l.name}` : l.name;
    reported.push({ start: l.lma, end: l.lma + l.size });
    out.push({
      severity: 'error',
      code: 'ELF_LOAD_IN_RAM',
      message:
        `${what} (${formatSize(l.size)} bytes) is loaded at ${hex32(l.lma)}, in ${ram}` +
        (l.lma === l.vma ? ', its run address: the linker script gives it no load address in flash' : '') +
        '. A flash tool cannot keep RAM contents, so its initial values never reach the part (and `objcopy -O binary` makes a file hundreds of MiB long).',
      fix: `Store it in flash and copy it at start-up: \`${l.name.startsWith('.') ? l.name : '.data'} : { ... } > RAM AT> FLASH\` in the linker script.`,
      fixable: false,
      offset: l.offset,
      start: l.lma,
      end: l.lma + l.size,
      subject: what,
    });
  }
  const inFlash = (a: number): boolean => (chip !== undefined ? isInFlash(chip, a) : a >= 0x0800_0000 && a < 0x1000_0000);
  const empty = elf.elf.segments.filter((p) => p.type === PT_LOAD && p.filesz === 0 && p.memsz !== 0 && inFlash(p.paddr));
  if (empty.length > 0) {
    const first = empty[0]!;
    const list = empty.map((p) => `${p.index} (${formatSize(p.memsz)} bytes at ${hex32(p.vaddr)}, load address ${hex32(p.paddr)})`);
    out.push({
      severity: 'info',
      code: 'ELF_EMPTY_SEGMENT',
      message:
        `${empty.length === 1 ? 'Program header' : 'Program headers'} ${list.join(', ')} ${empty.length === 1 ? 'is a PT_LOAD' : 'are PT_LOADs'} with a load address in flash but no bytes in the file: ` +
        'zero-initialised memory (.bss and the like), for which nothing is written to flash.',
      fix: 'Nothing needed; dfukit and objcopy write no data for them. A loader that follows program headers may reserve or erase that flash.',
      fixable: false,
      start: first.paddr,
      subject: empty.length === 1 ? `segment ${first.index}` : `segments ${empty.map((p) => p.index).join(', ')}`,
    });
  }
  return reported;
}

