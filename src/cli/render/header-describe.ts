/** Human output of `dfukit header describe`: the layout list, or one layout's byte map and rules. */
import { formatSize, hex32, hexN } from '../../core/format.ts';
import type { LayoutDescription } from '../../header/describe.ts';
import type { HeaderLayout } from '../../header/layouts.ts';
import { table } from './header-table.ts';

export function renderLayoutList(layouts: readonly HeaderLayout[]): string {
  return table([['LAYOUT', 'HEADER', 'TITLE'], ...layouts.map((l) => [l.name, formatSize(l.headerSize.default), l.title])], '') + 'dfukit header describe LAYOUT explains one.\n';
}

export function renderDescribe(d: LayoutDescription): string {
  let out = `${d.name}: ${d.title}\n  ${d.description}\n`;
  if (d.docs !== undefined) out += `  documentation: ${d.docs}\n`;
  out += `  placement: ${d.placement === 'slot-start' ? 'at the slot start, the payload (vector table first) right after the header' : 'at the slot start, or in space the firmware reserved (--header-offset, --header-symbol)'}\n`;
  out += `  header size: ${formatSize(d.headerSize.default)} by default (--header-size), at least ${formatSize(d.headerSize.min)}, a multiple of ${formatSize(d.headerSize.multipleOf)}` +
    `; at inject also a multiple of the program unit, and the payload's vector table on a VTOR boundary\n`;
  out += `  header padding: ${hexN(d.padding.added, 2)} when added; reserved space may hold ${d.padding.reserved.map((x) => hexN(x, 2)).join(' or ')}\n`;
  out += `  integers ${d.endian}-endian; detected by ${d.detect}; bootloader picks ${d.selection}\n`;
  out += '  fields:\n';
  const rows = [['offset', 'size', 'type', 'field', 'value']];
  for (const f of d.fields) {
    rows.push([typeof f.offset === 'number' ? hexN(f.offset, 2) : f.offset, String(f.size), f.type + (f.endian !== undefined ? ` ${f.endian}` : ''), f.name, f.rule + (f.when !== undefined ? `; ${f.when}` : '')]);
    for (const b of f.bits ?? []) rows.push(['', '', `bit ${b.bits}`, `  ${b.name}`, `${b.rule}: ${b.description}`]);
  }
  out += table(rows, '    ');
  if (d.options.length > 0) {
    out += '  options (--set NAME=VALUE, or their own flags):\n';
    out += table(d.options.map((o) => [o.name, o.choices !== undefined ? o.choices.join('|') : o.type, `default ${o.default}`, o.description]), '    ');
  }
  for (const c of d.crcVariants) out += `  ${c.name}: ${c.title}; check "123456789" = ${hex32(c.check)}; ${c.rule}\n`;
  if (d.extension !== undefined) for (const line of d.extension) out += `  ${line}\n`;
  out += `  bootloader checks, in order (first failure = the reason): ${d.checkOrder.join(', ')}\n`;
  return out;
}
