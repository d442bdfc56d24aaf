/**
 * Intel HEX reader and writer (record types 00-05, per Intel's "Hexadecimal Object File Format
 * Specification" rev A, 1988).
 *
 * Reader policies (image-formats.md §3 has the peer-tool matrix behind them):
 * - Checksums are always verified. Any line ending (LF, CRLF, CR) and either letter case is accepted;
 *   empty lines are skipped. Anything else that is not a well-formed record is an error with line and column.
 * - The address field of records other than 00 is ignored, as the spec says.
 * - Type 04 (extended linear): address = (ULBA << 16) + offset. A record crossing a 64 KiB boundary
 *   continues linearly into the next 64 KiB, as every peer but nrf-intel-hex reads it.
 * - Type 02 (extended segment): address = (USBA << 4) + offset. The spec wraps the offset inside the
 *   64 KiB segment, SBA + ((DRLO + DRI) MOD 64K) (srec_cat does), python intelhex / objcopy / fwupd continue
 *   linearly. The two readings
 *   disagree only for a record that crosses the segment end, so such a record is an error
 *   (`IHEX_SEGMENT_WRAP`); leniency `segment-wrap` applies the spec's wrap and notes it.
 * - Type 03 (CS:IP) and 05 (EIP) set `entry` (03 as CS * 16 + IP, which is how objcopy encodes a start
 *   address below 1 MiB, e.g. the nRF52 `nano33ble` bootloader). A second start record is an error
 *   unless leniency `duplicate-start` (then the last one wins).
 * - A missing EOF record, and anything but line breaks after it, are errors unless leniencies
 *   `missing-eof` / `data-after-eof` (text after EOF is then ignored, as srec_cat, intelhex and objcopy do).
 * - Overlapping data is an error naming both lines unless `overwrite` (later data wins, noted).
 * - Data running past 0xFFFFFFFF is an error (`IHEX_ADDRESS_WRAP`). The spec computes (LBA + offset) MOD 4G
 *   and srec_cat wraps to 0x00000000 (the vector table of most Cortex-M parts); no real image means that.
 *
 * Speed: one pass over the bytes, hex digits decoded through a lookup table in place into one store
 * (see RunBuilder); contiguous records become one MemoryImage segment. No strings are built per record.
 *
 */
import { FwError, EXIT_USAGE } from '../core/errors.ts';
import { hex32, hexN } from '../core/format.ts';
import type { Note } from '../core/notes.ts';
import { ADDRESS_LIMIT } from '../core/range.ts';
import { MemoryImage } from '../image/memory-image.ts';
import { CR, LF, hexByte, skipEol, lineEnd, describeChar, nonHexError, textLocation, RunBuilder, TextWriter } from './text-records.ts';
import { allows, type Decoded, type DecodeOptions } from './types.ts';

export const IHEX_LENIENCIES = ['missing-eof', 'data-after-eof', 'segment-wrap', 'duplicate-start'] as const;

export interface IhexRecordCounts {
  /** Type 00. */
  data: number;
  /** Type 01. */
  eof: number;
  /** Type 02. */
  extendedSegment: number;
  /** Type 03. */
  startSegment: number;
  /** Type 04. */
  extendedLinear: number;
  /** Type 05. */
  startLinear: number;
}

export interface IhexDecoded extends Decoded {
  format: 'ihex';
  records: IhexRecordCounts;
  /** Type 03 record (8086 CS:IP); `entry` is CS * 16 + IP. */
  startSegment?: { cs: number; ip: number };
  /** Type 05 record (EIP). */
  startLinear?: number;
}

const COLON = 0x3a;
const RECORD_NAMES = [
  'data record (type 00)',
  'end-of-file record (type 01)',
  'extended segment address record (type 02)',
  'start segment address record (type 03)',
  'extended linear address record (type 04)',
  'start linear address record (type 05)',
];
/** Byte count each non-data record type must have. */
const RECORD_SIZES = [-1, 0, 2, 4, 2, 4];

