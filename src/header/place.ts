/**
 * Where inject puts a header, and the checks that nothing is relocated silently: the image must lie in the
 * slot (or, for a staging copy, in the slot it is linked for, and it is then moved by the distance between
 * the slots, which the report states); the header needs free or reserved space; header + payload + what the
 * layout adds after it must fit the slot; the vector table must sit at a legal VTOR position and its reset
 * handler inside the image at its run address. Each failure is an FwError that says by how many bytes.
 */
import { EXIT_USAGE, FwError } from '../core/errors.ts';
import { formatRange, formatSize, hex32, hexN } from '../core/format.ts';
import { ADDRESS_LIMIT, alignDown, alignUp } from '../core/range.ts';
import { MemoryImage } from '../image/memory-image.ts';
import { readVectorTable } from '../image/vector-table.ts';
import { runDelta, runImageRange, vectorTableAddress, type Geometry } from './geometry.ts';
import type { HeaderLayoutSource } from './schema.ts';
import { inSlot, showSlot, slotEnd, type Slot } from './slots.ts';

/** STM32H7's 256-bit flash word: the largest program unit of any STM32, so a header aligned to it can be written on its own anywhere. */
export const DEFAULT_PROGRAM_UNIT = 32;
/** ARMv7-M/ARMv8-M: VTOR.TBLOFF starts at bit 7 (Arm DDI 0403 B3.2.5). Parts with more than 32 vectors need more. */
export const DEFAULT_VECTOR_ALIGN = 128;

export interface PlaceRequest {
  readonly layout: HeaderLayoutSource;
  readonly slot: Slot;
  readonly runSlot: Slot;
  readonly headerSize: number;
  readonly headerOffset: number;
  readonly padHeader: boolean;
  readonly programUnit: number;
  readonly vectorAlign: number;
  /** Bytes the layout adds after the payload, and reserves at the slot end. */
  readonly afterPayload: number;
  readonly atSlotEnd: number;
}

export interface Placement {
  readonly image: MemoryImage;
  readonly geometry: Geometry;
  readonly space: 'added' | 'reserved';
  readonly notes: string[];
}

function usage(code: string, message: string): FwError {
  return new FwError(code, message, {}, EXIT_USAGE);
}

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

/** Header size rules: the layout's minimum and unit, and whole program units. */
export function checkHeaderSize(layout: HeaderLayoutSource, size: number, programUnit: number): void {
  if (!Number.isInteger(size) || size < layout.headerSize.min) {
    throw usage('HEADER_TOO_SMALL', `header size ${formatSize(size)} is below the ${layout.name} minimum of ${formatSize(layout.headerSize.min)} bytes`);
  }
  if (size % layout.headerSize.multipleOf !== 0) {
    throw usage('HEADER_ALIGNMENT', `header size ${formatSize(size)} is not a multiple of ${formatSize(layout.headerSize.multipleOf)}, as ${layout.name} requires`);
  }
  if (size % programUnit !== 0) {
    throw usage(
      'HEADER_ALIGNMENT',
      `header size ${formatSize(size)} is not a multiple of the ${programUnit}-byte program unit: the header would share a flash word with the payload (use ${formatSize(alignUp(size, programUnit))})`,
    );
  }
}

/** The image moved from the slot it is linked for into the slot that stores it (staging copy), or as is. */
function relocate(image: MemoryImage, from: Slot, to: Slot): MemoryImage {
  if (from.start === to.start) return image;
  const out = new MemoryImage();
  for (const s of image.segments) {
    if (s.addr < from.start || s.addr + s.data.length > slotEnd(from)) {
      throw new FwError(
        'HEADER_OUTSIDE_SLOT',
        `image data at ${formatRange(s.addr, s.addr + s.data.length)} lies outside ${showSlot(from)}, which --staging says the image is linked for`,
        { address: s.addr },
      );
    }
    out.add(s.addr + to.start - from.start, s.data, s.source);
  }
  return out;
}

