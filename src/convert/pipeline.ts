/**
 * One conversion from request to bytes: convert the inputs, encode every requested output, report. Shared by
 * `dfukit convert` (one output) and `dfukit build` (a recipe's outputs), so both give the same bytes for the
 * same inputs and options. Writing files and the manifest is the caller's (it knows the paths).
 */
import { convert } from './convert.ts';
import type { Digests } from './digests.ts';
import { encodeOutput, type EncodedOutput, type OutputFormat } from './output.ts';
import { buildReport, type ConvertReport } from './report.ts';
import type { ConvertInput, ConvertOptions, ConvertResult } from './types.ts';

export interface ConversionRequest {
  inputs: ConvertInput[];
  options: ConvertOptions;
  /** Paths as they should appear in the report (as given), with their formats. */
  outputs: { path: string; format: OutputFormat }[];
  /** CRC-32 and SHA-256 for the report; default: the portable ones (digests.ts). */
  digests?: Digests;
}

export interface ConversionOutcome {
  result: ConvertResult;
  outputs: { path: string; encoded: EncodedOutput }[];
  report: ConvertReport;
}

export function runConversion(req: ConversionRequest): ConversionOutcome {
  const result = convert(req.inputs, req.options);
  const outputs = req.outputs.map((o) => ({ path: o.path, encoded: encodeOutput(result, o.format, o.path) }));
  return { result, outputs, report: buildReport(result, outputs, req.digests) };
}
