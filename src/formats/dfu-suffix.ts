/**
 * The DFU 1.1 file suffix (DFU 1.1 appendix B; UM0391 for DfuSe) and plain DFU files (payload + suffix).
 *
 * The suffix is the last bLength bytes of the file. Its last 16 bytes are, in file order:
 *
 * | from end | size | field          | notes                                                          |
 * |----------|------|----------------|----------------------------------------------------------------|
 * | −16      | 2    | bcdDevice      | device release, 0xFFFF = any                                   |
 * | −14      | 2    | idProduct      |                                                                |
 * | −12      | 2    | idVendor       |                                                                |
 * | −10      | 2    | bcdDFU         | 0x0100 plain DFU, 0x011A DfuSe                                 |
 * | −8       | 3    | ucDfuSignature | 'U','F','D'                                                    |
 * | −5       | 1    | bLength        | ≥ 16; dfu-util accepts longer suffixes, fwupd only 16           |
 * | −4       | 4    | dwCRC          | CRC-32/JAMCRC of every byte before it, little-endian           |
 *
 * A suffix longer than 16 bytes (fwupd's fixtures carry metadata in it: bLength 29, 62, 71) has its extra
 * bLength − 16 bytes in front of those fields; they belong to the suffix, not to the payload.
 */
import { ByteWriter, ascii, fromAscii } from '../core/bytes.ts';
import { crc32Jam } from '../core/crc.ts';
import { EXIT_USAGE, FwError, type Location } from '../core/errors.ts';
import { formatSize, hex32, hexN } from '../core/format.ts';
import type { Note } from '../core/notes.ts';
import { MemoryImage } from '../image/memory-image.ts';
import { ADDRESS_LIMIT } from '../core/range.ts';
import { allows, type DecodeOptions, type Decoded } from './types.ts';

export const DFU_SUFFIX_LENGTH = 16;
export const BCD_DFU_1_0 = 0x0100;
export const BCD_DFU_DFUSE = 0x011a;

/** Leniency: accept a suffix whose dwCRC does not match the file (reported as a warning). */
export const LENIENCY_BAD_CRC = 'bad-crc';
export const DFU_LENIENCIES: readonly string[] = [LENIENCY_BAD_CRC];

/** The fields a writer chooses (idVendor, idProduct, bcdDevice, bcdDFU). */
export interface DfuSuffixFields {
  bcdDevice: number;
  pid: number;
  vid: number;
  bcdDFU: number;
}

/** A parsed suffix, fields named as in DFU 1.1 / UM0391. */
export interface DfuSuffix {
  bcdDevice: number;
  idProduct: number;
  idVendor: number;
  bcdDFU: number;
  bLength: number;
  dwCRC: number;
  /** CRC-32/JAMCRC of every byte but the last 4: what dwCRC should hold. */
  crcComputed: number;
  crcValid: boolean;
  /** File offset of the first suffix byte, which is also the length of what precedes the suffix. */
  offset: number;
  /** The bLength − 16 suffix bytes in front of the standard fields; empty for a 16-byte suffix. */
  extra: Uint8Array;
}

/** Error-code prefix: a DfuSe file reports suffix problems as `DFUSE_...`, a plain DFU file as `DFU_...`. */
export type SuffixArea = 'DFU' | 'DFUSE';

function loc(file: string | undefined, offset: number): Location {
  return file === undefined ? { offset } : { file, offset };
}

/**
 * Reads the suffix at the end of `bytes`. Throws `<AREA>_TRUNCATED` (under 16 bytes), `<AREA>_SUFFIX_SIGNATURE`
 * (no "UFD") and `<AREA>_SUFFIX_LENGTH` (bLength under 16 or beyond the file). A wrong CRC is not thrown here:
 * `crcValid` says so and `checkSuffixCrc` applies the caller's policy.
 */
