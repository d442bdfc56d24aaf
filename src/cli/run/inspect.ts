/**
 * `dfukit inspect`: decode each file, report what it holds, and verify any image header of a known layout
 * found at the start of a segment (src/report/inspect-headers.ts).
 */
import type { FormatName } from '../../formats/types.ts';
import { decodeFile } from '../../formats/decode.ts';
import { buildInspectReport } from '../../formats/inspect.ts';
import type { InspectReport } from '../../formats/inspect-report.ts';
import { readInput } from '../../node/files.ts';
import { addHeaders } from '../../report/inspect-headers.ts';
import { renderInspect } from '../render/inspect.ts';
import { FwError } from '../../core/errors.ts';
import { checkLeniencies } from '../leniency.ts';

export interface InspectOptions {
  json?: true;
  format?: FormatName;
  lenient?: string[];
  overwrite?: true;
}

/** Every file is inspected; the first unreadable one decides the exit status (3), the others still print. */
export function runInspect(files: string[], opts: InspectOptions): number {
  checkLeniencies(opts.lenient);
  const reports: InspectReport[] = [];
  let status = 0;
  for (const spec of files) {
    try {
      const input = readInput(spec);
      // A raw binary without @ADDR is inspected at 0x08000000, the STM32 flash base, and says so.
      const assumed = input.address === undefined && (opts.format === 'bin' || opts.format === undefined);
      const decoded = decodeFile(input.bytes, {
        file: input.path,
        ...(opts.format !== undefined ? { format: opts.format } : {}),
        ...(opts.lenient !== undefined ? { lenient: opts.lenient } : {}),
        ...(opts.overwrite === true ? { overwrite: true } : {}),
        ...(input.address !== undefined ? { address: input.address } : assumed ? { address: 0x08000000 } : {}),
      });
      const report = buildInspectReport(input.path, input.bytes, decoded);
      addHeaders(report, decoded.decoded.targets);
      if (assumed && report.format === 'bin') {
        report.notes.push({
          code: 'BIN_ADDRESS_ASSUMED',
          severity: 'info',
          message: `no load address given: shown at 0x08000000 (give one as ${input.path}@ADDR)`,
          location: { file: input.path },
        });
      }
      reports.push(report);
    } catch (e) {
      if (!(e instanceof FwError)) throw e;
      process.stderr.write(`dfukit: error: ${e.withFile(spec).format()}\n`);
      if (status === 0) status = e.exitStatus;
    }
  }
  if (opts.json === true) process.stdout.write(JSON.stringify(reports, null, 2) + '\n');
  else process.stdout.write(reports.map(renderInspect).join('\n'));
  return status;
}
