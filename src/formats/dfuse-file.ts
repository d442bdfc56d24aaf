/**
 * DfuSe files (ST UM0391): prefix, targets, elements, DFU suffix. Byte map and the tools' divergences D1-D9:
 * ../shared/reference/image-formats.md §1. All fields little-endian.
 *
 *   prefix   0  szSignature "DfuSe" (5) | bVersion 1 (1) | DFUImageSize (4) | bTargets (1)            = 11 bytes
 *   target  +0  szSignature "Target" (6) | bAlternateSetting (1) | bTargetNamed u32 (4) |
 *               szTargetName (255) | dwTargetSize (4) | dwNbElements (4)                             = 274 bytes
 *   element +0  dwElementAddress (4) | dwElementSize (4) | data (dwElementSize)
 *   suffix      16 bytes, bcdDFU 0x011A (see dfu-suffix.ts)
 *
 * The reader is strict. Each deviation that some real tool produces is accepted only under a named leniency,
 * and every use is reported as a Note carrying that name:
 * - `image-size-includes-suffix`: DFUImageSize = whole file length (dfuse-pack since dfu-util 0.10, D1).
 *   Without it DFUImageSize must be the length without the suffix (ST DfuFileMgr, fwupd, micropython, elf2dfuse).
 * - `target-name-garbage`: non-zero bytes after the NUL of szTargetName (ST's DFU_Standalone samples carry build
 *   paths there), or anywhere in the name of an unnamed target.
 * - `target-named-nonboolean`: bTargetNamed other than 0 or 1. dfu-util reads only its first byte, fwupd
 *   requires exactly 1; under the leniency the target counts as named only when the value is 1 (fwupd).
 * - `trailing-bytes`: bytes between the last target and the suffix (dfu-util warns "N bytes leftover").
 * - `bad-crc`: a suffix dwCRC that does not match.
 *
 * The writer follows "Our rule set (writer)": DFUImageSize without the suffix (or with it, on request),
 * bTargetNamed u32 1 with a zero-filled name, elements in address order, bcdDFU 0x011A, bLength 16, JAMCRC.
 * It never aligns, pads or merges: one element per MemoryImage segment, so the caller decides the runs.
 */
import { ByteReader, ByteWriter, ascii, fromAscii } from '../core/bytes.ts';
import { EXIT_USAGE, FwError, type Location } from '../core/errors.ts';
import { formatRange, formatSize, hex32, hexN } from '../core/format.ts';
import type { Note } from '../core/notes.ts';
import { ADDRESS_LIMIT } from '../core/range.ts';
import { firstOverlap, MemoryImage, overlapError } from '../image/memory-image.ts';
import {
  BCD_DFU_DFUSE,
  DFU_SUFFIX_LENGTH,
  LENIENCY_BAD_CRC,
  appendDfuSuffix,
  checkSuffixCrc,
  parseDfuSuffix,
  type DfuSuffix,
} from './dfu-suffix.ts';
import { allows, type DecodeOptions, type Decoded, type Target } from './types.ts';

export const PREFIX_SIZE = 11;
export const TARGET_PREFIX_SIZE = 274;
export const ELEMENT_HEADER_SIZE = 8;
export const TARGET_NAME_SIZE = 255;
/** Name dfuse-pack, micropython and ST's samples write. */
export const DEFAULT_TARGET_NAME = 'ST...';

export const LENIENCY_IMAGE_SIZE_INCLUDES_SUFFIX = 'image-size-includes-suffix';
export const LENIENCY_TARGET_NAME_GARBAGE = 'target-name-garbage';
export const LENIENCY_TARGET_NAMED_NONBOOLEAN = 'target-named-nonboolean';
export const LENIENCY_TRAILING_BYTES = 'trailing-bytes';
export const DFUSE_LENIENCIES: readonly string[] = [
  LENIENCY_IMAGE_SIZE_INCLUDES_SUFFIX,
  LENIENCY_TARGET_NAME_GARBAGE,
  LENIENCY_TARGET_NAMED_NONBOOLEAN,
  LENIENCY_TRAILING_BYTES,
  LENIENCY_BAD_CRC,
];