export function decodeIhex(bytes: Uint8Array, opts: DecodeOptions = {}): IhexDecoded {
  const file = opts.file;
  const notes: Note[] = [];
  const runs = new RunBuilder('IHEX', opts, notes, bytes.length);
  const records: IhexRecordCounts = { data: 0, eof: 0, extendedSegment: 0, startSegment: 0, extendedLinear: 0, startLinear: 0 };
  const fail = (code: string, message: string, line: number, column?: number, address?: number): FwError =>
    new FwError(`IHEX_${code}`, message, textLocation(file, line, column, address));
  const field = new Uint8Array(4);
  const n = bytes.length;
  let p = 0;
  let line = 1;
  /** Base added to data record offsets: ULBA << 16 (type 04) or USBA << 4 (type 02). */
  let base = 0;
  let segmented = false;
  let eofLine = 0;
  let startLine = 0;
  let entry: number | undefined;
  let startSegment: { cs: number; ip: number } | undefined;
  let startLinear: number | undefined;

  while (p < n) {
    const first = bytes[p]!;
    if (first === CR || first === LF) {
      p = skipEol(bytes, p);
      line++;
      continue;
    }
    if (eofLine !== 0) {
      if (!allows(opts, 'data-after-eof')) {
        throw fail('DATA_AFTER_EOF', `data after the end-of-file record on line ${eofLine}`, line, 1);
      }
      notes.push({
        code: 'IHEX_DATA_AFTER_EOF',
        severity: 'warning',
        message: `ignored ${n - p} bytes after the end-of-file record on line ${eofLine}`,
        location: textLocation(file, line, 1),
        leniency: 'data-after-eof',
      });
      break;
    }
    const lineStart = p;
    if (first !== COLON) throw fail('START_CODE', `expected ':' at the start of a record, found ${describeChar(first)}`, line, 1);
    const count = p + 3 <= n ? hexByte(bytes, p + 1) : -1;
    const end = p + 11 + 2 * count;
    if (count < 0 || end > n || (end < n && bytes[end] !== LF && bytes[end] !== CR)) throw malformed(bytes, p, line, count, fail);

    const type = hexByte(bytes, p + 7);
    const offset = (hexByte(bytes, p + 3) << 8) | hexByte(bytes, p + 5);
    let sum = count + (offset >> 8) + (offset & 0xff) + type;
    let bad = offset | type;
    let d = p + 9;
    let at = 0;
    if (type === 0) {
      at = runs.reserve(count);
      const buf = runs.buf;
      for (let i = 0; i < count; i++, d += 2) {
        const v = hexByte(bytes, d);
        buf[at + i] = v;
        sum += v;
        bad |= v;
      }
    } else {
      for (let i = 0; i < count; i++, d += 2) {
        const v = hexByte(bytes, d);
        if (i < 4) field[i] = v;
        sum += v;
        bad |= v;
      }
    }
    const checksum = hexByte(bytes, d);
    if ((bad | checksum) < 0) throw malformed(bytes, p, line, count, fail);
    if (((sum + checksum) & 0xff) !== 0) {
      throw fail('CHECKSUM', `checksum ${hexN(checksum, 2)}, expected ${hexN(-sum & 0xff, 2)}`, line, d - lineStart + 1);
    }
    if (type > 5) throw fail('RECORD_TYPE', `unknown record type ${hexN(type, 2)}; Intel HEX defines 00 to 05`, line, 8);
    if (type !== 0 && count !== RECORD_SIZES[type]) {
      throw fail('BAD_LENGTH', `${RECORD_NAMES[type]} has ${count} data bytes, expected ${RECORD_SIZES[type]}`, line, 2);
    }

    switch (type) {
      case 0:
        records.data++;
        if (segmented && offset + count > 0x10000) {
          const inSegment = 0x10000 - offset;
          const message =
            `data record at segment offset ${hexN(offset, 4)} (${count} bytes) crosses the end of the 64 KiB segment at ` +
            `${hex32(base)}: the spec wraps the last ${count - inSegment} bytes to ${hex32(base)} (srec_cat), ` +
            `other tools continue at ${hex32(base + 0x10000)}`;
          if (!allows(opts, 'segment-wrap')) throw fail('SEGMENT_WRAP', message, line, 4, base + offset);
          notes.push({ code: 'IHEX_SEGMENT_WRAP', severity: 'warning', message, location: textLocation(file, line, 4, base + offset), leniency: 'segment-wrap' });
          const data = runs.buf.slice(at, at + count);
          runs.add(base + offset, data.subarray(0, inSegment), line);
          runs.add(base, data.subarray(inSegment), line);
        } else {
          runs.commit(base + offset, count, line);
        }
        break;
      case 1:
        records.eof++;
        eofLine = line;
        break;
      case 2:
        records.extendedSegment++;
        base = ((field[0]! << 8) | field[1]!) * 16;
        segmented = true;
        break;
      case 4:
        records.extendedLinear++;
        base = ((field[0]! << 8) | field[1]!) * 0x10000;
        segmented = false;
        break;
      case 3:
      case 5: {
        const value = ((field[0]! << 24) | (field[1]! << 16) | (field[2]! << 8) | field[3]!) >>> 0;
        const cs = value >>> 16;
        const ip = value & 0xffff;
        const described = type === 3 ? `CS:IP ${hexN(cs, 4)}:${hexN(ip, 4)}` : `EIP ${hex32(value)}`;
        if (startLine !== 0) {
          const message = `second start address record (${described}); line ${startLine} already gave one`;
          if (!allows(opts, 'duplicate-start')) throw fail('START_DUPLICATE', message, line, 8);
          notes.push({ code: 'IHEX_START_DUPLICATE', severity: 'warning', message: `${message}; the last one wins`, location: textLocation(file, line, 8), leniency: 'duplicate-start' });
        }
        startLine = line;
        if (type === 3) {
          records.startSegment++;
          startSegment = { cs, ip };
          entry = cs * 16 + ip;
        } else {
          records.startLinear++;
          startLinear = value;
          entry = value;
        }
        break;
      }
    }
    p = skipEol(bytes, end);
    line++;
  }

  if (eofLine === 0) {
    const message = "the file ends without an end-of-file record (':00000001FF')";
    if (!allows(opts, 'missing-eof')) throw fail('MISSING_EOF', message, line);
    notes.push({ code: 'IHEX_MISSING_EOF', severity: 'warning', message, location: textLocation(file, line), leniency: 'missing-eof' });
  }
  const image = runs.finish();
  return {
    format: 'ihex',
    targets: [{ alt: 0, image }],
    notes,
    records,
    ...(entry !== undefined ? { entry } : {}),
    ...(startSegment !== undefined ? { startSegment } : {}),
    ...(startLinear !== undefined ? { startLinear } : {}),
  };
}

