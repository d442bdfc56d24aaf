/**
 * Code beyond the field declarations, for formats whose bytes do not all live in the header: MCUboot's TLV
 * area after the payload and its trailer at the slot end. A layout names its extension (`extension: mcuboot`);
 * inject, verify, select and headerRanges call it at fixed points.
 */
import type { MemoryImage } from '../image/memory-image.ts';
import type { Finding } from './findings.ts';
import type { Geometry } from './geometry.ts';
import type { ResolvedOptions } from './options.ts';
import type { FieldCheck } from './report.ts';

export interface ExtensionContext {
  readonly options: ResolvedOptions;
  readonly geometry: Geometry;
  /** Storage addresses. At build time: the payload without header; at verify time: everything. */
  readonly image: MemoryImage;
  /** The whole header region (headerSize bytes) as written or stored. */
  readonly header: Uint8Array;
  readonly erased: number;
  /** false when verify had no slot: trailer checks are skipped. */
  readonly slotKnown: boolean;
}

export interface ExtensionPiece {
  readonly addr: number;
  readonly data: Uint8Array;
  readonly what: string;
}

export interface ExtensionVerify {
  readonly checks: FieldCheck[];
  readonly findings: Finding[];
  /** Extra facts for reports (e.g. the trailer state). */
  readonly details: Record<string, string | number | boolean>;
}

export interface HeaderExtension {
  readonly name: string;
  /** Bytes written right after the payload. */
  afterPayloadSize(options: ResolvedOptions): number;
  /** Bytes reserved at the end of the slot, counted by the overflow check whether or not they are written. */
  reservedAtSlotEnd(options: ResolvedOptions): number;
  build(ctx: ExtensionContext): ExtensionPiece[];
  /** Checks of a stored image; `afterPayload` is the number of bytes after the payload it found. */
  verify(ctx: ExtensionContext): ExtensionVerify & { afterPayload: number };
  /** Ranges a flasher should write last besides the header (e.g. the trailer magic). */
  lastRanges(ctx: { options: ResolvedOptions; geometry: Geometry }): { start: number; end: number; what: string }[];
  /** Lines for `dfukit header describe`. */
  describe(): string[];
}
