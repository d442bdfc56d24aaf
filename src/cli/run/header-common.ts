/**
 * What the `dfukit header` subcommands share: the layout options as the user typed them (their own flags and
 * `--set NAME=VALUE`), the slots, and reading an input in any format into one memory image.
 */
import { EXIT_USAGE, FwError } from '../../core/errors.ts';
import { decodeFile, type AnyDecoded } from '../../formats/decode.ts';
import type { OptionInput } from '../../header/options.ts';
import { checkSlots, parseSlot, type Slot } from '../../header/slots.ts';
import type { MemoryImage } from '../../image/memory-image.ts';
import { readInput } from '../../node/files.ts';

export interface LayoutCliOptions {
  version?: string;
  set?: string[];
  headerSize?: number;
  headerOffset?: number;
  erasedValue?: number;
  pad?: true;
  confirm?: true;
  align?: string;
  maxAlign?: string;
  maxSectors?: string;
  json?: true;
}

/** Option values by layout-option name; the layout checks names and values. */
export function layoutOptionInput(opts: LayoutCliOptions): OptionInput {
  const out: Record<string, string | boolean> = {};
  for (const s of opts.set ?? []) {
    // `--set sha256` alone sets a flag option.
    const eq = s.indexOf('=');
    if (eq === 0) throw new FwError('HEADER_OPTION', `--set ${s}: expected NAME=VALUE, e.g. --set crc=stm32`, {}, EXIT_USAGE);
    if (eq < 0) out[s.trim()] = true;
    else out[s.slice(0, eq).trim()] = s.slice(eq + 1).trim();
  }
  if (opts.version !== undefined) out.version = opts.version;
  if (opts.pad === true) out.pad = true;
  if (opts.confirm === true) out.confirm = true;
  if (opts.align !== undefined) out.align = opts.align;
  if (opts.maxAlign !== undefined) out['max-align'] = opts.maxAlign;
  if (opts.maxSectors !== undefined) out['max-sectors'] = opts.maxSectors;
  return out;
}

export function slotsFrom(specs: readonly string[] | undefined): Slot[] {
  return [...checkSlots((specs ?? []).map(parseSlot))];
}

export function checkErased(v: number | undefined): number {
  if (v === undefined) return 0xff;
  if (v > 0xff) throw new FwError('HEADER_OPTION', `--erased-value must be a byte value, got ${v}`, {}, EXIT_USAGE);
  return v;
}

export interface LoadedImage {
  readonly path: string;
  readonly image: MemoryImage;
  readonly decoded: AnyDecoded;
}

/** Any input format; the internal-flash target (alt 0) of a DfuSe file. Raw binaries need @ADDR. */
export function loadImage(spec: string): LoadedImage {
  const f = readInput(spec);
  try {
    const { decoded } = decodeFile(f.bytes, { file: f.path, ...(f.address !== undefined ? { address: f.address } : {}) });
    if (decoded.format === 'dfu' && f.address === undefined) {
      throw new FwError('HEADER_INPUT_ADDRESS', `${f.path} is a plain DFU file: give the payload's address as ${f.path}@0x08020000`, { file: f.path }, EXIT_USAGE);
    }
    const target = decoded.targets.find((t) => t.alt === 0) ?? decoded.targets[0];
    if (target === undefined || target.image.isEmpty) throw new FwError('HEADER_EMPTY_IMAGE', 'the file holds no data', { file: f.path });
    return { path: f.path, image: target.image, decoded };
  } catch (e) {
    throw e instanceof FwError ? e.withFile(f.path) : e;
  }
}
