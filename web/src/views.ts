/**
 * Report views: the inspect tables, the doctor findings, a conversion's result, a flash plan and a diff, built
 * from the same report data the CLI renders (and, under "as the CLI prints it", the CLI's own text renderers).
 * Cells carry `data-field` so the browser tests can compare them with `--json` field by field.
 */
import { formatRange, formatSize, hex32, hexN } from '../../src/core/format.ts';
import type { ConvertReport } from '../../src/convert/report-schema.ts';
import type { DoctorReport, Finding } from '../../src/doctor/report-schema.ts';
import type { InspectHeaderReport, InspectReport } from '../../src/formats/inspect-report.ts';
import type { FlashPlan } from '../../src/plan/types.ts';
import { CLASS_INFO } from '../../src/verify/classes.ts';
import type { DiffReport } from '../../src/verify/report-schema.ts';
import { renderDiff as renderDiffText } from '../../src/cli/render/diff.ts';
import { renderInspect as renderInspectText } from '../../src/cli/render/inspect.ts';
import { renderDoctor as renderDoctorText } from '../../src/cli/render/doctor.ts';
import { renderPlan as renderPlanText } from '../../src/cli/render/flash.ts';
import { h, human, plural, s as svgEl } from './dom.ts';

export const FORMAT_TITLES: Record<string, string> = {
  elf: 'ELF',
  ihex: 'Intel HEX',
  srec: 'Motorola S-record',
  bin: 'raw binary',
  dfuse: 'DfuSe',
  dfu: 'DFU 1.1 (payload + suffix)',
};

type Cell = string | Node;

function table(cls: string, head: readonly string[], rows: readonly (readonly Cell[])[], fields?: readonly string[], rowAttrs?: (i: number) => Record<string, string>): HTMLTableElement {
  return h(
    'table',
    { class: cls },
    h('thead', {}, h('tr', {}, head.map((x) => h('th', {}, x)))),
    h(
      'tbody',
      {},
      rows.map((r, i) => h('tr', rowAttrs?.(i) ?? {}, r.map((c, k) => h('td', fields?.[k] !== undefined ? { 'data-field': fields[k]! } : {}, c)))),
    ),
  );
}

function kv(rows: readonly [string, Cell, string?][]): HTMLElement {
  return h('dl', { class: 'kv' }, rows.map(([k, v, field]) => [h('dt', {}, k), h('dd', field !== undefined ? { 'data-field': field } : {}, v)]));
}

function cliText(title: string, text: string): HTMLElement {
  return h('details', { class: 'cli-text' }, h('summary', {}, title), h('pre', {}, text));
}

function headerBlock(hd: InspectHeaderReport): HTMLElement {
  return h(
    'div',
    { class: `header-check ${hd.valid ? 'valid' : 'invalid'}` },
    h('p', {}, h('strong', {}, `${hd.layout} header at ${hex32(hd.address)}`), hd.version !== undefined ? `, version ${hd.version}` : '', ': ', hd.valid ? 'valid' : `INVALID - ${hd.reason?.code ?? ''}: ${hd.reason?.message ?? ''}`),
    table(
      'fields',
      ['offset', 'field', 'stored', 'computed', ''],
      hd.fields.map((f) => [hexN(f.offset, 2), f.name, f.storedDisplay, f.expectedDisplay === undefined ? '' : f.expectedDisplay === f.storedDisplay ? '=' : f.expectedDisplay, [f.status, f.code ?? ''].filter((x) => x !== '' && x !== 'info').join(' ')]),
    ),
  );
}

