/**
 * What every decoder returns, whatever the format: the memory targets it holds (a DfuSe file may hold
 * several alternate settings; other formats one target at alt 0), the entry point when the format records
 * one, and the notes (leniencies applied, warnings). Format-specific detail stays in each codec's own type.
 */
import type { Note } from '../core/notes.ts';
import type { MemoryImage } from '../image/memory-image.ts';

export type FormatName = 'elf' | 'ihex' | 'srec' | 'bin' | 'dfuse' | 'dfu';

export const FORMAT_NAMES: readonly FormatName[] = ['elf', 'ihex', 'srec', 'bin', 'dfuse', 'dfu'];

export interface DecodeOptions {
  /** File name for error locations and segment sources. */
  file?: string;
  /** Leniencies the caller accepts, by name (each codec documents its own). Strict when empty. */
  lenient?: readonly string[];
  /** Later data wins where records overlap (reported as notes); otherwise overlap is an error. */
  overwrite?: boolean;
}

export interface Target {
  /** USB alternate setting (DfuSe bAlternateSetting); 0 for formats without targets. */
  alt: number;
  /** DfuSe szTargetName when named. */
  name?: string;
  image: MemoryImage;
}

export interface Decoded {
  format: FormatName;
  targets: Target[];
  /** Entry point from the file (ELF e_entry, HEX type 03/05, S-record S7/S8/S9). */
  entry?: number;
  notes: Note[];
}

/** The name that allows every leniency of every reader (`--lenient all`). */
export const ALL_LENIENCIES = 'all';

/** `true` when `name` is among the leniencies the caller allowed (or the caller allowed `all`). */
export function allows(opts: DecodeOptions, name: string): boolean {
  return opts.lenient !== undefined && (opts.lenient.includes(name) || opts.lenient.includes(ALL_LENIENCIES));
}
