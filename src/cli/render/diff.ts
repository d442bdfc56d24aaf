/**
 * Human rendering of a diff report (`dfukit diff`, and `dfukit verify --device` / `flash` verification, which
 * reuse it): both sides, what was compared, the CRCs, the verdict, then every range (up to `maxRanges`) with
 * its class, evidence and the bytes around its start, and finally the likely cause of each class found.
 * Pure: returns a string, no I/O.
 */
import { formatRange, formatSize, hex32, hexN } from '../../core/format.ts';
import { CLASS_INFO } from '../../verify/classes.ts';
import type { DiffRange, DiffReport, DiffSide } from '../../verify/report-schema.ts';

export interface RenderDiffOptions {
  /** Ranges shown in full (default 20; 0 = all). */
  maxRanges?: number;
}

export const DEFAULT_MAX_RANGES = 20;

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function pct(x: number): string {
  const p = x * 100;
  return p >= 10 || p === 0 ? `${p.toFixed(0)}%` : p >= 0.1 ? `${p.toFixed(1)}%` : `${p.toPrecision(1)}%`;
}

function describeSide(s: DiffSide): string {
  const what = [s.format, s.alt !== undefined && s.format === 'dfuse' ? `alt ${s.alt}` : undefined].filter((x) => x !== undefined).join(', ');
  const span = s.ranges.length === 0 ? 'no data' : `${plural(s.ranges.length, 'range')} ${formatRange(s.ranges[0]!.start, s.ranges[s.ranges.length - 1]!.end)}, ${formatSize(s.size)} bytes`;
  return `${s.name}${what !== '' ? ` (${what})` : ''}: ${span}`;
}

/** Sizes as `16384 (0x4000)`; small counts plain. */
function size(n: number): string {
  return n >= 256 ? formatSize(n) : String(n);
}

function bytes(n: number): string {
  return `${size(n)} ${n === 1 ? 'byte' : 'bytes'}`;
}

function byteCell(b: number | null): string {
  return b === null ? '--' : b.toString(16).toUpperCase().padStart(2, '0');
}

/** The context bytes as rows of 16: address, expected, actual, and a marker under each differing byte. */
function renderContext(r: DiffRange, indent: string): string {
  const c = r.context;
  let out = '';
  for (let i = 0; i < c.expected.length; i += 16) {
    const e = c.expected.slice(i, i + 16);
    const a = c.actual.slice(i, i + 16);
    const marks = e.map((x, k) => {
      const addr = c.start + i + k;
      return addr >= r.start && addr < r.end && x !== a[k] ? '^^' : '  ';
    });
    const pad = ' '.repeat(10);
    out += `${indent}${hex32(c.start + i)}  expected  ${e.map(byteCell).join(' ')}\n`;
    out += `${indent}${pad}  actual    ${a.map(byteCell).join(' ')}\n`;
    if (marks.some((m) => m !== '  ')) out += `${indent}${pad}            ${marks.join(' ').trimEnd()}\n`;
  }
  return out;
}

function renderRange(r: DiffRange): string {
  const sectors = r.sectors !== undefined && r.sectors.length > 0 ? `  [${r.sectors.length <= 4 ? r.sectors.join(', ') : `${r.sectors[0]} .. ${r.sectors[r.sectors.length - 1]}`}]` : '';
  const verb = r.class === 'truncated' ? 'missing' : r.differing === 1 ? 'differs' : 'differ';
  let out = `#${r.index}  ${formatRange(r.start, r.end)}  ${bytes(r.size)}, ${size(r.differing)} ${verb}${sectors}\n`;
  out += `    ${CLASS_INFO[r.class].title.toUpperCase()}: ${r.summary}\n`;
  if (r.evidence.class === 'header-only' && r.evidence.fields.length > 0) {
    const w = Math.max(...r.evidence.fields.map((f) => f.name.length));
    for (const f of r.evidence.fields) out += `      ${hex32(f.address)} +${hexN(f.offset, 2)} ${f.name.padEnd(w)}  ${f.expected}  ->  ${f.actual}\n`;
  }
  out += renderContext(r, '    ');
  return out;
}

export function renderDiff(report: DiffReport, opts: RenderDiffOptions = {}): string {
  const s = report.settings;
  let out = `expected  ${describeSide(report.expected)}\n`;
  out += `actual    ${describeSide(report.actual)}\n`;
  const where = s.whole ? 'wherever either side has data (--whole: gaps of the expected image must read erased)' : 'where the expected image has data';
  out += `compared  ${formatSize(report.compared.bytes)} bytes in ${plural(report.compared.ranges.length, 'range')}, ${where}\n`;
  const unitFrom = s.programUnitFrom === 'chip' ? `from --chip ${s.chip}` : s.programUnitFrom === 'align' ? 'from --align' : 'default: give --chip or --align';
  out += `          program unit ${s.programUnit} (${unitFrom}), erased value ${hexN(s.erasedValue, 2)}, ranges merged across ${plural(s.merge, 'equal byte')}\n`;
  const partial = report.actual.complete ? '' : ' (actual incomplete: missing bytes counted as erased)';
  out += `CRC-32    expected ${hex32(report.expected.crc.isoHdlc)}  actual ${hex32(report.actual.crc.isoHdlc)}  (ISO-HDLC/zlib)${partial}\n`;
  out += `STM32 CRC expected ${hex32(report.expected.crc.stm32)}  actual ${hex32(report.actual.crc.stm32)}  (CRC unit, little-endian words)\n`;
  for (const n of report.notes) out += `${n.severity}: ${n.message} [${n.code}]\n`;
  out += '\n';
  if (report.equal) {
    out += `EQUAL: all ${formatSize(report.compared.bytes)} compared bytes match\n`;
    return out;
  }
  const f = report.firstDifference!;
  const what = [report.differingBytes > 0 ? `${bytes(report.differingBytes)} ${report.differingBytes === 1 ? 'differs' : 'differ'}` : '', report.missingBytes > 0 ? `${bytes(report.missingBytes)} missing` : '']
    .filter((x) => x !== '')
    .join(', ');
  out += `DIFFERENT: ${what} (${pct(report.fraction)} of the compared bytes) in ${plural(report.ranges.length, 'range')}; first difference at ${hex32(f.address)} (expected ${byteCell(f.expected)}, actual ${byteCell(f.actual)})\n`;
  for (const c of report.causes) out += `  ${CLASS_INFO[c.class].title}: ${plural(c.ranges, 'range')}, ${bytes(c.bytes)}\n`;
  out += '\n';
  const max = opts.maxRanges ?? DEFAULT_MAX_RANGES;
  const shown = max === 0 ? report.ranges : report.ranges.slice(0, max);
  out += shown.map(renderRange).join('\n');
  if (shown.length < report.ranges.length) {
    const rest = report.ranges.slice(shown.length);
    const byClass = new Map<string, number>();
    for (const r of rest) byClass.set(CLASS_INFO[r.class].title, (byClass.get(CLASS_INFO[r.class].title) ?? 0) + 1);
    out += `\n... ${plural(rest.length, 'more range')} (${[...byClass].map(([k, v]) => `${v} ${k}`).join(', ')}), ${formatRange(rest[0]!.start, rest[rest.length - 1]!.end)}: --max-ranges 0 or --json lists every one\n`;
  }
  out += '\nLikely causes:\n';
  for (const c of report.causes) out += `  ${CLASS_INFO[c.class].title}: ${CLASS_INFO[c.class].cause}\n`;
  return out;
}