/** Everything `dfukit inspect` shows, as tables. */
export function renderInspect(r: InspectReport): HTMLElement {
  const box = h('section', { class: 'inspect', 'data-file': r.file });
  box.appendChild(
    kv([
      ['format', `${FORMAT_TITLES[r.format] ?? r.format}`, 'format'],
      ['detected by', r.detectedBy, 'detectedBy'],
      ['file size', formatSize(r.fileSize), 'fileSize'],
      ['data', formatSize(r.size), 'size'],
      ...(r.entry !== undefined ? ([['entry point', hex32(r.entry), 'entry']] as [string, Cell, string][]) : []),
    ]),
  );
  if (r.elf !== undefined) {
    const e = r.elf;
    box.appendChild(h('h4', {}, `ELF${e.class} ${e.endian}-endian, machine ${e.machine}, type ${e.type}: ${plural(e.segments.length, 'program header')}, ${plural(e.sections.length, 'section')}, ${plural(e.symbolCount, 'symbol')}`));
    const loaded = e.sections.filter((x) => x.loaded);
    if (loaded.length > 0) {
      box.appendChild(h('p', { class: 'muted' }, 'Loaded sections, by load address (as objcopy -O binary):'));
      box.appendChild(table('sections', ['name', 'VMA', 'LMA', 'size'], loaded.map((x) => [x.name, hex32(x.vma), x.lma !== undefined ? hex32(x.lma) : '', formatSize(x.size)])));
    }
  }
  if (r.dfuse !== undefined) {
    box.appendChild(h('h4', {}, `DfuSe v${r.dfuse.version}, ${plural(r.dfuse.targetCount, 'target')}, DFUImageSize ${r.dfuse.imageSize} (${r.dfuse.imageSizeConvention})`));
  }
  if (r.text !== undefined) {
    box.appendChild(h('h4', {}, `${r.text.records} records (${r.text.dataRecords} data) on ${r.text.lines} lines${r.text.header !== undefined ? `, header "${r.text.header}"` : ''}`));
  }
  for (const t of r.targets) {
    const offsets = t.elements.some((e) => e.offset !== undefined);
    box.appendChild(h('h4', {}, `Target alt ${t.alt}${t.name !== undefined ? ` "${t.name}"` : ''}: ${plural(t.elements.length, 'element')}, ${formatSize(t.size)} bytes`));
    box.appendChild(
      table(
        'elements',
        ['#', 'address', 'end', 'size', 'crc32', ...(offsets ? ['file offset'] : []), ...(t.elements.some((e) => e.source !== undefined) ? ['source'] : [])],
        t.elements.map((e) => [String(e.index), hex32(e.address), hex32(e.end), formatSize(e.size), hex32(e.crc32), ...(offsets ? [e.offset !== undefined ? hex32(e.offset) : ''] : []), ...(t.elements.some((x) => x.source !== undefined) ? [e.source ?? ''] : [])]),
        ['index', 'address', 'end', 'size', 'crc32', ...(offsets ? ['offset'] : []), 'source'],
        () => ({ 'data-alt': String(t.alt) }),
      ),
    );
    for (const v of t.vectorTables) {
      box.appendChild(
        h(
          'p',
          { class: v.plausible ? 'vector ok' : 'vector bad', 'data-address': hex32(v.address) },
          `Vector table at ${hex32(v.address)}: initial SP ${hex32(v.initialSp)}, reset ${hex32(v.resetHandler)}${v.thumb ? ' (Thumb)' : ' (no Thumb bit!)'}${v.plausible ? '' : ' - does not look like a Cortex-M vector table'}`,
        ),
      );
    }
    for (const hd of (r.headers ?? []).filter((x) => x.alt === t.alt)) box.appendChild(headerBlock(hd));
  }
  if (r.suffix !== undefined) {
    const x = r.suffix;
    box.appendChild(
      h(
        'p',
        { class: x.crcValid ? 'suffix ok' : 'suffix bad' },
        `DFU suffix: VID ${hexN(x.idVendor, 4)} PID ${hexN(x.idProduct, 4)} bcdDevice ${hexN(x.bcdDevice, 4)} bcdDFU ${hexN(x.bcdDFU, 4)} bLength ${x.bLength}, CRC ${hex32(x.crc)} ${x.crcValid ? 'valid' : `INVALID (computed ${hex32(x.crcComputed)})`}`,
      ),
    );
  }
  if (r.leniencies.length > 0) box.appendChild(h('p', { class: 'muted' }, `Leniencies applied: ${r.leniencies.join(', ')}`));
  if (r.notes.length > 0) {
    box.appendChild(
      h(
        'ul',
        { class: 'notes' },
        r.notes.map((n) => h('li', { class: n.severity, 'data-code': n.code }, `${n.severity}: ${n.message} `, h('code', {}, n.code))),
      ),
    );
  }
  box.appendChild(cliText('as `dfukit inspect` prints it', renderInspectText(r)));
  return box;
}

