/**
 * Encoding a conversion result. Encoding never aligns or merges: the elements are the result's segments.
 * - dfu: DfuSe file, one target per result target, one element per segment; DFUImageSize without the suffix.
 * - hex / srec: one address space, so only a single-target result; the entry point when the inputs agree on one.
 * - bin: one address space from the first byte, gaps filled with the erased value; its start is reported.
 */
import { EXIT_USAGE, FwError } from '../core/errors.ts';
import { encodeBin } from '../formats/bin.ts';
import { encodeDfuse } from '../formats/dfuse-file.ts';
import { encodeIhex } from '../formats/ihex.ts';
import { encodeSrec } from '../formats/srec.ts';
import type { ConvertResult } from './types.ts';

export type OutputFormat = 'dfu' | 'hex' | 'srec' | 'bin';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['dfu', 'hex', 'srec', 'bin'];

const EXTENSIONS: Record<string, OutputFormat> = {
  dfu: 'dfu',
  hex: 'hex',
  ihex: 'hex',
  srec: 'srec',
  s19: 'srec',
  s28: 'srec',
  s37: 'srec',
  mot: 'srec',
  bin: 'bin',
};

/** The format named by `--to` (aliases: ihex, dfuse, s19/s37/mot), or undefined. */
export function parseOutputFormat(name: string): OutputFormat | undefined {
  const n = name.toLowerCase().replace(/^\./, '');
  return n === 'dfuse' ? 'dfu' : EXTENSIONS[n];
}

/** Format from `to`, else from the path's extension; a usage error when neither says. */
export function outputFormatFor(path: string, to?: string): OutputFormat {
  if (to !== undefined) {
    const f = parseOutputFormat(to);
    if (f === undefined) throw new FwError('CONVERT_OUTPUT_FORMAT', `unknown output format '${to}': expected ${OUTPUT_FORMATS.join(', ')}`, {}, EXIT_USAGE);
    return f;
  }
  const m = /\.([A-Za-z0-9]+)$/.exec(path);
  const f = m === null ? undefined : EXTENSIONS[m[1]!.toLowerCase()];
  if (f === undefined) {
    throw new FwError(
      'CONVERT_OUTPUT_FORMAT',
      `cannot tell the output format from '${path}': use a .dfu, .hex, .srec or .bin name, or --to ${OUTPUT_FORMATS.join('|')}`,
      { file: path },
      EXIT_USAGE,
    );
  }
  return f;
}

export interface EncodedOutput {
  format: OutputFormat;
  bytes: Uint8Array;
  /** Address of the first byte of a .bin. */
  start?: number;
}

export function encodeOutput(result: ConvertResult, format: OutputFormat, path: string): EncodedOutput {
  if (format === 'dfu') {
    const bytes = encodeDfuse(
      result.targets.map((t) => (t.name === undefined ? { alt: t.alt, image: t.image, named: false } : { alt: t.alt, image: t.image, name: t.name })),
      { vid: result.suffix.vid, pid: result.suffix.pid, bcdDevice: result.suffix.bcdDevice },
    );
    return { format, bytes };
  }
  if (result.targets.length !== 1) {
    throw new FwError(
      'CONVERT_OUTPUT_TARGETS',
      `${path}: a ${format === 'hex' ? 'HEX' : format === 'srec' ? 'S-record' : 'raw binary'} file holds one address space, but the conversion has ` +
        `${result.targets.length} targets (alt ${result.targets.map((t) => t.alt).join(', alt ')}): write a .dfu, or convert each alt on its own`,
      { file: path },
      EXIT_USAGE,
    );
  }
  const image = result.targets[0]!.image;
  const entry = result.entry !== undefined ? { start: result.entry } : {};
  switch (format) {
    case 'hex':
      return { format, bytes: encodeIhex(image, entry) };
    case 'srec':
      return { format, bytes: encodeSrec(image, entry) };
    case 'bin': {
      const b = encodeBin(image, { fill: result.alignment.erasedValue });
      return { format, bytes: b.bytes, start: b.start };
    }
  }
}
