/**
 * A DfuSe file read as far as its bytes allow, every deviation a finding. The strict reader (formats/dfuse-file.ts)
 * stops at the first structural fault, and even with every leniency it refuses counts and sizes that disagree
 * with the file. Doctor must name those faults and, where the data are all there, rebuild the file, so this
 * reader walks the structure itself:
 *
 * - the suffix is taken when it has the "UFD" signature; without one the body runs to the end of the file;
 * - each target's elements are walked by dwNbElements and by dwTargetSize; the reading that ends exactly on the
 *   next "Target" signature or on the suffix wins, and the field it contradicts is reported;
 * - targets are read while a "Target" signature follows, whatever bTargets says;
 * - an element whose data run past the end is reported as truncated and dropped.
 *
 * Byte map and the tools' divergences: ../shared/reference/image-formats.md §1.
 */
import { ascii } from '../core/bytes.ts';
import { crc32Jam } from '../core/crc.ts';
import { FwError } from '../core/errors.ts';
import { formatSize, hex32, hexN } from '../core/format.ts';
import { hasDfuSuffix } from '../formats/detect.ts';
import { BCD_DFU_DFUSE, DFU_SUFFIX_LENGTH, LENIENCY_BAD_CRC } from '../formats/dfu-suffix.ts';
import {
  ELEMENT_HEADER_SIZE,
  LENIENCY_IMAGE_SIZE_INCLUDES_SUFFIX,
  LENIENCY_TARGET_NAME_GARBAGE,
  LENIENCY_TARGET_NAMED_NONBOOLEAN,
  LENIENCY_TRAILING_BYTES,
  PREFIX_SIZE,
  TARGET_NAME_SIZE,
  TARGET_PREFIX_SIZE,
} from '../formats/dfuse-file.ts';
import type { Diagnostic } from '../layout/check.ts';

export interface ScannedElement {
  index: number;
  /** File offset of dwElementAddress. */
  offset: number;
  address: number;
  size: number;
  data: Uint8Array;
}

export interface ScannedTarget {
  index: number;
  /** File offset of the "Target" signature. */
  offset: number;
  alt: number;
  bTargetNamed: number;
  /** Name up to its NUL when bTargetNamed is 1. */
  name?: string;
  elements: ScannedElement[];
}

export interface ScannedSuffix {
  bcdDevice: number;
  idProduct: number;
  idVendor: number;
  bcdDFU: number;
  bLength: number;
  dwCRC: number;
  crcComputed: number;
}

export interface ScannedDfuse {
  targets: ScannedTarget[];
  /** Absent when the file has no DFU suffix. */
  suffix?: ScannedSuffix;
  /** Bytes before the suffix (the whole file without one). */
  body: number;
  findings: Diagnostic[];
}