/** What DFUImageSize counts: the file without its suffix (UM0391 as ST and fwupd read it) or the whole file. */
export type ImageSizeConvention = 'without-suffix' | 'with-suffix';

export interface DfuseElement {
  index: number;
  /** File offset of dwElementAddress. */
  offset: number;
  address: number;
  size: number;
  /** The element's bytes: a view into the parsed input, not a copy. */
  data: Uint8Array;
}

export interface DfuseTarget {
  index: number;
  /** File offset of the target's "Target" signature. */
  offset: number;
  alt: number;
  /** The u32 as stored (UM0391: 0 or 1). */
  bTargetNamed: number;
  /** All 255 stored bytes of szTargetName, garbage after the NUL included (a view into the input). */
  szTargetName: Uint8Array;
  /** The name up to its NUL, when the target is named. */
  name?: string;
  dwTargetSize: number;
  elements: DfuseElement[];
}

export interface DfuseFile {
  bVersion: number;
  imageSize: number;
  imageSizeConvention: ImageSizeConvention;
  targets: DfuseTarget[];
  suffix: DfuSuffix;
  /** Bytes between the last target and the suffix (only under `trailing-bytes`). */
  trailing: Uint8Array;
  notes: Note[];
}

export interface DecodedDfuse extends Decoded {
  format: 'dfuse';
  dfuse: DfuseFile;
}

