/**
 * `dfukit convert`: read the inputs, run the library conversion, write the output (and manifest) atomically,
 * print the report. Also the file-side helpers `dfukit build` shares: display paths, atomic writes of the
 * outputs and the manifest with paths relative to the manifest.
 */
import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import * as zlib from 'node:zlib';
import { EXIT_USAGE, FwError } from '../../core/errors.ts';
import { PORTABLE_DIGESTS, type Digests } from '../../convert/digests.ts';
import { buildManifest, serializeManifest } from '../../convert/manifest.ts';
import { outputFormatFor } from '../../convert/output.ts';
import { runConversion, type ConversionOutcome } from '../../convert/pipeline.ts';
import type { ConvertInput, ConvertOptions } from '../../convert/types.ts';
import { resolveChip } from '../../layout/chips.ts';
import { readInput, writeOutputAtomic } from '../../node/files.ts';
import { checkLeniencies } from '../leniency.ts';
import { renderConvert } from '../render/convert.ts';

export interface ConvertCliOptions {
  output: string;
  to?: string;
  alt?: { alt: number; spec: string }[];
  chip?: string;
  flashSize?: number;
  bankMode?: 'single' | 'dual';
  align?: number;
  fill?: number;
  mergeGap?: number;
  overwrite?: true;
  targetName?: Map<number, string>;
  vid?: number;
  pid?: number;
  bcdDevice?: number;
  manifest?: string;
  lenient?: string[];
  json?: true;
}

/** zlib.crc32 exists from Node 20.15 (and 22.2); older Node 20 releases use the portable CRC. */
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

/** Node's native CRC-32 and SHA-256: the same values as the portable ones, several times faster on megabytes. */
export const NODE_DIGESTS: Digests = {
  crc32: nativeCrc32 !== undefined ? (data) => nativeCrc32(data) >>> 0 : PORTABLE_DIGESTS.crc32,
  sha256Hex: (data) => createHash('sha256').update(data).digest('hex'),
};

/** `p` with `/` separators; an absolute path relative to the working directory (outputs never hold absolute paths). */
export function displayPath(p: string): string {
  const rel = isAbsolute(p) ? relative(process.cwd(), p) || '.' : p;
  return sep === '\\' ? rel.replace(/\\/g, '/') : rel;
}

/** `target` relative to the folder of `from` (a file), with `/` separators. */
export function relativeTo(from: string, target: string): string {
  const r = relative(dirname(resolve(from)), resolve(target)) || '.';
  return sep === '\\' ? r.replace(/\\/g, '/') : r;
}

/** Reads an input spec (`file`, `file.bin@ADDR`) into a ConvertInput named as given. */
export function loadConvertInput(spec: string, alt?: number): { input: ConvertInput; path: string } {
  const f = readInput(spec);
  const input: ConvertInput = { name: displayPath(f.path), bytes: f.bytes };
  if (f.address !== undefined) input.address = f.address;
  if (alt !== undefined) input.alt = alt;
  return { input, path: f.path };
}

/** The manifest text of a conversion written to `manifestPath`: inputs and outputs relative to the manifest's folder. */
export function manifestText(
  outcome: ConversionOutcome,
  inputs: readonly ConvertInput[],
  inputPaths: readonly string[],
  outputPaths: readonly string[],
  manifestPath: string,
): string {
  const rel = (p: string): string => relativeTo(manifestPath, p);
  return serializeManifest(buildManifest(outcome.report, inputs.map((i) => i.bytes), { inputs: inputPaths.map(rel), outputs: outputPaths.map(rel) }, NODE_DIGESTS));
}

/**
 * Writes the outputs and the manifest of a conversion, each atomically. Every destination is checked before
 * anything is written: none may be an input (or a path in `protect`, such as the recipe), none may be named twice.
 */
export function writeConversion(
  outcome: ConversionOutcome,
  inputs: readonly ConvertInput[],
  inputPaths: readonly string[],
  outputPaths: readonly string[],
  manifestPath: string | undefined,
  protect: readonly string[] = [],
): void {
  const never = [...inputPaths, ...protect];
  const all = [...outputPaths, ...(manifestPath !== undefined ? [manifestPath] : [])];
  all.forEach((p, i) => {
    if (all.slice(0, i).some((q) => resolve(q) === resolve(p))) {
      throw new FwError('CONVERT_OUTPUT_TWICE', `${displayPath(p)} is named as two outputs`, { file: displayPath(p) }, EXIT_USAGE);
    }
    if (never.some((q) => sameFile(q, p))) {
      throw new FwError('OUTPUT_IS_INPUT', `refusing to write ${displayPath(p)}: it is an input of this command (inputs are never overwritten)`, { file: displayPath(p) }, EXIT_USAGE);
    }
  });
  outcome.outputs.forEach((o, i) => writeOutputAtomic(outputPaths[i]!, o.encoded.bytes, never));
  if (manifestPath !== undefined) writeOutputAtomic(manifestPath, manifestText(outcome, inputs, inputPaths, outputPaths, manifestPath), never);
}

function sameFile(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return resolve(a) === resolve(b);
  }
}

export function runConvert(specs: string[], opts: ConvertCliOptions): number {
  checkLeniencies(opts.lenient);
  if ((opts.flashSize !== undefined || opts.bankMode !== undefined) && opts.chip === undefined) {
    throw new FwError('USAGE_NEEDS_CHIP', `${opts.flashSize !== undefined ? '--flash-size' : '--bank-mode'} needs --chip`, {}, EXIT_USAGE);
  }
  const format = outputFormatFor(opts.output, opts.to);
  const chip =
    opts.chip === undefined
      ? undefined
      : resolveChip(opts.chip, {
          ...(opts.flashSize !== undefined ? { flashSize: opts.flashSize } : {}),
          ...(opts.bankMode !== undefined ? { bankMode: opts.bankMode } : {}),
        });
  const loaded = [...specs.map((s) => loadConvertInput(s)), ...(opts.alt ?? []).map((a) => loadConvertInput(a.spec, a.alt))];
  const inputs = loaded.map((l) => l.input);
  const options: ConvertOptions = {
    ...(chip !== undefined ? { chip } : {}),
    ...(opts.align !== undefined ? { align: opts.align } : {}),
    ...(opts.fill !== undefined ? { fill: opts.fill } : {}),
    ...(opts.mergeGap !== undefined ? { mergeGap: opts.mergeGap } : {}),
    ...(opts.overwrite === true ? { overwrite: true } : {}),
    ...(opts.lenient !== undefined ? { lenient: opts.lenient } : {}),
    ...(opts.targetName !== undefined ? { targetNames: opts.targetName } : {}),
    suffix: {
      ...(opts.vid !== undefined ? { vid: opts.vid } : {}),
      ...(opts.pid !== undefined ? { pid: opts.pid } : {}),
      ...(opts.bcdDevice !== undefined ? { bcdDevice: opts.bcdDevice } : {}),
    },
  };
  const outcome = runConversion({ inputs, options, outputs: [{ path: displayPath(opts.output), format }], digests: NODE_DIGESTS });
  writeConversion(
    outcome,
    inputs,
    loaded.map((l) => l.path),
    [opts.output],
    opts.manifest,
  );
  if (opts.manifest !== undefined) outcome.report.manifest = displayPath(opts.manifest);
  process.stdout.write(opts.json === true ? JSON.stringify(outcome.report, null, 2) + '\n' : renderConvert(outcome.report));
  return 0;
}
