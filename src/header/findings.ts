/**
 * What verify finds, as values (the library never throws for a bad header: a bad header is an answer).
 * `CHECK_ORDER` is the order in which a bootloader following a layout checks a slot; the first error in that
 * order is the reason the slot is rejected. docs/header-dfukit-ab-v1.md lists the same order for the C side.
 */
export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
  /** The field (or TLV / trailer item) the finding is about. */
  readonly field?: string;
  readonly address?: number;
}

export const CHECK_ORDER = [
  /** The magic reads as erased flash: nothing was ever written there (or the header was erased). */
  'HEADER_ERASED',
  /** The magic is not the layout's. */
  'HEADER_BAD_MAGIC',
  /** The header CRC does not match the header bytes before it: torn or corrupted header. */
  'HEADER_CRC',
  /** A field differs from its constant (e.g. hdr_version, reserved flag bits) or from a value the user asked for. */
  'HEADER_FIELD_MISMATCH',
  /** A field holds a number that names no choice (e.g. crc_kind 7). */
  'HEADER_FIELD_VALUE',
  /** The stored header size is below the minimum, not a multiple of the layout's unit, or beyond the slot. */
  'HEADER_SIZE_FIELD',
  /** The stored slot size is not the size of the slot that holds the header. */
  'HEADER_SLOT_SIZE',
  /** The load address is neither this slot's payload start nor another slot's (staging copy). */
  'HEADER_LOAD_ADDRESS',
  /** Header + payload (+ TLV area and trailer) do not fit the slot, or the run slot of a staging copy. */
  'HEADER_SIZE_BEYOND_SLOT',
  /** MCUboot: no TLV info magic after the payload, or no SHA-256 TLV. */
  'HEADER_TLV',
  /** The payload CRC does not match. */
  'HEADER_PAYLOAD_CRC',
  /** The payload SHA-256 (or MCUboot's hash TLV) does not match. */
  'HEADER_PAYLOAD_HASH',
  /** The entry field is not the reset vector of the payload's vector table. */
  'HEADER_ENTRY_MISMATCH',
  /** The reset handler lies outside the image at its run address. */
  'HEADER_RESET_OUTSIDE_SLOT',
] as const;

export type CheckCode = (typeof CHECK_ORDER)[number];

/** Warnings (never a reason to reject): reserved bytes that are not the fill value. */
export const WARNING_CODES = ['HEADER_RESERVED', 'HEADER_VECTOR_TABLE'] as const;

function rank(code: string): number {
  const i = (CHECK_ORDER as readonly string[]).indexOf(code);
  return i < 0 ? CHECK_ORDER.length : i;
}

/** Findings sorted into check order (stable within one code). */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return findings
    .map((f, i) => ({ f, i }))
    .sort((a, b) => rank(a.f.code) - rank(b.f.code) || a.i - b.i)
    .map((x) => x.f);
}

/** The first error in check order: why a bootloader rejects the slot. */
export function firstError(findings: readonly Finding[]): Finding | undefined {
  return sortFindings(findings).find((f) => f.severity === 'error');
}