/** Structure of a DfuSe file, every field checked. Element data are views into `bytes`. */
export function parseDfuse(bytes: Uint8Array, opts: DecodeOptions = {}): DfuseFile {
  const r = new ByteReader(bytes, 'DFUSE', opts.file);
  const notes: Note[] = [];
  const at = (offset: number, address?: number): Location => ({
    ...(opts.file !== undefined ? { file: opts.file } : {}),
    offset,
    ...(address !== undefined ? { address } : {}),
  });
  const lenient = (code: string, leniency: string, message: string, offset: number): void => {
    if (!allows(opts, leniency)) throw r.error(code, `${message} (leniency '${leniency}' accepts this)`, offset);
    notes.push({ code, severity: 'warning', message, location: at(offset), leniency });
  };

  // Prefix.
  const signature = ascii(r.slice(0, 5, 'DfuSe prefix szSignature'));
  if (signature !== 'DfuSe') {
    throw r.error('DFUSE_SIGNATURE', `prefix szSignature is ${JSON.stringify(signature)}, expected "DfuSe"`, 0);
  }
  r.need(0, PREFIX_SIZE + DFU_SUFFIX_LENGTH, `a DfuSe file (${PREFIX_SIZE}-byte prefix + ${DFU_SUFFIX_LENGTH}-byte suffix)`);
  const bVersion = r.u8(5, 'bVersion');
  if (bVersion !== 1) throw r.error('DFUSE_VERSION', `prefix bVersion is ${hexN(bVersion, 2)}, expected 0x01`, 5);
  const imageSize = r.u32(6, true, 'DFUImageSize');
  const bTargets = r.u8(10, 'bTargets');

  // Suffix: DfuSe requires bcdDFU 0x011A (dfu-util refuses anything else) and bLength 16 (fwupd).
  const suffix = parseDfuSuffix(bytes, { area: 'DFUSE', ...(opts.file !== undefined ? { file: opts.file } : {}) });
  if (suffix.bcdDFU !== BCD_DFU_DFUSE) {
    throw r.error('DFUSE_BCD_DFU', `suffix bcdDFU is ${hexN(suffix.bcdDFU, 4)}; a DfuSe file has ${hexN(BCD_DFU_DFUSE, 4)}`, bytes.length - 10);
  }
  if (suffix.bLength !== DFU_SUFFIX_LENGTH) {
    throw r.error('DFUSE_SUFFIX_LENGTH', `suffix bLength is ${suffix.bLength}; a DfuSe suffix is ${DFU_SUFFIX_LENGTH} bytes`, bytes.length - 5);
  }
  notes.push(...checkSuffixCrc(suffix, bytes, 'DFUSE', opts));
  const end = suffix.offset;

  // D1: DFUImageSize.
  let imageSizeConvention: ImageSizeConvention = 'without-suffix';
  if (imageSize === bytes.length) {
    imageSizeConvention = 'with-suffix';
    lenient(
      'DFUSE_IMAGE_SIZE',
      LENIENCY_IMAGE_SIZE_INCLUDES_SUFFIX,
      `DFUImageSize is ${imageSize}, the file length including the suffix (dfuse-pack's convention since dfu-util 0.10); ` +
        `ST's own files and fwupd use ${end}, the length without the suffix (fwupd rejects this file)`,
      6,
    );
  } else if (imageSize !== end) {
    throw r.error(
      'DFUSE_IMAGE_SIZE',
      `DFUImageSize is ${imageSize}; expected ${end} (the file length without the suffix) or ${bytes.length} (with it, dfuse-pack)`,
      6,
    );
  }

  /** Fails unless [offset, offset+size) lies before the suffix. */
  const within = (offset: number, size: number, what: string): void => {
    if (offset + size > end) {
      throw r.error(
        'DFUSE_TRUNCATED',
        `${what} needs ${size} bytes at offset ${hex32(offset)}, but only ${Math.max(0, end - offset)} remain before the suffix at ${hex32(end)}`,
        offset,
      );
    }
  };

  // Targets.
  if (bTargets === 0) notes.push({ code: 'DFUSE_NO_TARGETS', severity: 'warning', message: 'bTargets is 0: the file holds no data', location: at(10) });
  const targets: DfuseTarget[] = [];
  let p = PREFIX_SIZE;
  for (let t = 0; t < bTargets; t++) {
    const to = p;
    within(to, TARGET_PREFIX_SIZE, `target ${t} prefix (bTargets is ${bTargets})`);
    const tsig = ascii(r.slice(to, 6, `target ${t} szSignature`));
    if (tsig !== 'Target') throw r.error('DFUSE_TARGET_SIGNATURE', `target ${t}: szSignature is ${JSON.stringify(tsig)}, expected "Target"`, to);
    const alt = r.u8(to + 6, `target ${t} bAlternateSetting`);
    const bTargetNamed = r.u32(to + 7, true, `target ${t} bTargetNamed`);
    const szTargetName = r.slice(to + 11, TARGET_NAME_SIZE, `target ${t} szTargetName`);
    const dwTargetSize = r.u32(to + 266, true, `target ${t} dwTargetSize`);
    const dwNbElements = r.u32(to + 270, true, `target ${t} dwNbElements`);

    if (bTargetNamed > 1) {
      lenient(
        'DFUSE_TARGET_NAMED',
        LENIENCY_TARGET_NAMED_NONBOOLEAN,
        `target ${t}: bTargetNamed is ${hex32(bTargetNamed)}, not 0 or 1; dfu-util reads only its first byte ` +
          `(named: ${(bTargetNamed & 0xff) !== 0 ? 'yes' : 'no'}), fwupd requires exactly 1 (named: no)`,
        to + 7,
      );
    }
    // Named only when exactly 1 (fwupd). A non-boolean value still has its text up to the NUL, not garbage.
    const named = bTargetNamed === 1;
    const nul = szTargetName.indexOf(0);
    const nameEnd = bTargetNamed === 0 ? 0 : nul < 0 ? TARGET_NAME_SIZE : nul;
    const garbage = szTargetName.subarray(nameEnd).reduce((n, b) => n + (b !== 0 ? 1 : 0), 0);
    if (garbage > 0) {
      const first = nameEnd + szTargetName.subarray(nameEnd).findIndex((b) => b !== 0);
      lenient(
        'DFUSE_TARGET_NAME_GARBAGE',
        LENIENCY_TARGET_NAME_GARBAGE,
        `target ${t}: szTargetName holds ${garbage} non-zero bytes ${bTargetNamed === 0 ? 'although the target is unnamed' : 'after its terminating NUL'} ` +
          `(first at offset ${hex32(to + 11 + first)})`,
        to + 11 + first,
      );
    }

    // Elements, bounded by the suffix (dfu-util and fwupd walk them; dwTargetSize is checked afterwards).
    const first = to + TARGET_PREFIX_SIZE;
    if (dwNbElements > (end - first) / ELEMENT_HEADER_SIZE) {
      throw r.error(
        'DFUSE_ELEMENT_COUNT',
        `target ${t}: dwNbElements is ${dwNbElements}, but the ${end - first} bytes before the suffix hold at most ` +
          `${Math.floor((end - first) / ELEMENT_HEADER_SIZE)} element headers`,
        to + 270,
      );
    }
    if (dwNbElements === 0) {
      notes.push({ code: 'DFUSE_EMPTY_TARGET', severity: 'warning', message: `target ${t} has no elements (fwupd rejects such a file)`, location: at(to + 270) });
    }
    const elements: DfuseElement[] = [];
    p = first;
    for (let e = 0; e < dwNbElements; e++) {
      const eo = p;
      within(eo, ELEMENT_HEADER_SIZE, `target ${t} element ${e} header`);
      const address = r.u32(eo, true, `target ${t} element ${e} dwElementAddress`);
      const size = r.u32(eo + 4, true, `target ${t} element ${e} dwElementSize`);
      if (size > end - (eo + ELEMENT_HEADER_SIZE)) {
        throw r.error(
          'DFUSE_ELEMENT_SIZE',
          `target ${t} element ${e}: dwElementSize is ${formatSize(size)}, but only ${end - eo - ELEMENT_HEADER_SIZE} bytes remain before the suffix`,
          eo + 4,
        );
      }
      if (address + size > ADDRESS_LIMIT) {
        throw r.error(
          'DFUSE_ELEMENT_ADDRESS',
          `target ${t} element ${e}: ${formatSize(size)} bytes at ${hex32(address)} run past the end of the 32-bit address space`,
          eo,
        );
      }
      const prev = elements[elements.length - 1];
      if (prev !== undefined && address < prev.address) {
        notes.push({
          code: 'DFUSE_ELEMENTS_UNSORTED',
          severity: 'warning',
          message:
            `target ${t} element ${e} at ${hex32(address)} comes after element ${e - 1} at ${hex32(prev.address)}: ` +
            `dfu-util remembers only the last erased page and can erase earlier elements again`,
          location: at(eo, address),
        });
      }
      if (size === 0) notes.push({ code: 'DFUSE_EMPTY_ELEMENT', severity: 'warning', message: `target ${t} element ${e} is empty`, location: at(eo, address) });
      elements.push({ index: e, offset: eo, address, size, data: r.slice(eo + ELEMENT_HEADER_SIZE, size, `target ${t} element ${e} data`) });
      p = eo + ELEMENT_HEADER_SIZE + size;
    }
    if (p - first !== dwTargetSize) {
      throw r.error(
        'DFUSE_TARGET_SIZE',
        `target ${t}: dwTargetSize is ${dwTargetSize}, but its ${dwNbElements} elements occupy ${p - first} bytes (8-byte headers included)`,
        to + 266,
      );
    }
    const target: DfuseTarget = { index: t, offset: to, alt, bTargetNamed, szTargetName, dwTargetSize, elements };
    if (named) target.name = ascii(szTargetName.subarray(0, nameEnd));
    targets.push(target);
  }

  if (p < end) {
    lenient('DFUSE_TRAILING_BYTES', LENIENCY_TRAILING_BYTES, `${end - p} bytes between the last target and the suffix belong to no element`, p);
  }
  return { bVersion, imageSize, imageSizeConvention, targets, suffix, trailing: bytes.subarray(p, end), notes };
}

