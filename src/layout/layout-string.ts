/**
 * DfuSe memory-layout strings: the `iInterface` string of each DFU alternate setting, e.g.
 * `@Internal Flash   /0x08000000/04*016Kg,01*064Kg,07*128Kg` (ST UM0424 §4.3.2; parsed by dfu-util
 * `dfuse_mem.c`, devanlai webdfu and fwupd). Grammar:
 *
 *     @<name>/0x<addr>/<n>*<size><mult><type>[,<n>*<size><mult><type>...][/0x<addr>/...]
 *
 * mult is `B`, `K`, `M` or a space (bytes); type is a letter a..g whose low three bits say readable (1),
 * erasable (2), writable (4). Real ROMs bend the grammar; each bend is accepted by name and reported in
 * `leniencies` so callers can tell a clean string from a tolerated one:
 *   - `type-in-multiplier`: no multiplier, the type letter follows the size directly
 *     (`@OTP Memory /0x1FF07800/01*528e`, STM32F72x ROM; dfu-util warns and assumes bytes)
 *   - `short-address`: fewer than 8 hex digits (`/0x1FF8000/`, STM32H7A3/B3 ROM)
 * Names keep their raw padding in `rawName` (2 or 3 trailing spaces depending on the ROM) and are trimmed
 * in `name`.
 */
import { FwError } from '../core/errors.ts';

export interface LayoutSegment {
  /** First address of the segment. */
  readonly start: number;
  /** One past the last address (half-open). */
  readonly end: number;
  readonly sectorCount: number;
  readonly sectorSize: number;
  /** The type letter as reported (`g`, `e`, `a`...). */
  readonly type: string;
  readonly readable: boolean;
  readonly erasable: boolean;
  readonly writable: boolean;
}

export type LayoutLeniency = 'type-in-multiplier' | 'short-address';

export interface MemoryLayout {
  readonly raw: string;
  /** Name with the ROM's trailing padding removed. */
  readonly name: string;
  readonly rawName: string;
  readonly segments: readonly LayoutSegment[];
  readonly leniencies: readonly LayoutLeniency[];
}

const MULTIPLIER: Record<string, number> = { ' ': 1, B: 1, K: 1024, M: 1024 * 1024 };

function fail(raw: string, at: number, what: string): never {
  throw new FwError('LAYOUT_SYNTAX', `memory layout ${JSON.stringify(raw)}: ${what} at character ${at + 1}`);
}

/** Parses a DfuSe layout string; throws FwError LAYOUT_SYNTAX / LAYOUT_RANGE naming the position. */
export function parseLayoutString(raw: string): MemoryLayout {
  if (!raw.startsWith('@')) fail(raw, 0, "expected '@'");
  const slash = raw.indexOf('/');
  if (slash < 0) fail(raw, raw.length, "expected '/' after the name");
  const rawName = raw.slice(1, slash);
  const name = rawName.trim();
  if (name.length === 0) fail(raw, 1, 'empty name');

  const segments: LayoutSegment[] = [];
  const leniencies = new Set<LayoutLeniency>();
  let pos = slash;
  while (pos < raw.length) {
    // "/0x<addr>/"
    const addrMatch = /^\/0x([0-9a-fA-F]{1,8})\//.exec(raw.slice(pos));
    if (addrMatch === null) fail(raw, pos, "expected '/0x<address>/'");
    const digits = addrMatch[1]!;
    if (digits.length < 8) leniencies.add('short-address');
    let addr = parseInt(digits, 16);
    pos += addrMatch[0].length;
    // segments separated by ',' until the next '/' or the end
    for (;;) {
      const rest = raw.slice(pos);
      const m = /^(\d+)\*(\d+)(?:([ BKM])([a-g])|([a-g]))/.exec(rest);
      if (m === null) fail(raw, pos, "expected '<count>*<size><multiplier><type>'");
      const count = parseInt(m[1]!, 10);
      const mult = m[3] ?? ' ';
      const type = m[4] ?? m[5]!;
      if (m[5] !== undefined) leniencies.add('type-in-multiplier');
      const sectorSize = parseInt(m[2]!, 10) * MULTIPLIER[mult]!;
      if (count === 0 || sectorSize === 0) fail(raw, pos, 'zero sector count or size');
      const end = addr + count * sectorSize;
      if (end > 0x1_0000_0000) {
        throw new FwError('LAYOUT_RANGE', `memory layout ${JSON.stringify(raw)}: segment at character ${pos + 1} runs past 0xFFFFFFFF`);
      }
      const bits = type.charCodeAt(0) & 7;
      segments.push({
        start: addr,
        end,
        sectorCount: count,
        sectorSize,
        type,
        readable: (bits & 1) !== 0,
        erasable: (bits & 2) !== 0,
        writable: (bits & 4) !== 0,
      });
      addr = end;
      pos += m[0].length;
      if (raw[pos] === ',') {
        pos += 1;
        continue;
      }
      break;
    }
    if (pos < raw.length && raw[pos] !== '/') fail(raw, pos, "expected ',' or '/'");
    // A trailing '/' with nothing after it ends the string (seen in some firmware-defined strings).
    if (pos === raw.length - 1 && raw[pos] === '/') pos += 1;
  }
  if (segments.length === 0) fail(raw, pos, 'no segments');
  return { raw, name, rawName, segments, leniencies: [...leniencies] };
}

/** The segments expanded to one entry per sector, in address order. */
export function layoutSectors(layout: MemoryLayout): { start: number; size: number; segment: LayoutSegment }[] {
  const out: { start: number; size: number; segment: LayoutSegment }[] = [];
  for (const s of layout.segments) {
    for (let i = 0; i < s.sectorCount; i++) out.push({ start: s.start + i * s.sectorSize, size: s.sectorSize, segment: s });
  }
  return out;
}
