/**
 * A layout explained from its declaration: a byte map with each field's rule, the options, the CRC variants it
 * uses, the order of the bootloader's checks, and - for layouts whose offsets are fixed - the C struct and
 * constants the bootloader side needs. `dfukit header describe` prints this; docs/header-dfukit-ab-v1.md embeds
 * the C text (a test keeps the two equal).
 */
import { hexN } from '../core/format.ts';
import { CRC_VARIANT_INFO, type CrcVariantInfo } from './digest.ts';
import { extensionOf } from './extensions.ts';
import { fieldSize, isIntType } from './fields.ts';
import { CHECK_ORDER } from './findings.ts';
import { layoutOf, type HeaderLayout } from './layouts.ts';
import type { CrcVariant, FieldSource, FieldValueSource } from './schema.ts';

export interface FieldDescription {
  readonly name: string;
  /** Fixed offset, or the option that gives it. */
  readonly offset: number | string;
  readonly size: number;
  readonly type: string;
  readonly endian?: 'little' | 'big';
  readonly rule: string;
  readonly when?: string;
  readonly description: string;
  readonly bits?: readonly { readonly name: string; readonly bits: string; readonly rule: string; readonly description: string }[];
}

export interface LayoutDescription {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly docs?: string;
  readonly references: readonly string[];
  readonly endian: 'little' | 'big';
  readonly placement: string;
  readonly headerSize: { readonly default: number; readonly min: number; readonly multipleOf: number };
  readonly padding: { readonly added: number; readonly reserved: readonly number[] };
  readonly selection: string;
  readonly detect: string;
  readonly options: readonly { readonly name: string; readonly type: string; readonly default: string; readonly choices?: readonly string[]; readonly description: string }[];
  readonly fields: readonly FieldDescription[];
  readonly crcVariants: readonly CrcVariantInfo[];
  readonly checkOrder: readonly string[];
  readonly extension?: readonly string[];
}

const COMPUTED_RULES: Record<string, string> = {
  'header-size': 'header size: bytes from the header start to the payload',
  'payload-size': 'payload size: bytes after the header to the end of the image',
  'image-size': 'image size: bytes before the header plus the payload',
  'load-address': 'load address: where the payload (its vector table) runs',
  'entry-point': 'entry point: the reset vector, word 1 of the vector table',
  'slot-size': 'slot size: of the slot that holds the header',
};

function mapText(map: Readonly<Record<string, number>> | undefined): string {
  return map === undefined ? '' : ` (${Object.entries(map).map(([k, v]) => `${k}=${v}`).join(', ')})`;
}

export function ruleOf(v: FieldValueSource, type: string): string {
  if ('const' in v) return typeof v.const === 'number' ? `= ${hexN(v.const, isIntType(type) ? fieldSize(type) * 2 : 2)}` : `= ${v.const}`;
  if ('fill' in v) return `all ${hexN(v.fill, 2)}`;
  if ('option' in v) return `option ${v.option}${mapText(v.map)}`;
  if ('version' in v) return `version ${v.version}`;
  if ('computed' in v) return COMPUTED_RULES[v.computed]!;
  if ('crc32' in v) {
    const variant = v.crc32.variant ?? `option ${v.crc32.variantOption}`;
    const range = v.crc32.range === 'header-before' ? 'the header bytes before this field' : `the ${v.crc32.range}`;
    return `CRC-32 ${variant} over ${range}`;
  }
  if ('sha256' in v) return `SHA-256 over the ${v.sha256.range}`;
  return 'bit fields (below)';
}

function whenText(f: FieldSource): string | undefined {
  const w = f.when;
  if (w === undefined) return undefined;
  if (w.equals !== undefined) return `only when ${w.option} = ${String(w.equals)}, else erased`;
  if (w.notEquals !== undefined) return `only when ${w.option} is not ${String(w.notEquals)}, else erased`;
  return `only when ${w.option} is set, else erased`;
}