function headerSpace(image: MemoryImage, req: PlaceRequest, start: number): 'added' | 'reserved' {
  const end = start + req.headerSize;
  const inside = image.slice(start, end);
  if (inside.isEmpty) return 'added';
  const where = `${req.headerSize}-byte (${hexN(req.headerSize, 1)}) ${req.layout.name} header at ${formatRange(start, end)}`;
  if (image.covers(start, end) && !req.padHeader) {
    const bytes = image.read(start, req.headerSize);
    const v = bytes[0]!;
    const bad = bytes.findIndex((b) => b !== v);
    if (bad < 0 && req.layout.padding.reserved.includes(v)) return 'reserved';
    const at = bad < 0 ? start : start + bad;
    // The reserved run, in whole header-size units (the payload's first bytes may repeat the fill value).
    const run = alignDown(bad, Math.max(req.layout.headerSize.multipleOf, req.programUnit));
    if (run > 0 && req.layout.padding.reserved.includes(v)) {
      throw new FwError(
        'HEADER_NO_ROOM',
        `no room for the ${where}: the image reserves only ${formatSize(run)} bytes (${hexN(v, 2)}) before its data, ` +
          `${formatSize(req.headerSize - run)} bytes short (use --header-size ${hexN(run, 1)} if the layout allows it, or reserve more)`,
        { address: at },
      );
    }
    throw new FwError(
      'HEADER_NO_ROOM',
      `no room for the ${where}: the image holds data there (at ${hex32(at)}), not space reserved for a header ` +
        `(${req.layout.padding.reserved.map((x) => hexN(x, 2)).join(' or ')} bytes)`,
      { address: at },
    );
  }
  const first = inside.start!;
  if (req.padHeader && first === start && image.covers(start, end)) {
    throw new FwError(
      'HEADER_NO_ROOM',
      `no room for the ${where}: --pad-header adds the header in front of the payload, but the image already starts at ${hex32(start)}; ` +
        `link the payload ${formatSize(req.headerSize)} bytes later, or drop --pad-header to use the reserved space`,
      { address: start },
    );
  }
  const short = end - first;
  throw new FwError(
    'HEADER_NO_ROOM',
    `no room for the ${where}: the image has data from ${hex32(first)}, ${formatSize(short)} bytes before the end of the header space; ` +
      `link the payload ${formatSize(short)} bytes later (at ${hex32(end)}) or reserve the whole header space`,
    { address: first },
  );
}

function checkVectorTable(image: MemoryImage, g: Geometry, vectorAlign: number, notes: string[]): void {
  const vt = vectorTableAddress(g);
  const delta = runDelta(g);
  const table = readVectorTable(image, vt);
  if (table === undefined) {
    throw new FwError('HEADER_NO_VECTOR_TABLE', `the image holds no vector table at ${hex32(vt)} (8 bytes: initial SP and reset handler), where the payload starts`, { address: vt });
  }
  if ((vt + delta) % vectorAlign !== 0) {
    const fix = alignUp(g.headerSize, vectorAlign);
    throw usage(
      'HEADER_VECTOR_ALIGNMENT',
      `the vector table would run at ${hex32(vt + delta)}, not a multiple of the ${vectorAlign}-byte VTOR alignment ` +
        `(${formatSize((vt + delta) % vectorAlign)} bytes off); use --header-size ${hexN(fix, 1)} or check --vector-align`,
    );
  }
  const reset = table.resetHandler & ~1;
  const run = runImageRange(g);
  if (!inSlot(g.runSlot, reset)) {
    const hint =
      delta === 0
        ? `; was it linked for another slot? (--staging declares slot ${g.slot.name} a copy of an image linked for another slot)`
        : '';
    throw new FwError(
      'HEADER_RESET_OUTSIDE_SLOT',
      `the reset handler ${hex32(table.resetHandler)} (vector table word 1 at ${hex32(vt)}) lies outside ${showSlot(g.runSlot)}, which the image runs from${hint}`,
      { address: vt + 4 },
    );
  }
  if (reset < run.start || reset >= run.end) {
    throw new FwError(
      'HEADER_RESET_OUTSIDE_SLOT',
      `the reset handler ${hex32(table.resetHandler)} lies in ${showSlot(g.runSlot)} but outside the image at its run address ${formatRange(run.start, run.end)}`,
      { address: vt + 4 },
    );
  }
  if (!table.thumb) notes.push(`warning: the reset handler ${hex32(table.resetHandler)} has no Thumb bit: a Cortex-M faults on it`);
}

