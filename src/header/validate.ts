/**
 * Semantic checks on a header layout that JSON Schema cannot express: names unique, every option a field
 * refers to declared with a fitting type, constants that fit their field, bit fields inside their integer and
 * not overlapping, and - with every option at its default - fields inside the minimum header size and not
 * overlapping each other. The compile step (scripts/compile-headers.ts) maps each issue's path to a YAML line.
 * Layouts whose offsets are options are checked again with the user's values at inject time (`fields.ts`).
 */
import { fieldSize, intBits, isIntType } from './fields.ts';
import type { FieldSource, HeaderLayoutSource, OptionSource } from './schema.ts';

export type IssuePath = readonly (string | number)[];

export interface LayoutIssue {
  readonly code: string;
  readonly message: string;
  readonly path: IssuePath;
}

function defaultOffset(layout: HeaderLayoutSource, f: FieldSource): number | undefined {
  if (typeof f.offset === 'number') return f.offset;
  const name = f.offset.option;
  const o = layout.options.find((x) => x.name === name);
  return typeof o?.default === 'number' ? o.default : undefined;
}

function checkOption(o: OptionSource, add: (code: string, message: string, path: IssuePath) => void, i: number): void {
  const at = ['options', i];
  const d = o.default;
  switch (o.type) {
    case 'flag':
      if (typeof d !== 'boolean') add('HEADER_LAYOUT_OPTION', `flag option '${o.name}' needs a true/false default`, [...at, 'default']);
      if (o.choices !== undefined) add('HEADER_LAYOUT_OPTION', `flag option '${o.name}' cannot have choices`, [...at, 'choices']);
      break;
    case 'number':
      if (typeof d !== 'number') add('HEADER_LAYOUT_OPTION', `number option '${o.name}' needs a number default`, [...at, 'default']);
      else {
        if (o.min !== undefined && d < o.min) add('HEADER_LAYOUT_OPTION', `default ${d} of '${o.name}' is below its min ${o.min}`, [...at, 'default']);
        if (o.max !== undefined && d > o.max) add('HEADER_LAYOUT_OPTION', `default ${d} of '${o.name}' is above its max ${o.max}`, [...at, 'default']);
        if (o.choices !== undefined && !o.choices.includes(d)) add('HEADER_LAYOUT_OPTION', `default ${d} of '${o.name}' is not one of its choices`, [...at, 'default']);
      }
      if (o.choices?.some((c) => typeof c !== 'number') === true) add('HEADER_LAYOUT_OPTION', `number option '${o.name}' has non-number choices`, [...at, 'choices']);
      break;
    case 'enum':
      if (o.choices === undefined || o.choices.some((c) => typeof c !== 'string')) {
        add('HEADER_LAYOUT_OPTION', `enum option '${o.name}' needs string choices`, [...at, 'choices']);
      } else if (typeof d !== 'string' || !o.choices.includes(d)) add('HEADER_LAYOUT_OPTION', `default of '${o.name}' is not one of its choices`, [...at, 'default']);
      break;
    case 'version':
      if (typeof d !== 'string' || !/^\d+(\.\d+(\.\d+(\+\d+)?)?)?$/.test(d)) add('HEADER_LAYOUT_OPTION', `version option '${o.name}' needs a default such as "0.0.0+0"`, [...at, 'default']);
      break;
  }
}