export function parseDfuSuffix(bytes: Uint8Array, opts: { file?: string; area?: SuffixArea } = {}): DfuSuffix {
  const area = opts.area ?? 'DFU';
  const n = bytes.length;
  if (n < DFU_SUFFIX_LENGTH) {
    throw new FwError(`${area}_TRUNCATED`, `a DFU suffix needs ${DFU_SUFFIX_LENGTH} bytes, but the file has ${n}`, loc(opts.file, 0));
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, n);
  const at = n - DFU_SUFFIX_LENGTH;
  const signature = bytes.subarray(at + 8, at + 11);
  if (ascii(signature) !== 'UFD') {
    throw new FwError(
      `${area}_SUFFIX_SIGNATURE`,
      `no DFU suffix: ucDfuSignature is ${JSON.stringify(ascii(signature))}, expected "UFD"`,
      loc(opts.file, at + 8),
    );
  }
  const bLength = bytes[at + 11]!;
  if (bLength < DFU_SUFFIX_LENGTH || bLength > n) {
    throw new FwError(
      `${area}_SUFFIX_LENGTH`,
      `DFU suffix bLength is ${bLength}: it must be at least ${DFU_SUFFIX_LENGTH} and at most the file length ${n}`,
      loc(opts.file, at + 11),
    );
  }
  const dwCRC = view.getUint32(at + 12, true);
  const crcComputed = crc32Jam(bytes.subarray(0, n - 4));
  return {
    bcdDevice: view.getUint16(at, true),
    idProduct: view.getUint16(at + 2, true),
    idVendor: view.getUint16(at + 4, true),
    bcdDFU: view.getUint16(at + 6, true),
    bLength,
    dwCRC,
    crcComputed,
    crcValid: dwCRC === crcComputed,
    offset: n - bLength,
    extra: bytes.subarray(n - bLength, at),
  };
}

/** Throws `<AREA>_SUFFIX_CRC` for a wrong dwCRC unless the caller allows `bad-crc`; then returns the note. */
export function checkSuffixCrc(s: DfuSuffix, bytes: Uint8Array, area: SuffixArea, opts: DecodeOptions): Note[] {
  if (s.crcValid) return [];
  const code = `${area}_SUFFIX_CRC`;
  const message = `DFU suffix dwCRC is ${hex32(s.dwCRC)}, but the CRC-32/JAMCRC of bytes 0..${hex32(bytes.length - 4)} is ${hex32(s.crcComputed)}`;
  const location = loc(opts.file, bytes.length - 4);
  if (!allows(opts, LENIENCY_BAD_CRC)) {
    throw new FwError(code, `${message} (the file is damaged; leniency '${LENIENCY_BAD_CRC}' reads it anyway)`, location);
  }
  return [{ code, severity: 'warning', message, location, leniency: LENIENCY_BAD_CRC }];
}

function checkU16(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) {
    throw new FwError('DFU_SUFFIX_FIELD', `suffix ${name} must be a 16-bit value, got ${v}`, {}, EXIT_USAGE);
  }
}

/**
 * `body` followed by a DFU suffix with the given fields, bLength = 16 + extra.length and the JAMCRC.
 * `extra` reproduces a long suffix (the bytes in front of the standard fields).
 */
export function appendDfuSuffix(body: Uint8Array, fields: DfuSuffixFields, extra: Uint8Array = new Uint8Array(0)): Uint8Array {
  checkU16('bcdDevice', fields.bcdDevice);
  checkU16('idProduct', fields.pid);
  checkU16('idVendor', fields.vid);
  checkU16('bcdDFU', fields.bcdDFU);
  const bLength = DFU_SUFFIX_LENGTH + extra.length;
  if (bLength > 0xff) {
    throw new FwError('DFU_SUFFIX_FIELD', `suffix extra bytes make bLength ${bLength}, above 255`, {}, EXIT_USAGE);
  }
  const w = new ByteWriter(body.length + bLength)
    .bytes(body)
    .bytes(extra)
    .u16le(fields.bcdDevice)
    .u16le(fields.pid)
    .u16le(fields.vid)
    .u16le(fields.bcdDFU)
    .bytes(fromAscii('UFD'))
    .u8(bLength)
    .u32le(0);
  const out = w.toBytes();
  new DataView(out.buffer).setUint32(out.length - 4, crc32Jam(out.subarray(0, out.length - 4)), true);
  return out;
}

