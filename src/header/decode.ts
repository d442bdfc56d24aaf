/**
 * Reading the option values back out of a stored header: enum choices through their maps, flags, numbers,
 * the version parts. A stored number that names no choice (HEADER_FIELD_VALUE), a constant bit field that
 * differs, or a value other than the one the caller asked for (HEADER_FIELD_MISMATCH) becomes a finding.
 */
import { formatVersion, type ImageVersion } from './version.ts';
import type { FieldValue, PlacedField } from './fields.ts';
import type { Finding } from './findings.ts';
import { showOption, type OptionValue, type ResolvedOptions } from './options.ts';
import type { HeaderLayoutSource, OptionSource } from './schema.ts';

export interface Decoded {
  readonly options: ResolvedOptions;
  readonly findings: Finding[];
  /** Fields with a finding from decoding (their check status is a mismatch). */
  readonly flagged: Map<string, string>;
}

function decodeNumber(o: OptionSource, n: number, map: Readonly<Record<string, number>> | undefined): OptionValue | undefined {
  switch (o.type) {
    case 'flag':
      return n === 0 ? false : n === 1 ? true : undefined;
    case 'enum':
      return Object.entries(map ?? {}).find(([, v]) => v === n)?.[0];
    case 'number':
      return n;
    default:
      return undefined;
  }
}

function same(a: OptionValue | undefined, b: OptionValue | undefined): boolean {
  if (typeof a === 'object' && typeof b === 'object') return formatVersion(a) === formatVersion(b);
  return a === b;
}

export function decodeStoredOptions(
  layout: HeaderLayoutSource,
  fields: readonly PlacedField[],
  stored: ReadonlyMap<string, FieldValue>,
  given: ResolvedOptions,
  headerStart: number,
): Decoded {
  const values = new Map(given.values);
  const findings: Finding[] = [];
  const flagged = new Map<string, string>();
  const flag = (f: PlacedField, code: string, message: string): void => {
    findings.push({ code, severity: 'error', message, field: f.name, address: headerStart + f.offset });
    if (!flagged.has(f.name)) flagged.set(f.name, code);
  };
  const take = (f: PlacedField, what: string, option: string, n: number, map: Readonly<Record<string, number>> | undefined): void => {
    const o = layout.options.find((x) => x.name === option)!;
    const v = decodeNumber(o, n, map);
    if (v === undefined) {
      const known = o.type === 'flag' ? '0 or 1' : Object.entries(map ?? {}).map(([k, x]) => `${k}=${x}`).join(', ');
      flag(f, 'HEADER_FIELD_VALUE', `${what} is ${n}: not one of ${known}`);
      return;
    }
    if (given.given.has(option) && !same(given.values.get(option), v)) {
      flag(f, 'HEADER_FIELD_MISMATCH', `${what} is ${showOption(v)}, expected ${showOption(given.values.get(option))} (option ${option})`);
      return;
    }
    values.set(option, v);
  };
  const version: Partial<Record<keyof ImageVersion, number>> = {};
  const versionFields: PlacedField[] = [];
  for (const f of fields) {
    const v = f.source.value;
    const s = stored.get(f.name);
    if (typeof s !== 'number') continue;
    if ('option' in v) take(f, f.name, v.option, s, v.map);
    else if ('version' in v) {
      version[v.version] = s;
      versionFields.push(f);
    } else if ('bits' in v) {
      for (const b of v.bits) {
        const n = Number((BigInt(s) >> BigInt(b.shift)) & ((1n << BigInt(b.width)) - 1n));
        if ('const' in b.value) {
          if (n !== b.value.const) flag(f, 'HEADER_FIELD_MISMATCH', `${f.name}.${b.name} is ${n}, must be ${b.value.const}`);
        } else take(f, `${f.name}.${b.name}`, b.value.option, n, b.value.map);
      }
    }
  }
  if (versionFields.length > 0) {
    const v: ImageVersion = { major: version.major ?? 0, minor: version.minor ?? 0, revision: version.revision ?? 0, build: version.build ?? 0 };
    const want = given.values.get('version');
    if (given.given.has('version') && typeof want === 'object' && formatVersion(want) !== formatVersion(v)) {
      for (const f of versionFields) {
        const part = (f.source.value as { version: keyof ImageVersion }).version;
        if (want[part] !== v[part]) flag(f, 'HEADER_FIELD_MISMATCH', `version ${formatVersion(v)} is stored, expected ${formatVersion(want)}`);
      }
    } else values.set('version', v);
  }
  return { options: { values, given: given.given }, findings, flagged };
}
