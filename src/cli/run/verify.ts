/**
 * `dfukit verify FILE... --device D`: the inputs as `dfukit flash` loads them (any format, `file.bin@ADDR`, a
 * recipe), read back through the flasher exactly where the plan would write (dfu/verify-device.ts), and the diff
 * report on stdout: human (`renderDiff`) or `--json` (the `dfukit diff --json` schema). Exit 0 equal, 1
 * different; unreadable inputs exit 3, device errors 4 (FwErrors, printed by main).
 */
import { isFwError } from '../../core/errors.ts';
import type { Note } from '../../core/notes.ts';
import { verifyDevice } from '../../dfu/verify-device.ts';
import { renderDiff } from '../render/diff.ts';
import { progressReporter } from '../render/progress.ts';
import { loadFlashImage, withDevice, type DeviceCliOptions } from './flash.ts';

export interface VerifyCliOptions extends DeviceCliOptions {
  recipe?: string;
  retries?: number;
  overwrite?: true;
  lenient?: string[];
  merge?: number;
  context?: number;
  maxRanges?: number;
}

export async function runVerify(files: string[], opts: VerifyCliOptions): Promise<number> {
  const { image, inputs, recipeChip } = loadFlashImage(files, opts);
  const json = opts.json === true;
  const progress = progressReporter({ quiet: json });
  try {
    const r = await withDevice({ ...opts, ...(recipeChip !== undefined ? { recipeChip } : {}) }, (p, _h, signal) =>
      verifyDevice(p.session, image, {
        signal,
        onEvent: (e) => progress.onEvent(e),
        ...(opts.retries !== undefined ? { retries: opts.retries } : {}),
        expected: { name: opts.recipe !== undefined ? `${opts.recipe} (${inputs.join(' + ')})` : files.join(' + ') },
        actual: { name: opts.device ?? 'usb', format: 'read-back', alt: p.session.alt },
        notes: [
          ...p.profile.warnings.map((m): Note => ({ code: 'CHIP_WARNING', severity: 'warning', message: m, location: {} })),
          ...p.notes.map((m): Note => ({ code: 'DEVICE_NOTE', severity: 'info', message: m, location: {} })),
        ],
        ...(opts.merge !== undefined ? { merge: opts.merge } : {}),
        ...(opts.context !== undefined ? { context: opts.context } : {}),
      }),
    );
    process.stdout.write(json ? JSON.stringify(r.report, null, 2) + '\n' : renderDiff(r.report, opts.maxRanges !== undefined ? { maxRanges: opts.maxRanges } : {}));
    return r.report.equal ? 0 : 1;
  } catch (e) {
    progress.stop();
    if (json && isFwError(e)) process.stdout.write(JSON.stringify({ ok: false, error: e.toJSON() }, null, 2) + '\n');
    throw e;
  }
}