function where(f: Finding): string {
  const parts: string[] = [];
  if (f.subject !== undefined) parts.push(f.subject);
  else if (f.alt !== undefined && f.alt !== 0) parts.push(`alt ${f.alt}`);
  if (f.sector !== undefined && f.subject === undefined) parts.push(f.sector);
  if (f.line !== undefined) parts.push(`line ${f.line}`);
  if (f.offset !== undefined) parts.push(`offset ${hex32(f.offset)}`);
  if (f.start !== undefined) parts.push(f.end !== undefined && f.end > f.start ? formatRange(f.start, f.end) : `addr ${hex32(f.start)}`);
  return parts.join(', ');
}

const SEVERITY_TITLES = { error: 'Errors', warning: 'Warnings', info: 'Notes' } as const;

/** The doctor findings, grouped by severity, each with where, what and the fix. */
export function renderFindings(r: DoctorReport, actions?: Node): HTMLElement {
  const s = r.summary;
  const box = h('section', { class: 'findings', 'data-errors': String(s.errors), 'data-warnings': String(s.warnings) });
  box.appendChild(
    h(
      'p',
      { class: `verdict ${s.errors > 0 ? 'bad' : s.warnings > 0 ? 'warn' : 'good'}` },
      s.errors > 0 ? `${plural(s.errors, 'error')}: this file will not flash or run as meant` : s.warnings > 0 ? `No errors; ${plural(s.warnings, 'warning')}` : 'No problems found',
      r.chip !== undefined ? ` on ${r.chip.part}` : ' (chip-independent checks only: choose the chip for the rest)',
    ),
  );
  if (actions !== undefined) box.appendChild(actions);
  for (const sev of ['error', 'warning', 'info'] as const) {
    const list = r.findings.filter((f) => f.severity === sev);
    if (list.length === 0) continue;
    box.appendChild(h('h4', {}, `${SEVERITY_TITLES[sev]} (${list.length})`));
    box.appendChild(
      h(
        'ol',
        { class: 'finding-list' },
        list.map((f) =>
          h(
            'li',
            {
              class: `finding ${f.severity}`,
              'data-code': f.code,
              'data-severity': f.severity,
              ...(f.start !== undefined ? { 'data-start': hex32(f.start) } : {}),
              ...(f.end !== undefined ? { 'data-end': hex32(f.end) } : {}),
            },
            h('div', { class: 'finding-head' }, h('code', {}, f.code), f.fixable && h('span', { class: 'badge fixable' }, 'repairable'), h('span', { class: 'where' }, where(f))),
            h('p', { class: 'message' }, f.message),
            h('p', { class: 'fix' }, h('strong', {}, 'Fix: '), h('span', { class: 'fix-text' }, f.fix)),
          ),
        ),
      ),
    );
  }
  box.appendChild(cliText('as `dfukit doctor` prints it', renderDoctorText(r)));
  return box;
}

/** What a conversion produced (the download already started). */
export function renderConvertReport(r: ConvertReport): HTMLElement {
  const o = r.outputs[0]!;
  return h(
    'div',
    { class: 'convert-report' },
    h('p', {}, h('strong', {}, `${o.path}`), `: ${formatSize(o.size)} bytes${o.start !== undefined ? ` from ${hex32(o.start)}` : ''}, sha256 `, h('code', { 'data-field': 'sha256' }, o.sha256)),
    h(
      'p',
      { class: 'muted' },
      `program unit ${r.alignment.programUnit} (${r.alignment.from})${r.chip !== undefined ? ` for ${r.chip.part}` : ''}; ${plural(r.pads.length, 'pad')}, ${plural(r.merges.length, 'merge')}; ` +
        r.targets.map((t) => `alt ${t.alt}: ${plural(t.elements.length, 'element')} (${human(t.size)})`).join(', '),
    ),
    r.notes.length > 0 && h('ul', { class: 'notes' }, r.notes.map((n) => h('li', { class: n.severity }, `${n.severity}: ${n.message} `, h('code', {}, n.code)))),
  );
}

