/** Human rendering of a conversion report: what was read, what was written, every pad and merge. */
import { formatRange, formatSize, hex32, hexN } from '../../core/format.ts';
import { formatLocation, type Location } from '../../core/errors.ts';
import type { ConvertReport } from '../../convert/report-schema.ts';

const FORMAT_TITLES: Record<string, string> = {
  elf: 'ELF',
  ihex: 'Intel HEX',
  srec: 'S-record',
  bin: 'raw binary',
  dfuse: 'DfuSe',
  dfu: 'DFU',
};

const OUTPUT_TITLES: Record<string, string> = { dfu: 'DfuSe', hex: 'Intel HEX', srec: 'S-record', bin: 'raw binary' };

function table(rows: string[][], indent = '  '): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => (indent + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).trimEnd()).join('\n') + '\n';
}

/** Up to four ranges, then how many more. */
function rangeList(ranges: readonly { start: number; end: number }[]): string {
  if (ranges.length === 0) return 'no data';
  const shown = ranges.slice(0, 4).map((x) => formatRange(x.start, x.end)).join(', ');
  return ranges.length > 4 ? `${shown} and ${ranges.length - 4} more ranges` : shown;
}

/** Digests shortened for a table cell (the JSON report keeps them whole). */
function shorten(s: string, max = 40): string {
  return s.length <= max || !/^[0-9a-f]+$/.test(s) ? s : `${s.slice(0, max - 11)}...${s.slice(-8)}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

const UNIT_FROM: Record<ConvertReport['alignment']['from'], string> = {
  chip: 'from the chip',
  option: 'from --align',
  default: 'default: one 64-bit flash line',
  none: 're-encode',
};

export function renderConvert(r: ConvertReport): string {
  let out = '';
  for (const o of r.outputs) {
    out += `wrote ${o.path}: ${OUTPUT_TITLES[o.format]}, ${formatSize(o.size)} bytes${o.start !== undefined ? ` from ${hex32(o.start)}` : ''}, sha256 ${o.sha256}\n`;
  }
  if (r.manifest !== undefined) out += `wrote ${r.manifest}: manifest\n`;
  if (r.recipe !== undefined) out += `recipe ${r.recipe}\n`;

  out += 'inputs:\n';
  out += table(
    r.inputs.map((i) => [
      i.name + (i.alt !== undefined ? ` (alt ${i.alt})` : ''),
      FORMAT_TITLES[i.format] ?? i.format,
      `${formatSize(i.size)} bytes`,
      rangeList(i.targets.flatMap((t) => t.ranges)),
    ]),
  );

  for (const h of r.headers ?? []) {
    const staging = h.runSlot.start !== h.slot.start ? `, a staging copy of slot ${h.runSlot.name} ${formatRange(h.runSlot.start, h.runSlot.start + h.runSlot.size)}` : '';
    out += `header ${h.layout} on ${h.input}: slot ${h.slot.name} ${formatRange(h.slot.start, h.slot.start + h.slot.size)}${staging}\n`;
    out += `  header ${formatRange(h.headerStart, h.headerStart + h.headerSize)} (${formatSize(h.headerSize)} bytes, ${h.headerSpace === 'added' ? 'added in front of the payload' : 'in space the image reserved'}), `;
    out += `payload ${formatRange(h.payloadStart, h.payloadStart + h.payloadSize)} (${formatSize(h.payloadSize)} bytes), runs at ${hex32(h.loadAddress)}\n`;
    out += `  options: ${Object.entries(h.options).map(([k, v]) => `${k} ${v}`).join(', ')}\n`;
    out += table([['offset', 'field', 'value'], ...h.fields.map((f) => [hexN(f.offset, 2), f.name, shorten(f.display)])], '    ');
  }

  const a = r.alignment;
  const where = a.flashFrom === 'chip' ? a.flash.map((f) => formatRange(f.start, f.end)).join(', ') : `${formatRange(a.flash[0]!.start, a.flash[0]!.end)} (STM32 default, no --chip)`;
  if (r.chip !== undefined) out += `chip ${r.chip.part} (profile ${r.chip.profile}, ${formatSize(r.chip.flashSize)} bytes of flash, ${r.chip.bankMode} bank)\n`;
  if (a.from === 'none') out += 'elements kept as they are (re-encode of DfuSe inputs: no --chip, --align or --merge-gap)\n';
  else {
    out += `program unit ${a.programUnit} bytes (${UNIT_FROM[a.from]}), pad ${hexN(a.fill, 2)}, erased value ${hexN(a.erasedValue, 2)}`;
    out += `, merge ${a.sectorMerge ? 'within erase sectors' : 'not by sector (no --chip)'}${a.mergeGap !== undefined ? ` and across gaps up to ${formatSize(a.mergeGap)} bytes` : ''}\n`;
    out += `internal flash ${where}\n`;
  }

  for (const t of r.targets) {
    const name = t.name !== undefined ? ` "${t.name}"` : ' (unnamed)';
    const kind = t.kind === 'internal-flash' ? (t.aligned ? 'internal flash, aligned' : 'internal flash') : 'not internal flash: left as is';
    out += `target ${t.index} alt ${t.alt}${name} (${kind}): ${plural(t.elements.length, 'element')}, ${formatSize(t.size)} bytes\n`;
    out += table(
      [
        ['#', 'address', 'end', 'size', 'crc32', 'inputs'],
        ...t.elements.map((e) => [String(e.index), hex32(e.address), hex32(e.end), formatSize(e.size), hex32(e.crc32), e.inputs.join(', ')]),
      ],
      '    ',
    );
  }

  const padBytes = r.pads.reduce((n, p) => n + p.size, 0);
  out += `pads: ${plural(r.pads.length, 'pad')}, ${formatSize(padBytes)} bytes\n`;
  if (r.pads.length > 0) {
    out += table(r.pads.map((p) => [`alt ${p.alt}`, formatRange(p.start, p.end), `${formatSize(p.size)} bytes`, `of ${hexN(p.fill, 2)}`, p.reason]), '    ');
  }
  out += `merges: ${plural(r.merges.length, 'merge')}\n`;
  if (r.merges.length > 0) {
    out += table(
      r.merges.map((m) => [
        `alt ${m.alt}`,
        formatRange(m.start, m.end),
        `${formatSize(m.size)} bytes`,
        `of ${hexN(m.fill, 2)}`,
        m.reason === 'same-sector' ? `same erase sector (${m.sector ?? '?'})` : 'within --merge-gap',
      ]),
      '    ',
    );
  }
  if (r.overwrites.length > 0) {
    out += `overwrites: ${r.overwrites.length}\n`;
    out += table(r.overwrites.map((o) => [`alt ${o.alt}`, formatRange(o.start, o.end), `${o.by} over ${o.previous}`]), '    ');
  }
  const s = r.suffix;
  if (r.outputs.some((o) => o.format === 'dfu')) {
    out += `suffix ${hexN(s.vid, 4).slice(2)}:${hexN(s.pid, 4).slice(2)}, bcdDevice ${hexN(s.bcdDevice, 4)} (${s.from === 'options' ? 'given' : s.from === 'input' ? 'from the .dfu input' : 'default: ST ROM bootloader'})\n`;
  }
  if (r.entry !== undefined && r.outputs.some((o) => o.format === 'hex' || o.format === 'srec')) out += `entry point ${hex32(r.entry)}\n`;
  for (const n of r.notes) out += `${n.severity}: ${formatLocation(n.location as Location)}${n.message} [${n.code}]\n`;
  return out;
}
