/**
 * `dfukit inspect`: everything a file holds, as report data (rendering is the CLI's job).
 */
import { crc32 } from '../core/crc.ts';
import { readVectorTable } from '../image/vector-table.ts';
import type { MemoryImage } from '../image/memory-image.ts';
import { decodeFile, type DecodedFile, type DecodeFileOptions } from './decode.ts';
import type { InspectReport, TargetReport } from './inspect-report.ts';
import type { Target } from './types.ts';

function targetReport(t: Target, dfuseElements?: readonly { offset: number; address: number; size: number }[]): TargetReport {
  const elements = elementsOf(t.image, dfuseElements);
  // A vector table is looked for at the start of every element: the start of an image is where a ROM or a
  // bootloader jumps, and a second core's image (CM4 at 0x08100000) starts an element of its own.
  const vectorTables = [];
  for (const e of elements) {
    const vt = readVectorTable(t.image, e.address);
    if (vt !== undefined && (vt.plausible || e.index === 0)) vectorTables.push(vt);
  }
  return {
    alt: t.alt,
    ...(t.name !== undefined ? { name: t.name } : {}),
    size: t.image.size,
    elements,
    vectorTables,
  };
}

/** DfuSe: the file's own elements (with offsets); other formats: the image's contiguous runs. */
function elementsOf(image: MemoryImage, dfuse?: readonly { offset: number; address: number; size: number }[]): TargetReport['elements'] {
  if (dfuse !== undefined) {
    return dfuse.map((e, index) => ({
      index,
      address: e.address,
      end: e.address + e.size,
      size: e.size,
      crc32: crc32(image.read(e.address, e.size)),
      // dwElementAddress is at `offset`; the data follow the 8-byte element header.
      offset: e.offset + 8,
    }));
  }
  return image.runs().map((r, index) => ({
    index,
    address: r.addr,
    end: r.addr + r.data.length,
    size: r.data.length,
    crc32: crc32(r.data),
    ...(r.source !== undefined ? { source: r.source } : {}),
  }));
}

export function buildInspectReport(file: string, bytes: Uint8Array, df: DecodedFile): InspectReport {
  const d = df.decoded;
  const report: InspectReport = {
    file,
    format: d.format,
    detectedBy: df.detection.reason,
    fileSize: bytes.length,
    ...(d.entry !== undefined ? { entry: d.entry } : {}),
    size: d.targets.reduce((n, t) => n + t.image.size, 0),
    targets: [],
    leniencies: [...new Set(d.notes.map((n) => n.leniency).filter((x): x is string => x !== undefined))],
    notes: d.notes.map((n) => ({ ...n, location: { ...n.location } })),
  };
  switch (d.format) {
    case 'dfuse': {
      const f = d.dfuse;
      report.targets = f.targets.map((t, i) => targetReport(d.targets[i]!, t.elements));
      report.dfuse = { version: f.bVersion, imageSize: f.imageSize, imageSizeConvention: f.imageSizeConvention, targetCount: f.targets.length };
      report.suffix = suffixReport(f.suffix);
      return report;
    }
    case 'dfu':
      report.suffix = suffixReport(d.suffix);
      break;
    case 'elf':
      report.elf = {
        class: d.elf.class,
        endian: d.elf.endian,
        machine: d.elf.machine,
        type: d.elf.type,
        entry: d.elf.entry,
        sections: d.elf.sections
          .filter((s) => s.index !== 0)
          .map((s) => {
            const load = d.loads.find((l) => l.kind === 'section' && l.index === s.index);
            return {
              name: s.name,
              type: s.type,
              flags: s.flags,
              vma: s.addr,
              ...(load !== undefined ? { lma: load.lma } : {}),
              size: s.size,
              offset: s.offset,
              loaded: load !== undefined,
            };
          }),
        segments: d.elf.segments.map((p) => ({ type: p.type, offset: p.offset, vaddr: p.vaddr, paddr: p.paddr, filesz: p.filesz, memsz: p.memsz, flags: p.flags })),
        symbolCount: Math.max(0, d.elf.symbols.length - 1),
      };
      break;
    case 'ihex':
      report.text = { records: Object.values(d.records).reduce((a, b) => a + b, 0), dataRecords: d.records.data, lines: countLines(bytes) };
      break;
    case 'srec': {
      const r = d.records;
      report.text = {
        records: r.s0 + r.s1 + r.s2 + r.s3 + r.s5 + r.s6 + r.s7 + r.s8 + r.s9,
        dataRecords: r.s1 + r.s2 + r.s3,
        lines: countLines(bytes),
        ...(d.header !== undefined ? { header: d.header.text } : {}),
      };
      break;
    }
    case 'bin':
      break;
  }
  report.targets = d.targets.map((t) => targetReport(t));
  return report;
}

function suffixReport(s: { offset: number; bcdDevice: number; idProduct: number; idVendor: number; bcdDFU: number; bLength: number; dwCRC: number; crcComputed: number; crcValid: boolean }): NonNullable<InspectReport['suffix']> {
  return {
    offset: s.offset,
    bcdDevice: s.bcdDevice,
    idProduct: s.idProduct,
    idVendor: s.idVendor,
    bcdDFU: s.bcdDFU,
    bLength: s.bLength,
    crc: s.dwCRC,
    crcComputed: s.crcComputed,
    crcValid: s.crcValid,
  };
}

function countLines(b: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < b.length; i++) if (b[i] === 0x0a) n++;
  return b.length > 0 && b[b.length - 1] !== 0x0a ? n + 1 : n;
}

/** Decode and report in one call. */
export function inspectBytes(file: string, bytes: Uint8Array, opts: DecodeFileOptions = {}): InspectReport {
  return buildInspectReport(file, bytes, decodeFile(bytes, { ...opts, file }));
}
