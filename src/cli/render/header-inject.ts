/** Human output of `dfukit header inject`: where everything went, every field as written, the notes. */
import { formatRange, formatSize, hex32, hexN } from '../../core/format.ts';
import type { InjectResult } from '../../header/inject.ts';
import { cell, table } from './header-table.ts';

export function renderInject(input: string, output: string, r: InjectResult): string {
  const g = r.report.geometry;
  let out = `${input} -> ${output}: ${r.report.layout} header for slot ${g.slot.name} ${formatRange(g.slot.start, g.slot.start + g.slot.size)}\n`;
  out += table([
    ['header', formatRange(g.headerStart, g.headerStart + g.headerSize), `${formatSize(g.headerSize)} bytes, ${r.report.headerSpace === 'added' ? 'added in front of the payload' : 'in space the image reserved'}`],
    ['payload', formatRange(g.payloadStart, g.payloadStart + g.payloadSize), `${formatSize(g.payloadSize)} bytes, runs at ${hex32(g.loadAddress)}${g.runSlot.name !== g.slot.name ? ` (slot ${g.runSlot.name}: staging copy)` : ''}`],
  ]);
  out += '  fields:\n';
  out += table([['offset', 'size', 'field', 'value'], ...r.fields.map((f) => [hexN(f.offset, 2), String(f.size), f.name, cell(f.display, 64)])], '    ');
  const opts = Object.entries(r.report.options);
  if (opts.length > 0) out += `  options: ${opts.map(([k, v]) => `${k}=${v}`).join(' ')}\n`;
  for (const n of r.report.notes) out += `  ${n}\n`;
  return out;
}
