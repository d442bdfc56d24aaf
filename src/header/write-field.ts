/** Writing and reading a placed field in a header buffer. */
import { readInt, writeInt, type FieldValue, type PlacedField } from './fields.ts';

export function writeField(header: Uint8Array, f: PlacedField, value: FieldValue): void {
  if (typeof value === 'number') writeInt(header, f.offset, f.type, f.little, value);
  else header.set(value, f.offset);
}

export function readField(header: Uint8Array, f: PlacedField): FieldValue {
  return f.type.startsWith('bytes') ? header.slice(f.offset, f.offset + f.size) : readInt(header, f.offset, f.type, f.little);
}
