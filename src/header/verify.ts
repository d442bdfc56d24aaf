/**
 * `verifyHeader`: every field of a stored header, stored vs computed, and the checks a bootloader following
 * the layout makes, in its order (findings.ts CHECK_ORDER). Returns a result value; it throws only for usage
 * errors (unknown layout or option). The stored header describes itself: header size, payload size, slot
 * size, load address and options (CRC kind, version) come from its fields, as a bootloader reads them.
 */
import { formatRange, formatSize, hex32 } from '../core/format.ts';
import type { MemoryImage } from '../image/memory-image.ts';
import { readVectorTable } from '../image/vector-table.ts';
import { decodeStoredOptions } from './decode.ts';
import { crcOf } from './digest.ts';
import { extensionOf } from './extensions.ts';
import { fieldsEnd, type FieldValue, type PlacedField } from './fields.ts';
import { firstError, sortFindings, type Finding } from './findings.ts';
import { loadAddress, runImageRange, vectorTableAddress, type Geometry } from './geometry.ts';
import { layoutOf, type HeaderLayout } from './layouts.ts';
import { resolveOptions, showOption, type OptionInput, type ResolvedOptions } from './options.ts';
import { detectField, placeLayoutFields } from './placed.ts';
import { geometryReport, reportValue, type FieldCheck, type GeometryReport } from './report.ts';
import type { ComputedName, CrcVariant } from './schema.ts';
import { inSlot, showSlot, type Slot } from './slots.ts';
import { conditionHolds, expectedValue, rangeBytes, sameValue, showValue, type ValueContext } from './values.ts';
import type { ImageVersion } from './version.ts';
import { readField } from './write-field.ts';

export interface VerifyRequest {
  readonly layout: string | HeaderLayout;
  /** The slot that holds the header. Without one the slot is implied by the header (its slot_size, or the data). */
  readonly slot?: Slot;
  /** Every slot of the device: a staging copy's load address and reset vector point into another one. */
  readonly slots?: readonly Slot[];
  /** Without `slot`: where the header starts (default: the image start). */
  readonly headerAddress?: number;
  /** Header this many bytes after the slot start (layouts with placement `anywhere`). */
  readonly headerOffset?: number;
  /** For layouts without a header-size field; for the others, the value expected in it. */
  readonly headerSize?: number;
  /** For layouts without a load address: the slot a staging copy runs from. */
  readonly runSlot?: Slot;
  /** Option values the stored ones must equal (e.g. version); the rest are read from the header. */
  readonly options?: OptionInput;
  readonly erasedValue?: number;
}

export interface VerifyResult {
  readonly ok: boolean;
  readonly layout: string;
  readonly headerAddress: number;
  readonly slot: { readonly name: string; readonly start: number; readonly size: number };
  /** false when no slot was given and `slot` is implied by the header. */
  readonly slotKnown: boolean;
  readonly geometry?: GeometryReport;
  /** Option values as stored (or given, or the defaults for options the header does not store). */
  readonly options: Record<string, string>;
  readonly version?: ImageVersion;
  readonly fields: FieldCheck[];
  /** In check order. */
  readonly findings: Finding[];
  /** The first error in check order: why a bootloader following the layout rejects the slot. */
  readonly reason?: Finding;
  /** Facts the layout's extension adds (MCUboot: TLVs, trailer state). */
  readonly details: Record<string, string | number | boolean>;
}

function computedField(fields: readonly PlacedField[], name: ComputedName): PlacedField | undefined {
  return fields.find((f) => 'computed' in f.source.value && f.source.value.computed === name);
}

/** When a payload CRC does not match, whether the other variant does: a common mix-up worth naming. */
function otherCrcHint(storedValue: number, data: Uint8Array, used: CrcVariant): string {
  const other: CrcVariant = used === 'iso-hdlc' ? 'stm32' : 'iso-hdlc';
  return crcOf(other, data) === storedValue ? `; the stored value is the ${other} CRC of the same bytes: was the image made with crc=${other}?` : '';
}

class Checker {
  readonly findings: Finding[] = [];
  readonly checks = new Map<string, FieldCheck>();
  constructor(readonly headerStart: number) {}

