/**
 * Motorola S-record reader and writer (S0 header, S1/S2/S3 data with 16/24/32-bit addresses, S5/S6
 * data-record counts, S7/S8/S9 termination with the start address).
 *
 * Reader policies:
 * - Checksums (ones' complement of the byte sum) are always verified. Any line ending, hex digits in either
 *   case (the record mark is an upper-case S, as in every peer);
 *   empty lines are skipped; anything else malformed is an error with line and column. S4 is reserved.
 * - S0: the first header is returned (`header`), raw bytes and as text. Its address field is ignored.
 * - S5/S6 must equal the number of S1/S2/S3 records before them (`SREC_COUNT_MISMATCH`), unless
 *   leniency `count-mismatch` (then noted).
 * - S7/S8/S9 give `entry` (also when it is 0: the format cannot say "no entry") and end the file.
 *   Anything but line breaks after it is an error unless leniency `data-after-eof` (then ignored).
 * - No termination record: accepted when a verified S5/S6 count record follows the last data record
 *   (srec_cat writes no termination when it knows no start address, but always a count), noted as info;
 *   otherwise the file may be truncated: `SREC_MISSING_EOF` unless leniency `missing-eof`.
 *   The leniency names are the Intel HEX ones; the termination record is the S-record end of file.
 * - Overlapping data is an error naming both lines unless `overwrite`. Data running past 0xFFFFFFFF is an
 *   error. S1/S2 data that runs past 0xFFFF/0xFFFFFF continues linearly (srec_cat does the same).
 *
 * Writer: S0 header, data records of the smallest address width that holds the highest address and the
 * start address (srec_cat's rule: S1 below 64 KiB, S2 below 16 MiB, else S3; `addressSize` forces one),
 * an S5 count (S6 past 65 535 records, none past 16 777 215, as srec_cat), and a matching S9/S8/S7
 * termination carrying `start` or 0. Unlike srec_cat, the termination is always written.
 */
import { fromAscii, ascii } from '../core/bytes.ts';
import { FwError, EXIT_USAGE } from '../core/errors.ts';
import { hex32, hexN } from '../core/format.ts';
import type { Note } from '../core/notes.ts';
import { ADDRESS_LIMIT } from '../core/range.ts';
import type { MemoryImage } from '../image/memory-image.ts';
import { RunBuilder, TextWriter, describeChar, nonHexError, hexByte as sharedHexByte, lineEnd, skipEol as sharedSkipEol, textLocation } from './text-records.ts';
import { allows, type Decoded, type DecodeOptions } from './types.ts';

/** Leniencies `decodeSrec` understands (see the module comment). */
export const SREC_LENIENCIES = ['missing-eof', 'data-after-eof', 'count-mismatch'] as const;

/** Records read, by type. */
export interface SrecRecordCounts {
  s0: number;
  s1: number;
  s2: number;
  s3: number;
  s5: number;
  s6: number;
  s7: number;
  s8: number;
  s9: number;
}

export interface SrecDecoded extends Decoded {
  format: 'srec';
  records: SrecRecordCounts;
  /** The first S0 record's data (conventionally a module name), with the line it came from. */
  header?: { data: Uint8Array; text: string; line: number };
}

// Module-local bindings for the per-byte loop: where imports are compiled to getters (tsx's CommonJS interop),
// reading an imported binding per byte costs a call; these do not.
const hexByte = sharedHexByte;
const skipEol = sharedSkipEol;
const CR = 0x0d;
const LF = 0x0a;

const S = 0x53;
/** Address bytes per record type S0..S9 (-1: reserved S4). */
const ADDRESS_BYTES = [2, 2, 3, 4, -1, 2, 3, 4, 3, 2];

