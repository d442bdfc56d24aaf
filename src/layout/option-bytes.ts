/**
 * Option bytes as data: decode the bytes a ROM's option-bytes alt returns with the profile's field map
 * (`optionBytes` in schemas/chips/*.yaml), and encode a change (`FIELD=VALUE`) back into them, complements
 * and mirrors included. Summaries: read-protection level, write-protected sectors or pages, boot addresses
 * per core, bank mode. Platform-neutral, no device access (dfu/quirks-identify.ts reads and writes).
 */
import { EXIT_USAGE, FwError } from '../core/errors.ts';
import { hex32 } from '../core/format.ts';
import { parseNumber } from '../core/parse-number.ts';
import type { BankMode, OptionByteField } from './chip-schema.ts';
import type { ChipProfile } from './chip-types.ts';
import { parseLayoutString } from './layout-string.ts';

/** The option-byte memory as read: one entry per address group of the option-bytes alt. */
export interface OptionByteRegion {
  readonly start: number;
  readonly bytes: Uint8Array;
}

/** Where the option bytes are: the address groups of the option-bytes alt's layout string (else the profile's option-bytes memories). */
export function optionByteRegions(profile: ChipProfile): { alt: number; regions: { start: number; size: number }[] } | undefined {
  const alt = profile.dfu.alts.find((a) => a.kind === 'option-bytes');
  if (alt === undefined) return undefined;
  try {
    const l = parseLayoutString(alt.layout);
    const groups: { start: number; size: number }[] = [];
    for (const s of l.segments) {
      const last = groups[groups.length - 1];
      if (last !== undefined && last.start + last.size === s.start) last.size += s.end - s.start;
      else groups.push({ start: s.start, size: s.end - s.start });
    }
    return { alt: alt.alt, regions: groups };
  } catch {
    return { alt: alt.alt, regions: profile.memories.filter((m) => m.kind === 'option-bytes').map((m) => ({ start: m.start, size: m.size })) };
  }
}

export const RDP_LEVEL0_BYTE = 0xaa;
export const RDP_LEVEL2_BYTE = 0xcc;
/** The byte dfukit writes for level 1 (any value but 0xAA and 0xCC is level 1; ST tools write 0xBB). */
export const RDP_LEVEL1_BYTE = 0xbb;

export function rdpLevel(raw: number): 0 | 1 | 2 {
  return raw === RDP_LEVEL0_BYTE ? 0 : raw === RDP_LEVEL2_BYTE ? 2 : 1;
}

function findRegion(regions: readonly OptionByteRegion[], addr: number, size: number): OptionByteRegion | undefined {
  return regions.find((r) => addr >= r.start && addr + size <= r.start + r.bytes.length);
}

function readWord(regions: readonly OptionByteRegion[], addr: number, size: number): number | undefined {
  const r = findRegion(regions, addr, size);
  if (r === undefined) return undefined;
  let v = 0;
  for (let i = size - 1; i >= 0; i--) v = v * 256 + r.bytes[addr - r.start + i]!;
  return v;
}

function writeWord(regions: readonly OptionByteRegion[], addr: number, size: number, value: number): void {
  const r = findRegion(regions, addr, size)!;
  let v = value;
  for (let i = 0; i < size; i++) {
    r.bytes[addr - r.start + i] = v % 256;
    v = Math.floor(v / 256);
  }
}

function fieldMask(f: OptionByteField): number {
  return f.bits === 32 ? 0xffffffff : (2 ** f.bits - 1);
}

function extract(word: number, f: OptionByteField): number {
  return Math.floor(word / 2 ** f.lsb) % 2 ** f.bits;
}

function insert(word: number, f: OptionByteField, value: number): number {
  const shifted = value * 2 ** f.lsb;
  const mask = fieldMask(f) * 2 ** f.lsb;
  // Bitwise on 32-bit values without sign trouble.
  return (((word >>> 0) & ~(mask >>> 0)) | (shifted >>> 0)) >>> 0;
}

export interface DecodedField {
  readonly name: string;
  readonly kind: OptionByteField['kind'];
  readonly summary: string;
  /** The field's bits. */
  readonly raw: number;
  /** For humans: `level 0 (0xAA)`, `software`, `0x08000000`, `sectors 0, 1`. */
  readonly text: string;
  /** The value's name when the map names it (`software`, `dual`). */
  readonly valueName?: string;
  readonly readOnly?: boolean;
  readonly core?: string;
  readonly boot?: string;
  /** boot-address: the address. */
  readonly address?: number;
}

export interface ProtectedRange {
  readonly bank: number;
  readonly start: number;
  readonly end: number;
  /** `sector 3` or `pages 0-15`. */
  readonly what: string;
  readonly field: string;
  readonly kind: 'write-protection' | 'pcrop';
}

