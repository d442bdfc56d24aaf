/**
 * What a conversion takes and gives (`dfukit convert`, `dfukit build`): input bytes as loaded by the caller,
 * options as the user stated them, and the converted targets with everything that was done to them.
 * The library reads no files; the CLI and the recipe runner hand it bytes.
 */
import type { Note } from '../core/notes.ts';
import type { Range } from '../core/range.ts';
import type { FormatName } from '../formats/types.ts';
import type { MemoryImage } from '../image/memory-image.ts';
import type { ChipProfile } from '../layout/chip-types.ts';
import type { HeaderStepReport } from './report-schema.ts';

export type { HeaderStepReport } from './report-schema.ts';

export interface ConvertInput {
  /** The path as the user gave it (relative, never made absolute): used in reports, errors and element sources. */
  name: string;
  bytes: Uint8Array;
  /** Load address for raw binaries and plain DFU payloads (`app.bin@0x08000000`). */
  address?: number;
  /** `--alt ALT:FILE`: the DFU alternate setting this input goes to (default 0, the internal flash). */
  alt?: number;
  /** Edits of this input's image, in order, after it is read and before it is combined with the others. */
  steps?: readonly ImageStep[];
}

/** What an image step is told about the input it edits. */
export interface ImageStepContext {
  /** The input's name (as given). */
  input: string;
  alt: number;
  chip?: ChipProfile;
}

export interface ImageStepResult {
  image: MemoryImage;
  /** A header step's report: the header as written. */
  header?: HeaderStepReport;
  notes?: Note[];
}

/**
 * An edit of one input's image: a header step (recipe `inputs[].header`) puts an A/B image header on it.
 * The library runs steps without knowing what they are, so converting loads no header code unless a step
 * exists; the step itself reports errors where its caller can place them (the recipe line).
 */
export interface ImageStep {
  readonly kind: 'header';
  apply(image: MemoryImage, ctx: ImageStepContext): ImageStepResult;
}

export interface SuffixValues {
  vid: number;
  pid: number;
  bcdDevice: number;
}

export interface ConvertOptions {
  /** Resolved chip profile (`--chip`): program unit, erase sectors, erased value, which alts are internal flash. */
  chip?: ChipProfile;
  /** Program unit override (`--align`), a power of two. 1 turns alignment off. */
  align?: number;
  /** Byte for alignment pads (`--fill`). Default: the erased value (0xFF). */
  fill?: number;
  /** Also merge elements whose gap is at most this many bytes, across erase sectors (`--merge-gap`). */
  mergeGap?: number;
  /** Later inputs win where inputs overlap (each replaced range is reported). Default: overlap is an error. */
  overwrite?: boolean;
  /** Reader leniencies, by name (see `dfukit inspect`). */
  lenient?: readonly string[];
  /** DfuSe target names by alt (`--target-name`). Default: a DfuSe input's name, else "ST...". */
  targetNames?: ReadonlyMap<number, string>;
  /** Suffix fields given by the user; the rest come from DfuSe inputs when they agree, else 0483:DF11, 0xFFFF. */
  suffix?: Partial<SuffixValues>;
}

/** How an input was read. */
export interface LoadedInput {
  name: string;
  format: FormatName;
  detectedBy: string;
  fileSize: number;
  /** Alt given with `--alt`, if any. */
  alt?: number;
  address?: number;
  entry?: number;
  /** One per DfuSe target; one for every other format. */
  targets: { alt: number; name?: string; named: boolean; image: MemoryImage }[];
  suffix?: SuffixValues;
}

/** Bytes added to extend an element to the program unit, or to fill a gap smaller than one unit. */
export interface PadRecord {
  alt: number;
  start: number;
  end: number;
  fill: number;
  reason: 'align-start' | 'align-end' | 'gap';
}

/** A gap between two elements filled so they become one element. */
export interface MergeRecord {
  alt: number;
  /** The gap that was filled: end of the lower element .. start of the upper one. */
  start: number;
  end: number;
  fill: number;
  reason: 'same-sector' | 'merge-gap';
  /** The erase sector the two elements share (`bank 1 sector 0`), for `same-sector`. */
  sector?: string;
}

/** Data of an earlier input replaced by a later one under `overwrite`. */
export interface OverwriteRecord {
  alt: number;
  start: number;
  end: number;
  previous: string;
  by: string;
}

export type TargetKind = 'internal-flash' | 'other';

export interface ConvertedTarget {
  alt: number;
  /** szTargetName; undefined writes an unnamed target (bTargetNamed 0), as a re-encoded unnamed DfuSe target. */
  name?: string;
  kind: TargetKind;
  /** Whether alignment and merging were applied to this target's internal-flash ranges. */
  aligned: boolean;
  /** The final image: one DfuSe element per segment. */
  image: MemoryImage;
  /** Per input, the address ranges it contributed (before padding), for reports. */
  contributions: { input: string; ranges: Range[] }[];
}

export type UnitSource = 'chip' | 'option' | 'default' | 'none';

export interface AlignmentSettings {
  /** 1 when nothing is aligned. */
  unit: number;
  unitFrom: UnitSource;
  fill: number;
  erasedValue: number;
  mergeGap?: number;
  /** Address ranges treated as internal flash. */
  flash: Range[];
  flashFrom: 'chip' | 'stm32-default';
  /** Erase-sector merging is available (a chip was named). */
  sectorMerge: boolean;
}

export interface ConvertResult {
  inputs: LoadedInput[];
  chip?: ChipProfile;
  alignment: AlignmentSettings;
  targets: ConvertedTarget[];
  pads: PadRecord[];
  merges: MergeRecord[];
  overwrites: OverwriteRecord[];
  suffix: SuffixValues & { from: 'options' | 'input' | 'default' };
  /** Entry point for HEX/S-record output: the one all inputs that state an entry agree on. */
  entry?: number;
  /** Headers put on inputs by their steps, in input order. */
  headers: HeaderStepReport[];
  notes: Note[];
}
