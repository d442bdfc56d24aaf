/**
 * `dfukit doctor`: read the file, diagnose it for the chip, print the findings; with --fix, write the repaired
 * file atomically and diagnose that too. Exit 0 without errors (in the repaired file, with --fix), 1 with errors.
 */
import { EXIT_USAGE, FwError } from '../../core/errors.ts';
import { outputFormatFor } from '../../convert/output.ts';
import { detectHeaders } from '../../header/detect.ts';
import type { MemoryImage } from '../../image/memory-image.ts';
import { diagnose } from '../../doctor/diagnose.ts';
import { doctorFix } from '../../doctor/fix.ts';
import type { DoctorReport } from '../../doctor/report-schema.ts';
import type { FormatName } from '../../formats/types.ts';
import { resolveChip } from '../../layout/chips.ts';
import { readInput, writeOutputAtomic } from '../../node/files.ts';
import { renderDoctor } from '../render/doctor.ts';
import { displayPath } from './convert.ts';

export interface DoctorCliOptions {
  chip?: string;
  flashSize?: number;
  bankMode?: 'single' | 'dual';
  dualCore?: true;
  format?: FormatName;
  fix?: true;
  output?: string;
  json?: true;
}

export function runDoctor(spec: string, opts: DoctorCliOptions): number {
  if ((opts.flashSize !== undefined || opts.bankMode !== undefined) && opts.chip === undefined) {
    throw new FwError('USAGE_NEEDS_CHIP', `${opts.flashSize !== undefined ? '--flash-size' : '--bank-mode'} needs --chip`, {}, EXIT_USAGE);
  }
  if (opts.fix === true && opts.output === undefined) {
    throw new FwError('USAGE_FIX_NEEDS_OUTPUT', '--fix needs -o FILE: the repaired file is written there (the input is never changed)', {}, EXIT_USAGE);
  }
  if (opts.fix !== true && opts.output !== undefined) {
    throw new FwError('USAGE_OUTPUT_WITHOUT_FIX', '-o is where --fix writes: add --fix, or drop -o', {}, EXIT_USAGE);
  }
  const outFormat = opts.output !== undefined ? outputFormatFor(opts.output) : undefined;
  const chip =
    opts.chip === undefined
      ? undefined
      : resolveChip(opts.chip, {
          ...(opts.flashSize !== undefined ? { flashSize: opts.flashSize } : {}),
          ...(opts.bankMode !== undefined ? { bankMode: opts.bankMode } : {}),
        });
  const input = readInput(spec);
  const name = displayPath(input.path);
  const common = {
    ...(chip !== undefined ? { chip } : {}),
    ...(opts.dualCore === true ? { dualCore: true } : {}),
    findHeaders: (image: MemoryImage) => detectHeaders(image),
  };
  const diagnosis = diagnose(input.bytes, {
    ...common,
    file: name,
    ...(input.address !== undefined ? { address: input.address } : {}),
    ...(opts.format !== undefined ? { format: opts.format } : {}),
  });
  let report: DoctorReport = diagnosis.report;
  let status = report.summary.errors > 0 ? 1 : 0;
  if (opts.fix === true && opts.output !== undefined && outFormat !== undefined) {
    let fixed: { report: DoctorReport; bytes: Uint8Array };
    try {
      fixed = doctorFix(input.bytes, diagnosis, { ...common, output: displayPath(opts.output), format: outFormat });
    } catch (e) {
      // Not mechanical: show the diagnosis, say why nothing was written.
      if (!(e instanceof FwError) || !e.code.startsWith('DOCTOR_FIX_')) throw e;
      process.stdout.write(opts.json === true ? JSON.stringify(report, null, 2) + '\n' : renderDoctor(report));
      process.stderr.write(`dfukit: error: ${e.format()}\n`);
      return e.exitStatus;
    }
    writeOutputAtomic(opts.output, fixed.bytes, [input.path]);
    report = fixed.report;
    status = report.fix!.summary.errors > 0 ? 1 : 0;
  }
  process.stdout.write(opts.json === true ? JSON.stringify(report, null, 2) + '\n' : renderDoctor(report));
  return status;
}
