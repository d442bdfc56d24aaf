/**
 * Where a header, its payload and the slot lie, in the addresses of the slot that holds them ("storage").
 *
 *   slot.start                headerStart          payloadStart                  payloadStart + payloadSize
 *   | prefix (optional)       | header (headerSize)  | payload (vector table first) |  ... up to the slot end
 *
 * The prefix exists only when the header sits in space the firmware reserved after its vector table (layouts
 * with placement `anywhere`); then the vector table is at the slot start. `runSlot` is where the payload runs:
 * the same slot, or slot A when this slot holds a staging copy (copy-to-A scheme).
 */
import type { Slot } from './slots.ts';

export interface Geometry {
  readonly slot: Slot;
  readonly runSlot: Slot;
  readonly headerStart: number;
  readonly headerSize: number;
  readonly payloadStart: number;
  readonly payloadSize: number;
}

export function prefixSize(g: Geometry): number {
  return g.headerStart - g.slot.start;
}

export function payloadEnd(g: Geometry): number {
  return g.payloadStart + g.payloadSize;
}

/** Storage address of the vector table: the payload start, or the slot start when a prefix holds it. */
export function vectorTableAddress(g: Geometry): number {
  return prefixSize(g) > 0 ? g.slot.start : g.payloadStart;
}

/** Run address minus storage address (non-zero for a staging copy). */
export function runDelta(g: Geometry): number {
  return g.runSlot.start - g.slot.start;
}

/** Where the vector table is when the payload runs: what a header's load address holds. */
export function loadAddress(g: Geometry): number {
  return vectorTableAddress(g) + runDelta(g);
}

/** Run addresses of the bytes the image consists of (prefix and payload): where the reset handler must be. */
export function runImageRange(g: Geometry): { start: number; end: number } {
  return { start: vectorTableAddress(g) + runDelta(g), end: payloadEnd(g) + runDelta(g) };
}