/** A flash plan: what will be erased, written, verified, where it leaves to. */
export function renderPlan(plan: FlashPlan): HTMLElement {
  const sectors = plan.erase.sectors;
  const body = plan.runs.filter((r) => r.phase === 'body');
  const blocks = plan.counts.blocksToSend;
  return h(
    'div',
    { class: 'plan', 'data-sectors': String(plan.erase.mode === 'mass' ? 'mass' : sectors.length), 'data-blocks': String(blocks) },
    h(
      'ul',
      {},
      h(
        'li',
        {},
        h('strong', {}, 'Erase '),
        plan.erase.mode === 'mass'
          ? `the whole flash (${human(plan.erase.bytes)}): data outside the file is lost`
          : sectors.length === 0
            ? 'nothing'
            : `${plural(sectors.length, 'sector')} (${human(plan.erase.bytes)}): ${sectors.slice(0, 6).map((x) => `bank ${x.bank} sector ${x.sector}`).join(', ')}${sectors.length > 6 ? `, and ${sectors.length - 6} more` : ''}; the rest of the flash is kept`,
      ),
      h('li', {}, h('strong', {}, 'Write '), `${formatSize(plan.counts.bytes)} bytes in ${plural(blocks, 'block')} of ${plan.transferSize} bytes, ${plural(body.length, 'run')}${plan.counts.blocksSkipped > 0 ? `; ${plan.counts.blocksSkipped} erased-value blocks skipped` : ''}`),
      plan.pads.length > 0 && h('li', {}, h('strong', {}, 'Pad '), `${plural(plan.pads.reduce((n, p) => n + p.end - p.start, 0), 'byte')} of erased value to whole ${plan.programUnit}-byte flash words`),
      h('li', {}, h('strong', {}, 'Verify '), plan.verify.length > 0 ? `read back ${human(plan.verify.reduce((n, r) => n + r.end - r.start, 0))} and compare` : 'off'),
      h('li', {}, h('strong', {}, 'Leave '), plan.leave !== undefined ? `jump to ${hex32(plan.leave.address)} (${plan.leave.from}) and start the firmware` : 'no: the device stays in DFU mode'),
      h('li', { class: 'muted' }, `About ${(plan.estimate.floorMs / 1000).toFixed(1)} s on the device (datasheet figures), ${plan.estimate.requests} USB requests`),
    ),
    cliText('as `dfukit flash --dry-run` prints it', renderPlanText(plan)),
  );
}

function sideLine(label: string, x: DiffReport['expected']): HTMLElement {
  const span = x.ranges.length === 0 ? 'no data' : `${plural(x.ranges.length, 'range')} ${formatRange(x.ranges[0]!.start, x.ranges[x.ranges.length - 1]!.end)}, ${formatSize(x.size)} bytes`;
  return h('p', {}, h('strong', {}, `${label}: `), `${x.name} (${x.format ?? '?'}) - ${span}; CRC-32 ${hex32(x.crc.isoHdlc)}`);
}

function byteCell(b: number | null): string {
  return b === null ? '--' : b.toString(16).toUpperCase().padStart(2, '0');
}

const CLASS_COLORS: Record<string, string> = {
  truncated: '#7c3aed',
  'not-written': '#d97706',
  'tail-lost': '#ea580c',
  shifted: '#0891b2',
  'bits-cleared': '#db2777',
  'header-only': '#16a34a',
  'different-build': '#dc2626',
  other: '#475569',
};

/**
 * Both sides and the differing ranges on one axis, to scale: where each file has data (upper and lower band) and
 * every differing range in its class's colour, at least 2 px wide.
 */