/** A plain DFU file: payload + suffix. bcdDFU defaults to 0x0100 (DFU 1.0/1.1). */
export function encodeDfu(
  payload: Uint8Array,
  fields: Omit<DfuSuffixFields, 'bcdDFU'> & { bcdDFU?: number; extra?: Uint8Array },
): Uint8Array {
  const { extra, bcdDFU, ...ids } = fields;
  return appendDfuSuffix(payload, { ...ids, bcdDFU: bcdDFU ?? BCD_DFU_1_0 }, extra);
}

export interface DfuDecodeOptions extends DecodeOptions {
  /** Load address of the payload (a plain DFU file has none). Default 0, reported as a note. */
  address?: number;
}

export interface DecodedDfu extends Decoded {
  format: 'dfu';
  suffix: DfuSuffix;
  /** Everything before the suffix (a view into the input). */
  payload: Uint8Array;
}

/**
 * A plain DFU file (payload + suffix, any bcdDFU, any bLength ≥ 16) as one alt-0 target holding the payload at
 * `opts.address` (0 when absent, with an info note). A file whose payload starts with the DfuSe prefix is
 * refused with `DFU_IS_DFUSE`: its payload is not flash content.
 */
export function decodeDfu(bytes: Uint8Array, opts: DfuDecodeOptions = {}): DecodedDfu {
  const suffix = parseDfuSuffix(bytes, { area: 'DFU', ...(opts.file !== undefined ? { file: opts.file } : {}) });
  const notes = checkSuffixCrc(suffix, bytes, 'DFU', opts);
  const payload = bytes.subarray(0, suffix.offset);
  if (ascii(payload.subarray(0, 5)) === 'DfuSe') {
    throw new FwError(
      'DFU_IS_DFUSE',
      `the payload starts with the DfuSe prefix (bcdDFU ${hexN(suffix.bcdDFU, 4)}): decode this file as DfuSe`,
      loc(opts.file, 0),
    );
  }
  if (suffix.bcdDFU === BCD_DFU_DFUSE) {
    notes.push({
      code: 'DFU_BCD_DFUSE_WITHOUT_PREFIX',
      severity: 'warning',
      message: `bcdDFU is ${hexN(BCD_DFU_DFUSE, 4)} (DfuSe) but there is no DfuSe prefix; dfu-util refuses to download such a file raw`,
      location: loc(opts.file, bytes.length - 10),
    });
  }
  if (suffix.extra.length > 0) {
    notes.push({
      code: 'DFU_SUFFIX_EXTRA',
      severity: 'info',
      message: `suffix bLength is ${suffix.bLength}: the ${suffix.extra.length} bytes in front of the standard 16 are suffix data, not payload`,
      location: loc(opts.file, suffix.offset),
    });
  }
  if (payload.length === 0) {
    notes.push({ code: 'DFU_EMPTY_PAYLOAD', severity: 'warning', message: 'the file holds a suffix and no payload', location: loc(opts.file, 0) });
  }
  let address = opts.address;
  if (address === undefined) {
    address = 0;
    notes.push({
      code: 'DFU_NO_ADDRESS',
      severity: 'info',
      message: `a plain DFU file has no load address: the ${formatSize(payload.length)}-byte payload is placed at ${hex32(0)}`,
      location: loc(opts.file, 0),
    });
  } else if (!Number.isInteger(address) || address < 0 || address + payload.length > ADDRESS_LIMIT) {
    throw new FwError(
      'DFU_ADDRESS_RANGE',
      `a ${formatSize(payload.length)}-byte payload at ${address} does not fit in the 32-bit address space`,
      { ...loc(opts.file, 0), address },
      EXIT_USAGE,
    );
  }
  const image = new MemoryImage();
  image.add(address, payload, opts.file ?? 'DFU payload');
  return { format: 'dfu', targets: [{ alt: 0, image }], notes, suffix, payload };
}