export function decodeSrec(bytes: Uint8Array, opts: DecodeOptions = {}): SrecDecoded {
  const file = opts.file;
  const notes: Note[] = [];
  const runs = new RunBuilder('SREC', opts, notes, bytes.length);
  const records: SrecRecordCounts = { s0: 0, s1: 0, s2: 0, s3: 0, s5: 0, s6: 0, s7: 0, s8: 0, s9: 0 };
  const fail = (code: string, message: string, line: number, column?: number, address?: number): FwError =>
    new FwError(`SREC_${code}`, message, textLocation(file, line, column, address));
  const n = bytes.length;
  let p = 0;
  let line = 1;
  let dataRecords = 0;
  let lastDataLine = 0;
  let lastCountLine = 0;
  let endLine = 0;
  let entry: number | undefined;
  let header: SrecDecoded['header'];

  while (p < n) {
    const first = bytes[p]!;
    if (first === CR || first === LF) {
      p = skipEol(bytes, p);
      line++;
      continue;
    }
    if (endLine !== 0) {
      if (!allows(opts, 'data-after-eof')) throw fail('DATA_AFTER_EOF', `data after the termination record on line ${endLine}`, line, 1);
      notes.push({
        code: 'SREC_DATA_AFTER_EOF',
        severity: 'warning',
        message: `ignored ${n - p} bytes after the termination record on line ${endLine}`,
        location: textLocation(file, line, 1),
        leniency: 'data-after-eof',
      });
      break;
    }
    const lineStart = p;
    if (first !== S) throw fail('START_CODE', `expected 'S' at the start of a record, found ${describeChar(first)}`, line, 1);
    const typeChar = p + 1 < n ? bytes[p + 1]! : LF;
    if (typeChar === CR || typeChar === LF) throw fail('LENGTH_MISMATCH', "record ends after its 'S'", line, 2);
    const type = typeChar - 0x30;
    const width = ADDRESS_BYTES[type] ?? -1;
    if (width < 0) throw fail('RECORD_TYPE', `unknown record type ${describeChar(typeChar)}; S-records are S0-S3 and S5-S9`, line, 2);
    const count = p + 4 <= n ? hexByte(bytes, p + 2) : -1;
    const end = p + 4 + 2 * count;
    if (count < 0 || end > n || (end < n && bytes[end] !== LF && bytes[end] !== CR)) throw malformed(bytes, p, line, count, fail);
    if (count < width + 1) {
      throw fail('BAD_LENGTH', `S${type} byte count ${hexN(count, 2)} leaves no room for its ${width} address bytes and checksum`, line, 3);
    }

    let sum = count;
    let bad = 0;
    let address = 0;
    let d = p + 4;
    for (let i = 0; i < width; i++, d += 2) {
      const v = hexByte(bytes, d);
      address = address * 256 + v;
      sum += v;
      bad |= v;
    }
    const size = count - width - 1;
    const at = runs.reserve(size);
    const buf = runs.buf;
    for (let i = 0; i < size; i++, d += 2) {
      const v = hexByte(bytes, d);
      buf[at + i] = v;
      sum += v;
      bad |= v;
    }
    const checksum = hexByte(bytes, d);
    if ((bad | checksum) < 0) throw malformed(bytes, p, line, count, fail);
    if (((sum + checksum) & 0xff) !== 0xff) {
      throw fail('CHECKSUM', `checksum ${hexN(checksum, 2)}, expected ${hexN(~sum & 0xff, 2)}`, line, d - lineStart + 1);
    }
    if (type >= 5 && size !== 0) throw fail('BAD_LENGTH', `S${type} record has ${size} data bytes, expected none`, line, 3);

    switch (type) {
      case 0:
        records.s0++;
        if (header === undefined) {
          const data = buf.slice(at, at + size);
          header = { data, text: ascii(data), line };
        }
        break;
      case 1:
      case 2:
      case 3:
        records[type === 1 ? 's1' : type === 2 ? 's2' : 's3']++;
        dataRecords++;
        lastDataLine = line;
        runs.commit(address, size, line);
        break;
      case 5:
      case 6: {
        records[type === 5 ? 's5' : 's6']++;
        if (address !== dataRecords) {
          const message = `S${type} record count ${address}, but ${dataRecords} data records precede it`;
          if (!allows(opts, 'count-mismatch')) throw fail('COUNT_MISMATCH', message, line, 5);
          notes.push({ code: 'SREC_COUNT_MISMATCH', severity: 'warning', message, location: textLocation(file, line, 5), leniency: 'count-mismatch' });
        } else {
          lastCountLine = line;
        }
        break;
      }
      default:
        records[type === 7 ? 's7' : type === 8 ? 's8' : 's9']++;
        endLine = line;
        entry = address;
    }
    p = skipEol(bytes, end);
    line++;
  }

  if (endLine === 0) {
    if (lastCountLine > lastDataLine) {
      notes.push({
        code: 'SREC_NO_TERMINATION',
        severity: 'info',
        message: `no termination record (S7/S8/S9), so no entry address; the count record on line ${lastCountLine} shows the file is complete`,
        location: textLocation(file, line),
      });
    } else {
      const message = 'the file ends without a termination record (S7/S8/S9) or a data-record count (S5/S6) after the last data record';
      if (!allows(opts, 'missing-eof')) throw fail('MISSING_EOF', message, line);
      notes.push({ code: 'SREC_MISSING_EOF', severity: 'warning', message, location: textLocation(file, line), leniency: 'missing-eof' });
    }
  }
  const image = runs.finish();
  return {
    format: 'srec',
    targets: [{ alt: 0, image }],
    notes,
    records,
    ...(entry !== undefined ? { entry } : {}),
    ...(header !== undefined ? { header } : {}),
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
  const bad = nonHexError(bytes, p, p + 2, line, fail);
  if (bad !== undefined) return bad;
  const end = lineEnd(bytes, p);
  const digits = end - p - 2;
  if (count < 0) return fail('LENGTH_MISMATCH', `record has ${digits} hex digits after its type, at least 2 needed for the byte count`, line, 3);
  return fail('LENGTH_MISMATCH', `byte count ${hexN(count, 2)} needs ${2 + 2 * count} hex digits after the type, the line has ${digits}`, line, 3);
}

export interface SrecEncodeOptions {
  /** Data bytes per record (default 16); at most 255 minus address and checksum bytes. */
  recordLength?: number;
  /** CR LF line ends (default LF). */
  crlf?: boolean;
  /** Start address for the termination record (default 0). */
  start?: number;
  /** S0 header data (default empty). */
  header?: string | Uint8Array;
  /** Address bytes of the data records: 2 (S1), 3 (S2), 4 (S3). Default: the smallest that fits. */
  addressSize?: 2 | 3 | 4;
}

export function encodeSrec(image: MemoryImage, opts: SrecEncodeOptions = {}): Uint8Array {
  const start = opts.start ?? 0;
  if (!(Number.isInteger(start) && start >= 0 && start < ADDRESS_LIMIT)) {
    throw new FwError('SREC_OPTION', `start address must be a 32-bit unsigned integer, got ${start}`, {}, EXIT_USAGE);
  }
  const highest = Math.max((image.end ?? 1) - 1, start);
  const width = opts.addressSize ?? (highest <= 0xffff ? 2 : highest <= 0xffffff ? 3 : 4);
  if (highest >= 2 ** (8 * width)) {
    throw new FwError('SREC_OPTION', `${hex32(highest)} does not fit in ${width}-byte S-record addresses`, {}, EXIT_USAGE);
  }
  const maxLength = 255 - width - 1;
  const recordLength = opts.recordLength ?? 16;
  if (!Number.isInteger(recordLength) || recordLength < 1 || recordLength > maxLength) {
    throw new FwError('SREC_OPTION', `record length must be 1..${maxLength} bytes for S${width - 1} records, got ${recordLength}`, {}, EXIT_USAGE);
  }
  const header = typeof opts.header === 'string' ? fromAscii(opts.header) : (opts.header ?? new Uint8Array(0));
  if (header.length > 252) throw new FwError('SREC_OPTION', `S0 header holds at most 252 bytes, got ${header.length}`, {}, EXIT_USAGE);

  const size = image.size;
  const out = new TextWriter(opts.crlf === true, size * 2 + Math.ceil(size / recordLength + 8) * (2 * width + 10));
  const record = (type: number, w: number, address: number, data: Uint8Array): void => {
    out.begin(`S${type}`, w + data.length + 2);
    out.byte(w + data.length + 1);
    for (let shift = 8 * (w - 1); shift >= 0; shift -= 8) out.byte(Math.floor(address / 2 ** shift) & 0xff);
    out.bytes(data);
    out.end(~out.sum);
  };
  record(0, 2, 0, header);
  let count = 0;
  for (const run of image.runs()) {
    for (let i = 0; i < run.data.length; i += recordLength) {
      record(width - 1, width, run.addr + i, run.data.subarray(i, i + recordLength));
      count++;
    }
  }
  if (count <= 0xffff) record(5, 2, count, new Uint8Array(0));
  else if (count <= 0xffffff) record(6, 3, count, new Uint8Array(0));
  record(11 - width, width, start, new Uint8Array(0));
  return out.toBytes();
}