/**
 * A DfuSe file as one Target per DfuSe target, each element added to that target's image. Overlapping
 * elements in one target are `DFUSE_ELEMENT_OVERLAP` naming both, unless `overwrite` (then later elements win,
 * reported as notes). Targets with the same alt setting stay separate targets, as in the file.
 */
export function decodeDfuse(bytes: Uint8Array, opts: DecodeOptions = {}): DecodedDfuse {
  const dfuse = parseDfuse(bytes, opts);
  const notes = [...dfuse.notes];
  const file = opts.file !== undefined ? `${opts.file} ` : '';
  const targets = dfuse.targets.map((t): Target => {
    const segments = t.elements.map((e) => ({ addr: e.address, data: e.data, source: `${file}target ${t.index} element ${e.index}` }));
    const locate = (i: number, address: number): Location => ({ ...(opts.file !== undefined ? { file: opts.file } : {}), offset: t.elements[i]!.offset, address });
    let image: MemoryImage;
    if (opts.overwrite === true) {
      image = new MemoryImage();
      segments.forEach((seg, i) => {
        for (const o of image.add(seg.addr, seg.data, seg.source, { overwrite: true })) {
          notes.push({
            code: 'DFUSE_ELEMENT_OVERWRITE',
            severity: 'warning',
            message: `${o.source} overwrites ${o.previousSource} at ${formatRange(o.start, o.end)}`,
            location: locate(i, o.start),
          });
        }
      });
    } else {
      // Sorted once: elements in any order cost O(n log n) (one by one, descending addresses cost O(n^2)).
      const ov = firstOverlap(segments);
      if (ov !== undefined) {
        const e = overlapError(segments[ov.later]!, segments[ov.earlier]!);
        throw new FwError('DFUSE_ELEMENT_OVERLAP', `${e.message} (allow with overwrite: later elements win)`, locate(ov.later, ov.start));
      }
      image = MemoryImage.fromUnsorted(segments);
    }
    return t.name === undefined ? { alt: t.alt, image } : { alt: t.alt, name: t.name, image };
  });
  return { format: 'dfuse', targets, notes, dfuse };
}

