/**
 * Field types of a header layout: their sizes, and reading and writing them in either byte order. Integer
 * fields hold plain numbers (u64 values above 2^53 are read as the nearest number: no shipped layout has a u64,
 * and every value dfukit computes is far below that). bytes[N] fields hold Uint8Arrays.
 */
import { EXIT_USAGE, FwError } from '../core/errors.ts';
import { hexN } from '../core/format.ts';
import type { FieldSource } from './schema.ts';

export type FieldValue = number | Uint8Array;

export function isIntType(type: string): boolean {
  return type === 'u8' || type === 'u16' || type === 'u32' || type === 'u64';
}

export function intBits(type: string): number {
  return type === 'u8' ? 8 : type === 'u16' ? 16 : type === 'u32' ? 32 : type === 'u64' ? 64 : 0;
}

/** Bytes a field occupies: 1, 2, 4, 8 or N of bytes[N]. */
export function fieldSize(type: string): number {
  if (isIntType(type)) return intBits(type) / 8;
  const m = /^bytes\[(\d+)\]$/.exec(type);
  if (m === null) throw new Error(`not a field type: ${type}`);
  return Number(m[1]);
}

export function maxOf(type: string): number {
  const bits = intBits(type);
  return bits >= 53 ? Number.MAX_SAFE_INTEGER : 2 ** bits - 1;
}

export function readInt(bytes: Uint8Array, offset: number, type: string, little: boolean): number {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (type) {
    case 'u8':
      return dv.getUint8(offset);
    case 'u16':
      return dv.getUint16(offset, little);
    case 'u32':
      return dv.getUint32(offset, little);
    default:
      return Number(dv.getBigUint64(offset, little));
  }
}

export function writeInt(bytes: Uint8Array, offset: number, type: string, little: boolean, value: number): void {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (type) {
    case 'u8':
      dv.setUint8(offset, value);
      break;
    case 'u16':
      dv.setUint16(offset, value, little);
      break;
    case 'u32':
      dv.setUint32(offset, value, little);
      break;
    default:
      dv.setBigUint64(offset, BigInt(value), little);
  }
}

/** A field with its offset resolved (options applied) and its byte order settled. */
export interface PlacedField {
  readonly source: FieldSource;
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  readonly type: string;
  readonly little: boolean;
}

/**
 * Places the fields, sorted by offset: offsets from options, byte order from the layout. Overlapping fields
 * are a usage error (HEADER_FIELD_OVERLAP): they happen only when the user moved a field with an offset option.
 */
export function placeFields(fields: readonly FieldSource[], layoutEndian: 'little' | 'big', offsetOf: (f: FieldSource) => number): PlacedField[] {
  const placed = fields
    .map((f) => ({ source: f, name: f.name, offset: offsetOf(f), size: fieldSize(f.type), type: f.type, little: (f.endian ?? layoutEndian) === 'little' }))
    .sort((a, b) => a.offset - b.offset);
  for (let i = 0; i + 1 < placed.length; i++) {
    const f = placed[i]!;
    const next = placed[i + 1]!;
    if (next.offset < f.offset + f.size) {
      throw new FwError('HEADER_FIELD_OVERLAP', `field ${next.name} at offset ${hexN(next.offset, 2)} overlaps field ${f.name} at ${hexN(f.offset, 2)} (+${f.size})`, {}, EXIT_USAGE);
    }
  }
  return placed;
}

/** One past the last byte any field occupies. */
export function fieldsEnd(placed: readonly PlacedField[]): number {
  return placed.reduce((n, f) => Math.max(n, f.offset + f.size), 0);
}
