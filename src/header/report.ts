/**
 * Plain-data reports of inject and verify (JSON as is: numbers, strings; bytes as lower-case hex).
 */
import type { FieldValue } from './fields.ts';
import type { Geometry } from './geometry.ts';

export type ReportValue = number | string;

export function reportValue(v: FieldValue): ReportValue {
  if (typeof v === 'number') return v;
  let s = '';
  for (const b of v) s += b.toString(16).padStart(2, '0');
  return s;
}

/** One field of a header as written by inject. */
export interface FieldReport {
  readonly name: string;
  /** Offset from the header start. */
  readonly offset: number;
  readonly size: number;
  readonly type: string;
  readonly address: number;
  readonly value: ReportValue;
  /** The value as a human reads it: `0x08020401`, `1024 (0x400)`, `iso-hdlc (1)`, `3`. */
  readonly display: string;
}

export type CheckStatus = 'ok' | 'mismatch' | 'info' | 'unchecked';

/** One field (or TLV item) of a stored header: what is stored and what it should be. */
export interface FieldCheck {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  readonly type: string;
  readonly address: number;
  readonly stored: ReportValue;
  readonly storedDisplay: string;
  readonly expected?: ReportValue;
  readonly expectedDisplay?: string;
  /** ok: equal; mismatch: differs (see `code`); info: stored value reported, nothing to compare; unchecked: not computable. */
  readonly status: CheckStatus;
  readonly code?: string;
  readonly note?: string;
}

export interface GeometryReport {
  readonly slot: { readonly name: string; readonly start: number; readonly size: number };
  readonly runSlot: { readonly name: string; readonly start: number; readonly size: number };
  readonly headerStart: number;
  readonly headerSize: number;
  readonly payloadStart: number;
  readonly payloadSize: number;
  /** Run address of the payload's vector table. */
  readonly loadAddress: number;
}

export function geometryReport(g: Geometry, loadAddress: number): GeometryReport {
  return {
    slot: { name: g.slot.name, start: g.slot.start, size: g.slot.size },
    runSlot: { name: g.runSlot.name, start: g.runSlot.start, size: g.runSlot.size },
    headerStart: g.headerStart,
    headerSize: g.headerSize,
    payloadStart: g.payloadStart,
    payloadSize: g.payloadSize,
    loadAddress,
  };
}

