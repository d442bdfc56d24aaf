/**
 * `injectHeader`: one library call that puts a layout's header on an image for a slot - the call the CLI's
 * `header inject` and a recipe's header step make. Problems are FwErrors (codes in place.ts and below); the
 * result holds the new image, every field as written, and a report of what was placed where.
 */
import { EXIT_USAGE, FwError } from '../core/errors.ts';
import { formatRange, formatSize, hex32 } from '../core/format.ts';
import type { MemoryImage } from '../image/memory-image.ts';
import { extensionOf } from './extensions.ts';
import { fieldsEnd } from './fields.ts';
import { loadAddress } from './geometry.ts';
import { layoutOf, type HeaderLayout } from './layouts.ts';
import { resolveOptions, showOption, type OptionInput } from './options.ts';
import { DEFAULT_PROGRAM_UNIT, DEFAULT_VECTOR_ALIGN, place } from './place.ts';
import { placeLayoutFields } from './placed.ts';
import { geometryReport, reportValue, type FieldReport, type GeometryReport } from './report.ts';
import { checkSlot, type Slot } from './slots.ts';
import { expectedValue, fits, showValue, type ValueContext } from './values.ts';
import { writeField } from './write-field.ts';

export interface InjectRequest {
  readonly layout: string | HeaderLayout;
  /** The slot the output is stored in. */
  readonly slot: Slot;
  /** The slot the image is linked for, when `slot` holds a staging copy (copy-to-A scheme). Default: `slot`. */
  readonly runSlot?: Slot;
  /** Layout options by name: version, crc, pad, confirm, align... (`dfukit header describe LAYOUT` lists them). */
  readonly options?: OptionInput;
  /** Default: the layout's. */
  readonly headerSize?: number;
  /** Header in space the firmware reserved, this many bytes from the slot start (layouts with placement `anywhere`). */
  readonly headerOffset?: number;
  /** Require the header space to be added in front of the payload (imgtool --pad-header), never reserved space. */
  readonly padHeader?: boolean;
  /** Flash program unit; the header covers whole units. Default 32 (STM32H7). */
  readonly programUnit?: number;
  /** VTOR alignment the core needs for the payload's vector table. Default 128. */
  readonly vectorAlign?: number;
  /** Default 0xFF. */
  readonly erasedValue?: number;
}

export interface InjectPiece {
  readonly start: number;
  readonly end: number;
  readonly what: string;
}

export interface InjectReport {
  readonly layout: string;
  readonly geometry: GeometryReport;
  readonly headerSpace: 'added' | 'reserved';
  /** Every option with the value used. */
  readonly options: Record<string, string>;
  /** What inject wrote besides the payload: the header, and the layout's extras (TLV area, trailer). */
  readonly written: InjectPiece[];
  readonly notes: string[];
}

export interface InjectResult {
  readonly image: MemoryImage;
  readonly fields: FieldReport[];
  readonly report: InjectReport;
}

export function injectHeader(input: MemoryImage, req: InjectRequest): InjectResult {
  const layout = layoutOf(req.layout);
  const ext = extensionOf(layout);
  const options = resolveOptions(layout, req.options ?? {});
  const erased = req.erasedValue ?? 0xff;
  const slot = checkSlot(req.slot);
  const runSlot = checkSlot(req.runSlot ?? slot);
  const headerSize = req.headerSize ?? layout.headerSize.default;
  const fields = placeLayoutFields(layout, options);
  const end = fieldsEnd(fields);
  if (end > headerSize) {
    throw new FwError('HEADER_TOO_SMALL', `the ${layout.name} fields end at offset ${end}: a ${formatSize(headerSize)}-byte header is ${end - headerSize} bytes short`, {}, EXIT_USAGE);
  }
  const placed = place(input, {
    layout,
    slot,
    runSlot,
    headerSize,
    headerOffset: req.headerOffset ?? 0,
    padHeader: req.padHeader === true,
    programUnit: req.programUnit ?? DEFAULT_PROGRAM_UNIT,
    vectorAlign: req.vectorAlign ?? DEFAULT_VECTOR_ALIGN,
    afterPayload: ext?.afterPayloadSize(options) ?? 0,
    atSlotEnd: ext?.reservedAtSlotEnd(options) ?? 0,
  });
  const g = placed.geometry;
  const header = placed.space === 'added' ? new Uint8Array(headerSize).fill(layout.padding.added) : placed.image.read(g.headerStart, headerSize);
  const ctx: ValueContext = { layout, options, geometry: g, slotKnown: true, image: placed.image, erased, header };
  const reports: FieldReport[] = [];
  for (const f of fields) {
    const e = expectedValue(f, ctx);
    if ('unknown' in e) throw new Error(`field ${f.name}: ${e.unknown}`);
    if (!fits(f, e.value)) {
      throw new FwError('HEADER_FIELD_RANGE', `${f.name} would be ${showValue(f, e.value)}, which does not fit its ${f.type}`, { address: g.headerStart + f.offset });
    }
    writeField(header, f, e.value);
    reports.push({ name: f.name, offset: f.offset, size: f.size, type: f.type, address: g.headerStart + f.offset, value: reportValue(e.value), display: showValue(f, e.value) });
  }
  const image = placed.image.clone();
  image.add(g.headerStart, header, `${layout.name} header`, { overwrite: true });
  const written: InjectPiece[] = [{ start: g.headerStart, end: g.headerStart + headerSize, what: `${layout.name} header` }];
  for (const p of ext?.build({ options, geometry: g, image: placed.image, header, erased, slotKnown: true }) ?? []) {
    image.add(p.addr, p.data, p.what, { overwrite: true });
    written.push({ start: p.addr, end: p.addr + p.data.length, what: p.what });
  }
  const notes = [...placed.notes, ...written.slice(1).map((w) => `${w.what} at ${formatRange(w.start, w.end)}`)];
  notes.push(`payload ${formatRange(g.payloadStart, g.payloadStart + g.payloadSize)} runs at ${hex32(loadAddress(g))}`);
  return {
    image,
    fields: reports,
    report: {
      layout: layout.name,
      geometry: geometryReport(g, loadAddress(g)),
      headerSpace: placed.space,
      options: Object.fromEntries([...options.values].map(([k, v]) => [k, showOption(v)])),
      written,
      notes,
    },
  };
}