export interface DecodedOptionBytes {
  readonly chip: string;
  readonly regions: readonly { start: number; size: number; hex: string }[];
  readonly rdp?: { readonly level: 0 | 1 | 2; readonly raw: number };
  readonly writeProtection: readonly ProtectedRange[];
  readonly bootAddresses: readonly { readonly field: string; readonly core?: string; readonly boot?: string; readonly address: number }[];
  readonly bankMode?: { readonly field: string; readonly mode: BankMode; readonly raw: number };
  readonly fields: readonly DecodedField[];
  /** Words whose stored complement does not match (the option-byte loader would report OPTERR). */
  readonly complementErrors: readonly string[];
  /** No field map for this profile: only the raw bytes. */
  readonly mapped: boolean;
}

function describeValue(f: OptionByteField, raw: number): { text: string; valueName?: string; address?: number } {
  switch (f.kind) {
    case 'rdp':
      return { text: `level ${rdpLevel(raw)} (0x${raw.toString(16).toUpperCase().padStart(2, '0')})` };
    case 'boot-address': {
      const address = (raw * 2 ** f.addressShift!) >>> 0;
      return { text: `${hex32(address)} (0x${raw.toString(16).toUpperCase().padStart(4, '0')})`, address };
    }
    case 'wrp-mask': {
      const n = raw.toString(2).padStart(f.bits, '0');
      return { text: `0b${n}` };
    }
    default: {
      const v = f.values?.find((x) => x.value === raw);
      const num = f.bits >= 8 ? `0x${raw.toString(16).toUpperCase()}` : String(raw);
      return v !== undefined ? { text: `${v.name} (${num})${v.meaning !== undefined ? `: ${v.meaning}` : ''}`, valueName: v.name } : { text: num };
    }
  }
}

/** Decodes the option bytes read from the device. */
export function decodeOptionBytes(profile: ChipProfile, regions: readonly OptionByteRegion[]): DecodedOptionBytes {
  const map = profile.optionBytes;
  const hexOf = (b: Uint8Array): string => [...b].map((x) => x.toString(16).toUpperCase().padStart(2, '0')).join(' ');
  const out = {
    chip: profile.displayName,
    regions: regions.map((r) => ({ start: r.start, size: r.bytes.length, hex: hexOf(r.bytes) })),
  };
  if (map === undefined) return { ...out, writeProtection: [], bootAddresses: [], fields: [], complementErrors: [], mapped: false };
  const fields: DecodedField[] = [];
  const values = new Map<string, number>();
  const complementErrors = new Set<string>();
  for (const f of map.fields) {
    const word = readWord(regions, f.address, f.size);
    if (word === undefined) continue;
    const raw = extract(word, f);
    values.set(f.name, raw);
    if (f.complement !== undefined) {
      const c = readWord(regions, f.complement, f.size);
      const all = f.size === 4 ? 0xffffffff : 2 ** (8 * f.size) - 1;
      // An erased pair (both all ones) is not an error (RM0091 §4: "Electrical Erase state").
      if (c !== undefined && !(c === all && word === all) && ((word ^ c) >>> 0) !== all >>> 0) {
        complementErrors.add(`${hex32(f.address)}: 0x${word.toString(16).toUpperCase()} with complement 0x${c.toString(16).toUpperCase()} at ${hex32(f.complement)}`);
      }
    }
    const d = describeValue(f, raw);
    fields.push({
      name: f.name,
      kind: f.kind,
      summary: f.summary,
      raw,
      text: d.text,
      ...(d.valueName !== undefined ? { valueName: d.valueName } : {}),
      ...(f.readOnly === true ? { readOnly: true } : {}),
      ...(f.core !== undefined ? { core: f.core } : {}),
      ...(f.boot !== undefined ? { boot: f.boot } : {}),
      ...(d.address !== undefined ? { address: d.address } : {}),
    });
  }
  const rdpField = map.fields.find((f) => f.kind === 'rdp');
  const rdpRaw = rdpField === undefined ? undefined : values.get(rdpField.name);
  const pcrop = values.get('SPRMOD') === 1;
  const writeProtection: ProtectedRange[] = [];
  for (const f of map.fields.filter((x) => x.kind === 'wrp-mask')) {
    const raw = values.get(f.name);
    if (raw === undefined) continue;
    const activeLow = (f.activeLow ?? false) !== pcrop; // SPRMOD turns nWRP into active-high PCROP bits
    for (let i = 0; i < f.bits; i++) {
      const bit = Math.floor(raw / 2 ** i) % 2;
      if ((bit === 0) !== activeLow) continue;
      const n = (f.firstSector ?? 0) + i;
      const s = profile.sectors.find((x) => x.bank === f.bank && x.sector === n);
      if (s === undefined) continue;
      writeProtection.push({ bank: s.bank, start: s.start, end: s.end, what: `sector ${n}`, field: f.name, kind: pcrop ? 'pcrop' : 'write-protection' });
    }
  }
  const areas = [...new Set(map.fields.filter((x) => x.kind === 'wrp-start').map((x) => x.area!))];
  for (const area of areas) {
    const sf = map.fields.find((x) => x.kind === 'wrp-start' && x.area === area)!;
    const ef = map.fields.find((x) => x.kind === 'wrp-end' && x.area === area);
    const first = values.get(sf.name);
    const last = ef === undefined ? undefined : values.get(ef.name);
    if (first === undefined || last === undefined || first > last) continue;
    const pages = profile.sectors.filter((x) => x.bank === sf.bank);
    const a = pages[first];
    const b = pages[Math.min(last, pages.length - 1)];
    if (a === undefined || b === undefined) continue;
    writeProtection.push({ bank: sf.bank!, start: a.start, end: b.end, what: first === last ? `page ${first}` : `pages ${first}-${Math.min(last, pages.length - 1)}`, field: area, kind: 'write-protection' });
  }
  const bankField = map.fields.find((f) => f.kind === 'bank-mode' && values.has(f.name));
  const bankRaw = bankField === undefined ? undefined : values.get(bankField.name)!;
  return {
    ...out,
    ...(rdpRaw !== undefined ? { rdp: { level: rdpLevel(rdpRaw), raw: rdpRaw } } : {}),
    writeProtection,
    bootAddresses: fields.filter((f) => f.kind === 'boot-address').map((f) => ({ field: f.name, ...(f.core !== undefined ? { core: f.core } : {}), ...(f.boot !== undefined ? { boot: f.boot } : {}), address: f.address! })),
    ...(bankField !== undefined && bankRaw !== undefined ? { bankMode: { field: bankField.name, mode: bankRaw === bankField.dual ? ('dual' as const) : ('single' as const), raw: bankRaw } } : {}),
    fields,
    complementErrors: [...complementErrors],
    mapped: true,
  };
}

