/**
 * The value each field should hold, from one rule for inject and verify alike: constants, options, version
 * parts, quantities of the geometry, and digests over named ranges. Bytes of a range that the image does not
 * cover count as the erased value.
 */
import { formatSize, hex32, hexN } from '../core/format.ts';
import { toHex } from '../core/sha256.ts';
import type { MemoryImage } from '../image/memory-image.ts';
import { crcOf, sha256Of } from './digest.ts';
import { fieldSize, isIntType, maxOf, type FieldValue, type PlacedField } from './fields.ts';
import { loadAddress, prefixSize, vectorTableAddress, type Geometry } from './geometry.ts';
import type { OptionValue, ResolvedOptions } from './options.ts';
import type { BitFieldSource, ConditionSource, CrcVariant, FieldSource, HeaderLayoutSource, RangeName } from './schema.ts';
import type { ImageVersion } from './version.ts';

export interface ValueContext {
  readonly layout: HeaderLayoutSource;
  readonly options: ResolvedOptions;
  readonly geometry: Geometry;
  /** false when verify had no slot and `geometry.slot` is the slot the header implies. */
  readonly slotKnown: boolean;
  /** Image in storage addresses. */
  readonly image: MemoryImage;
  readonly erased: number;
  /** The header bytes (as built so far, or as stored). */
  readonly header: Uint8Array;
}

export type Expected = { readonly value: FieldValue } | { readonly unknown: string };

/** The bytes of a named range. */
export function rangeBytes(range: RangeName, ctx: ValueContext, field: PlacedField): Uint8Array {
  const g = ctx.geometry;
  switch (range) {
    case 'header-before':
      return ctx.header.subarray(0, field.offset);
    case 'payload':
      return ctx.image.read(g.payloadStart, g.payloadSize, ctx.erased);
    case 'image': {
      const pre = prefixSize(g);
      const out = new Uint8Array(pre + g.payloadSize);
      out.set(ctx.image.read(g.slot.start, pre, ctx.erased), 0);
      out.set(ctx.image.read(g.payloadStart, g.payloadSize, ctx.erased), pre);
      return out;
    }
  }
}

export function conditionHolds(when: ConditionSource | undefined, options: ResolvedOptions): boolean {
  if (when === undefined) return true;
  const v = options.values.get(when.option);
  if (when.equals !== undefined) return v === when.equals;
  if (when.notEquals !== undefined) return v !== when.notEquals;
  return v === true;
}

/** The erased value repeated over the field: what a field whose `when` does not hold contains. */
export function erasedValueOf(field: PlacedField, erased: number): FieldValue {
  if (!isIntType(field.type)) return new Uint8Array(field.size).fill(erased);
  let v = 0;
  for (let i = 0; i < field.size; i++) v = v * 256 + erased;
  return v;
}

/** Number stored for an option value (enum through `map`, flags as 0/1). */
export function storedOptionNumber(v: OptionValue | undefined, map: Readonly<Record<string, number>> | undefined): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && map !== undefined) return map[v] ?? 0;
  return 0;
}

function bitsValue(bits: readonly BitFieldSource[], options: ResolvedOptions): number {
  let v = 0n;
  for (const b of bits) {
    const n = 'const' in b.value ? Number(b.value.const) : storedOptionNumber(options.values.get(b.value.option), b.value.map);
    v |= BigInt(n) << BigInt(b.shift);
  }
  return Number(v);
}

function crcVariant(field: FieldSource, options: ResolvedOptions): CrcVariant {
  const v = field.value;
  if (!('crc32' in v)) throw new Error('not a CRC field');
  return v.crc32.variant ?? (options.values.get(v.crc32.variantOption!) as CrcVariant);
}

/** The value `field` should hold in this context. */
export function expectedValue(field: PlacedField, ctx: ValueContext): Expected {
  const src = field.source;
  if (!conditionHolds(src.when, ctx.options)) return { value: erasedValueOf(field, ctx.erased) };
  const v = src.value;
  const g = ctx.geometry;
  if ('const' in v) {
    if (typeof v.const === 'number') return { value: v.const };
    const out = new Uint8Array(fieldSize(src.type));
    for (let i = 0; i < out.length; i++) out[i] = parseInt(v.const.slice(2 * i, 2 * i + 2), 16);
    return { value: out };
  }
  if ('fill' in v) return { value: erasedValueOf(field, v.fill) };
  if ('option' in v) return { value: storedOptionNumber(ctx.options.values.get(v.option), v.map) };
  if ('version' in v) return { value: (ctx.options.values.get('version') as ImageVersion)[v.version] };
  if ('bits' in v) return { value: bitsValue(v.bits, ctx.options) };
  if ('computed' in v) {
    switch (v.computed) {
      case 'header-size':
        return { value: g.headerSize };
      case 'payload-size':
        return { value: g.payloadSize };
      case 'image-size':
        return { value: prefixSize(g) + g.payloadSize };
      case 'load-address':
        return { value: loadAddress(g) };
      case 'slot-size':
        return ctx.slotKnown ? { value: g.slot.size } : { unknown: 'no slot given' };
      case 'entry-point': {
        const at = vectorTableAddress(g) + 4;
        if (!ctx.image.covers(at, at + 4)) return { unknown: `the image holds no vector table at ${hex32(vectorTableAddress(g))}` };
        const w = ctx.image.read(at, 4);
        return { value: (w[0]! | (w[1]! << 8) | (w[2]! << 16) | (w[3]! << 24)) >>> 0 };
      }
    }
  }
  if ('crc32' in v) return { value: crcOf(crcVariant(src, ctx.options), rangeBytes(v.crc32.range, ctx, field)) };
  if ('sha256' in v) return { value: sha256Of(rangeBytes(v.sha256.range, ctx, field)) };
  throw new Error(`field ${src.name}: unknown value kind`);
}

/** True when `value` fits the field's type. */
export function fits(field: PlacedField, value: FieldValue): boolean {
  if (typeof value === 'number') return isIntType(field.type) && Number.isSafeInteger(value) && value >= 0 && value <= maxOf(field.type);
  return !isIntType(field.type) && value.length === field.size;
}

export function sameValue(a: FieldValue, b: FieldValue): boolean {
  if (typeof a === 'number' || typeof b === 'number') return a === b;
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Human text of a value as the field's rule reads it: sizes, addresses, versions, choices, bit fields. */
export function showValue(field: PlacedField, value: FieldValue): string {
  if (typeof value !== 'number') return toHex(value);
  const v = field.source.value;
  if ('computed' in v) {
    if (v.computed === 'load-address' || v.computed === 'entry-point') return hex32(value);
    return formatSize(value);
  }
  if ('version' in v) return String(value);
  if ('option' in v && v.map !== undefined) {
    const name = Object.entries(v.map).find(([, n]) => n === value)?.[0];
    return name !== undefined ? `${name} (${value})` : `${value} (no choice has this value)`;
  }
  if ('bits' in v) {
    // Option bits always; constant bits only when they are not their constant (a reserved bit set).
    return v.bits
      .map((b) => {
        const n = Number((BigInt(value) >> BigInt(b.shift)) & ((1n << BigInt(b.width)) - 1n));
        if ('const' in b.value && n === b.value.const) return '';
        const name = 'option' in b.value && b.value.map !== undefined ? Object.entries(b.value.map).find(([, x]) => x === n)?.[0] : undefined;
        return `${b.name}=${name !== undefined ? `${name}(${n})` : n}`;
      })
      .filter((x) => x !== '')
      .join(' ');
  }
  return hexN(value, field.size * 2);
}