const u32 = (b: Uint8Array, at: number): number => (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
const u16 = (b: Uint8Array, at: number): number => b[at]! | (b[at + 1]! << 8);

function isTargetAt(b: Uint8Array, at: number, end: number): boolean {
  return at + 6 <= end && ascii(b.subarray(at, at + 6)) === 'Target';
}

interface Walk {
  elements: ScannedElement[];
  end: number;
  /** The walk stopped at an element whose data run past the body. */
  truncated?: { offset: number; address: number; size: number; available: number };
}

/** `count` elements from `at`; undefined when a header or its data does not fit before `end`. */
function walkCount(b: Uint8Array, at: number, count: number, end: number): Walk | undefined {
  const elements: ScannedElement[] = [];
  let p = at;
  for (let i = 0; i < count; i++) {
    if (p + ELEMENT_HEADER_SIZE > end) return undefined;
    const size = u32(b, p + 4);
    if (size > end - p - ELEMENT_HEADER_SIZE) return undefined;
    elements.push({ index: i, offset: p, address: u32(b, p), size, data: b.subarray(p + 8, p + 8 + size) });
    p += ELEMENT_HEADER_SIZE + size;
  }
  return { elements, end: p };
}

/** Elements from `at` until exactly `bytes` are consumed; undefined when that boundary falls inside one. */
function walkSize(b: Uint8Array, at: number, bytes: number, end: number): Walk | undefined {
  const elements: ScannedElement[] = [];
  const stop = at + bytes;
  if (stop > end) return undefined;
  let p = at;
  while (p < stop) {
    if (p + ELEMENT_HEADER_SIZE > stop) return undefined;
    const size = u32(b, p + 4);
    if (size > stop - p - ELEMENT_HEADER_SIZE) return undefined;
    elements.push({ index: elements.length, offset: p, address: u32(b, p), size, data: b.subarray(p + 8, p + 8 + size) });
    p += ELEMENT_HEADER_SIZE + size;
  }
  return { elements, end: p };
}

/** Elements from `at` while they fit and no "Target" signature comes next: the reading when both fields lie. */
function walkGreedy(b: Uint8Array, at: number, end: number, limit: number): Walk {
  const elements: ScannedElement[] = [];
  let p = at;
  while (p + ELEMENT_HEADER_SIZE <= end && !isTargetAt(b, p, end) && elements.length < limit) {
    const size = u32(b, p + 4);
    if (size > end - p - ELEMENT_HEADER_SIZE) {
      return { elements, end: p, truncated: { offset: p, address: u32(b, p), size, available: end - p - ELEMENT_HEADER_SIZE } };
    }
    elements.push({ index: elements.length, offset: p, address: u32(b, p), size, data: b.subarray(p + 8, p + 8 + size) });
    p += ELEMENT_HEADER_SIZE + size;
  }
  return { elements, end: p };
}

export function scanDfuse(bytes: Uint8Array, file?: string): ScannedDfuse {
  const n = bytes.length;
  const loc = file !== undefined ? { file } : {};
  if (n < PREFIX_SIZE || ascii(bytes.subarray(0, 5)) !== 'DfuSe') {
    throw new FwError('DFUSE_SIGNATURE', `not a DfuSe file: it does not start with "DfuSe" and an ${PREFIX_SIZE}-byte prefix`, { ...loc, offset: 0 });
  }
  const findings: Diagnostic[] = [];
  const add = (d: Diagnostic): void => void findings.push(d);

  // Suffix.
  let suffix: ScannedSuffix | undefined;
  let body = n;
  if (hasDfuSuffix(bytes)) {
    const at = n - DFU_SUFFIX_LENGTH;
    suffix = {
      bcdDevice: u16(bytes, at),
      idProduct: u16(bytes, at + 2),
      idVendor: u16(bytes, at + 4),
      bcdDFU: u16(bytes, at + 6),
      bLength: bytes[at + 11]!,
      dwCRC: u32(bytes, at + 12),
      crcComputed: crc32Jam(bytes.subarray(0, n - 4)),
    };
    body = n - suffix.bLength;
    if (suffix.dwCRC !== suffix.crcComputed) {
      add({
        severity: 'error',
        code: 'DFUSE_SUFFIX_CRC',
        message:
          `The DFU suffix CRC is ${hex32(suffix.dwCRC)}, but the file's CRC-32 is ${hex32(suffix.crcComputed)}: the file was changed after it was made, or is damaged. ` +
          'dfu-util refuses it ("DFU suffix CRC does not match"), and so does fwupd.',
        fix: 'Get a fresh copy if the file may be damaged. If it was edited on purpose, --fix writes the correct CRC.',
        fixable: true,
        offset: n - 4,
        leniency: LENIENCY_BAD_CRC,
      });
    }
    if (suffix.bcdDFU !== BCD_DFU_DFUSE) {
      add({
        severity: 'error',
        code: 'DFUSE_BCD_DFU',
        message: `The suffix's bcdDFU is ${hexN(suffix.bcdDFU, 4)}, not ${hexN(BCD_DFU_DFUSE, 4)}: dfu-util then refuses to read the file as DfuSe ("Only DfuSe file version 1.1a is supported").`,
        fix: `Set bcdDFU to ${hexN(BCD_DFU_DFUSE, 4)}; --fix rewrites the suffix.`,
        fixable: true,
        offset: at + 6,
      });
    }
    if (suffix.bLength !== DFU_SUFFIX_LENGTH) {
      add({
        severity: 'warning',
        code: 'DFUSE_SUFFIX_LENGTH',
        message: `The suffix's bLength is ${suffix.bLength}, not ${DFU_SUFFIX_LENGTH}: fwupd accepts only a ${DFU_SUFFIX_LENGTH}-byte suffix on a DfuSe file; the ${suffix.bLength - DFU_SUFFIX_LENGTH} extra bytes carry no firmware.`,
        fix: `Write a ${DFU_SUFFIX_LENGTH}-byte suffix; --fix does.`,
        fixable: true,
        offset: at + 11,
      });
    }
  } else {
    add({
      severity: 'error',
      code: 'DFUSE_NO_SUFFIX',
      message: 'The file has no DFU suffix (no "UFD" signature in its last bytes): dfu-util refuses to read it as DfuSe, and a truncated download looks the same.',
      fix: 'If the file is complete (the checks below find all its elements), --fix appends the suffix; otherwise get a fresh copy.',
      fixable: true,
      offset: Math.max(0, n - DFU_SUFFIX_LENGTH),
    });
  }

  // Prefix.
  const bVersion = bytes[5]!;
  if (bVersion !== 1) {
    add({
      severity: 'error',
      code: 'DFUSE_VERSION',
      message: `The prefix's bVersion is ${hexN(bVersion, 2)}, not 0x01: dfu-util, fwupd and on-device updaters refuse the file.`,
      fix: 'Set bVersion to 1; --fix rewrites the prefix.',
      fixable: true,
      offset: 5,
    });
  }
  const imageSize = u32(bytes, 6);
  if (imageSize === n && suffix !== undefined) {
    add({
      severity: 'warning',
      code: 'DFUSE_IMAGE_SIZE',
      message:
        `DFUImageSize is ${imageSize}, the file length including its suffix (the convention of dfuse-pack since dfu-util 0.10). ` +
        `ST's tools and fwupd expect ${body}, the length without the suffix, and fwupd rejects this file ("invalid DfuSe image size").`,
      fix: `Write ${body}; --fix does. dfu-util accepts both.`,
      fixable: true,
      offset: 6,
      leniency: LENIENCY_IMAGE_SIZE_INCLUDES_SUFFIX,
    });
  } else if (imageSize !== body) {
    add({
      severity: 'error',
      code: 'DFUSE_IMAGE_SIZE',
      message:
        `DFUImageSize is ${imageSize}, but the file is ${body} bytes without its suffix${suffix !== undefined ? ` (${n} with it)` : ''}: ` +
        'fwupd and on-device updaters reject it; a size that large or small also hints at a truncated or appended file.',
      fix: `Write ${body}; --fix does.`,
      fixable: true,
      offset: 6,
    });
  }
  const bTargets = bytes[10]!;

  // Targets.
  const targets: ScannedTarget[] = [];
  let p = PREFIX_SIZE;
  while (isTargetAt(bytes, p, body)) {
    const t = targets.length;
    const to = p;
    if (to + TARGET_PREFIX_SIZE > body) {
      add({
        severity: 'error',
        code: 'DFUSE_TRUNCATED',
        message: `Target ${t} starts at ${hex32(to)}, but its ${TARGET_PREFIX_SIZE}-byte prefix runs past the end of the data at ${hex32(body)}: the file is cut short.`,
        fix: 'Get a complete copy of the file.',
        fixable: false,
        offset: to,
      });
      break;
    }
    const alt = bytes[to + 6]!;
    const bTargetNamed = u32(bytes, to + 7);
    const nameField = bytes.subarray(to + 11, to + 11 + TARGET_NAME_SIZE);
    const dwTargetSize = u32(bytes, to + 266);
    const dwNbElements = u32(bytes, to + 270);
    const first = to + TARGET_PREFIX_SIZE;

    if (bTargetNamed > 1) {
      add({
        severity: 'warning',
        code: 'DFUSE_TARGET_NAMED',
        message:
          `Target ${t}'s bTargetNamed is ${hex32(bTargetNamed)}, not 0 or 1: dfu-util reads only its first byte (${(bTargetNamed & 0xff) !== 0 ? 'named' : 'unnamed'}), ` +
          'fwupd requires exactly 1 and otherwise treats the target as unnamed.',
        fix: 'Write 1 (named) or 0; --fix does.',
        fixable: true,
        offset: to + 7,
        subject: `target ${t}`,
        leniency: LENIENCY_TARGET_NAMED_NONBOOLEAN,
      });
    }
    const nul = nameField.indexOf(0);
    const nameEnd = bTargetNamed === 0 ? 0 : nul < 0 ? TARGET_NAME_SIZE : nul;
    const rest = nameField.subarray(nameEnd);
    const junk = rest.reduce((k, x) => k + (x !== 0 ? 1 : 0), 0);
    if (junk > 0) {
      const firstJunk = nameEnd + rest.findIndex((x) => x !== 0);
      add({
        severity: 'info',
        code: 'DFUSE_TARGET_NAME_GARBAGE',
        message:
          `Target ${t}'s name field holds ${junk} non-zero bytes ${bTargetNamed === 0 ? 'although the target is unnamed' : 'after the name\'s terminating NUL'} ` +
          '(leftovers of the tool that wrote it, often a build path). Flashing tools ignore them; a strict reader rejects them.',
        fix: 'Nothing needed; --fix writes the name zero-filled.',
        fixable: true,
        offset: to + 11 + firstJunk,
        subject: `target ${t}`,
        leniency: LENIENCY_TARGET_NAME_GARBAGE,
      });
    }

    // Elements: by count, by size, or as far as they fit.
    const clean = (w: Walk | undefined): boolean => w !== undefined && (w.end === body || isTargetAt(bytes, w.end, body));
    const byCount = walkCount(bytes, first, dwNbElements, body);
    const bySize = walkSize(bytes, first, dwTargetSize, body);
    let walk: Walk;
    if (byCount !== undefined && byCount.end - first === dwTargetSize) walk = byCount;
    else if (bySize !== undefined && clean(bySize)) {
      walk = bySize;
      add(countFinding(t, to, dwNbElements, bySize.elements.length, dwTargetSize));
    } else if (byCount !== undefined && (clean(byCount) || bySize === undefined)) {
      walk = byCount;
      add(sizeFinding(t, to, dwTargetSize, byCount.end - first, dwNbElements));
    } else {
      walk = walkGreedy(bytes, first, body, Math.max(dwNbElements, 1_000_000));
      if (walk.elements.length !== dwNbElements) add(countFinding(t, to, dwNbElements, walk.elements.length, dwTargetSize));
      if (walk.end - first !== dwTargetSize) add(sizeFinding(t, to, dwTargetSize, walk.end - first, walk.elements.length));
      if (walk.truncated !== undefined) {
        const x = walk.truncated;
        add({
          severity: 'error',
          code: 'DFUSE_TRUNCATED',
          message:
            `Target ${t} element ${walk.elements.length} (${hex32(x.address)}) says it holds ${formatSize(x.size)} bytes, but only ${x.available} remain before ` +
            `${suffix !== undefined ? 'the suffix' : 'the end of the file'}: the file is cut short or the size field is damaged; that element is left out below.`,
          fix: 'Get a complete copy of the file.',
          fixable: false,
          offset: x.offset + 4,
          start: x.address,
          subject: `target ${t} element ${walk.elements.length}`,
        });
      }
    }
    const target: ScannedTarget = { index: t, offset: to, alt, bTargetNamed, elements: walk.elements };
    if (bTargetNamed === 1) target.name = ascii(nameField.subarray(0, nameEnd));
    targets.push(target);
    p = walk.end;
    if (walk.truncated !== undefined) {
      p = body;
      break;
    }
  }

  if (targets.length !== bTargets) {
    add({
      severity: 'error',
      code: 'DFUSE_TARGET_COUNT',
      message:
        `bTargets says ${bTargets} target${bTargets === 1 ? '' : 's'}, but the file holds ${targets.length}: ` +
        (targets.length > bTargets
          ? 'readers that trust the count (dfu-util, fwupd) never see the others.'
          : 'readers that trust the count read past the data and fail.'),
      fix: `Write ${targets.length}; --fix does.`,
      fixable: targets.length > 0,
      offset: 10,
    });
  }
  if (p < body) {
    add({
      severity: 'warning',
      code: 'DFUSE_TRAILING_BYTES',
      message:
        `${body - p} bytes between the last target and ${suffix !== undefined ? 'the suffix' : 'the end of the file'} (${hex32(p)}..${hex32(body)}) belong to no element: ` +
        'dfu-util warns ("bytes leftover") and fwupd may read them as an element; nothing writes them to the device.',
      fix: 'Drop them; --fix does. If they are a forgotten target, rebuild the file.',
      fixable: true,
      offset: p,
      leniency: LENIENCY_TRAILING_BYTES,
    });
  }
  if (targets.length === 0) {
    add({
      severity: 'error',
      code: 'DFUSE_NO_TARGETS',
      message: 'The file holds no target, so nothing would be written.',
      fix: 'Rebuild the file from the firmware.',
      fixable: false,
      offset: 10,
    });
  }
  for (const t of targets) {
    if (t.elements.length === 0) {
      add({
        severity: 'warning',
        code: 'DFUSE_EMPTY_TARGET',
        message: `Target ${t.index} (alt ${t.alt}) has no elements: fwupd rejects such a file.`,
        fix: 'Drop the target; --fix does.',
        fixable: true,
        alt: t.alt,
        offset: t.offset + 270,
        subject: `target ${t.index}`,
      });
    }
    for (const e of t.elements) {
      if (e.size !== 0) continue;
      add({
        severity: 'warning',
        code: 'DFUSE_EMPTY_ELEMENT',
        message: `Target ${t.index} element ${e.index} at ${hex32(e.address)} is empty: some tools send a zero-length download for it, which the ROM takes as "leave DFU mode".`,
        fix: 'Drop it; --fix does.',
        fixable: true,
        alt: t.alt,
        offset: e.offset,
        start: e.address,
        subject: `target ${t.index} element ${e.index}`,
      });
    }
  }
  return suffix === undefined ? { targets, body, findings } : { targets, suffix, body, findings };
}

function countFinding(t: number, to: number, stated: number, actual: number, size: number): Diagnostic {
  return {
    severity: 'error',
    code: 'DFUSE_ELEMENT_COUNT',
    message:
      `Target ${t}'s dwNbElements is ${stated}, but its ${size} bytes (dwTargetSize) hold ${actual} element${actual === 1 ? '' : 's'}: ` +
      'readers that walk by the count (dfu-util, fwupd) ' +
      (stated > actual ? 'read the next bytes as element headers and fail or write garbage.' : 'leave elements out.'),
    fix: `Write ${actual}; --fix does.`,
    fixable: true,
    offset: to + 270,
    subject: `target ${t}`,
  };
}

function sizeFinding(t: number, to: number, stated: number, actual: number, count: number): Diagnostic {
  return {
    severity: 'error',
    code: 'DFUSE_TARGET_SIZE',
    message:
      `Target ${t}'s dwTargetSize is ${stated}, but its ${count} element${count === 1 ? '' : 's'} occupy ${actual} bytes with their 8-byte headers: ` +
      'dfuse-pack and pydfu, which cut targets by this field, misread the file.',
    fix: `Write ${actual}; --fix does.`,
    fixable: true,
    offset: to + 266,
    subject: `target ${t}`,
  };
}