export interface DfuseTargetInput {
  alt: number;
  image: MemoryImage;
  /** szTargetName, written zero-filled with bTargetNamed = 1. Default "ST...". */
  name?: string;
  /** `false` writes bTargetNamed = 0 and an all-zero name (as elf2dfuse and fwupd do for unnamed targets). */
  named?: boolean;
  /** bTargetNamed and all 255 szTargetName bytes written verbatim (re-encoding a parsed file byte for byte). */
  raw?: Pick<DfuseTarget, 'bTargetNamed' | 'szTargetName'>;
}

export interface DfuseSuffixInput {
  vid: number;
  pid: number;
  bcdDevice: number;
}

export interface EncodeDfuseOptions {
  /** Default 'without-suffix'. 'with-suffix' writes the file length, as dfuse-pack does (fwupd rejects it). */
  imageSizeConvention?: ImageSizeConvention;
}

function usage(code: string, message: string): FwError {
  return new FwError(code, message, {}, EXIT_USAGE);
}

function nameField(t: DfuseTargetInput, index: number): { bTargetNamed: number; szTargetName: Uint8Array } {
  if (t.raw !== undefined) {
    if (t.raw.szTargetName.length !== TARGET_NAME_SIZE) {
      throw usage('DFUSE_TARGET_NAME', `target ${index}: raw szTargetName must be ${TARGET_NAME_SIZE} bytes, got ${t.raw.szTargetName.length}`);
    }
    return t.raw;
  }
  const field = new Uint8Array(TARGET_NAME_SIZE);
  if (t.named === false) return { bTargetNamed: 0, szTargetName: field };
  const name = t.name ?? DEFAULT_TARGET_NAME;
  if (name.length >= TARGET_NAME_SIZE || !/^[\x01-\xff]*$/.test(name)) {
    throw usage('DFUSE_TARGET_NAME', `target ${index}: name must be 1-byte characters without NUL, at most ${TARGET_NAME_SIZE - 1} of them`);
  }
  field.set(fromAscii(name));
  return { bTargetNamed: 1, szTargetName: field };
}

