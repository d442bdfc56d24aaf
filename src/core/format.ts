/** Number formatting conventions (DESIGN.md "Conventions"). */

/** `0x08004000`: eight upper-case hex digits, more only when the value needs them. */
export function hex32(n: number): string {
  return '0x' + n.toString(16).toUpperCase().padStart(8, '0');
}

/** `0x1F`-style hex for small values such as bytes and field values. */
export function hexN(n: number, digits: number): string {
  return '0x' + n.toString(16).toUpperCase().padStart(digits, '0');
}

/** `16384 (0x4000)`. */
export function formatSize(n: number): string {
  return `${n} (0x${n.toString(16).toUpperCase()})`;
}

/** Half-open range as `0x08000000..0x08004000`. */
export function formatRange(start: number, end: number): string {
  return `${hex32(start)}..${hex32(end)}`;
}
