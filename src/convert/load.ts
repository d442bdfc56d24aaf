/**
 * Reading the inputs of a conversion: detect each format by content, decode strictly (leniencies by name),
 * and refuse what cannot be placed: a raw binary or plain DFU payload without a load address, an address
 * given to a format that carries its own, `--alt` on a DfuSe file (its targets name their own alts).
 */
import { EXIT_USAGE, FwError, isFwError } from '../core/errors.ts';
import type { Note } from '../core/notes.ts';
import { decodeFile } from '../formats/decode.ts';
import type { ConvertInput, ConvertOptions, LoadedInput } from './types.ts';

const FORMAT_TITLES: Record<string, string> = {
  elf: 'an ELF file',
  ihex: 'Intel HEX',
  srec: 'an S-record file',
  dfuse: 'a DfuSe file',
};

export function loadInput(input: ConvertInput, opts: ConvertOptions, notes: Note[]): LoadedInput {
  let decoded;
  let detection;
  try {
    ({ decoded, detection } = decodeFile(input.bytes, {
      file: input.name,
      ...(input.address !== undefined ? { address: input.address } : {}),
      ...(opts.lenient !== undefined ? { lenient: opts.lenient } : {}),
      ...(opts.overwrite === true ? { overwrite: true } : {}),
    }));
  } catch (e) {
    throw isFwError(e) ? e.withFile(input.name) : e;
  }
  const format = decoded.format;
  if (input.address !== undefined && format !== 'bin' && format !== 'dfu') {
    throw new FwError(
      'CONVERT_ADDRESS_NOT_APPLICABLE',
      `${input.name}@ADDR: a load address applies to raw binaries only; this is ${FORMAT_TITLES[format] ?? format}, which carries its own addresses`,
      { file: input.name },
      EXIT_USAGE,
    );
  }
  if (format === 'dfu' && input.address === undefined) {
    throw new FwError(
      'CONVERT_NO_ADDRESS',
      `a plain DFU file (payload + suffix) has no load address: give one, e.g. ${input.name}@0x08000000`,
      { file: input.name },
      EXIT_USAGE,
    );
  }
  if (format === 'dfuse' && input.alt !== undefined) {
    throw new FwError(
      'CONVERT_ALT_DFUSE',
      `--alt ${input.alt}:${input.name}: a DfuSe file's targets carry their own alt settings (${decoded.targets.map((t) => t.alt).join(', ')}); give it as a plain input`,
      { file: input.name },
      EXIT_USAGE,
    );
  }
  notes.push(...decoded.notes.map((n) => (n.location.file === undefined ? { ...n, location: { ...n.location, file: input.name } } : n)));

  const loaded: LoadedInput = {
    name: input.name,
    format,
    detectedBy: detection.reason,
    fileSize: input.bytes.length,
    targets: decoded.targets.map((t) => {
      const alt = input.alt ?? t.alt;
      if (format === 'dfuse') return t.name === undefined ? { alt, named: false, image: t.image } : { alt, name: t.name, named: true, image: t.image };
      return { alt, named: false, image: t.image };
    }),
  };
  if (input.alt !== undefined) loaded.alt = input.alt;
  if (input.address !== undefined) loaded.address = input.address;
  if (decoded.entry !== undefined) loaded.entry = decoded.entry;
  if (decoded.format === 'dfuse') {
    const s = decoded.dfuse.suffix;
    loaded.suffix = { vid: s.idVendor, pid: s.idProduct, bcdDevice: s.bcdDevice };
  }
  return loaded;
}
