/**
 * `dfukit read --device D --range ADDR:SIZE -o out.bin`: read memory back into a raw binary, across segments
 * and sectors in one command (dfu-util's `-U` stops at the end of one segment: dfu-protocol.md §3 item 8).
 */
import { EXIT_USAGE, FwError, isFwError } from '../../core/errors.ts';
import { formatRange } from '../../core/format.ts';
import { parseNumber } from '../../core/parse-number.ts';
import { ADDRESS_LIMIT, type Range } from '../../core/range.ts';
import { readMemory } from '../../dfu/operations.ts';
import { writeOutputAtomic } from '../../node/files.ts';
import { renderRead } from '../render/flash.ts';
import { progressReporter } from '../render/progress.ts';
import { withDevice, type DeviceCliOptions } from './flash.ts';

export interface ReadCliOptions extends DeviceCliOptions {
  range: string;
  output: string;
}

/** `ADDR:SIZE` (size with K/M) or `ADDR..END` (half-open), as a range; a usage error otherwise. */
export function parseRangeSpec(text: string, what = '--range'): Range {
  const t = text.trim();
  const dots = t.indexOf('..');
  let start: number | undefined;
  let end: number | undefined;
  if (dots > 0) {
    start = parseNumber(t.slice(0, dots));
    end = parseNumber(t.slice(dots + 2));
  } else {
    const colon = t.indexOf(':');
    if (colon > 0) {
      start = parseNumber(t.slice(0, colon));
      const size = parseNumber(t.slice(colon + 1), { sizeSuffix: true });
      end = start !== undefined && size !== undefined ? start + size : undefined;
    }
  }
  if (start === undefined || end === undefined || end <= start || end > ADDRESS_LIMIT) {
    throw new FwError('RANGE_SPEC', `${what} '${text}': expected ADDR:SIZE (0x08000000:128K) or ADDR..END (0x08000000..0x08020000) with END above ADDR`, {}, EXIT_USAGE);
  }
  return { start, end };
}

export async function runRead(opts: ReadCliOptions): Promise<number> {
  const r = parseRangeSpec(opts.range);
  const progress = progressReporter({ quiet: opts.json === true });
  try {
    const result = await withDevice(opts, (p, _h, signal) => readMemory(p.session, r.start, r.end - r.start, { signal, onEvent: (e) => progress.onEvent(e) }));
    writeOutputAtomic(opts.output, result.bytes);
    process.stdout.write(
      opts.json === true
        ? JSON.stringify({ ok: true, range: { start: r.start, end: r.end, text: formatRange(r.start, r.end) }, output: opts.output, bytes: result.bytes.length, deviceMs: result.deviceMs, wallMs: result.wallMs, requestCount: result.requestCount }, null, 2) + '\n'
        : renderRead(result, r.start, opts.output),
    );
    return 0;
  } catch (e) {
    progress.stop();
    if (opts.json === true && isFwError(e)) process.stdout.write(JSON.stringify({ ok: false, error: e.toJSON() }, null, 2) + '\n');
    throw e;
  }
}
