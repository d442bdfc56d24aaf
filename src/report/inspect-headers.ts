/**
 * Image headers in an inspected file: at the start of every segment (contiguous run, or DfuSe element) of
 * every target, each known layout's magic is looked for (`hasMagic`); each header found is verified as
 * `dfukit header verify` does without slots (`verifyHeader`): every field stored vs computed, valid or not.
 * Lives outside formats/ (which must not depend on the header engine) and is loaded only by `dfukit inspect`.
 *
 * A header also moves the vector table: the one a core boots is at the payload start, not at the segment
 * start (where the header's magic would read as an implausible initial SP), so `addHeaders` lists that one.
 */
import { hasMagic } from '../header/detect.ts';
import { listLayouts } from '../header/layouts.ts';
import { verifyHeader, type VerifyResult } from '../header/verify.ts';
import { formatVersion } from '../header/version.ts';
import type { MemoryImage } from '../image/memory-image.ts';
import { readVectorTable } from '../image/vector-table.ts';
import type { InspectHeaderReport, InspectReport } from '../formats/inspect-report.ts';

export interface InspectedTarget {
  alt: number;
  image: MemoryImage;
  /** Element starts as the file states them (DfuSe); contiguous runs are always looked at too. */
  starts?: readonly number[];
}

function headerReport(alt: number, address: number, v: VerifyResult): InspectHeaderReport {
  const g = v.geometry;
  return {
    alt,
    layout: v.layout,
    address,
    valid: v.ok,
    ...(v.reason !== undefined ? { reason: { ...v.reason } } : {}),
    slot: { ...v.slot },
    ...(g !== undefined
      ? { geometry: { headerStart: g.headerStart, headerSize: g.headerSize, payloadStart: g.payloadStart, payloadSize: g.payloadSize, loadAddress: g.loadAddress } }
      : {}),
    ...(v.version !== undefined ? { version: formatVersion(v.version) } : {}),
    options: { ...v.options },
    fields: v.fields.map((f) => ({ ...f })),
    findings: v.findings.map((f) => ({ ...f })),
    details: { ...v.details },
  };
}

export function inspectHeaders(targets: readonly InspectedTarget[], erasedValue = 0xff): InspectHeaderReport[] {
  const layouts = listLayouts();
  const out: InspectHeaderReport[] = [];
  for (const t of targets) {
    const starts = [...new Set([...t.image.ranges().map((r) => r.start), ...(t.starts ?? [])])].sort((a, b) => a - b);
    for (const address of starts) {
      for (const layout of layouts) {
        if (!hasMagic(t.image, layout, address)) continue;
        out.push(headerReport(t.alt, address, verifyHeader(t.image, { layout, headerAddress: address, erasedValue })));
      }
    }
  }
  return out;
}

/**
 * Adds the headers found in `targets` (the decoded targets, in the report's order) to `report`, and for each
 * header the vector table at its payload start in place of the header bytes read as one.
 */
export function addHeaders(report: InspectReport, targets: readonly { alt: number; image: MemoryImage }[]): void {
  const found = targets.map((t, i) => inspectHeaders([{ alt: t.alt, image: t.image, starts: report.targets[i]?.elements.map((e) => e.address) ?? [] }]));
  found.forEach((headers, i) => {
    const t = report.targets[i];
    if (t === undefined) return;
    for (const h of headers) {
      if (h.geometry === undefined) continue;
      t.vectorTables = t.vectorTables.filter((v) => v.plausible || v.address !== h.address);
      const vt = readVectorTable(targets[i]!.image, h.geometry.payloadStart);
      if (vt !== undefined && !t.vectorTables.some((v) => v.address === vt.address)) t.vectorTables.push(vt);
    }
    t.vectorTables.sort((a, b) => a.address - b.address);
  });
  const all = found.flat();
  if (all.length > 0) report.headers = all;
}
