/**
 * The manifest (`--manifest`, recipe `manifest:`): what was written, checkable without dfukit. Built from the
 * report, so the two never disagree; paths are supplied by the caller relative to the manifest's folder.
 */
import { PORTABLE_DIGESTS, type Digests } from './digests.ts';
import type { Manifest } from './manifest-schema.ts';
import type { ConvertReport } from './report-schema.ts';

export type { Manifest } from './manifest-schema.ts';

/** Format version of the manifest. Here, not in manifest-schema.ts, so that writing a manifest never loads zod. */
export const MANIFEST_VERSION = 1;

export interface ManifestPaths {
  /** Per report input, its path relative to the manifest folder. */
  inputs: readonly string[];
  /** Per report output, its path relative to the manifest folder. */
  outputs: readonly string[];
}

export function buildManifest(report: ConvertReport, inputBytes: readonly Uint8Array[], paths: ManifestPaths, digests: Digests = PORTABLE_DIGESTS): Manifest {
  return {
    manifestVersion: MANIFEST_VERSION,
    generator: 'dfukit',
    outputs: report.outputs.map((o, i) => ({
      path: paths.outputs[i]!,
      format: o.format,
      size: o.size,
      sha256: o.sha256,
      ...(o.start !== undefined ? { start: o.start } : {}),
    })),
    inputs: report.inputs.map((input, i) => ({
      path: paths.inputs[i]!,
      format: input.format,
      size: input.fileSize,
      sha256: digests.sha256Hex(inputBytes[i]!),
      ...(input.alt !== undefined ? { alt: input.alt } : {}),
      ...(input.address !== undefined ? { address: input.address } : {}),
    })),
    ...(report.chip !== undefined ? { chip: report.chip.part } : {}),
    programUnit: report.alignment.programUnit,
    fill: report.alignment.fill,
    erasedValue: report.alignment.erasedValue,
    suffix: { vid: report.suffix.vid, pid: report.suffix.pid, bcdDevice: report.suffix.bcdDevice },
    targets: report.targets.map((t) => ({
      target: t.index,
      alt: t.alt,
      ...(t.name !== undefined ? { name: t.name } : {}),
      elements: t.elements.map(({ inputs: _inputs, ...e }) => e),
    })),
    pads: report.pads,
    merges: report.merges,
    overwrites: report.overwrites,
    ...(report.headers !== undefined
      ? {
          headers: report.headers.map((h) => {
            const i = report.inputs.findIndex((x) => x.name === h.input);
            return {
              input: i >= 0 ? paths.inputs[i]! : h.input,
              layout: h.layout,
              slot: h.slot,
              runSlot: h.runSlot,
              headerStart: h.headerStart,
              headerSize: h.headerSize,
              payloadStart: h.payloadStart,
              payloadSize: h.payloadSize,
              loadAddress: h.loadAddress,
              options: h.options,
              fields: Object.fromEntries(h.fields.map((f) => [f.name, f.value])),
            };
          }),
        }
      : {}),
  };
}

/** The manifest as written: 2-space JSON, trailing newline, key order as built (stable). */
export function serializeManifest(m: Manifest): string {
  return JSON.stringify(m, null, 2) + '\n';
}