/** Geometry and moved image for inject; throws FwError with the exact shortfall. */
export function place(input: MemoryImage, req: PlaceRequest): Placement {
  const { layout, slot, runSlot } = req;
  const notes: string[] = [];
  if (!isPowerOfTwo(req.programUnit)) throw usage('HEADER_ALIGNMENT', `program unit must be a power of two, got ${req.programUnit}`);
  if (!isPowerOfTwo(req.vectorAlign) || req.vectorAlign < 128) throw usage('HEADER_ALIGNMENT', `vector-table alignment must be a power of two of at least 128, got ${req.vectorAlign}`);
  checkHeaderSize(layout, req.headerSize, req.programUnit);
  if (req.headerOffset !== 0 && layout.placement === 'slot-start') {
    throw usage('HEADER_PLACEMENT', `${layout.name} headers sit at the slot start; a header offset of ${formatSize(req.headerOffset)} is not possible`);
  }
  const headerStart = slot.start + req.headerOffset;
  if (slot.start % req.programUnit !== 0 || headerStart % req.programUnit !== 0) {
    throw usage('HEADER_ALIGNMENT', `the header at ${hex32(headerStart)} does not start on a ${req.programUnit}-byte program unit`);
  }
  if (input.isEmpty) throw new FwError('HEADER_EMPTY_IMAGE', 'the image holds no data');
  const image = relocate(input, runSlot, slot);
  if (image !== input) notes.push(`staging copy: the image linked for ${showSlot(runSlot)} is stored in ${showSlot(slot)} (moved by ${formatSize(slot.start - runSlot.start)} bytes)`);
  const first = image.start!;
  if (first < slot.start) {
    throw new FwError(
      'HEADER_OUTSIDE_SLOT',
      `the image starts at ${hex32(first)}, ${formatSize(slot.start - first)} bytes before ${showSlot(slot)}` +
        (image === input ? '; an image linked for another slot goes in with --staging' : ''),
      { address: first },
    );
  }
  const space = headerSpace(image, req, headerStart);
  notes.push(space === 'added' ? `header space added in front of the payload (${formatSize(req.headerSize)} bytes)` : 'header written into the space the image reserved');
  const payloadStart = headerStart + req.headerSize;
  const after = image.slice(payloadStart, ADDRESS_LIMIT);
  if (after.isEmpty) throw new FwError('HEADER_EMPTY_PAYLOAD', `the image holds nothing after the header (from ${hex32(payloadStart)})`, { address: payloadStart });
  const payloadSize = after.end! - payloadStart;
  const need = payloadStart + payloadSize + req.afterPayload + req.atSlotEnd;
  const extra = req.afterPayload + req.atSlotEnd > 0 ? ` (with ${formatSize(req.afterPayload)} bytes after the payload and ${formatSize(req.atSlotEnd)} reserved at the slot end)` : '';
  if (need > slotEnd(slot)) {
    throw new FwError(
      'HEADER_SLOT_OVERFLOW',
      `the image overflows ${showSlot(slot)} by ${formatSize(need - slotEnd(slot))} bytes: header + payload end at ${hex32(payloadStart + payloadSize)}${extra}`,
      { address: slotEnd(slot) },
    );
  }
  if (need - slot.start > runSlot.size) {
    throw new FwError('HEADER_SLOT_OVERFLOW', `the image overflows ${showSlot(runSlot)} it runs from by ${formatSize(need - slot.start - runSlot.size)} bytes${extra}`, {
      address: slotEnd(runSlot),
    });
  }
  const geometry: Geometry = { slot, runSlot, headerStart, headerSize: req.headerSize, payloadStart, payloadSize };
  checkVectorTable(image, geometry, req.vectorAlign, notes);
  return { image, geometry, space, notes };
}
