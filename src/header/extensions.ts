/** The extension a layout names, by name. */
import type { HeaderExtension } from './extension.ts';
import { mcubootExtension } from './mcuboot/extension.ts';
import type { HeaderLayoutSource } from './schema.ts';

const EXTENSIONS: Readonly<Record<string, HeaderExtension>> = { mcuboot: mcubootExtension };

export function extensionOf(layout: HeaderLayoutSource): HeaderExtension | undefined {
  return layout.extension === undefined ? undefined : EXTENSIONS[layout.extension];
}