/**
 * Writes a DfuSe file: one target per input (in the given order), one element per image segment in address
 * order, deterministic bytes. Nothing is aligned, padded or merged. No targets (`DFUSE_NO_TARGETS`) and empty
 * targets (`DFUSE_EMPTY_TARGET`) are refused: fwupd rejects a target without elements.
 */
export function encodeDfuse(targets: readonly DfuseTargetInput[], suffix: DfuseSuffixInput, opts: EncodeDfuseOptions = {}): Uint8Array {
  if (targets.length === 0) throw new FwError('DFUSE_NO_TARGETS', 'no targets: a DfuSe file needs at least one');
  if (targets.length > 0xff) throw usage('DFUSE_TARGET_COUNT', `a DfuSe file holds at most 255 targets, got ${targets.length}`);
  let bodySize = PREFIX_SIZE;
  const sizes = targets.map((t, i) => {
    if (!Number.isInteger(t.alt) || t.alt < 0 || t.alt > 0xff) throw usage('DFUSE_ALT', `target ${i}: alt setting must be 0-255, got ${t.alt}`);
    if (t.image.isEmpty) throw new FwError('DFUSE_EMPTY_TARGET', `target ${i} (alt ${t.alt}) has no data: a DfuSe target needs at least one element`);
    const size = t.image.segments.reduce((n, s) => n + ELEMENT_HEADER_SIZE + s.data.length, 0);
    bodySize += TARGET_PREFIX_SIZE + size;
    return size;
  });
  const fileSize = bodySize + DFU_SUFFIX_LENGTH;
  if (fileSize > 0xffffffff) throw new FwError('DFUSE_TOO_LARGE', `the DfuSe file would be ${formatSize(fileSize)} bytes, beyond its 32-bit size fields`);

  const w = new ByteWriter(bodySize)
    .bytes(fromAscii('DfuSe'))
    .u8(1)
    .u32le(opts.imageSizeConvention === 'with-suffix' ? fileSize : bodySize)
    .u8(targets.length);
  targets.forEach((t, i) => {
    const { bTargetNamed, szTargetName } = nameField(t, i);
    w.bytes(fromAscii('Target')).u8(t.alt).u32le(bTargetNamed).bytes(szTargetName).u32le(sizes[i]!).u32le(t.image.segments.length);
    for (const s of t.image.segments) w.u32le(s.addr).u32le(s.data.length).bytes(s.data);
  });
  return appendDfuSuffix(w.toBytes(), { ...suffix, bcdDFU: BCD_DFU_DFUSE });
}

/**
 * Arguments that make `encodeDfuse` reproduce a decoded file: its targets, suffix values and DFUImageSize
 * convention. With `preserveNames` the raw bTargetNamed and szTargetName go along, so garbage names come back
 * byte for byte; without it names are written clean, and only a `target-name-garbage` file differs.
 */
export function reencodeInputs(
  decoded: DecodedDfuse,
  opts: { preserveNames?: boolean } = {},
): { targets: DfuseTargetInput[]; suffix: DfuseSuffixInput; options: EncodeDfuseOptions } {
  const { dfuse } = decoded;
  const targets = decoded.targets.map((t, i): DfuseTargetInput => {
    const parsed = dfuse.targets[i]!;
    const input: DfuseTargetInput = { alt: t.alt, image: t.image };
    if (opts.preserveNames === true) input.raw = parsed;
    else if (t.name === undefined) input.named = false;
    else input.name = t.name;
    return input;
  });
  return {
    targets,
    suffix: { vid: dfuse.suffix.idVendor, pid: dfuse.suffix.idProduct, bcdDevice: dfuse.suffix.bcdDevice },
    options: { imageSizeConvention: dfuse.imageSizeConvention },
  };
}
