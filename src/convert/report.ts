/** The conversion report (`--json`, and the source of the human rendering and of the manifest). */
import { overlaps } from '../core/range.ts';
import { PORTABLE_DIGESTS, type Digests } from './digests.ts';
import type { EncodedOutput } from './output.ts';
import type { ConvertReport, ElementReport } from './report-schema.ts';
import type { ConvertResult, ConvertedTarget } from './types.ts';

export type { ConvertReport } from './report-schema.ts';

export function elementReports(t: ConvertedTarget, digests: Digests = PORTABLE_DIGESTS): (ElementReport & { inputs: string[] })[] {
  return t.image.segments.map((s, index) => {
    const range = { start: s.addr, end: s.addr + s.data.length };
    return {
      index,
      address: s.addr,
      end: range.end,
      size: s.data.length,
      crc32: digests.crc32(s.data),
      sha256: digests.sha256Hex(s.data),
      inputs: t.contributions.filter((c) => c.ranges.some((r) => overlaps(r, range))).map((c) => c.input),
    };
  });
}

export function buildReport(
  result: ConvertResult,
  outputs: readonly { path: string; encoded: EncodedOutput }[],
  digests: Digests = PORTABLE_DIGESTS,
): ConvertReport {
  const a = result.alignment;
  const c = result.chip;
  const report: ConvertReport = {
    inputs: result.inputs.map((i) => ({
      name: i.name,
      format: i.format,
      detectedBy: i.detectedBy,
      fileSize: i.fileSize,
      ...(i.alt !== undefined ? { alt: i.alt } : {}),
      ...(i.address !== undefined ? { address: i.address } : {}),
      ...(i.entry !== undefined ? { entry: i.entry } : {}),
      size: i.targets.reduce((n, t) => n + t.image.size, 0),
      targets: i.targets.map((t) => ({ alt: t.alt, ...(t.name !== undefined ? { name: t.name } : {}), ranges: t.image.ranges().map((r) => ({ start: r.start, end: r.end })) })),
    })),
    ...(c !== undefined ? { chip: { requested: c.requested, part: c.displayName, profile: c.profile, flashSize: c.flashSize, bankMode: c.bankMode } } : {}),
    alignment: {
      programUnit: a.unit,
      from: a.unitFrom,
      fill: a.fill,
      erasedValue: a.erasedValue,
      ...(a.mergeGap !== undefined ? { mergeGap: a.mergeGap } : {}),
      sectorMerge: a.sectorMerge,
      flash: a.flash.map((r) => ({ start: r.start, end: r.end })),
      flashFrom: a.flashFrom,
    },
    targets: result.targets.map((t, index) => ({
      index,
      alt: t.alt,
      ...(t.name !== undefined ? { name: t.name } : {}),
      kind: t.kind,
      aligned: t.aligned,
      size: t.image.size,
      elements: elementReports(t, digests),
    })),
    pads: result.pads.map((p) => ({ alt: p.alt, start: p.start, end: p.end, size: p.end - p.start, fill: p.fill, reason: p.reason })),
    merges: result.merges.map((m) => ({
      alt: m.alt,
      start: m.start,
      end: m.end,
      size: m.end - m.start,
      fill: m.fill,
      reason: m.reason,
      ...(m.sector !== undefined ? { sector: m.sector } : {}),
    })),
    overwrites: result.overwrites.map((o) => ({ alt: o.alt, start: o.start, end: o.end, size: o.end - o.start, previous: o.previous, by: o.by })),
    suffix: { vid: result.suffix.vid, pid: result.suffix.pid, bcdDevice: result.suffix.bcdDevice, from: result.suffix.from },
    ...(result.entry !== undefined ? { entry: result.entry } : {}),
    ...(result.headers.length > 0 ? { headers: result.headers } : {}),
    notes: result.notes,
    outputs: outputs.map((o) => ({
      path: o.path,
      format: o.encoded.format,
      size: o.encoded.bytes.length,
      sha256: digests.sha256Hex(o.encoded.bytes),
      ...(o.encoded.start !== undefined ? { start: o.encoded.start } : {}),
    })),
  };
  return report;
}