function diffStrip(r: DiffReport): SVGElement | undefined {
  const all = [...r.expected.ranges, ...r.actual.ranges];
  if (all.length === 0) return undefined;
  const lo = Math.min(...all.map((x) => x.start));
  const hi = Math.max(...all.map((x) => x.end));
  const W = 1180;
  const x = (a: number): number => 4 + ((a - lo) / Math.max(1, hi - lo)) * (W - 8);
  const band = (ranges: readonly { start: number; end: number }[], y: number, cls: string): SVGElement[] =>
    ranges.map((q) => svgEl('rect', { class: cls, x: x(q.start), y, width: Math.max(1, x(q.end) - x(q.start)), height: 16 }));
  return svgEl(
    'svg',
    { class: 'diff-strip', viewBox: `0 0 ${W} 92`, role: 'img', 'aria-label': 'where the two files differ' },
    svgEl('text', { x: 4, y: 12, class: 'lbl' }, 'expected'),
    band(r.expected.ranges, 16, 'side'),
    svgEl('text', { x: 4, y: 48, class: 'lbl' }, 'actual'),
    band(r.actual.ranges, 52, 'side'),
    r.ranges.map((q) => svgEl('rect', { class: 'diff-range', 'data-class': q.class, x: x(q.start), y: 14, width: Math.max(2, x(q.end) - x(q.start)), height: 56, fill: CLASS_COLORS[q.class] ?? '#000' }, svgEl('title', {}, `#${q.index} ${formatRange(q.start, q.end)}: ${CLASS_INFO[q.class].title}`))),
    svgEl('text', { x: 4, y: 88, class: 'axis' }, hex32(lo)),
    svgEl('text', { x: W - 4, y: 88, class: 'axis', 'text-anchor': 'end' }, hex32(hi)),
  );
}

/** A diff report: the verdict, both sides, the causes, every range with its class and evidence. */
export function renderDiff(r: DiffReport): HTMLElement {
  const box = h('section', { class: 'diff', 'data-equal': String(r.equal) });
  box.appendChild(
    h(
      'p',
      { class: `verdict ${r.equal ? 'good' : 'bad'}` },
      r.equal
        ? `Equal: all ${formatSize(r.compared.bytes)} compared bytes match`
        : `Different: ${[r.differingBytes > 0 ? `${plural(r.differingBytes, 'byte')} differ` : '', r.missingBytes > 0 ? `${plural(r.missingBytes, 'byte')} missing` : ''].filter((x) => x !== '').join(', ')} in ${plural(r.ranges.length, 'range')}; first at ${hex32(r.firstDifference!.address)}`,
    ),
  );
  box.appendChild(sideLine('expected', r.expected));
  box.appendChild(sideLine('actual', r.actual));
  for (const n of r.notes) box.appendChild(h('p', { class: `note ${n.severity}` }, `${n.severity}: ${n.message}`));
  const strip = diffStrip(r);
  if (strip !== undefined) box.appendChild(strip);
  if (!r.equal) {
    box.appendChild(
      h(
        'ul',
        { class: 'causes' },
        r.causes.map((c) => h('li', { 'data-class': c.class }, h('span', { class: 'swatch' }), h('strong', {}, CLASS_INFO[c.class].title), `: ${plural(c.ranges, 'range')}, ${plural(c.bytes, 'byte')} - ${CLASS_INFO[c.class].cause}`)),
      ),
    );
    box.appendChild(
      table(
        'diff-ranges',
        ['#', 'range', 'size', 'differ', 'class', 'evidence', 'first bytes (expected / actual)'],
        r.ranges.slice(0, 200).map((x) => [
          String(x.index),
          formatRange(x.start, x.end),
          String(x.size),
          String(x.differing),
          CLASS_INFO[x.class].title,
          x.summary,
          h('code', {}, `${x.context.expected.slice(0, 8).map(byteCell).join(' ')} / ${x.context.actual.slice(0, 8).map(byteCell).join(' ')}`),
        ]),
        ['index', 'range', 'size', 'differing', 'class', 'summary', 'bytes'],
        (i) => ({ 'data-class': r.ranges[i]!.class, 'data-start': hex32(r.ranges[i]!.start) }),
      ),
    );
    if (r.ranges.length > 200) box.appendChild(h('p', { class: 'muted' }, `... and ${r.ranges.length - 200} more ranges`));
  }
  box.appendChild(cliText('as `dfukit diff` prints it', renderDiffText(r)));
  return box;
}