export interface FieldChange {
  readonly field: string;
  readonly from: string;
  readonly to: string;
  readonly fromRaw: number;
  readonly toRaw: number;
}

export interface EncodedChange {
  /** The new option-byte memory (copies; the input is not changed). */
  readonly regions: OptionByteRegion[];
  readonly changes: FieldChange[];
  /** Regions whose bytes differ. */
  readonly changedRegions: number[];
  /** Consequences the user must know before writing (`RDP level 1 -> 0 mass-erases the flash`). */
  readonly warnings: string[];
}

function usage(message: string): FwError {
  return new FwError('OB_SET', message, {}, EXIT_USAGE);
}

/** The field's raw bits for VALUE: a named value, a number, an RDP level, a boot address, a sector list. */
export function parseFieldValue(profile: ChipProfile, f: OptionByteField, text: string): number {
  const t = text.trim();
  const num = parseNumber(t);
  const limit = 2 ** f.bits - 1;
  switch (f.kind) {
    case 'rdp': {
      const m = /^(?:level)?\s*([012])$/i.exec(t);
      const level = m !== null ? Number(m[1]) : num !== undefined && num > 2 ? rdpLevel(num) : undefined;
      if (level === undefined) throw usage(`${f.name}=${text}: expected 0, 1 or 2 (the read-protection level)`);
      if (level === 2) throw usage(`${f.name}=2: read-protection level 2 is permanent (the chip can never be debugged or re-flashed over DFU again); dfukit does not set it`);
      return level === 0 ? RDP_LEVEL0_BYTE : num !== undefined && num > 2 && rdpLevel(num) === 1 ? num : RDP_LEVEL1_BYTE;
    }
    case 'boot-address': {
      const shift = f.addressShift!;
      if (num === undefined) throw usage(`${f.name}=${text}: expected an address such as 0x08000000`);
      const raw = num / 2 ** shift;
      if (!Number.isInteger(raw) || raw > limit) throw usage(`${f.name}=${text}: a boot address must be a multiple of ${hex32(2 ** shift)} below ${hex32((limit + 1) * 2 ** shift)}`);
      return raw;
    }
    case 'wrp-mask': {
      const all = limit;
      let protect = 0;
      if (/^none$/i.test(t)) protect = 0;
      else if (/^all$/i.test(t)) protect = all;
      else {
        for (const part of t.split(',')) {
          const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
          if (m === null) throw usage(`${f.name}=${text}: expected none, all, or sector numbers such as 0,1,4-7`);
          for (let n = Number(m[1]); n <= Number(m[2] ?? m[1]); n++) {
            const bit = n - (f.firstSector ?? 0);
            if (bit < 0 || bit >= f.bits) throw usage(`${f.name}=${text}: sector ${n} is not one this field protects (${f.firstSector ?? 0}..${(f.firstSector ?? 0) + f.bits - 1})`);
            protect |= 1 << bit;
          }
        }
      }
      return f.activeLow === true ? (all & ~protect) >>> 0 : protect >>> 0;
    }
    default: {
      const v = f.values?.find((x) => x.name.toLowerCase() === t.toLowerCase());
      if (v !== undefined) return v.value;
      if (num === undefined || num > limit) {
        const names = f.values?.map((x) => x.name).join(', ');
        throw usage(`${f.name}=${text}: expected ${names !== undefined ? `one of ${names} or ` : ''}a number 0..${limit}`);
      }
      return num;
    }
  }
}

