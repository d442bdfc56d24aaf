/**
 * Image × chip → diagnostics (DESIGN.md "layout/check"): what about a memory image and the way its bytes are
 * cut into elements will go wrong on a given STM32, said in a sentence or two, with where it is and what fixes it.
 * `dfukit doctor` runs these after reading a file; file-format checks (suffix, counts, ELF sections) live in
 * src/doctor, which may import the readers, while this module sees only MemoryImages and element boundaries.
 *
 * Elements come in two kinds:
 * - `element`: DfuSe elements, which a flasher sends to the ROM exactly as they are;
 * - `run`: contiguous data of a HEX, ELF or BIN, which only becomes elements when converted. A converter that
 *   keeps run boundaries (ST's DfuFileMgr) produces the same faults, a padding one (`dfukit convert`,
 *   STM32CubeProgrammer) does not, so boundary findings on runs are one severity lower.
 *
 * Flash geometry, RAM regions, DFU alts, cores and ROM quirks all come from the chip profile (schemas/chips);
 * nothing here names a part. Without a chip only what holds for every Cortex-M is checked.
 */
import { formatRange, formatSize, hex32, hexN } from '../core/format.ts';
import { unionRanges, type Range } from '../core/range.ts';
import { MemoryImage } from '../image/memory-image.ts';
import type { CoreInfo, Quirk, RamRegion } from './chip-schema.ts';
import type { ChipProfile, FlashSector } from './chip-types.ts';
import { altForAddress, bankOf, classifyAddress, flashRegionFor, isInFlash, sectorAt } from './sectors.ts';

export type Severity = 'error' | 'warning' | 'info';

export const SEVERITIES: readonly Severity[] = ['error', 'warning', 'info'];

/** One finding. `code` is stable and shares the namespace of FwError codes (area prefix: LAYOUT_, DFUSE_, ELF_...). */
export interface Diagnostic {
  severity: Severity;
  code: string;
  /** One or two plain sentences: what is wrong and what it does on the device. */
  message: string;
  /** What to do about it. */
  fix: string;
  /** `dfukit doctor --fix` repairs it mechanically. */
  fixable: boolean;
  /** DFU alternate setting of the target concerned. */
  alt?: number;
  /** File offset of the first byte concerned, when known. */
  offset?: number;
  /** 1-based line (text formats), when known. */
  line?: number;
  /** Flash (or memory) address range concerned, half-open. */
  start?: number;
  end?: number;
  /** What in the file: `target 0 element 1`, `section .data`, `run 2`. */
  subject?: string;
  /** Erase sector named by the finding (`bank 1 sector 0`). */
  sector?: string;
  /** Chip-profile quirk behind the finding. */
  quirk?: string;
  /** Core the finding is about (`cm4`). */
  core?: string;
  /** The reader leniency that let the file be read, when the finding comes from one. */
  leniency?: string;
}

export interface CheckElement {
  /** `element 1`, `run 2`: the subject of findings about it. */
  label: string;
  address: number;
  size: number;
  /** File offset of the element header (DfuSe dwElementAddress). */
  headerOffset?: number;
}

/** Where a byte at `address` sits in the file. */
export interface FilePosition {
  offset?: number;
  line?: number;
}

export interface CheckTarget {
  alt: number;
  /** `target 0`, or '' for formats without targets: prefixed to element labels. */
  label: string;
  /** The target's data, overlaps already resolved (later elements win). */
  image: MemoryImage;
  /** Elements in file order (DfuSe) or runs in address order. */
  elements: readonly CheckElement[];
  kind: 'element' | 'run';
  /** File position of the byte at `address`, when the format knows it. */
  locate?: (address: number) => FilePosition;
}

export interface CheckOptions {
  /** Check both cores' images of a dual-core part even when the file holds only one (`--dual-core`). */
  dualCore?: boolean;
  /** Image starts that begin with a known A/B header (layout name): their vector-table checks are skipped. */
  headers?: ReadonlyMap<number, string>;
  /** Address ranges already reported by a more specific finding (ELF sections in RAM): not reported as outside flash. */
  reported?: readonly Range[];
}

/** Every address range of the Cortex-M "SRAM" region (ARMv7-M B3.1): where any stack lives without a chip profile. */
const CORTEX_M_SRAM: Range = { start: 0x2000_0000, end: 0x4000_0000 };
/** CCM/D2-alias RAM at 0x10000000 on many STM32s: accepted for the stack without a chip profile. */
const CORTEX_M_LOW_RAM: Range = { start: 0x1000_0000, end: 0x2000_0000 };
/** The STM32 main-flash window, for checks without a chip. */
const STM32_FLASH_WINDOW: Range = { start: 0x0800_0000, end: 0x1000_0000 };

const ERASED_WORD = 0xffffffff;

