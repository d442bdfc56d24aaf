/** The fields of a layout placed with resolved options (offset options applied). */
import { placeFields, type PlacedField } from './fields.ts';
import { optionNumber, type ResolvedOptions } from './options.ts';
import type { HeaderLayoutSource } from './schema.ts';

export function placeLayoutFields(layout: HeaderLayoutSource, options: ResolvedOptions): PlacedField[] {
  return placeFields(layout.fields, layout.endian, (f) => (typeof f.offset === 'number' ? f.offset : optionNumber(options, f.offset.option)));
}

/** The field the layout is detected by (its magic). */
export function detectField(layout: HeaderLayoutSource, placed: readonly PlacedField[]): PlacedField {
  const f = placed.find((x) => x.name === layout.detect);
  if (f === undefined) throw new Error(`layout ${layout.name}: detect field ${layout.detect} missing`);
  return f;
}