export function describeLayout(layout: string | HeaderLayout): LayoutDescription {
  const l = layoutOf(layout);
  const variants = new Set<CrcVariant>();
  for (const f of l.fields) {
    const v = f.value;
    if (!('crc32' in v)) continue;
    if (v.crc32.variant !== undefined) variants.add(v.crc32.variant);
    for (const c of l.options.find((o) => o.name === v.crc32.variantOption)?.choices ?? []) if (c !== 'none') variants.add(c as CrcVariant);
  }
  const ext = extensionOf(l);
  return {
    name: l.name,
    title: l.title,
    description: l.description,
    ...(l.docs !== undefined ? { docs: l.docs } : {}),
    references: l.references,
    endian: l.endian,
    placement: l.placement,
    headerSize: l.headerSize,
    padding: l.padding,
    selection: l.selection,
    detect: l.detect,
    options: l.options.map((o) => ({
      name: o.name,
      type: o.type,
      default: typeof o.default === 'number' && o.default >= 0x10 ? `0x${o.default.toString(16).toUpperCase()}` : String(o.default),
      ...(o.choices !== undefined ? { choices: o.choices.map(String) } : {}),
      description: o.description,
    })),
    fields: l.fields.map((f) => {
      const when = whenText(f);
      const v = f.value;
      return {
        name: f.name,
        offset: typeof f.offset === 'number' ? f.offset : `option ${f.offset.option}`,
        size: fieldSize(f.type),
        type: f.type,
        ...(f.endian !== undefined ? { endian: f.endian } : {}),
        rule: ruleOf(v, f.type),
        ...(when !== undefined ? { when } : {}),
        description: f.description,
        ...('bits' in v
          ? {
              bits: v.bits.map((b) => ({
                name: b.name,
                bits: b.width === 1 ? `${b.shift}` : `${b.shift}-${b.shift + b.width - 1}`,
                rule: 'const' in b.value ? `= ${String(b.value.const)}` : ruleOf(b.value, 'u32'),
                description: b.description,
              })),
            }
          : {}),
      };
    }),
    crcVariants: [...variants].sort().map((v) => CRC_VARIANT_INFO[v]),
    checkOrder: CHECK_ORDER,
    ...(ext !== undefined ? { extension: ext.describe() } : {}),
  };
}

const C_TYPES: Record<string, string> = { u8: 'uint8_t', u16: 'uint16_t', u32: 'uint32_t', u64: 'uint64_t' };

/**
 * The header as a packed C struct with its constants (magic, bit-field shifts and masks, choice values), or
 * undefined when a field's offset is an option. Integer fields are in the layout's byte order; on a
 * little-endian Cortex-M a little-endian layout reads directly.
 */
export function describeCStruct(layout: string | HeaderLayout): string | undefined {
  const l = layoutOf(layout);
  if (l.fields.some((f) => typeof f.offset !== 'number')) return undefined;
  const prefix = l.name.toUpperCase().replace(/-/g, '_');
  const tag = `${l.name.replace(/-/g, '_')}_header`;
  const fields = [...l.fields].sort((a, b) => (a.offset as number) - (b.offset as number));
  const lines: string[] = [];
  const defs: string[] = [];
  let at = 0;
  let gap = 0;
  const decl = (type: string, name: string, off: number, comment: string): void => {
    lines.push(`    ${`${type} ${name};`.padEnd(32)}/* ${hexN(off, 2)} ${comment} */`);
  };
  for (const f of fields) {
    const off = f.offset as number;
    if (off > at) decl('uint8_t', `_gap${gap++}[${off - at}]`, at, 'not used');
    const size = fieldSize(f.type);
    const big = (f.endian ?? l.endian) === 'big' && f.type !== 'u8' ? ' (big-endian)' : '';
    if (isIntType(f.type)) decl(C_TYPES[f.type]!, f.name, off, ruleOf(f.value, f.type) + big);
    else decl('uint8_t', `${f.name}[${size}]`, off, ruleOf(f.value, f.type));
    at = off + size;
    const v = f.value;
    const name = `${prefix}_${f.name.toUpperCase()}`;
    if ('const' in v && typeof v.const === 'number') defs.push(`#define ${name.padEnd(40)} 0x${v.const.toString(16).toUpperCase()}u`);
    if ('option' in v && v.map !== undefined) for (const [k, n] of Object.entries(v.map)) defs.push(`#define ${`${name}_${k.toUpperCase().replace(/-/g, '_')}`.padEnd(40)} ${n}u`);
    if ('bits' in v) {
      for (const b of v.bits) {
        const bn = `${name}_${b.name.toUpperCase()}`;
        defs.push(`#define ${`${bn}_SHIFT`.padEnd(40)} ${b.shift}u`);
        defs.push(`#define ${`${bn}_MASK`.padEnd(40)} 0x${(((2 ** b.width - 1) * 2 ** b.shift) >>> 0).toString(16).toUpperCase()}u`);
        if ('option' in b.value && b.value.map !== undefined) {
          for (const [k, n] of Object.entries(b.value.map)) defs.push(`#define ${`${bn}_${k.toUpperCase().replace(/-/g, '_')}`.padEnd(40)} ${n}u`);
        }
      }
    }
  }
  defs.push(`#define ${`${prefix}_FIELDS_SIZE`.padEnd(40)} ${at}u`);
  return (
    `/* ${l.title}: generated from schemas/headers/${l.name}.yaml by dfukit header describe ${l.name} --c */\n` +
    `#include <stdint.h>\n\n` +
    `typedef struct __attribute__((packed)) ${tag} {\n${lines.join('\n')}\n} ${tag}_t;\n\n` +
    `_Static_assert(sizeof(${tag}_t) == ${at}, "${l.name} header fields");\n\n` +
    `${defs.join('\n')}\n`
  );
}