/** Why the record at `p` does not parse: the first non-hex character, else a length that does not fit. */
function malformed(
  bytes: Uint8Array,
  p: number,
  line: number,
  count: number,
  fail: (code: string, message: string, line: number, column?: number) => FwError,
): FwError {
  const bad = nonHexError(bytes, p, p + 1, line, fail);
  if (bad !== undefined) return bad;
  const end = lineEnd(bytes, p);
  const digits = end - p - 1;
  if (count < 0) return fail('LENGTH_MISMATCH', `record has ${digits} hex digits, at least 10 needed`, line, 2);
  return fail(
    'LENGTH_MISMATCH',
    `byte count ${hexN(count, 2)} needs ${10 + 2 * count} hex digits after ':', the line has ${digits}`,
    line,
    2,
  );
}

// ---------------------------------------------------------------------------------------------------
// Intel HEX writer.

export interface IhexEncodeOptions {
  /** Data bytes per record, 1..255 (default 16). */
  recordLength?: number;
  /** CR LF line ends (default LF). */
  crlf?: boolean;
  /** Start linear address (type 05 record), e.g. the entry point. */
  start?: number;
}

/**
 * Upper-case Intel HEX: a type 04 record before the first data record and wherever the upper 16 address
 * bits change, data records that never cross a 64 KiB boundary (records restart at each contiguous run and
 * each 64 KiB boundary, like srec_cat's but without its 64 KiB crossings), type 05 when `start` is given, EOF.
 */
export function encodeIhex(image: MemoryImage, opts: IhexEncodeOptions = {}): Uint8Array {
  const recordLength = opts.recordLength ?? 16;
  if (!Number.isInteger(recordLength) || recordLength < 1 || recordLength > 255) {
    throw new FwError('IHEX_OPTION', `record length must be 1..255 bytes, got ${recordLength}`, {}, EXIT_USAGE);
  }
  const start = opts.start;
  if (start !== undefined && !(Number.isInteger(start) && start >= 0 && start < ADDRESS_LIMIT)) {
    throw new FwError('IHEX_OPTION', `start address must be a 32-bit unsigned integer, got ${start}`, {}, EXIT_USAGE);
  }
  const size = image.size;
  const out = new TextWriter(opts.crlf === true, size * 2 + Math.ceil(size / recordLength + 8) * 14);
  const record = (offset: number, type: number, data: Uint8Array): void => {
    out.begin(':', data.length + 5);
    out.byte(data.length);
    out.byte(offset >>> 8);
    out.byte(offset & 0xff);
    out.byte(type);
    out.bytes(data);
    out.end(-out.sum);
  };
  let upper = -1;
  for (const run of image.runs()) {
    for (let i = 0; i < run.data.length; ) {
      const addr = run.addr + i;
      const hi = Math.floor(addr / 0x10000);
      const lo = addr % 0x10000;
      if (hi !== upper) {
        record(0, 4, new Uint8Array([hi >>> 8, hi & 0xff]));
        upper = hi;
      }
      const len = Math.min(recordLength, run.data.length - i, 0x10000 - lo);
      record(lo, 0, run.data.subarray(i, i + len));
      i += len;
    }
  }
  if (start !== undefined) record(0, 5, new Uint8Array([start >>> 24, (start >>> 16) & 0xff, (start >>> 8) & 0xff, start & 0xff]));
  record(0, 1, new Uint8Array(0));
  return out.toBytes();
}
