/**
 * Raw binary images. A .bin holds bytes and nothing else: the load address comes from the caller, and on
 * encode every gap between segments becomes fill bytes, so an image with data far apart (RAM + flash in one
 * ELF: 0x08000000 and 0x20000000 make a 384 MiB file) is refused above a size limit instead of allocated.
 */
import { crc32 } from '../core/crc.ts';
import { EXIT_USAGE, FwError } from '../core/errors.ts';
import { formatRange, formatSize, hex32 } from '../core/format.ts';
import type { Note } from '../core/notes.ts';
import { ADDRESS_LIMIT } from '../core/range.ts';
import { MemoryImage } from '../image/memory-image.ts';
import type { DecodeOptions, Decoded } from './types.ts';

export const DEFAULT_BIN_FILL = 0xff;
export const DEFAULT_BIN_MAX_SPAN = 256 * 1024 * 1024;

export interface BinDecodeOptions extends DecodeOptions {
  /** Load address of the first byte. Required. */
  address?: number;
}

/** The file's bytes at `opts.address` as one alt-0 target (the bytes are kept by reference). */
export function decodeBin(bytes: Uint8Array, opts: BinDecodeOptions = {}): Decoded {
  const file = opts.file !== undefined ? { file: opts.file } : {};
  const { address } = opts;
  if (address === undefined) {
    throw new FwError(
      'BIN_NO_ADDRESS',
      `a raw binary has no load address: give one, e.g. ${opts.file ?? 'file.bin'}@0x08000000`,
      file,
      EXIT_USAGE,
    );
  }
  if (!Number.isInteger(address) || address < 0 || address + bytes.length > ADDRESS_LIMIT) {
    throw new FwError(
      'BIN_ADDRESS_RANGE',
      `${formatSize(bytes.length)} bytes at ${Number.isInteger(address) && address >= 0 ? hex32(address) : String(address)} do not fit in the 32-bit address space`,
      file,
      EXIT_USAGE,
    );
  }
  const notes: Note[] = [];
  if (bytes.length === 0) notes.push({ code: 'BIN_EMPTY', severity: 'warning', message: 'the file is empty', location: file });
  // A DFU suffix ends in "UFD", bLength, CRC, and the CRC-32 of a whole suffixed file is the residue 0xFFFFFFFF.
  const n = bytes.length;
  if (n >= 16 && bytes[n - 8] === 0x55 && bytes[n - 7] === 0x46 && bytes[n - 6] === 0x44 && crc32(bytes) === 0xffffffff) {
    notes.push({
      code: 'BIN_HAS_DFU_SUFFIX',
      severity: 'warning',
      message: 'the file ends in a valid DFU suffix: it is a DFU/DfuSe file, and its suffix is being loaded as data',
      location: { ...file, offset: n - 16 },
    });
  }
  const image = new MemoryImage();
  image.add(address, bytes, opts.file ?? 'binary');
  return { format: 'bin', targets: [{ alt: 0, image }], notes };
}

export interface BinEncodeOptions {
  /** Byte for gaps (and for bytes before the first segment when `start` is lower). Default 0xFF. */
  fill?: number;
  /** Address of the first output byte. Default: the image start. Must not be above it. */
  start?: number;
  /** Largest output allowed, in bytes. Default 256 MiB. */
  maxSpan?: number;
}

/**
 * The image from `start` (default its first byte) to its last byte, gaps filled. Errors: `BIN_EMPTY_IMAGE`,
 * `BIN_START_ABOVE_DATA`, `BIN_SPAN_TOO_LARGE` (naming the span and the widest gap), bad options (exit 2).
 */
export function encodeBin(image: MemoryImage, opts: BinEncodeOptions = {}): { bytes: Uint8Array; start: number } {
  const fill = opts.fill ?? DEFAULT_BIN_FILL;
  const maxSpan = opts.maxSpan ?? DEFAULT_BIN_MAX_SPAN;
  if (!Number.isInteger(fill) || fill < 0 || fill > 0xff) throw new FwError('BIN_FILL', `fill must be a byte value 0-255, got ${fill}`, {}, EXIT_USAGE);
  if (!Number.isSafeInteger(maxSpan) || maxSpan < 0) throw new FwError('BIN_MAX_SPAN', `span limit must be a size in bytes, got ${maxSpan}`, {}, EXIT_USAGE);
  const first = image.start;
  const end = image.end;
  if (first === undefined || end === undefined) throw new FwError('BIN_EMPTY_IMAGE', 'the image holds no data: there is nothing to write');
  const start = opts.start ?? first;
  if (!Number.isInteger(start) || start < 0) throw new FwError('BIN_START', `start address must be a non-negative integer, got ${start}`, {}, EXIT_USAGE);
  if (start > first) {
    throw new FwError(
      'BIN_START_ABOVE_DATA',
      `start address ${hex32(start)} is above the first data at ${hex32(first)}: a binary cannot begin inside the image`,
      { address: first },
      EXIT_USAGE,
    );
  }
  const span = end - start;
  if (span > maxSpan) {
    throw new FwError('BIN_SPAN_TOO_LARGE', `the image spans ${formatRange(start, end)}, ${formatSize(span)} bytes, above the limit of ${formatSize(maxSpan)}${widestGap(image)}`, { address: start });
  }
  return { bytes: image.read(start, span, fill), start };
}

/** `; the widest gap is ... between A and B` when the image has gaps: usually the reason for a huge span. */
function widestGap(image: MemoryImage): string {
  const runs = image.ranges();
  let best: { from: number; to: number } | undefined;
  for (let i = 1; i < runs.length; i++) {
    const from = runs[i - 1]!.end;
    const to = runs[i]!.start;
    if (best === undefined || to - from > best.to - best.from) best = { from, to };
  }
  return best === undefined ? '' : `; the widest gap is ${formatRange(best.from, best.to)} (${formatSize(best.to - best.from)} bytes), e.g. RAM and flash data in one image`;
}
