/**
 * `headerRanges`: the byte ranges of an image that hold headers (and MCUboot trailer pieces), so a flasher can
 * write them last: an update cut off before the end then leaves no valid magic, and the bootloader ignores
 * the half-written slot. Ranges are rounded out to the program unit when one is given.
 */
import { alignDown, alignUp, type Range } from '../core/range.ts';
import type { MemoryImage } from '../image/memory-image.ts';
import { layoutOf, type HeaderLayout } from './layouts.ts';
import { trailerParams } from './mcuboot/extension.ts';
import { BOOT_MAGIC_SIZE, trailerOffsets } from './mcuboot/trailer.ts';
import { resolveOptions, type OptionInput } from './options.ts';
import type { Slot } from './slots.ts';
import { slotEnd } from './slots.ts';
import { verifyHeader } from './verify.ts';

export interface HeaderRange extends Range {
  readonly slot: string;
  readonly what: string;
}

export interface HeaderRangeOptions {
  readonly programUnit?: number;
  readonly options?: OptionInput;
  readonly headerSize?: number;
  readonly headerOffset?: number;
  readonly erasedValue?: number;
}

export function headerRanges(image: MemoryImage, layout: string | HeaderLayout, slots: readonly Slot[], opts: HeaderRangeOptions = {}): HeaderRange[] {
  const l = layoutOf(layout);
  const unit = opts.programUnit ?? 1;
  const erased = opts.erasedValue ?? 0xff;
  const out: HeaderRange[] = [];
  const push = (start: number, end: number, slot: string, what: string): void => {
    out.push({ start: alignDown(start, unit), end: alignUp(end, unit), slot, what });
  };
  for (const slot of slots) {
    const v = verifyHeader(image, {
      layout: l,
      slot,
      slots,
      ...(opts.options !== undefined ? { options: opts.options } : {}),
      ...(opts.headerSize !== undefined ? { headerSize: opts.headerSize } : {}),
      ...(opts.headerOffset !== undefined ? { headerOffset: opts.headerOffset } : {}),
      erasedValue: erased,
    });
    if (v.reason?.code === 'HEADER_ERASED' || v.reason?.code === 'HEADER_BAD_MAGIC') continue;
    const size = v.geometry?.headerSize ?? opts.headerSize ?? l.headerSize.default;
    push(v.headerAddress, v.headerAddress + size, slot.name, `${l.name} header`);
    if (l.extension === 'mcuboot') {
      const p = trailerParams(resolveOptions(l, opts.options ?? {}));
      const o = trailerOffsets(slot.size, p);
      const holds = (a: number, n: number): boolean => image.covers(a, a + n) && image.read(a, n).some((b) => b !== erased);
      if (holds(slot.start + o.imageOk, 1)) push(slot.start + o.imageOk, slot.start + o.imageOk + p.maxAlign, slot.name, 'mcuboot trailer image_ok');
      if (holds(slotEnd(slot) - BOOT_MAGIC_SIZE, BOOT_MAGIC_SIZE)) push(slotEnd(slot) - alignUp(BOOT_MAGIC_SIZE, p.maxAlign), slotEnd(slot), slot.name, 'mcuboot trailer magic');
    }
  }
  return out.sort((a, b) => a.start - b.start);
}