/** User-facing symptoms of known ROM quirks, by quirk id: what a user sees in their flashing tool. */
const QUIRK_SYMPTOMS: Record<string, string> = {
  'h7-revV-bank2-erase-hang':
    'on these (Rev V silicon) ROMs the erase never reports done, and dfu-util, DfuSe Demo and STM32CubeProgrammer before 2.2.1 repeat "Poll timeout 1000 ms" and stop',
  'f76x-bl93-bank2-erase-offset': 'the ROM erases sector i+4 instead of sector i, so other data is lost and verify fails',
  'f42x-dfu-bank2-erase-broken': 'the erase does nothing, and the write then fails or verify finds old data',
};

function lower(s: Severity): Severity {
  return s === 'error' ? 'warning' : 'info';
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function uncap(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

function kib(n: number): string {
  return n % 1024 === 0 ? `${n / 1024} KiB` : `${n} bytes`;
}

function rangeList(ranges: readonly Range[], max = 3): string {
  const shown = ranges.slice(0, max).map((r) => formatRange(r.start, r.end)).join(', ');
  return ranges.length > max ? `${shown} and ${ranges.length - max} more` : shown;
}

function sectorName(s: FlashSector): string {
  return `bank ${s.bank} sector ${s.sector}`;
}

function inRange(addr: number, r: Range): boolean {
  return addr >= r.start && addr < r.end;
}

/** The image ranges minus `cut`. */
function subtract(ranges: readonly Range[], cut: readonly Range[]): Range[] {
  let out: Range[] = [...ranges];
  for (const c of cut) {
    const next: Range[] = [];
    for (const r of out) {
      if (c.end <= r.start || c.start >= r.end) next.push(r);
      else {
        if (r.start < c.start) next.push({ start: r.start, end: c.start });
        if (c.end < r.end) next.push({ start: c.end, end: r.end });
      }
    }
    out = next;
  }
  return out;
}

class Collector {
  readonly out: Diagnostic[] = [];
  add(d: Diagnostic): void {
    this.out.push(d);
  }
}

function position(t: CheckTarget, address: number): FilePosition {
  return t.locate?.(address) ?? {};
}

function subjectOf(t: CheckTarget, e: CheckElement): string {
  return t.label === '' ? e.label : `${t.label} ${e.label}`;
}

function where(t: CheckTarget, address: number): Pick<Diagnostic, 'offset' | 'line'> {
  const p = position(t, address);
  return { ...(p.offset !== undefined ? { offset: p.offset } : {}), ...(p.line !== undefined ? { line: p.line } : {}) };
}

/** Whether the alt is internal flash: by the profile's alt list, or alt 0 without a chip. */
function isFlashAlt(chip: ChipProfile | undefined, alt: number): boolean {
  if (chip === undefined) return alt === 0;
  return chip.dfu.alts.some((a) => a.alt === alt && a.kind === 'flash');
}

function ramFor(chip: ChipProfile, core: CoreInfo | undefined): RamRegion[] {
  return chip.ram.filter((r) => r.cores === undefined || core === undefined || r.cores.includes(core.name));
}

/** A stack pointer is valid anywhere in a RAM region or exactly at its end (a full-descending stack starts there). */
function stackOk(sp: number, chip: ChipProfile | undefined, core: CoreInfo | undefined): boolean {
  if (chip === undefined) return (sp > CORTEX_M_SRAM.start && sp <= CORTEX_M_SRAM.end) || (sp > CORTEX_M_LOW_RAM.start && sp <= CORTEX_M_LOW_RAM.end);
  return ramFor(chip, core).some((r) => sp > r.start && sp <= r.start + r.size);
}

function ramName(addr: number, chip: ChipProfile | undefined): string | undefined {
  if (chip === undefined) return inRange(addr, CORTEX_M_SRAM) ? 'the Cortex-M SRAM region' : undefined;
  const r = chip.ram.find((x) => addr >= x.start && addr < x.start + x.size);
  return r === undefined ? undefined : `${r.name} RAM`;
}

export function checkImage(targets: readonly CheckTarget[], chip: ChipProfile | undefined, opts: CheckOptions = {}): Diagnostic[] {
  return checkImageDetailed(targets, chip, opts).diagnostics;
}

/** `checkImage`, and whether both cores' images were checked (asked for, or found in the file). */
export function checkImageDetailed(
  targets: readonly CheckTarget[],
  chip: ChipProfile | undefined,
  opts: CheckOptions = {},
): { diagnostics: Diagnostic[]; dualCore: boolean } {
  const c = new Collector();
  const flashTargets = targets.filter((t) => isFlashAlt(chip, t.alt));
  for (const t of targets) checkPlacement(c, t, chip, opts);
  for (const t of flashTargets) {
    if (chip !== undefined) {
      checkBoundaries(c, t, chip);
      checkSharedSectors(c, t, chip);
    }
  }
  if (chip !== undefined) {
    checkQuirkRanges(c, flashTargets, chip);
    checkSectorGaps(c, flashTargets, chip);
  }
  const dualCore = checkImages(c, flashTargets, chip, opts);
  return { diagnostics: c.out, dualCore };
}

// ---------------------------------------------------------------------------------------------------------
// Where the data lies: flash of the alt, another memory, RAM, nothing.

function checkPlacement(c: Collector, t: CheckTarget, chip: ChipProfile | undefined, opts: CheckOptions): void {
  const ranges = subtract(t.image.ranges(), opts.reported ?? []);
  const tl = t.label === '' ? '' : `${t.label} `;
  if (chip === undefined) {
    if (t.alt !== 0) return;
    for (const r of ranges) {
      if (r.start >= CORTEX_M_SRAM.end || r.end <= CORTEX_M_SRAM.start) continue;
      const s = Math.max(r.start, CORTEX_M_SRAM.start);
      const e = Math.min(r.end, CORTEX_M_SRAM.end);
      c.add({
        severity: 'error',
        code: 'LAYOUT_OUTSIDE_FLASH',
        message:
          `${formatSize(e - s)} bytes at ${formatRange(s, e)} lie in the Cortex-M SRAM region, not in flash: a flash tool cannot keep them there. ` +
          'RAM data in a flash image usually means a section without a load address in flash (AT> FLASH) in the linker script.',
        fix: 'Give the section a load address in flash in the linker script (`> RAM AT> FLASH`) and copy it in the start-up code; or drop it from the image.',
        fixable: false,
        alt: t.alt,
        start: s,
        end: e,
        ...where(t, s),
      });
    }
    return;
  }

  const region = flashRegionFor(chip, t.alt);
  if (region === undefined) {
    const alts = chip.dfu.alts.map((a) => `${a.alt} (${flashRegionFor(chip, a.alt)!.layout.name})`).join(', ');
    c.add({
      severity: 'error',
      code: 'LAYOUT_ALT_UNKNOWN',
      message:
        `${tl}is for DFU alternate setting ${t.alt}, but the ${chip.displayName} ROM bootloader offers alt ${alts}. ` +
        'dfu-util skips such a target with a warning, so its data is never written.',
      fix: 'Put the data into the target of the alt that serves its addresses (`dfukit convert --alt ALT:FILE`), or drop the target.',
      fixable: false,
      alt: t.alt,
      ...(t.image.start !== undefined ? { start: t.image.start, end: t.image.end! } : {}),
      ...(t.label !== '' ? { subject: t.label } : {}),
    });
    return;
  }

  if (region.kind === 'flash') {
    const flash = unionRanges(chip.banks.map((b) => ({ start: b.start, end: b.end })));
    for (const r of subtract(ranges, flash)) {
      const what = classifyAddress(chip, r.start);
      const owner = altForAddress(chip, r.start);
      const size = `${formatSize(r.end - r.start)} bytes at ${formatRange(r.start, r.end)}`;
      if ((what.kind === 'option-bytes' || what.kind === 'otp' || what.kind === 'device-feature') && owner !== undefined && owner !== t.alt) {
        c.add({
          severity: 'error',
          code: 'LAYOUT_WRONG_ALT',
          message:
            `${size} are in ${what.name}, which the ROM serves on alt ${owner}, not through the flash target (alt ${t.alt}). ` +
            'Sent to alt 0 the ROM refuses the address ("Last page ... is not writeable" in dfu-util) or writes nothing.',
          fix: `Move this data into a separate target for alt ${owner} (\`dfukit convert --alt ${owner}:FILE\`), and only if you mean to change ${what.name}.`,
          fixable: false,
          alt: t.alt,
          start: r.start,
          end: r.end,
          ...where(t, r.start),
        });
        continue;
      }
      let why: string;
      let fix: string;
      if (what.kind === 'ram') {
        why = `in ${what.name} RAM, not flash: RAM data in a flash image usually means a section without a load address in flash (AT> FLASH) in the linker script`;
        fix = 'Give the section a load address in flash (`> RAM AT> FLASH`) and copy it in the start-up code; or drop it from the image.';
      } else if (what.kind === 'flash-alias') {
        const m = chip.memories.find((x) => r.start >= x.start && r.start < x.start + x.size);
        const target = m?.aliasOf !== undefined ? hex32(m.aliasOf + (r.start - m.start)) : 'the flash address';
        why = `in ${what.name}, an alias of flash that DFU cannot write`;
        fix = `Link or place the image at its flash address (${target}), which the ROM writes.`;
      } else if (what.kind === 'system-memory') {
        why = `in ${what.name}, which is read-only`;
        fix = 'Drop this data from the image: the ROM bootloader cannot be overwritten.';
      } else {
        const banks = flash.map((f) => formatRange(f.start, f.end)).join(', ');
        why = `outside the flash of ${chip.displayName} (${banks})`;
        fix = `Check the address the file was built or placed for; ${chip.displayName} has ${kib(chip.flashSize)} of flash (use --flash-size if the part has more).`;
      }
      c.add({
        severity: 'error',
        code: 'LAYOUT_OUTSIDE_FLASH',
        message: `${size} are ${why}. The ROM refuses to write them through alt ${t.alt} ("Last page at ... is not writeable" in dfu-util).`,
        fix,
        fixable: false,
        alt: t.alt,
        start: r.start,
        end: r.end,
        ...where(t, r.start),
      });
    }
    // Read-only segments of the ROM's own map (custom bootloaders report some).
    for (const r of ranges) {
      for (const s of region.layout.segments) {
        const lo = Math.max(r.start, s.start);
        const hi = Math.min(r.end, s.end);
        if (lo < hi && !s.writable) {
          c.add({
            severity: 'error',
            code: 'LAYOUT_NOT_WRITABLE',
            message: `${formatSize(hi - lo)} bytes at ${formatRange(lo, hi)} fall in a part of alt ${t.alt} that the ROM reports as not writable (type '${s.type}').`,
            fix: 'Remove this data from the image, or write it by other means (SWD).',
            fixable: false,
            alt: t.alt,
            start: lo,
            end: hi,
            ...where(t, lo),
          });
        }
      }
    }
    return;
  }

  // Option bytes, OTP, device feature: data must lie in the alt's own map and be writable there.
  for (const r of ranges) {
    let at = r.start;
    for (const s of [...region.layout.segments].sort((a, b) => a.start - b.start)) {
      if (s.end <= at || s.start >= r.end) continue;
      if (s.start > at) pushOutsideAlt(c, t, region.layout.name, at, s.start);
      const lo = Math.max(at, s.start);
      const hi = Math.min(r.end, s.end);
      if (!s.writable) {
        c.add({
          severity: 'error',
          code: 'LAYOUT_NOT_WRITABLE',
          message: `${formatSize(hi - lo)} bytes at ${formatRange(lo, hi)} fall in a part of alt ${t.alt} (${region.layout.name}) that the ROM reports as not writable (type '${s.type}').`,
          fix: 'Remove this data from the target.',
          fixable: false,
          alt: t.alt,
          start: lo,
          end: hi,
          ...where(t, lo),
        });
      }
      at = hi;
    }
    if (at < r.end) pushOutsideAlt(c, t, region.layout.name, at, r.end);
  }
}

function pushOutsideAlt(c: Collector, t: CheckTarget, name: string, start: number, end: number): void {
  c.add({
    severity: 'error',
    code: 'LAYOUT_OUTSIDE_FLASH',
    message: `${formatSize(end - start)} bytes at ${formatRange(start, end)} lie outside the memory of alt ${t.alt} (${name}): the ROM refuses the address.`,
    fix: 'Check the target\'s alternate setting and the data\'s address.',
    fixable: false,
    alt: t.alt,
    start,
    end,
    ...where(t, start),
  });
}

// ---------------------------------------------------------------------------------------------------------
// Element boundaries: flash words, sectors, banks.

function checkBoundaries(c: Collector, t: CheckTarget, chip: ChipProfile): void {
  const unit = chip.programUnit;
  const writeAlign = chip.bootloaderWriteAlignment;
  const fill = hexN(chip.erasedValue, 2);
  const run = t.kind === 'run';
  const sorted = [...t.elements].filter((e) => e.size > 0).sort((a, b) => a.address - b.address);
  const noun = run ? 'run' : 'element';
  /** For runs, when the fault happens: only once the run is an element of its own. */
  const converted = (text: string): string => (run ? `Converted run by run into DfuSe elements (as ST's DfuFileMgr does), ${uncap(text)}` : cap(text));
  for (const e of t.elements) {
    if (e.size === 0 || !isInFlash(chip, e.address)) continue;
    const end = e.address + e.size;
    const subject = subjectOf(t, e);
    const word = e.address - (e.address % unit);
    if (e.address % unit !== 0) {
      const prev = sorted.filter((x) => x !== e && x.address < e.address && x.address + x.size > word).pop();
      const refused = e.address % writeAlign !== 0;
      const faults = [
        ...(refused ? [`the ROM refuses its address (not a multiple of ${writeAlign} bytes)`] : []),
        prev !== undefined
          ? `${subjectOf(t, prev)} already writes that word, which flash can program only once after an erase`
          : refused
            ? ''
            : 'the ROM writes that word partly and cannot complete it later, or corrupts it',
      ].filter((x) => x !== '');
      c.add({
        severity: run ? lower('error') : 'error',
        code: 'LAYOUT_ELEMENT_START_UNALIGNED',
        message:
          `${cap(subject)} starts at ${hex32(e.address)}, ${e.address - word} bytes into the ${unit}-byte flash word at ${hex32(word)}. ` +
          `${converted(faults.join(', and '))}.`,
        fix: `Start the ${noun} at ${hex32(word)}, the bytes before it filled with ${fill} (the erased value) or with the data that belongs there; --fix does this.`,
        fixable: true,
        alt: t.alt,
        start: e.address,
        end,
        subject,
        ...(e.headerOffset !== undefined ? { offset: e.headerOffset } : where(t, e.address)),
      });
    }
    const tail = end % unit;
    if (tail !== 0) {
      const from = end - tail;
      const pos = where(t, Math.max(from, e.address));
      const next = sorted.find((x) => x !== e && x.address >= e.address && x.address < from + unit && x.address + x.size > from);
      if (next !== undefined) continue; // the next element's start finding names the shared word
      c.add({
        severity: run ? lower('warning') : 'warning',
        code: 'LAYOUT_ELEMENT_PARTIAL_WORD',
        message:
          `${cap(subject)} (${hex32(e.address)}, ${e.size} bytes) ends ${tail} bytes into the ${unit}-byte flash word at ${hex32(from)}: ` +
          (run ? "converted run by run into DfuSe elements (as ST's DfuFileMgr does), " : '') +
          `bytes ${formatRange(Math.max(from, e.address), end)} form a partial flash word, which some ROM bootloaders and tools drop or write wrongly ` +
          '(verify then fails at the end, as with DfuFileMgr files on H7 and L4).',
        fix: `Pad the ${noun} to ${hex32(from + unit)} with ${fill} (the erased value); dfukit convert and --fix do.`,
        fixable: true,
        alt: t.alt,
        start: Math.max(from, e.address),
        end,
        subject,
        ...pos,
      });
    }
    const b1 = bankOf(chip, e.address);
    const b2 = bankOf(chip, end - 1);
    if (b1 !== undefined && b2 !== undefined && b1.bank !== b2.bank) {
      c.add({
        severity: run ? lower('warning') : 'warning',
        code: 'LAYOUT_BANK_CROSSING',
        message:
          `${cap(subject)} (${formatRange(e.address, end)}) runs from bank ${b1.bank} into bank ${b2.bank} at ${hex32(b2.start)}. ` +
          'The banks are separate flash arrays with their own controllers; with one element per bank a flasher can erase, recover and verify ' +
          'each bank on its own, which ROM faults limited to one bank need.',
        fix: `Split it at ${hex32(b2.start)}; --fix does${run ? ' (dfukit convert keeps it whole)' : ''}.`,
        fixable: true,
        alt: t.alt,
        start: e.address,
        end,
        subject,
        ...(e.headerOffset !== undefined ? { offset: e.headerOffset } : where(t, e.address)),
      });
    }
  }
}

function checkSharedSectors(c: Collector, t: CheckTarget, chip: ChipProfile): void {
  const run = t.kind === 'run';
  const inFlash = t.elements.filter((e) => e.size > 0 && isInFlash(chip, e.address));
  const bySector = new Map<number, CheckElement[]>();
  for (const e of inFlash) {
    const first = sectorAt(chip, e.address);
    const last = sectorAt(chip, e.address + e.size - 1) ?? first;
    if (first === undefined || last === undefined) continue;
    for (let i = first.index; i <= last.index; i++) {
      const list = bySector.get(i) ?? [];
      list.push(e);
      bySector.set(i, list);
    }
  }
  for (const [i, list] of [...bySector].sort((a, b) => a[0] - b[0])) {
    if (list.length < 2) continue;
    const s = chip.sectors[i]!;
    const names = list.map((e) => e.label);
    const who = `${t.label === '' ? '' : `${t.label}: `}${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
    const all = list.length === 2 ? 'both' : 'all';
    const first = list[0]!;
    c.add({
      severity: run ? lower('warning') : 'warning',
      code: 'LAYOUT_SECTOR_SHARED',
      message:
        `${cap(who)} ${all} lie in ${sectorName(s)} (${formatRange(s.start, s.end)}, ${kib(s.size)}). ` +
        (run ? 'Converted run by run into DfuSe elements, tools' : 'Tools') +
        ` that erase for each element (pydfu; dfu-util when elements are out of order) erase the sector again for ${names[1]} and wipe what ${names[0]} wrote.`,
      fix: `Merge them into one element, the gap filled with ${hexN(chip.erasedValue, 2)} (what the erase leaves there anyway); --fix and dfukit convert --chip do.`,
      fixable: true,
      alt: t.alt,
      start: Math.max(s.start, first.address),
      end: Math.min(s.end, Math.max(...list.map((e) => e.address + e.size))),
      sector: sectorName(s),
      ...(first.headerOffset !== undefined ? { offset: first.headerOffset } : where(t, first.address)),
    });
  }
}

// ---------------------------------------------------------------------------------------------------------
// ROM quirks tied to address ranges (profile data: kind erase/write with `ranges`).

function checkQuirkRanges(c: Collector, targets: readonly CheckTarget[], chip: ChipProfile): void {
  const data = new MemoryImage();
  for (const t of targets) data.addImage(t.image, { overwrite: true });
  const ranges = data.ranges();
  const total = data.size;
  for (const q of chip.quirks) {
    if (q.ranges === undefined || (q.kind !== 'erase' && q.kind !== 'write' && q.kind !== 'mass-erase')) continue;
    for (const qr of q.ranges) {
      const qs = qr.start;
      const qe = qr.start + qr.size;
      const hit = ranges.filter((r) => r.start < qe && r.end > qs).map((r) => ({ start: Math.max(r.start, qs), end: Math.min(r.end, qe) }));
      if (hit.length === 0) continue;
      const first = hit[0]!;
      const last = hit[hit.length - 1]!;
      const bytes = hit.reduce((n, r) => n + r.end - r.start, 0);
      const before = data.slice(0, first.start).size;
      const pct = total > 0 ? Math.round((100 * before) / total) : 0;
      const t = targets.find((x) => x.image.byteAt(first.start) !== undefined);
      c.add({
        severity: 'warning',
        code: 'LAYOUT_ROM_QUIRK',
        message: quirkMessage(q, chip, bytes, first.start, last.end, qs, qe, pct),
        fix:
          'Flash with `dfukit flash`, which recovers from this ROM fault and verifies the range by read-back.' +
          (q.workaround !== undefined ? ` With other tools: ${uncap(q.workaround.split(/(?<=\.)\s/)[0]!.replace(/\s+/g, ' '))}` : ''),
        fixable: false,
        ...(t !== undefined ? { alt: t.alt, ...where(t, first.start) } : {}),
        start: first.start,
        end: last.end,
        quirk: q.id,
      });
    }
  }
}

function quirkMessage(q: Quirk, chip: ChipProfile, bytes: number, start: number, end: number, qs: number, qe: number, pct: number): string {
  const bank = bankOf(chip, qs);
  const area = bank !== undefined && bank.start === qs && bank.end === qe ? `bank ${bank.bank} (${formatRange(qs, qe)})` : formatRange(qs, qe);
  const versions = q.bootloaderIds === undefined ? 'every ROM bootloader version' : `ROM bootloader ${q.bootloaderIds.length === 1 ? 'version' : 'versions'} ${q.bootloaderIds.map((b) => hexN(b, 2)).join(', ')}`;
  const symptom = QUIRK_SYMPTOMS[q.id] ?? q.summary.split(/(?<=\.)\s/)[0]!.replace(/\.$/, '');
  return (
    `${formatSize(bytes)} bytes of this file (${formatRange(start, end)}) are in ${area} of ${chip.displayName}, where ${versions} ` +
    `${q.kind === 'write' ? 'cannot write reliably' : 'mishandle the erase'} (quirk ${q.id}): ${symptom}` +
    (pct > 0 ? `, about ${pct} % into this file.` : '.')
  );
}

// ---------------------------------------------------------------------------------------------------------
// Sectors the file writes only in part: the rest is erased too.

function checkSectorGaps(c: Collector, targets: readonly CheckTarget[], chip: ChipProfile): void {
  const data = new MemoryImage();
  for (const t of targets) data.addImage(t.image, { overwrite: true });
  const touched = new Set<number>();
  for (const r of data.ranges()) {
    let s = sectorAt(chip, r.start);
    while (s !== undefined && s.start < r.end) {
      touched.add(s.index);
      s = chip.sectors[s.index + 1];
    }
  }
  for (const i of [...touched].sort((a, b) => a - b)) {
    const s = chip.sectors[i]!;
    const gaps = data.gaps(s.start, s.end);
    if (gaps.length === 0) continue;
    const free = gaps.reduce((n, g) => n + g.end - g.start, 0);
    const t = targets.find((x) => x.image.slice(s.start, s.end).size > 0);
    c.add({
      severity: 'info',
      code: 'LAYOUT_SECTOR_PARTLY_WRITTEN',
      message:
        `The file writes ${formatSize(s.size - free)} of the ${kib(s.size)} of ${sectorName(s)} (${formatRange(s.start, s.end)}); ` +
        `the other ${formatSize(free)} bytes (${rangeList(gaps)}) are erased to ${hexN(chip.erasedValue, 2)} along with it, whatever they held before.`,
      fix: 'Nothing to do unless that part of the sector holds data you mean to keep (settings, a second image): then move one of them to its own sector.',
      fixable: false,
      ...(t !== undefined ? { alt: t.alt } : {}),
      start: gaps[0]!.start,
      end: gaps[gaps.length - 1]!.end,
      sector: sectorName(s),
    });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Vector tables at image starts, and the images of each core on dual-core parts.

interface VectorWords {
  at: number;
  sp: number;
  reset: number;
}

function wordsAt(image: MemoryImage, at: number): VectorWords | undefined {
  if (!image.covers(at, at + 8)) return undefined;
  const b = image.read(at, 8);
  const dv = new DataView(b.buffer, b.byteOffset, 8);
  return { at, sp: dv.getUint32(0, true), reset: dv.getUint32(4, true) };
}

function plausibleFor(v: VectorWords, image: MemoryImage, chip: ChipProfile | undefined, core: CoreInfo | undefined): boolean {
  return stackOk(v.sp, chip, core) && (v.reset & 1) === 1 && image.byteAt((v.reset & ~1) >>> 0) !== undefined;
}

function coreAt(chip: ChipProfile | undefined, addr: number): CoreInfo | undefined {
  if (chip === undefined) return undefined;
  const exact = chip.cores.find((k) => k.bootAddress === addr);
  if (exact !== undefined) return exact;
  // The core whose image area (from its imageBase up) holds addr, highest base first.
  return [...chip.cores].sort((a, b) => b.imageBase - a.imageBase).find((k) => addr >= k.imageBase) ?? chip.cores[0];
}

/** `BOOT_CM4_ADD0 = 0x0810 (factory)` without nested parentheses, for use inside parentheses. */
function bootOption(core: CoreInfo): string {
  return core.bootOption.replace(/\s*\(([^)]*)\)/g, ', $1');
}

function coreName(core: CoreInfo | undefined): string {
  return core === undefined ? '' : core.name.toUpperCase();
}

/** Returns whether both cores' images were checked. */
function checkImages(c: Collector, targets: readonly CheckTarget[], chip: ChipProfile | undefined, opts: CheckOptions): boolean {
  if (targets.length === 0) return false;
  const image = new MemoryImage();
  for (const t of targets) image.addImage(t.image, { overwrite: true });
  if (image.isEmpty) return false;
  const inFlash = (a: number): boolean => (chip !== undefined ? isInFlash(chip, a) : inRange(a, STM32_FLASH_WINDOW));
  const runStarts = image.ranges().map((r) => r.start).filter(inFlash);
  const bootAddresses = new Set(chip?.cores.map((k) => k.bootAddress) ?? []);

  const starts = new Set<number>();
  for (const t of targets) {
    const s = t.image.ranges().map((r) => r.start).find(inFlash);
    if (s !== undefined) starts.add(s);
  }

  // Dual-core: both images in the file (two plausible vector tables at run starts), or --dual-core.
  const cores = chip?.cores ?? [];
  const vtStarts = runStarts.filter((s) => {
    const v = wordsAt(image, s);
    return v !== undefined && plausibleFor(v, image, chip, coreAt(chip, s));
  });
  const dual = cores.length > 1 && (opts.dualCore === true || vtStarts.length >= 2);
  if (dual) {
    for (const core of cores) {
      const boot = core.bootAddress;
      const v = wordsAt(image, boot);
      if (v !== undefined && plausibleFor(v, image, chip, core)) {
        starts.add(boot);
        continue;
      }
      const t = targets.find((x) => x.image.byteAt(boot) !== undefined) ?? targets[0]!;
      if (image.byteAt(boot) !== undefined) {
        const runStart = image.ranges().find((r) => r.start <= boot && r.end > boot)!.start;
        if (runStart < boot) {
          const owner = coreAt(chip, runStart);
          const runEnd = image.ranges().find((r) => r.start === runStart)!.end;
          c.add({
            severity: 'error',
            code: 'LAYOUT_CORE_IMAGES_OVERLAP',
            message:
              `The ${coreName(owner)} image that starts at ${hex32(runStart)} runs on to ${hex32(runEnd)}, over ${hex32(boot)}, where the ${coreName(core)} boots from (${bootOption(core)}): ` +
              `the ${coreName(core)} would start from ${coreName(owner)} code.`,
            fix: `Keep the ${coreName(owner)} image below ${hex32(boot)} (its FLASH LENGTH in the linker script) and put the ${coreName(core)} image at ${hex32(boot)}.`,
            fixable: false,
            alt: t.alt,
            start: boot,
            end: runEnd,
            core: core.name,
            ...where(t, boot),
          });
        } else starts.add(boot);
        continue;
      }
      // The first core's image may sit behind a bootloader that jumps to it; the others boot on their own.
      if (core === cores[0]) continue;
      const elsewhere = vtStarts.filter((s) => !bootAddresses.has(s) && coreAt(chip, s) === core);
      if (elsewhere.length > 0) {
        const at = elsewhere[0]!;
        c.add({
          severity: 'error',
          code: 'LAYOUT_CORE_IMAGE_MISPLACED',
          message:
            `The image at ${hex32(at)} looks like the ${coreName(core)} image, but the ${coreName(core)} boots from ${hex32(boot)} (${bootOption(core)}), ` +
            'where this file writes nothing: the core starts from erased flash and faults.',
          fix: `Link and place the ${coreName(core)} image at ${hex32(boot)}, or set the boot-address option byte to ${hexN(at >>> 16, 4)} (${hex32(at)}).`,
          fixable: false,
          alt: t.alt,
          start: at,
          end: image.ranges().find((r) => r.start === at)!.end,
          core: core.name,
          ...where(t, at),
        });
      } else {
        c.add({
          severity: 'error',
          code: 'LAYOUT_CORE_IMAGE_MISSING',
          message:
            `This file has no ${coreName(core)} image: it writes nothing at ${hex32(boot)}, where the ${coreName(core)} boots from (${bootOption(core)}). ` +
            `The core starts from erased flash, and start-up code that waits for it (as ST's dual-core templates do) hangs.`,
          fix: `Add the ${coreName(core)} image at ${hex32(boot)} (dfukit convert --chip ${chip!.profile} cm7.elf cm4.elf -o fw.dfu), or flash it separately.`,
          fixable: false,
          alt: t.alt,
          start: boot,
          end: boot + 8,
          core: core.name,
        });
      }
    }
  }

  for (const s of [...starts].sort((a, b) => a - b)) {
    const t = targets.find((x) => x.image.byteAt(s) !== undefined) ?? targets[0]!;
    const header = opts.headers?.get(s);
    if (header !== undefined) {
      c.add({
        severity: 'info',
        code: 'LAYOUT_HEADER_AT_START',
        message: `The image at ${hex32(s)} starts with a ${header} image header, not a vector table: a bootloader checks it and boots the vector table behind it.`,
        fix: 'Check it with `dfukit header verify`.',
        fixable: false,
        alt: t.alt,
        start: s,
        end: s + 8,
        ...where(t, s),
      });
      continue;
    }
    checkVectorTable(c, t, image, s, chip, bootAddresses.has(s));
  }
  return dual;
}

