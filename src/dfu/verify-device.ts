/**
 * `dfukit verify FILE --device D`: is this image what the device holds? The image goes through the same plan as
 * `dfukit flash` (in-flash check, alignment to the program unit), the plan's verify ranges are read back through
 * the flasher's reader (retries, abort, progress as phase `verify`), and the read-back is diffed as the flash's
 * own verify phase does on a mismatch (plan/verify.ts). Nothing is erased or written.
 */
import { formatSize } from '../core/format.ts';
import type { Note } from '../core/notes.ts';
import type { Range } from '../core/range.ts';
import type { MemoryImage } from '../image/memory-image.ts';
import { createFlashPlan } from '../plan/plan.ts';
import type { FlashPlan } from '../plan/types.ts';
import { diffReadBack } from '../plan/verify.ts';
import type { SideLabel } from '../verify/diff.ts';
import type { DiffReport } from '../verify/report-schema.ts';
import { readBack, type DfuSession, type RunOptions } from './operations.ts';

export interface VerifyDeviceOptions extends RunOptions {
  /** How the report names the image (default `image`). */
  readonly expected?: SideLabel;
  /** How the report names the read-back (default `device read-back`). */
  readonly actual?: SideLabel;
  /** Notes of the caller (inputs), reported first. */
  readonly notes?: readonly Note[];
  /** Diff settings (verify/diff.ts). */
  readonly merge?: number;
  readonly context?: number;
}

export interface VerifyDeviceResult {
  readonly report: DiffReport;
  /** The plan the image was read back by (its `verify` ranges). */
  readonly plan: FlashPlan;
  /** The ranges read: the image's ranges aligned to the program unit. */
  readonly ranges: readonly Range[];
  readonly readBack: MemoryImage;
  readonly bytesRead: number;
  readonly deviceMs: number;
  readonly wallMs: number;
  readonly requestCount: number;
}

/** Reads back what `image` covers and diffs it. Equal or not, a result; device trouble is a DfuError (exit 4). */
export async function verifyDevice(s: DfuSession, image: MemoryImage, opts: VerifyDeviceOptions = {}): Promise<VerifyDeviceResult> {
  // The verify ranges do not depend on the transfer size; the profile's keeps the plan valid whatever -t says.
  const plan = createFlashPlan(image, s.profile);
  const rb = await readBack(s, plan.verify, opts);
  const note: Note = {
    code: 'VERIFY_READ_BACK',
    severity: 'info',
    message: `read back ${formatSize(rb.bytes)} bytes in ${plan.verify.length} range(s) through alt ${s.alt}, wTransferSize ${s.dfuse.transferSize}: ${rb.deviceMs.toFixed(0)} ms device time, ${rb.requestCount} requests`,
    location: {},
  };
  const report = diffReadBack(plan, rb.image, s.profile, {
    expected: opts.expected ?? { name: 'image' },
    actual: opts.actual ?? { name: 'device read-back', format: 'read-back' },
    notes: [...(opts.notes ?? []), note],
    ...(opts.merge !== undefined ? { merge: opts.merge } : {}),
    ...(opts.context !== undefined ? { context: opts.context } : {}),
  });
  return { report, plan, ranges: plan.verify, readBack: rb.image, bytesRead: rb.bytes, deviceMs: rb.deviceMs, wallMs: rb.wallMs, requestCount: rb.requestCount };
}
