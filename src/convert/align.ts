/**
 * Program-unit alignment of a flash target (image-formats.md §2): each contiguous run inside internal flash
 * is extended down and up to multiples of the unit with the fill byte, and runs that then share a unit are
 * joined (the bytes between them become fill too), so no two elements ever write the same flash word and no
 * element leaves a flash word half written. Runs outside internal flash are left exactly as they are.
 */
import type { Note } from '../core/notes.ts';
import { MemoryImage } from '../image/memory-image.ts';
import { splitByFlash, type FlashMap } from './flash-map.ts';
import type { PadRecord } from './types.ts';

export interface AlignResult {
  image: MemoryImage;
  pads: PadRecord[];
  notes: Note[];
}

export function alignFlashTarget(image: MemoryImage, alt: number, unit: number, fill: number, flash: FlashMap): AlignResult {
  const { outside } = splitByFlash(image.ranges(), flash.ranges);
  const out = new MemoryImage();
  const pads: PadRecord[] = [];
  const notes: Note[] = outside.map((r) => flash.describeOutside(r.start, r.end, alt));
  for (const r of outside) for (const s of image.slice(r.start, r.end).segments) out.add(s.addr, s.data, s.source);
  // Each flash range is aligned on its own. Its bounds are multiples of the unit (checked when the unit is
  // chosen), so an aligned run never leaves its range.
  for (const f of flash.ranges) {
    const part = image.slice(f.start, f.end);
    if (part.isEmpty) continue;
    const aligned = part.align(unit, fill);
    for (const p of aligned.pads) pads.push({ alt, start: p.start, end: p.end, fill: p.fill, reason: p.reason });
    for (const run of aligned.image.runs()) out.add(run.addr, run.data, run.source);
  }
  return { image: out, pads, notes };
}
