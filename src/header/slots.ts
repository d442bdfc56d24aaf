/**
 * Slots: the flash areas an A/B bootloader chooses between. Given on the command line as
 * `NAME=ADDRESS+SIZE` (`A=0x08020000+0x60000`, `B=0x08080000+384K`); the order matters: the first slot is
 * slot A (MCUboot's primary), the one a copy-to-A bootloader copies into and boots from.
 */
import { EXIT_USAGE, FwError } from '../core/errors.ts';
import { formatRange, formatSize } from '../core/format.ts';
import { parseNumber } from '../core/parse-number.ts';
import { ADDRESS_LIMIT } from '../core/range.ts';

export interface Slot {
  readonly name: string;
  readonly start: number;
  readonly size: number;
}

export function slotEnd(s: Slot): number {
  return s.start + s.size;
}

export function showSlot(s: Slot): string {
  return `slot ${s.name} ${formatRange(s.start, slotEnd(s))}`;
}

export function inSlot(s: Slot, addr: number): boolean {
  return addr >= s.start && addr < slotEnd(s);
}

/** `A=0x08020000+0x60000` → slot; usage error HEADER_SLOT_SPEC naming the expected form. */
export function parseSlot(spec: string): Slot {
  const m = /^([A-Za-z][A-Za-z0-9_-]*)=([^+]+)\+(.+)$/.exec(spec.trim());
  const start = m === null ? undefined : parseNumber(m[2]!);
  const size = m === null ? undefined : parseNumber(m[3]!, { sizeSuffix: true });
  if (m === null || start === undefined || size === undefined) {
    throw new FwError('HEADER_SLOT_SPEC', `slot '${spec}' is not NAME=ADDRESS+SIZE (e.g. A=0x08020000+0x60000 or B=0x08080000+384K)`, {}, EXIT_USAGE);
  }
  return checkSlot({ name: m[1]!, start, size });
}

export function checkSlot(s: Slot): Slot {
  if (!Number.isSafeInteger(s.start) || !Number.isSafeInteger(s.size) || s.size <= 0 || s.start < 0 || s.start + s.size > ADDRESS_LIMIT) {
    throw new FwError('HEADER_SLOT_SPEC', `slot ${s.name}: ${formatSize(s.size)} bytes at ${s.start} do not fit the 32-bit address space`, {}, EXIT_USAGE);
  }
  return s;
}

/** Names unique, no two slots overlap. */
export function checkSlots(slots: readonly Slot[]): readonly Slot[] {
  for (let i = 0; i < slots.length; i++) {
    const a = checkSlot(slots[i]!);
    for (let j = 0; j < i; j++) {
      const b = slots[j]!;
      if (a.name === b.name) throw new FwError('HEADER_SLOT_SPEC', `slot name ${a.name} is given twice`, {}, EXIT_USAGE);
      if (a.start < slotEnd(b) && b.start < slotEnd(a)) {
        throw new FwError('HEADER_SLOT_OVERLAP', `${showSlot(a)} overlaps ${showSlot(b)}`, {}, EXIT_USAGE);
      }
    }
  }
  return slots;
}

export function findSlot(slots: readonly Slot[], name: string): Slot {
  const s = slots.find((x) => x.name === name);
  if (s === undefined) throw new FwError('HEADER_SLOT_UNKNOWN', `no slot named ${name} (slots: ${slots.map((x) => x.name).join(', ')})`, {}, EXIT_USAGE);
  return s;
}
