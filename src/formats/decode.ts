/**
 * One entry point for every input format: detect by content (or take `format`), decode, and keep the
 * format-specific detail beside the common `Decoded` view.
 */
import { decodeBin } from './bin.ts';
import { detectFormat, type Detection } from './detect.ts';
import { decodeDfu, type DecodedDfu } from './dfu-suffix.ts';
import { decodeDfuse, type DecodedDfuse } from './dfuse-file.ts';
import { decodeElf, type ElfDecoded } from './elf.ts';
import { decodeIhex, type IhexDecoded } from './ihex.ts';
import { decodeSrec, type SrecDecoded } from './srec.ts';
import type { Decoded, DecodeOptions, FormatName } from './types.ts';

export interface DecodeFileOptions extends DecodeOptions {
  /** Skip detection. */
  format?: FormatName;
  /** Load address for raw binaries and plain DFU payloads (`file.bin@0x08000000`). */
  address?: number;
}

export type AnyDecoded =
  | (ElfDecoded & { format: 'elf' })
  | (IhexDecoded & { format: 'ihex' })
  | (SrecDecoded & { format: 'srec' })
  | (DecodedDfuse & { format: 'dfuse' })
  | (DecodedDfu & { format: 'dfu' })
  | (Decoded & { format: 'bin' });

export interface DecodedFile {
  detection: Detection;
  decoded: AnyDecoded;
}

export function decodeFile(bytes: Uint8Array, opts: DecodeFileOptions = {}): DecodedFile {
  const detection: Detection = opts.format !== undefined ? { format: opts.format, reason: '--format' } : detectFormat(bytes);
  const { format: _f, address, ...common } = opts;
  let decoded: AnyDecoded;
  switch (detection.format) {
    case 'elf':
      decoded = { ...decodeElf(bytes, common), format: 'elf' };
      break;
    case 'ihex':
      decoded = decodeIhex(bytes, common);
      break;
    case 'srec':
      decoded = decodeSrec(bytes, common);
      break;
    case 'dfuse':
      decoded = decodeDfuse(bytes, common);
      break;
    case 'dfu':
      decoded = decodeDfu(bytes, address !== undefined ? { ...common, address } : common);
      break;
    case 'bin':
      decoded = { ...decodeBin(bytes, address !== undefined ? { ...common, address } : common), format: 'bin' };
      break;
  }
  return { detection, decoded };
}
