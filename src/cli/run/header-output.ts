/**
 * Writing a header-injected image in the format its name asks for: .bin (from the first byte, gaps 0xFF),
 * .hex, .srec/.s19/.s28/.s37/.mot, .dfu (DfuSe, one alt-0 target, suffix 0483:DF11 bcdDevice 0xFFFF).
 */
import { EXIT_USAGE, FwError } from '../../core/errors.ts';
import { encodeBin } from '../../formats/bin.ts';
import { encodeDfuse } from '../../formats/dfuse-file.ts';
import { encodeIhex } from '../../formats/ihex.ts';
import { encodeSrec } from '../../formats/srec.ts';
import type { MemoryImage } from '../../image/memory-image.ts';

export type HeaderOutputFormat = 'bin' | 'hex' | 'srec' | 'dfu';

const EXTENSIONS: Record<string, HeaderOutputFormat> = { bin: 'bin', hex: 'hex', ihex: 'hex', srec: 'srec', s19: 'srec', s28: 'srec', s37: 'srec', mot: 'srec', dfu: 'dfu' };

export function outputFormatOf(path: string): HeaderOutputFormat {
  const m = /\.([A-Za-z0-9]+)$/.exec(path);
  const f = m === null ? undefined : EXTENSIONS[m[1]!.toLowerCase()];
  if (f === undefined) throw new FwError('HEADER_OUTPUT_FORMAT', `cannot tell the output format from '${path}': use a .bin, .hex, .srec or .dfu name`, { file: path }, EXIT_USAGE);
  return f;
}

export function encodeHeaderOutput(image: MemoryImage, path: string, fill: number): Uint8Array {
  switch (outputFormatOf(path)) {
    case 'bin':
      return encodeBin(image, { fill }).bytes;
    case 'hex':
      return encodeIhex(image);
    case 'srec':
      return encodeSrec(image);
    case 'dfu':
      return encodeDfuse([{ alt: 0, image }], { vid: 0x0483, pid: 0xdf11, bcdDevice: 0xffff });
  }
}
