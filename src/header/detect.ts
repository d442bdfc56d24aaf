/**
 * Finding headers in an image when the layout or the slot is not given: the magic of each layout (its detect
 * field, with option values as given or defaulted) at each slot start, or else at each start of contiguous data.
 */
import type { MemoryImage } from '../image/memory-image.ts';
import { readField } from './write-field.ts';
import { fieldsEnd } from './fields.ts';
import { layoutOf, listLayouts, type HeaderLayout } from './layouts.ts';
import { resolveOptions, type OptionInput } from './options.ts';
import { detectField, placeLayoutFields } from './placed.ts';
import type { Slot } from './slots.ts';
import { expectedValue, sameValue, type ValueContext } from './values.ts';

export interface DetectedHeader {
  readonly layout: string;
  /** Address of the header start. */
  readonly address: number;
  /** The slot it starts, when slots were given. */
  readonly slot?: Slot;
}

export interface DetectRequest {
  readonly layouts?: readonly (string | HeaderLayout)[];
  readonly slots?: readonly Slot[];
  /** Options per layout name (e.g. a simple-crc magic that is not the default). */
  readonly options?: Readonly<Record<string, OptionInput>>;
}

/** True when the layout's magic is at `address`. */
export function hasMagic(image: MemoryImage, layout: HeaderLayout, address: number, options: OptionInput = {}): boolean {
  const resolved = resolveOptions(layout, options);
  const fields = placeLayoutFields(layout, resolved);
  const f = detectField(layout, fields);
  if (!image.covers(address + f.offset, address + f.offset + f.size)) return false;
  const want = expectedValue(f, { layout, options: resolved } as ValueContext);
  const bytes = image.read(address, fieldsEnd(fields));
  return 'value' in want && sameValue(readField(bytes, f), want.value);
}

export function detectHeaders(image: MemoryImage, req: DetectRequest = {}): DetectedHeader[] {
  const layouts = (req.layouts ?? listLayouts()).map(layoutOf);
  const starts: { address: number; slot?: Slot }[] =
    req.slots !== undefined && req.slots.length > 0 ? req.slots.map((s) => ({ address: s.start, slot: s })) : image.ranges().map((r) => ({ address: r.start }));
  const out: DetectedHeader[] = [];
  for (const s of starts) {
    for (const l of layouts) {
      if (hasMagic(image, l, s.address, req.options?.[l.name])) out.push({ layout: l.name, address: s.address, ...(s.slot !== undefined ? { slot: s.slot } : {}) });
    }
  }
  return out;
}