/** Applies `FIELD=VALUE` changes to a copy of the option-byte memory: the field, its complement word, its mirrors. */
export function encodeOptionBytes(profile: ChipProfile, regions: readonly OptionByteRegion[], sets: readonly string[]): EncodedChange {
  const map = profile.optionBytes;
  if (map === undefined) throw usage(`${profile.displayName}: dfukit has no option-byte map for this profile (${profile.profile}); --set is not available`);
  const copy = regions.map((r) => ({ start: r.start, bytes: r.bytes.slice() }));
  const before = decodeOptionBytes(profile, regions);
  const changes: FieldChange[] = [];
  const warnings: string[] = [];
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw usage(`--set ${s}: expected FIELD=VALUE (fields: ${map.fields.map((f) => f.name).join(', ')})`);
    const name = s.slice(0, eq).trim();
    const f = map.fields.find((x) => x.name.toLowerCase() === name.toLowerCase());
    if (f === undefined) throw usage(`--set ${s}: ${profile.displayName} has no option-byte field '${name}' (fields: ${map.fields.map((x) => x.name).join(', ')})`);
    if (f.readOnly === true) throw usage(`--set ${s}: ${f.name} is a status bit the ROM does not take`);
    const raw = parseFieldValue(profile, f, s.slice(eq + 1));
    for (const addr of [f.address, ...(f.mirrors ?? [])]) {
      const word = readWord(copy, addr, f.size);
      if (word === undefined) throw usage(`--set ${s}: ${hex32(addr)} was not read from the device`);
      const next = insert(word, f, raw);
      writeWord(copy, addr, f.size, next);
      if (addr === f.address && f.complement !== undefined) writeWord(copy, f.complement, f.size, (~next >>> 0) % 2 ** (8 * f.size));
    }
    const old = before.fields.find((x) => x.name === f.name);
    const fromRaw = old?.raw ?? 0;
    if (fromRaw !== raw) changes.push({ field: f.name, from: old?.text ?? '?', to: describeValue(f, raw).text, fromRaw, toRaw: raw });
    if (f.kind === 'rdp' && rdpLevel(fromRaw) > 0 && rdpLevel(raw) === 0) warnings.push('RDP level 1 -> 0: the device mass-erases its whole flash when this is applied (use `dfukit unprotect` for the same)');
    if (f.kind === 'rdp' && rdpLevel(fromRaw) === 0 && rdpLevel(raw) === 1) warnings.push('RDP level 1: flash can no longer be read or written over DFU until level 0 is restored, which mass-erases it');
    if (f.kind === 'bank-mode' && fromRaw !== raw) warnings.push(`${f.name}: the flash organisation changes; sector numbers and sizes change with it and the flash content must be erased and written again`);
    if (f.kind === 'wrp-mask' || f.kind === 'wrp-start' || f.kind === 'wrp-end') warnings.push('write protection: a protected sector is silently skipped by erase (AN2662) and fails writes');
  }
  const changedRegions = copy.map((r, i) => (r.bytes.some((b, k) => b !== regions[i]!.bytes[k]) ? i : -1)).filter((i) => i >= 0);
  return { regions: copy, changes, changedRegions, warnings: [...new Set(warnings)] };
}

/** Byte-level differences, for the diff shown before a write: `0x1FFF0001: AA -> BB`. */
export function byteDiff(before: readonly OptionByteRegion[], after: readonly OptionByteRegion[]): string[] {
  const out: string[] = [];
  before.forEach((r, i) => {
    const a = after[i]!;
    for (let k = 0; k < r.bytes.length; k++) {
      if (r.bytes[k] !== a.bytes[k]) out.push(`${hex32(r.start + k)}: ${r.bytes[k]!.toString(16).toUpperCase().padStart(2, '0')} -> ${a.bytes[k]!.toString(16).toUpperCase().padStart(2, '0')}`);
    }
  });
  return out;
}
