/** Argument parsers shared by commands: numbers in 0x/K/M form become usage errors, never NaN. */
import { InvalidArgumentError } from '@commander-js/extra-typings';
import { parseNumber } from '../core/parse-number.ts';
import { FORMAT_NAMES, type FormatName } from '../formats/types.ts';

export function parseAddressArg(value: string): number {
  const n = parseNumber(value);
  if (n === undefined || n > 0xffffffff) throw new InvalidArgumentError(`expected an address such as 0x08000000, got '${value}'`);
  return n;
}

export function parseSizeArg(value: string): number {
  const n = parseNumber(value, { sizeSuffix: true });
  if (n === undefined) throw new InvalidArgumentError(`expected a size such as 4096, 0x1000 or 4K, got '${value}'`);
  return n;
}

export function parseFormatArg(value: string): FormatName {
  const v = value.toLowerCase() === 'hex' ? 'ihex' : value.toLowerCase();
  if (!(FORMAT_NAMES as readonly string[]).includes(v)) throw new InvalidArgumentError(`expected one of ${FORMAT_NAMES.join(', ')}, got '${value}'`);
  return v as FormatName;
}

export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
