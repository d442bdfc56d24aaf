/**
 * Header layouts by name. The data is compiled from schemas/headers/*.yaml into layouts.generated.ts
 * (`npm run headers:compile`), so nothing here parses YAML or loads zod, and the browser has the layouts too.
 */
import { EXIT_USAGE, FwError } from '../core/errors.ts';
import { HEADER_LAYOUTS } from './layouts.generated.ts';
import type { HeaderLayoutSource } from './schema.ts';

export type HeaderLayout = HeaderLayoutSource;

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
deepFreeze(HEADER_LAYOUTS);

export function listLayouts(): readonly HeaderLayout[] {
  return HEADER_LAYOUTS;
}

export function layoutNames(): string[] {
  return HEADER_LAYOUTS.map((l) => l.name);
}

/** The layout called `name` (case-insensitive); usage error HEADER_LAYOUT_UNKNOWN listing the known ones. */
export function getLayout(name: string): HeaderLayout {
  const l = HEADER_LAYOUTS.find((x) => x.name === name.trim().toLowerCase());
  if (l === undefined) throw new FwError('HEADER_LAYOUT_UNKNOWN', `unknown header layout '${name}' (known: ${layoutNames().join(', ')})`, {}, EXIT_USAGE);
  return l;
}

/** A layout object as is, or the built-in one of that name. */
export function layoutOf(layout: string | HeaderLayout): HeaderLayout {
  return typeof layout === 'string' ? getLayout(layout) : layout;
}