  add(code: string, message: string, f?: PlacedField, severity: Finding['severity'] = 'error'): void {
    this.findings.push({ code, severity, message, ...(f !== undefined ? { field: f.name, address: this.headerStart + f.offset } : {}) });
  }

  field(f: PlacedField, stored: FieldValue, status: FieldCheck['status'], expected?: FieldValue, code?: string, note?: string): void {
    this.checks.set(f.name, {
      name: f.name,
      offset: f.offset,
      size: f.size,
      type: f.type,
      address: this.headerStart + f.offset,
      stored: reportValue(stored),
      storedDisplay: showValue(f, stored),
      ...(expected !== undefined ? { expected: reportValue(expected), expectedDisplay: showValue(f, expected) } : {}),
      status,
      ...(code !== undefined ? { code } : {}),
      ...(note !== undefined ? { note } : {}),
    });
  }
}

export function verifyHeader(image: MemoryImage, req: VerifyRequest): VerifyResult {
  const layout = layoutOf(req.layout);
  const ext = extensionOf(layout);
  const erased = req.erasedValue ?? 0xff;
  const given = resolveOptions(layout, req.options ?? {});
  const fields = placeLayoutFields(layout, given);
  const prefix = req.headerOffset ?? 0;
  const headerStart = req.slot !== undefined ? req.slot.start + prefix : (req.headerAddress ?? image.start ?? 0);
  const fixed = image.read(headerStart, fieldsEnd(fields), erased);
  const stored = new Map(fields.map((f) => [f.name, readField(fixed, f)]));
  const c = new Checker(headerStart);
  const slots = req.slots ?? (req.slot !== undefined ? [req.slot] : []);
  const slotOf = (s: Slot): { name: string; start: number; size: number } => ({ name: s.name, start: s.start, size: s.size });
  const finish = (slot: Slot, slotKnown: boolean, options: ResolvedOptions, extra: Partial<VerifyResult> = {}): VerifyResult => {
    for (const f of fields) if (!c.checks.has(f.name)) c.field(f, stored.get(f.name)!, 'unchecked');
    const findings = sortFindings(c.findings);
    const reason = firstError(findings);
    const version = options.values.get('version');
    return {
      ok: reason === undefined,
      layout: layout.name,
      headerAddress: headerStart,
      slot: slotOf(slot),
      slotKnown,
      options: Object.fromEntries([...options.values].map(([k, v]) => [k, showOption(v)])),
      ...(typeof version === 'object' && layout.fields.some((f) => 'version' in f.value) ? { version } : {}),
      fields: [...c.checks.values()].sort((a, b) => a.offset - b.offset || a.name.localeCompare(b.name)),
      findings,
      ...(reason !== undefined ? { reason } : {}),
      details: {},
      ...extra,
    };
  };
  const impliedSlot = (size?: number): Slot => {
    const start = headerStart - prefix;
    const run = image.ranges().find((r) => r.start <= headerStart && headerStart < r.end);
    return req.slot ?? { name: 'implied', start, size: size ?? Math.max(1, (run?.end ?? headerStart + 1) - start) };
  };

  // 1. Magic.
  const magic = detectField(layout, fields);
  const magicWant = expectedValue(magic, { layout, options: given } as ValueContext);
  const magicGot = stored.get(magic.name)!;
  if (!('value' in magicWant) || !sameValue(magicGot, magicWant.value)) {
    const blank = fixed.subarray(magic.offset, magic.offset + magic.size).every((b) => b === erased);
    const want = 'value' in magicWant ? magicWant.value : 0;
    c.add(blank ? 'HEADER_ERASED' : 'HEADER_BAD_MAGIC', blank ? `no header at ${hex32(headerStart)}: the magic reads as erased flash` : `${magic.name} is ${showValue(magic, magicGot)}, not ${showValue(magic, want)}`, magic);
    c.field(magic, magicGot, 'mismatch', want, blank ? 'HEADER_ERASED' : 'HEADER_BAD_MAGIC');
    return finish(impliedSlot(), req.slot !== undefined, given);
  }
  c.field(magic, magicGot, 'ok', magicWant.value);

  // 2. Header CRCs (over the stored bytes before them: no geometry needed), constants, options.
  const decoded = decodeStoredOptions(layout, fields, stored, given, headerStart);
  c.findings.push(...decoded.findings);
  const options = decoded.options;
  const early = { layout, options, header: fixed, erased } as ValueContext;
  for (const f of fields) {
    const v = f.source.value;
    const s = stored.get(f.name)!;
    const flaggedCode = decoded.flagged.get(f.name);
    if ('crc32' in v && v.crc32.range === 'header-before') {
      const e = expectedValue(f, early);
      if ('value' in e) {
        const ok = sameValue(s, e.value);
        if (!ok) c.add('HEADER_CRC', `${f.name} is ${showValue(f, s)}, the CRC of header bytes 0x00..${(f.offset - 1).toString(16).toUpperCase()} is ${showValue(f, e.value)}: the header is torn or corrupted`, f);
        c.field(f, s, ok ? 'ok' : 'mismatch', e.value, ok ? undefined : 'HEADER_CRC');
      }
    } else if ('const' in v && f !== magic) {
      const e = expectedValue(f, early);
      if ('value' in e) {
        const ok = sameValue(s, e.value);
        if (!ok) c.add('HEADER_FIELD_MISMATCH', `${f.name} is ${showValue(f, s)}, must be ${showValue(f, e.value)}`, f);
        c.field(f, s, ok ? 'ok' : 'mismatch', e.value, ok ? undefined : 'HEADER_FIELD_MISMATCH');
      }
    } else if ('fill' in v || (!conditionHolds(f.source.when, options) && !('computed' in v))) {
      const e = expectedValue(f, early);
      if ('value' in e) {
        const ok = sameValue(s, e.value);
        const why = 'fill' in v ? 'reserved' : `unused (${f.source.when?.option} = ${showOption(options.values.get(f.source.when?.option ?? ''))})`;
        if (!ok) c.add('HEADER_RESERVED', `${f.name} is ${why} but holds ${showValue(f, s)}, not ${showValue(f, e.value)} (a bootloader ignores it)`, f, 'warning');
        c.field(f, s, ok ? 'ok' : 'mismatch', e.value, ok ? undefined : 'HEADER_RESERVED');
      }
    } else if ('option' in v || 'bits' in v || 'version' in v) {
      const e = expectedValue(f, early);
      c.field(f, s, flaggedCode !== undefined ? 'mismatch' : 'value' in e && sameValue(s, e.value) ? 'ok' : 'info', 'value' in e ? e.value : undefined, flaggedCode);
    }
  }

  // 3. Header size, payload size, slot.
  const hsField = computedField(fields, 'header-size');
  let headerSize = req.headerSize ?? layout.headerSize.default;
  let geometryOk = true;
  if (hsField !== undefined) {
    const s = stored.get(hsField.name) as number;
    headerSize = s;
    const min = Math.max(layout.headerSize.min, fieldsEnd(fields));
    const problem =
      s < min ? `below the minimum ${formatSize(min)}` : s % layout.headerSize.multipleOf !== 0 ? `not a multiple of ${formatSize(layout.headerSize.multipleOf)}` : undefined;
    if (problem !== undefined) {
      c.add('HEADER_SIZE_FIELD', `${hsField.name} is ${formatSize(s)}: ${problem}`, hsField);
      c.field(hsField, s, 'mismatch', undefined, 'HEADER_SIZE_FIELD');
      geometryOk = false;
    } else if (req.headerSize !== undefined && s !== req.headerSize) {
      c.add('HEADER_FIELD_MISMATCH', `${hsField.name} is ${formatSize(s)}, expected ${formatSize(req.headerSize)} (--header-size)`, hsField);
      c.field(hsField, s, 'mismatch', req.headerSize, 'HEADER_FIELD_MISMATCH');
    } else c.field(hsField, s, 'info');
  }
  const psField = computedField(fields, 'payload-size');
  const isField = computedField(fields, 'image-size');
  const sizeField = (psField ?? isField)!;
  const storedSize = stored.get(sizeField.name) as number;
  const payloadSize = psField !== undefined ? storedSize : storedSize - prefix;
  if (payloadSize < 0) {
    c.add('HEADER_SIZE_FIELD', `${sizeField.name} ${formatSize(storedSize)} is smaller than the ${formatSize(prefix)} bytes before the header`, sizeField);
    geometryOk = false;
  }
  const ssField = computedField(fields, 'slot-size');
  const slotKnown = req.slot !== undefined;
  const slot = impliedSlot(ssField !== undefined ? (stored.get(ssField.name) as number) : undefined);
  if (ssField !== undefined) {
    const s = stored.get(ssField.name) as number;
    if (!slotKnown) c.field(ssField, s, 'info', undefined, undefined, 'no slot given: taken as the slot size');
    else if (s !== slot.size) {
      c.add('HEADER_SLOT_SIZE', `${ssField.name} is ${formatSize(s)}, but ${showSlot(slot)} is ${formatSize(slot.size)} bytes: built for another slot layout`, ssField);
      c.field(ssField, s, 'mismatch', slot.size, 'HEADER_SLOT_SIZE');
    } else c.field(ssField, s, 'ok', slot.size);
  }
  if (!geometryOk) return finish(slot, slotKnown, options);

  // 4. Load address: in place, or a staging copy for another slot.
  const vtOffset = prefix > 0 ? 0 : headerSize;
  let runSlot = req.runSlot ?? slot;
  const laField = computedField(fields, 'load-address');
  if (laField !== undefined) {
    const s = stored.get(laField.name) as number;
    const inPlace = slot.start + vtOffset;
    const match = [slot, ...slots].find((x) => x.start + vtOffset === s);
    if (match !== undefined) {
      runSlot = match;
      c.field(laField, s, match === slot || match.start === slot.start ? 'ok' : 'info', inPlace === s ? s : undefined, undefined, match.start !== slot.start ? `staging copy for slot ${match.name}` : undefined);
    } else if (!slotKnown && slots.length === 0) {
      runSlot = { name: 'run', start: s - vtOffset, size: slot.size };
      c.field(laField, s, 'info', undefined, undefined, s === inPlace ? undefined : `runs at ${hex32(s)}, not where it is stored: a staging copy (give the slots to check it)`);
    } else {
      const others = slots.filter((x) => x !== slot).map((x) => `${hex32(x.start + vtOffset)} (slot ${x.name})`);
      c.add('HEADER_LOAD_ADDRESS', `${laField.name} is ${hex32(s)}: neither ${hex32(inPlace)} (in place)${others.length > 0 ? ` nor ${others.join(', ')}` : ''}`, laField);
      c.field(laField, s, 'mismatch', inPlace, 'HEADER_LOAD_ADDRESS');
    }
  }

  // 5. Sizes against the slot and the run slot.
  const payloadStart = headerStart + headerSize;
  const end = payloadStart + payloadSize;
  let sizesOk = true;
  for (const [s, what] of [
    [slot, 'the slot that holds it'],
    [runSlot, 'the slot it runs from'],
  ] as const) {
    if (end - headerStart + prefix > s.size) {
      c.add('HEADER_SIZE_BEYOND_SLOT', `header + payload need ${formatSize(end - headerStart + prefix)} bytes, beyond ${showSlot(s)} (${what}) by ${formatSize(end - headerStart + prefix - s.size)} bytes`, sizeField);
      sizesOk = false;
      break;
    }
  }
  c.field(sizeField, storedSize, sizesOk ? 'info' : 'mismatch', undefined, sizesOk ? undefined : 'HEADER_SIZE_BEYOND_SLOT');
  const g: Geometry = { slot, runSlot, headerStart, headerSize, payloadStart, payloadSize: Math.max(0, payloadSize) };
  let geometry = geometryReport(g, loadAddress(g));
  if (!sizesOk) return finish(slot, slotKnown, options, { geometry });

  // 6. Digests and the entry point.
  const header = image.read(headerStart, headerSize, erased);
  const ctx: ValueContext = { layout, options, geometry: g, slotKnown, image, erased, header };
  for (const f of fields) {
    const v = f.source.value;
    if (!conditionHolds(f.source.when, options) || c.checks.has(f.name)) continue;
    const s = stored.get(f.name)!;
    if ('crc32' in v || 'sha256' in v) {
      const e = expectedValue(f, ctx);
      if (!('value' in e)) continue;
      const ok = sameValue(s, e.value);
      const code = 'crc32' in v ? 'HEADER_PAYLOAD_CRC' : 'HEADER_PAYLOAD_HASH';
      if (!ok) {
        const range = 'crc32' in v ? v.crc32.range : (v as { sha256: { range: string } }).sha256.range;
        const used = 'crc32' in v ? (v.crc32.variant ?? (options.values.get(v.crc32.variantOption!) as CrcVariant)) : 'iso-hdlc';
        const hint = 'crc32' in v && typeof s === 'number' ? otherCrcHint(s, rangeBytes(v.crc32.range, ctx, f), used) : '';
        c.add(code, `${f.name} is ${showValue(f, s)}, the ${'crc32' in v ? `${used} CRC` : 'SHA-256'} of the ${range} ${formatRange(payloadStart, end)} is ${showValue(f, e.value)}${hint}`, f);
      }
      c.field(f, s, ok ? 'ok' : 'mismatch', e.value, ok ? undefined : code);
    } else if ('computed' in v && v.computed === 'entry-point') {
      const e = expectedValue(f, ctx);
      if (!('value' in e)) {
        c.add('HEADER_ENTRY_MISMATCH', `${f.name}: ${e.unknown}`, f);
        c.field(f, s, 'mismatch', undefined, 'HEADER_ENTRY_MISMATCH');
        continue;
      }
      const ok = sameValue(s, e.value);
      if (!ok) c.add('HEADER_ENTRY_MISMATCH', `${f.name} is ${showValue(f, s)}, the payload's reset vector (word 1 at ${hex32(vectorTableAddress(g) + 4)}) is ${showValue(f, e.value)}`, f);
      c.field(f, s, ok ? 'ok' : 'mismatch', e.value, ok ? undefined : 'HEADER_ENTRY_MISMATCH');
    }
  }

  // 7. The layout's extension (MCUboot TLV area and trailer).
  let details: Record<string, string | number | boolean> = {};
  if (ext !== undefined) {
    const r = ext.verify({ options, geometry: g, image, header, erased, slotKnown });
    for (const x of r.checks) c.checks.set(x.name, x);
    c.findings.push(...r.findings);
    details = r.details;
  }

  // 8. The reset handler inside the image at its run address.
  const entryField = computedField(fields, 'entry-point');
  const table = readVectorTable(image, vectorTableAddress(g));
  const entry = entryField !== undefined ? (stored.get(entryField.name) as number) : table?.resetHandler;
  if (entry === undefined) {
    c.add('HEADER_VECTOR_TABLE', `no vector table at ${hex32(vectorTableAddress(g))}`, undefined, 'warning');
  } else {
    const reset = entry & ~1;
    const candidates = laField !== undefined || req.runSlot !== undefined ? [g] : [slot, ...slots].map((s) => ({ ...g, runSlot: s }));
    const hit = candidates.find((x) => {
      const r = runImageRange(x);
      return reset >= r.start && reset < r.end && inSlot(x.runSlot, reset);
    });
    if (hit === undefined) {
      const r = runImageRange(g);
      const severity = entryField !== undefined ? 'error' : 'warning';
      const where = entryField !== undefined ? `the image at its run address ${formatRange(r.start, r.end)}` : `the image at any slot's address (${candidates.map((x) => `slot ${x.runSlot.name}`).join(', ')})`;
      if (slotKnown || slots.length > 0 || entryField !== undefined) {
        c.add('HEADER_RESET_OUTSIDE_SLOT', `the reset handler ${hex32(entry)} lies outside ${where}`, entryField, severity);
      }
    } else if (hit.runSlot.start !== g.runSlot.start) {
      // No load-address field: the reset vector tells which slot the image is linked for (a staging copy).
      details.runsFrom = hit.runSlot.name;
      geometry = geometryReport(hit, loadAddress(hit));
    }
  }
  return finish(slot, slotKnown, options, { geometry, details });
}
