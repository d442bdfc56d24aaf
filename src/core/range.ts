/**
 * Half-open address ranges [start, end). Addresses are unsigned 32-bit, so `end` may be 2^32
 * (a segment ending at 0xFFFFFFFF inclusive). Plain numbers: JS bit operators would make them signed.
 */
export interface Range {
  readonly start: number;
  readonly end: number;
}

export const ADDRESS_LIMIT = 0x1_0000_0000;

export function overlaps(a: Range, b: Range): boolean {
  return a.start < b.end && b.start < a.end;
}

export function alignDown(n: number, unit: number): number {
  return n - (n % unit);
}

export function alignUp(n: number, unit: number): number {
  const r = n % unit;
  return r === 0 ? n : n + (unit - r);
}

/** Merge sorted-or-not ranges that overlap or touch into a sorted list. */
export function unionRanges(ranges: readonly Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  const out: { start: number; end: number }[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && r.start <= last.end) last.end = Math.max(last.end, r.end);
    else out.push({ start: r.start, end: r.end });
  }
  return out;
}
