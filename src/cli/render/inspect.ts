/** Human rendering of an inspect report: aligned columns, addresses as 0x08004000, sizes as 16384 (0x4000). */
import { formatRange, formatSize, hex32, hexN } from '../../core/format.ts';
import type { InspectHeaderReport, InspectReport } from '../../formats/inspect-report.ts';
import { cell, table as headerTable } from './header-table.ts';

const FORMAT_TITLES: Record<InspectReport['format'], string> = {
  elf: 'ELF',
  ihex: 'Intel HEX',
  srec: 'Motorola S-record',
  bin: 'raw binary',
  dfuse: 'DfuSe (UM0391)',
  dfu: 'DFU 1.1 (payload + suffix)',
};

function table(rows: string[][], indent = '  '): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => indent + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

const MARK: Record<string, string> = { ok: 'ok', mismatch: 'MISMATCH', info: '', unchecked: 'not checked' };

/** One header found at a segment start: a summary line, then every field stored vs computed. */
function renderHeader(h: InspectHeaderReport): string {
  const version = h.version !== undefined ? `, version ${h.version}` : '';
  const verdict = h.valid ? 'valid' : `INVALID - ${h.reason?.code ?? '?'}: ${h.reason?.message ?? ''}`;
  let out = `    ${h.layout} header at ${hex32(h.address)}${version}: ${verdict}\n`;
  const g = h.geometry;
  if (g !== undefined) {
    out += `      header ${formatSize(g.headerSize)} bytes, payload ${formatRange(g.payloadStart, g.payloadStart + g.payloadSize)} (${formatSize(g.payloadSize)} bytes), runs at ${hex32(g.loadAddress)}; slot size ${formatSize(h.slot.size)} (as stored: no slots given)\n`;
  }
  const rows = [['offset', 'field', 'stored', 'computed', '']];
  for (const f of h.fields) {
    const computed = f.expectedDisplay === undefined ? '' : f.expectedDisplay === f.storedDisplay ? '=' : cell(f.expectedDisplay);
    rows.push([hexN(f.offset, 2), f.name, cell(f.storedDisplay), computed, [MARK[f.status] ?? f.status, f.code ?? '', f.note ?? ''].filter((x) => x !== '').join(' ')]);
  }
  out += headerTable(rows, '      ');
  for (const x of h.findings) out += `      ${x.severity}: ${x.message} [${x.code}]\n`;
  const details = Object.entries(h.details).filter(([k]) => k !== 'runsFrom');
  if (details.length > 0) out += `      ${details.map(([k, v]) => `${k}: ${String(v)}`).join(', ')}\n`;
  return out;
}

export function renderInspect(r: InspectReport): string {
  let out = `${r.file}: ${FORMAT_TITLES[r.format]}, ${formatSize(r.fileSize)} bytes (${r.detectedBy})\n`;
  if (r.elf !== undefined) {
    const e = r.elf;
    out += `  ELF${e.class} ${e.endian}-endian, machine ${e.machine}, type ${e.type}, ${e.segments.length} program headers, ${e.sections.length} sections, ${e.symbolCount} symbols\n`;
    const loaded = e.sections.filter((s) => s.loaded);
    if (loaded.length > 0) {
      out += '  loaded sections (by load address, as objcopy -O binary):\n';
      out += table([
        ['name', 'VMA', 'LMA', 'size'],
        ...loaded.map((s) => [s.name, hex32(s.vma), s.lma !== undefined ? hex32(s.lma) : '', formatSize(s.size)]),
      ], '    ');
    }
  }
  if (r.dfuse !== undefined) {
    out += `  DfuSe v${r.dfuse.version}, ${r.dfuse.targetCount} target(s), DFUImageSize ${r.dfuse.imageSize} (${r.dfuse.imageSizeConvention})\n`;
  }
  if (r.text !== undefined) {
    out += `  ${r.text.records} records (${r.text.dataRecords} data) on ${r.text.lines} lines${r.text.header !== undefined ? `, header "${r.text.header}"` : ''}\n`;
  }
  for (const t of r.targets) {
    const name = t.name !== undefined ? ` "${t.name}"` : '';
    out += `  target alt ${t.alt}${name}: ${t.elements.length} element(s), ${formatSize(t.size)} bytes\n`;
    out += table([
      ['#', 'address', 'end', 'size', 'crc32', ...(t.elements.some((e) => e.offset !== undefined) ? ['file offset'] : [])],
      ...t.elements.map((e) => [
        String(e.index),
        hex32(e.address),
        hex32(e.end),
        formatSize(e.size),
        hex32(e.crc32),
        ...(e.offset !== undefined ? [hex32(e.offset)] : []),
      ]),
    ], '    ');
    for (const v of t.vectorTables) {
      out += `    vector table at ${hex32(v.address)}: initial SP ${hex32(v.initialSp)}, reset ${hex32(v.resetHandler)}${v.thumb ? ' (Thumb)' : ' (no Thumb bit!)'}${v.plausible ? '' : ' - does not look like a Cortex-M vector table'}\n`;
    }
    const inTarget = (h: InspectHeaderReport): boolean => h.alt === t.alt && t.elements.some((e) => h.address >= e.address && h.address < e.end);
    for (const h of (r.headers ?? []).filter(inTarget)) out += renderHeader(h);
  }
  if (r.entry !== undefined) out += `  entry point ${hex32(r.entry)}\n`;
  if (r.suffix !== undefined) {
    const s = r.suffix;
    out += `  suffix: VID ${hexN(s.idVendor, 4)} PID ${hexN(s.idProduct, 4)} bcdDevice ${hexN(s.bcdDevice, 4)} bcdDFU ${hexN(s.bcdDFU, 4)} bLength ${s.bLength}, CRC ${hex32(s.crc)} ${s.crcValid ? 'valid' : `INVALID (computed ${hex32(s.crcComputed)})`}\n`;
  }
  if (r.leniencies.length > 0) out += `  leniencies applied: ${r.leniencies.join(', ')}\n`;
  for (const n of r.notes) {
    const where = [n.location.line !== undefined ? `line ${n.location.line}` : '', n.location.offset !== undefined ? `offset ${hex32(n.location.offset)}` : '', n.location.address !== undefined ? `addr ${hex32(n.location.address)}` : '']
      .filter((x) => x !== '')
      .join(', ');
    out += `  ${n.severity}: ${where !== '' ? where + ': ' : ''}${n.message} [${n.code}]\n`;
  }
  return out;
}
