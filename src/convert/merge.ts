/**
 * Merging of elements in internal flash. Two neighbouring runs become one element, the gap filled with the
 * erased value, when
 * - they lie in the same erase sector (`same-sector`): the sector is erased whole by any flasher, and a tool
 *   that erases per element (pydfu; dfu-util, which remembers only the last erased page) would otherwise
 *   erase the sector again for the second element and wipe the first one. Needs a chip profile.
 * - the gap is at most `mergeGap` bytes (`merge-gap`), across sectors too: fewer, larger elements.
 * Filling with the erased value writes what the flash holds after the erase anyway. OpenOCD merges the same
 * way (`flash_write_check_gap`, image-formats.md §2). Runs outside internal flash are never merged.
 */
import { MemoryImage } from '../image/memory-image.ts';
import type { FlashMap } from './flash-map.ts';
import type { MergeRecord } from './types.ts';

export interface MergeResult {
  image: MemoryImage;
  merges: MergeRecord[];
}

export interface MergeOptions {
  alt: number;
  erasedValue: number;
  mergeGap?: number;
  sectorMerge: boolean;
}

export function mergeFlashTarget(image: MemoryImage, flash: FlashMap, opts: MergeOptions): MergeResult {
  const merges: MergeRecord[] = [];
  const out = new MemoryImage();
  const inFlash = (start: number, end: number): boolean => flash.ranges.some((f) => start >= f.start && end <= f.end);
  const runs = image.runs();
  let i = 0;
  while (i < runs.length) {
    const first = runs[i]!;
    let end = first.addr + first.data.length;
    let j = i + 1;
    const pending: MergeRecord[] = [];
    for (; j < runs.length; j++) {
      const next = runs[j]!;
      const nextEnd = next.addr + next.data.length;
      // Both sides and the gap must lie in one contiguous flash range.
      if (!inFlash(first.addr, nextEnd)) break;
      const lowSector = opts.sectorMerge ? flash.sectorOf(end - 1) : undefined;
      const highSector = opts.sectorMerge ? flash.sectorOf(next.addr) : undefined;
      const sameSector = lowSector !== undefined && highSector !== undefined && lowSector.start === highSector.start;
      const withinGap = opts.mergeGap !== undefined && next.addr - end <= opts.mergeGap;
      if (!sameSector && !withinGap) break;
      const record: MergeRecord = { alt: opts.alt, start: end, end: next.addr, fill: opts.erasedValue, reason: sameSector ? 'same-sector' : 'merge-gap' };
      if (sameSector) record.sector = lowSector.name;
      pending.push(record);
      end = nextEnd;
    }
    if (j === i + 1) out.add(first.addr, first.data, first.source);
    else {
      const group = image.slice(first.addr, end);
      const sources = [...new Set(runs.slice(i, j).flatMap((r) => (r.source === undefined ? [] : r.source.split(' + '))))];
      const data = group.read(first.addr, end - first.addr, opts.erasedValue);
      out.add(first.addr, data, sources.length > 0 ? sources.join(' + ') : undefined);
      merges.push(...pending);
    }
    i = j;
  }
  return { image: out, merges };
}
