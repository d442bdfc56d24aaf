/**
 * Layout options: the values a user chooses at inject time (version, CRC variant, magic, offsets...), declared
 * per layout. Values arrive as typed values from library callers or as text from the command line
 * (`--set crc=stm32`, `--version 1.2.3+4`); both are checked against the declaration. Unknown names and bad
 * values are usage errors (exit 2) naming what is allowed.
 */
import { EXIT_USAGE, FwError } from '../core/errors.ts';
import { parseNumber } from '../core/parse-number.ts';
import type { HeaderLayoutSource, OptionSource } from './schema.ts';
import { formatVersion, parseVersion, type ImageVersion } from './version.ts';

export type OptionValue = boolean | number | string | ImageVersion;
export type OptionInput = Readonly<Record<string, boolean | number | string | ImageVersion | undefined>>;

export interface ResolvedOptions {
  /** Every declared option, with the given value or its default (implied flags set). */
  readonly values: ReadonlyMap<string, OptionValue>;
  /** Names the caller gave (verify compares stored values with these). */
  readonly given: ReadonlySet<string>;
}

function usage(message: string): FwError {
  return new FwError('HEADER_OPTION', message, {}, EXIT_USAGE);
}

function describeChoices(o: OptionSource): string {
  return o.choices !== undefined ? o.choices.map(String).join(', ') : o.type === 'flag' ? 'true, false' : o.type === 'version' ? 'MAJ.MIN.REV+BUILD' : 'a number';
}

/** One value checked and converted to the option's type. */
export function optionValue(o: OptionSource, raw: boolean | number | string | ImageVersion): OptionValue {
  const bad = (): FwError => usage(`option ${o.name}: '${typeof raw === 'object' ? formatVersion(raw) : String(raw)}' is not allowed (expected ${describeChoices(o)})`);
  switch (o.type) {
    case 'flag': {
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === '1' || raw === 1 || raw === '') return true;
      if (raw === 'false' || raw === '0' || raw === 0) return false;
      throw bad();
    }
    case 'number': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' ? parseNumber(raw, { sizeSuffix: true }) : undefined;
      if (n === undefined || !Number.isSafeInteger(n) || n < 0) throw bad();
      if (o.min !== undefined && n < o.min) throw usage(`option ${o.name}: ${n} is below the minimum ${o.min}`);
      if (o.max !== undefined && n > o.max) throw usage(`option ${o.name}: ${n} is above the maximum ${o.max}`);
      if (o.choices !== undefined && !o.choices.includes(n)) throw bad();
      return n;
    }
    case 'enum': {
      const s = String(raw).toLowerCase();
      if (!(o.choices ?? []).includes(s)) throw bad();
      return s;
    }
    case 'version':
      return typeof raw === 'object' ? parseVersion(formatVersion(raw)) : parseVersion(String(raw));
  }
}

/** Every option of `layout` with the given or default value; implied flags are set after the given values. */
export function resolveOptions(layout: HeaderLayoutSource, input: OptionInput = {}): ResolvedOptions {
  const values = new Map<string, OptionValue>();
  const given = new Set<string>();
  for (const [name, raw] of Object.entries(input)) {
    if (raw === undefined) continue;
    const o = layout.options.find((x) => x.name === name);
    if (o === undefined) {
      const known = layout.options.map((x) => x.name);
      throw usage(`layout ${layout.name} has no option '${name}' (its options: ${known.length > 0 ? known.join(', ') : 'none'})`);
    }
    values.set(name, optionValue(o, raw));
    given.add(name);
  }
  for (const o of layout.options) if (!values.has(o.name)) values.set(o.name, optionValue(o, o.default));
  for (const o of layout.options) {
    if (o.type === 'flag' && values.get(o.name) === true) for (const t of o.implies ?? []) values.set(t, true);
  }
  return { values, given };
}

export function optionNumber(opts: ResolvedOptions, name: string): number {
  const v = opts.values.get(name);
  if (typeof v !== 'number') throw new Error(`option ${name} is not a number option`);
  return v;
}

export function optionVersion(opts: ResolvedOptions): ImageVersion {
  const v = opts.values.get('version');
  if (v === undefined || typeof v !== 'object') throw new Error('layout has no version option');
  return v;
}

/** Text of an option value for reports. */
export function showOption(v: OptionValue | undefined): string {
  if (v === undefined) return '-';
  return typeof v === 'object' ? formatVersion(v) : String(v);
}
