/**
 * In-process decode throughput: `decodeFile` on the generated 6 MB Intel HEX and 2 MB ELF, median of N runs
 * after warm-up, as input MB per second. Target for Intel HEX: ≥ 150 MB/s, whatever the record order.
 */
import { decodeFile } from '../../src/formats/decode.ts';
import type { FormatName } from '../../src/formats/types.ts';
import { DESCENDING_RECORDS } from '../inputs.ts';
import { fmtMB, fmtMs, MB, timeInProcess, type BenchCase, type BenchContext, type BenchRow } from '../lib.ts';

const HEX_TARGET_MBPS = 150;

function measure(ctx: BenchContext, label: string, format: FormatName, file: { bytes: Uint8Array; dataSize: number }, target?: number, runs = ctx.runs): BenchRow {
  const decode = (): number => decodeFile(file.bytes, { format, file: label }).decoded.targets.reduce((n, t) => n + t.image.size, 0);
  const size = decode();
  if (size !== file.dataSize) throw new Error(`${label}: decoded ${size} data bytes, expected ${file.dataSize}`);
  const ms = timeInProcess(decode, runs, runs === ctx.runs ? 3 : 1);
  const mbps = file.bytes.length / MB / (ms / 1000);
  return {
    what: `decode ${label} (${fmtMB(file.bytes.length)}), in-process, median of ${runs}`,
    ours: `${mbps.toFixed(0)} MB/s (${fmtMs(ms)})`,
    peer: '-',
    ratio: '-',
    target: target === undefined ? '-' : `≥ ${target} MB/s: ${mbps >= target ? 'met' : 'NOT met'}`,
  };
}

export const benchCase: BenchCase = {
  name: 'decode',
  order: 10,
  run(ctx) {
    ctx.log('decode: in-process throughput');
    return [
      measure(ctx, 'Intel HEX', 'ihex', ctx.inputs.hex(), HEX_TARGET_MBPS),
      // Same records, reversed: every record becomes a segment inserted in front of the others.
      measure(ctx, `Intel HEX, ${DESCENDING_RECORDS} records in descending address order`, 'ihex', ctx.inputs.hexDescending(), HEX_TARGET_MBPS, 3),
      measure(ctx, 'ELF', 'elf', ctx.inputs.elf()),
    ];
  },
};