/** Checks one layout. `fileBase` is the YAML file name without `.yaml`. */
export function validateHeaderLayout(layout: HeaderLayoutSource, fileBase?: string): LayoutIssue[] {
  const issues: LayoutIssue[] = [];
  const add = (code: string, message: string, path: IssuePath): void => {
    issues.push({ code, message, path });
  };
  if (fileBase !== undefined && fileBase !== layout.name) {
    add('HEADER_LAYOUT_FILE_NAME', `layout name '${layout.name}' must match the file name '${fileBase}.yaml'`, ['name']);
  }
  const hs = layout.headerSize;
  if (hs.min > hs.default) add('HEADER_LAYOUT_SIZE', `headerSize.min ${hs.min} is above the default ${hs.default}`, ['headerSize', 'min']);
  if (hs.default % hs.multipleOf !== 0) add('HEADER_LAYOUT_SIZE', `headerSize.default ${hs.default} is not a multiple of ${hs.multipleOf}`, ['headerSize', 'default']);

  const options = new Map<string, OptionSource>();
  layout.options.forEach((o, i) => {
    if (options.has(o.name)) add('HEADER_LAYOUT_DUPLICATE', `option '${o.name}' is declared twice`, ['options', i, 'name']);
    if (['header-size', 'pad-header', 'header-offset'].includes(o.name)) {
      add('HEADER_LAYOUT_OPTION', `'${o.name}' is a placement option every layout has; do not declare it`, ['options', i, 'name']);
    }
    options.set(o.name, o);
    checkOption(o, add, i);
  });
  layout.options.forEach((o, i) => {
    for (const [k, name] of (o.implies ?? []).entries()) {
      const target = options.get(name);
      if (o.type !== 'flag' || target?.type !== 'flag') add('HEADER_LAYOUT_OPTION', `'${o.name}' implies '${name}': both must be flag options`, ['options', i, 'implies', k]);
    }
  });
  const needOption = (name: string, types: readonly OptionSource['type'][], path: IssuePath): OptionSource | undefined => {
    const o = options.get(name);
    if (o === undefined) add('HEADER_LAYOUT_REFERENCE', `option '${name}' is not declared`, path);
    else if (!types.includes(o.type)) add('HEADER_LAYOUT_REFERENCE', `option '${name}' is a ${o.type} option; ${types.join(' or ')} needed here`, path);
    return o;
  };
  const checkMap = (o: OptionSource | undefined, map: Record<string, number> | undefined, maxValue: number, path: IssuePath): void => {
    if (o === undefined) return;
    if (o.type === 'enum' && map === undefined) add('HEADER_LAYOUT_REFERENCE', `enum option '${o.name}' needs a map to stored numbers`, path);
    if (map === undefined) return;
    if (o.type !== 'enum') add('HEADER_LAYOUT_REFERENCE', `only enum options take a map ('${o.name}' is ${o.type})`, path);
    for (const c of o.choices ?? []) if (map[String(c)] === undefined) add('HEADER_LAYOUT_REFERENCE', `map has no number for choice '${String(c)}'`, path);
    const seen = new Set<number>();
    for (const [k, v] of Object.entries(map)) {
      if (!(o.choices ?? []).includes(k)) add('HEADER_LAYOUT_REFERENCE', `map key '${k}' is not a choice of '${o.name}'`, path);
      if (v > maxValue) add('HEADER_LAYOUT_VALUE', `map value ${v} of '${k}' does not fit`, path);
      if (seen.has(v)) add('HEADER_LAYOUT_VALUE', `map value ${v} is used twice: the stored value would not say which choice`, path);
      seen.add(v);
    }
  };

  const names = new Set<string>();
  let sizeField = false;
  layout.fields.forEach((f, i) => {
    const at = ['fields', i];
    if (names.has(f.name)) add('HEADER_LAYOUT_DUPLICATE', `field '${f.name}' is declared twice`, [...at, 'name']);
    names.add(f.name);
    if (typeof f.offset !== 'number') needOption(f.offset.option, ['number'], [...at, 'offset']);
    const size = fieldSize(f.type);
    const int = isIntType(f.type);
    const bits = int ? intBits(f.type) : 0;
    const max = bits >= 53 ? Number.MAX_SAFE_INTEGER : 2 ** bits - 1;
    if (f.endian !== undefined && (!int || f.type === 'u8')) add('HEADER_LAYOUT_TYPE', `endian means nothing for a ${f.type} field`, [...at, 'endian']);
    const v = f.value;
    const vat = [...at, 'value'];
    if ('const' in v) {
      if (int && (typeof v.const !== 'number' || v.const > max)) add('HEADER_LAYOUT_VALUE', `constant does not fit a ${f.type}`, vat);
      if (!int && (typeof v.const !== 'string' || v.const.length !== 2 * size)) add('HEADER_LAYOUT_VALUE', `a ${f.type} constant must be ${size} bytes of hex`, vat);
    } else if ('option' in v) {
      if (!int) add('HEADER_LAYOUT_TYPE', 'an option value needs an integer field', vat);
      const o = needOption(v.option, ['number', 'enum', 'flag'], vat);
      checkMap(o, v.map, max, vat);
      if (o?.type === 'number' && (o.max ?? Number.MAX_SAFE_INTEGER) > max && int) {
        add('HEADER_LAYOUT_VALUE', `option '${o.name}' may exceed the ${f.type} field: give it a max of ${max}`, vat);
      }
    } else if ('version' in v) {
      if (!int) add('HEADER_LAYOUT_TYPE', 'a version part needs an integer field', vat);
      needOption('version', ['version'], vat);
    } else if ('computed' in v) {
      if (!int || size < 2) add('HEADER_LAYOUT_TYPE', `${v.computed} needs a u16, u32 or u64 field`, vat);
      if (v.computed === 'payload-size' || v.computed === 'image-size') sizeField = true;
    } else if ('crc32' in v) {
      if (f.type !== 'u32') add('HEADER_LAYOUT_TYPE', 'a CRC-32 needs a u32 field', vat);
      if ((v.crc32.variant === undefined) === (v.crc32.variantOption === undefined)) {
        add('HEADER_LAYOUT_VALUE', 'give exactly one of variant and variantOption', vat);
      }
      if (v.crc32.variantOption !== undefined) {
        const o = needOption(v.crc32.variantOption, ['enum'], vat);
        for (const c of o?.choices ?? []) {
          if (!['iso-hdlc', 'stm32', 'none'].includes(String(c))) add('HEADER_LAYOUT_VALUE', `choice '${String(c)}' of '${o?.name}' is not a CRC variant`, vat);
        }
        if ((o?.choices ?? []).includes('none') && (f.when === undefined || f.when.option !== o?.name)) {
          add('HEADER_LAYOUT_VALUE', `'${o?.name}' may be none: the field needs when: { option: ${o?.name}, notEquals: none }`, vat);
        }
      }
    } else if ('sha256' in v) {
      if (f.type !== 'bytes[32]') add('HEADER_LAYOUT_TYPE', 'a SHA-256 needs a bytes[32] field', vat);
      if (v.sha256.range === 'header-before') add('HEADER_LAYOUT_VALUE', 'a SHA-256 over header-before is not supported', vat);
    } else if ('bits' in v) {
      if (!int) add('HEADER_LAYOUT_TYPE', 'bit fields need an integer field', vat);
      let used = 0n;
      const bitNames = new Set<string>();
      v.bits.forEach((b, k) => {
        const bat = [...vat, 'bits', k];
        if (bitNames.has(b.name)) add('HEADER_LAYOUT_DUPLICATE', `bit field '${b.name}' is declared twice`, [...bat, 'name']);
        bitNames.add(b.name);
        if (b.shift + b.width > bits) add('HEADER_LAYOUT_BITS', `bits ${b.shift}..${b.shift + b.width - 1} do not fit a ${f.type}`, bat);
        const mask = ((1n << BigInt(b.width)) - 1n) << BigInt(b.shift);
        if ((used & mask) !== 0n) add('HEADER_LAYOUT_BITS', `bit field '${b.name}' overlaps an earlier one`, bat);
        used |= mask;
        const bmax = 2 ** b.width - 1;
        if ('const' in b.value) {
          if (typeof b.value.const !== 'number' || b.value.const > bmax) add('HEADER_LAYOUT_VALUE', `constant does not fit ${b.width} bits`, [...bat, 'value']);
        } else {
          const o = needOption(b.value.option, ['number', 'enum', 'flag'], [...bat, 'value']);
          checkMap(o, b.value.map, bmax, [...bat, 'value']);
          if (o?.type === 'number' && (o.max ?? Number.MAX_SAFE_INTEGER) > bmax) add('HEADER_LAYOUT_VALUE', `option '${o.name}' may exceed ${b.width} bits: give it a max`, [...bat, 'value']);
        }
      });
    } else if ('fill' in v) {
      // any type
    }
    if (f.when !== undefined) {
      const o = needOption(f.when.option, ['flag', 'enum', 'number'], [...at, 'when']);
      if (o !== undefined && o.type !== 'flag' && f.when.equals === undefined && f.when.notEquals === undefined) {
        add('HEADER_LAYOUT_VALUE', `when on a ${o.type} option needs equals or notEquals`, [...at, 'when']);
      }
    }
  });
  if (!sizeField) add('HEADER_LAYOUT_SIZE_FIELD', 'a layout needs a payload-size or image-size field: the bootloader must know how many bytes to check', ['fields']);

  const detect = layout.fields.findIndex((f) => f.name === layout.detect);
  if (detect < 0) add('HEADER_LAYOUT_REFERENCE', `detect names no field '${layout.detect}'`, ['detect']);
  else {
    const f = layout.fields[detect]!;
    if (!('const' in f.value) && !('option' in f.value && options.get(f.value.option)?.type === 'number')) {
      add('HEADER_LAYOUT_REFERENCE', `detect field '${f.name}' must hold a constant or a number option`, ['detect']);
    }
    if (f.when !== undefined) add('HEADER_LAYOUT_REFERENCE', `detect field '${f.name}' cannot be conditional`, ['detect']);
  }

  // With every option at its default: inside the minimum header, no overlaps.
  const spans: { start: number; end: number; name: string; i: number }[] = [];
  layout.fields.forEach((f, i) => {
    const off = defaultOffset(layout, f);
    if (off === undefined) return;
    const end = off + fieldSize(f.type);
    if (end > hs.min) add('HEADER_LAYOUT_OFFSET', `field '${f.name}' ends at ${end}, beyond headerSize.min ${hs.min}`, ['fields', i, 'offset']);
    for (const s of spans) {
      if (off < s.end && s.start < end) add('HEADER_LAYOUT_OVERLAP', `field '${f.name}' overlaps field '${s.name}'`, ['fields', i, 'offset']);
    }
    spans.push({ start: off, end, name: f.name, i });
  });
  return issues;
}
