/**
 * The read-back check of a FlashPlan, as a diff: what the flasher's verify phase reports on a mismatch and what
 * `dfukit verify --device` prints, from one function, so both give the same report for the same flash.
 *
 *  - Read back: the plan's `verify` ranges, i.e. the image's ranges after alignment to the program unit (the
 *    bytes the flasher writes). Callers read them; this module does no I/O.
 *  - Expected: the image as given, without the pads the planner added. A pad is the erased value written to
 *    fill a partial program unit; comparing it as data would turn a lost partial unit (`tail-lost`, what a
 *    writer that drops partial flash words leaves) into `not-written`. Pads that do not read back erased
 *    (only a misbehaving device does that) are compared too: the padded image is diffed instead.
 */
import type { Note } from '../core/notes.ts';
import type { Range } from '../core/range.ts';
import { MemoryImage } from '../image/memory-image.ts';
import type { ChipProfile } from '../layout/chip-types.ts';
import { diffImages, type SideLabel } from '../verify/diff.ts';
import type { DiffReport } from '../verify/report-schema.ts';
import { subtractRanges } from './plan.ts';
import type { FlashPlan } from './types.ts';

/** The parts of `image` inside `ranges` (sorted, disjoint), sharing its bytes. */
function restrict(image: MemoryImage, ranges: readonly Range[]): MemoryImage {
  const out = new MemoryImage();
  for (const r of ranges) out.addImage(image.slice(r.start, r.end));
  return out;
}

/** The plan's image without its pads: the input image, in flash. */
export function planExpected(plan: Pick<FlashPlan, 'image' | 'ranges' | 'pads'>): MemoryImage {
  return plan.pads.length === 0 ? plan.image : restrict(plan.image, subtractRanges(plan.ranges, plan.pads));
}

/** True when every pad of the plan reads back as its fill value in `device`. */
function padsErased(plan: Pick<FlashPlan, 'pads'>, device: MemoryImage): boolean {
  for (const p of plan.pads) {
    for (let a = p.start; a < p.end; a++) if (device.byteAt(a) !== p.fill) return false;
  }
  return true;
}

export interface ReadBackDiffOptions {
  readonly expected?: SideLabel;
  readonly actual?: SideLabel;
  readonly notes?: readonly Note[];
  readonly merge?: number;
  readonly context?: number;
}

/**
 * `diffImages(expected, read-back)` for a plan whose `verify` ranges `device` holds, with the chip's program unit,
 * erased value and sector names.
 */
export function diffReadBack(plan: Pick<FlashPlan, 'image' | 'ranges' | 'pads'>, device: MemoryImage, chip: ChipProfile, opts: ReadBackDiffOptions = {}): DiffReport {
  const padsOk = padsErased(plan, device);
  const pad = plan.pads.reduce((n, p) => n + p.end - p.start, 0);
  const notes: Note[] = [...(opts.notes ?? [])];
  if (pad > 0) {
    notes.push(
      padsOk
        ? { code: 'VERIFY_PADS_ERASED', severity: 'info', message: `${pad} pad byte(s) read back erased (the erased value the flasher writes to fill whole ${chip.programUnit}-byte program units); not compared as image data`, location: {} }
        : { code: 'VERIFY_PADS_DIFFER', severity: 'warning', message: `pad bytes the flasher writes as 0x${chip.erasedValue.toString(16).toUpperCase()} to fill whole ${chip.programUnit}-byte program units do not read back erased: they are compared as image data`, location: {} },
    );
  }
  // Pads that read erased leave both sides: the note above accounts for them.
  const unpadded = padsOk && pad > 0;
  const expected = unpadded ? planExpected(plan) : plan.image;
  return diffImages(expected, unpadded ? restrict(device, expected.ranges()) : device, {
    chip,
    ...(opts.merge !== undefined ? { merge: opts.merge } : {}),
    ...(opts.context !== undefined ? { context: opts.context } : {}),
    ...(opts.expected !== undefined ? { expected: opts.expected } : {}),
    ...(opts.actual !== undefined ? { actual: opts.actual } : {}),
    notes,
  });
}