function checkVectorTable(c: Collector, t: CheckTarget, image: MemoryImage, at: number, chip: ChipProfile | undefined, isBoot: boolean): void {
  const v = wordsAt(image, at);
  if (v === undefined) return;
  const core = coreAt(chip, at);
  const who = chip !== undefined && chip.cores.length > 1 ? ` (${coreName(core)})` : '';
  const resetAddr = (v.reset & ~1) >>> 0;
  const spOk = stackOk(v.sp, chip, core);
  const resetIn = image.byteAt(resetAddr) !== undefined;
  const inFlash = chip !== undefined ? isInFlash(chip, resetAddr) : inRange(resetAddr, STM32_FLASH_WINDOW);
  const looks = spOk || ((v.reset & 1) === 1 && (resetIn || inFlash));
  const base = { alt: t.alt, ...(core !== undefined && chip !== undefined && chip.cores.length > 1 ? { core: core.name } : {}) };

  if ((v.sp === ERASED_WORD && v.reset === ERASED_WORD) || !looks) {
    const erased = v.sp === ERASED_WORD && v.reset === ERASED_WORD;
    c.add({
      severity: isBoot ? 'error' : 'warning',
      code: 'LAYOUT_NO_VECTOR_TABLE',
      message:
        `The image at ${hex32(at)}${who} does not start with a vector table: ` +
        (erased
          ? 'its first words are erased (0xFFFFFFFF).'
          : `word 0 (${hex32(v.sp)}) is no stack address in RAM and word 1 (${hex32(v.reset)}) points to no code in this file.`) +
        (isBoot ? ' The core loads both at reset from here and faults.' : ' If it is data rather than a program, this is expected.'),
      fix: 'Put the vector table (.isr_vector) first in the FLASH region of the linker script, or place the file at the address it was linked for.',
      fixable: false,
      ...base,
      start: at,
      end: at + 8,
      ...where(t, at),
    });
    return;
  }
  if (!spOk) {
    const ram = chip === undefined ? 'RAM' : `any RAM region of the ${coreName(core) === '' ? chip.displayName : `${chip.displayName} ${coreName(core)}`}`;
    const lists =
      chip === undefined
        ? ''
        : ` (${ramFor(chip, core)
            .map((r) => `${r.name} ${formatRange(r.start, r.start + r.size)}`)
            .join(', ')})`;
    const near = ramName((v.sp - 1) >>> 0, chip); // a full-descending stack uses the bytes below SP
    c.add({
      severity: 'error',
      code: 'LAYOUT_SP_OUTSIDE_RAM',
      message:
        `The initial stack pointer at ${hex32(at)}${who} is ${hex32(v.sp)}, ${near !== undefined ? `in ${near}, which this core cannot use` : `outside ${ram}`}${lists}: ` +
        'the core faults on its first push.',
      fix: 'Set the stack symbol (_estack) in the linker script to the end of a RAM region this core can access.',
      fixable: false,
      ...base,
      start: at,
      end: at + 4,
      ...where(t, at),
    });
  }
  if ((v.reset & 1) === 0) {
    c.add({
      severity: 'error',
      code: 'LAYOUT_RESET_NOT_THUMB',
      message:
        `The reset handler at ${hex32(at + 4)}${who} is ${hex32(v.reset)}, with bit 0 clear: Cortex-M runs only Thumb code, ` +
        'so the core takes a HardFault at reset.',
      fix: 'Declare Reset_Handler as a Thumb function (`.thumb_func` or `.type Reset_Handler, %function` in assembly) so the linker sets bit 0.',
      fixable: false,
      ...base,
      start: at + 4,
      end: at + 8,
      ...where(t, at + 4),
    });
  }
  if (!resetIn) {
    const ram = ramName(resetAddr, chip);
    const pointsTo =
      ram !== undefined
        ? `into ${ram}, which holds nothing at reset: code or .data was placed at its run address (VMA) instead of flash`
        : inFlash
          ? 'into flash where this file writes nothing: the image was linked for another address than where it is placed'
          : 'to no memory this file writes: the image was linked for another address, or this is not a vector table';
    c.add({
      severity: 'error',
      code: 'LAYOUT_RESET_OUTSIDE_IMAGE',
      message: `The reset handler at ${hex32(at + 4)}${who} is ${hex32(v.reset)}, which points ${pointsTo}.`,
      fix: 'Place the file at the address its linker script says (FLASH ORIGIN, or the @ADDR of a .bin), and give RAM sections a load address in flash (AT> FLASH).',
      fixable: false,
      ...base,
      start: at + 4,
      end: at + 8,
      ...where(t, at + 4),
    });
  }
}

