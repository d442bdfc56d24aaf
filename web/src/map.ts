/**
 * The memory map: a file's data drawn to scale against the chip's flash banks and erase sectors, as SVG.
 *
 * Overview: the whole internal flash on one axis, each bank a band of its true size (an address hole between
 * banks, as on H7 xG parts, is a narrow break, not to scale), every erase sector outlined, the sectors a flash
 * erases tinted, the data solid, the padding a flash or conversion adds (to whole program units) marked, the
 * bank boundary a heavy line with its address, and the doctor's errors and warnings as marks under the bar.
 * Close-up: one row per group of adjacent touched sectors, each on its own scale, where gaps, element borders
 * and padding become visible. Data outside the flash (RAM, option bytes, other alts) is listed under the map.
 *
 * The SVG is laid out in a viewBox about as wide as the panel shows it, so its text is drawn near 1:1.
 */
import { alignDown, alignUp, unionRanges, type Range } from '../../src/core/range.ts';
import { formatRange, hex32 } from '../../src/core/format.ts';
import type { Finding } from '../../src/doctor/report-schema.ts';
import type { MemoryImage } from '../../src/image/memory-image.ts';
import type { ChipProfile, FlashSector } from '../../src/layout/chip-types.ts';
import { classifyAddress, rangesOutsideFlash, sectorsTouched } from '../../src/layout/sectors.ts';
import { h, human, plural, s } from './dom.ts';

export interface MapElement {
  readonly address: number;
  readonly size: number;
  readonly label: string;
}

export interface MapInput {
  readonly chip?: ChipProfile;
  /** The flash targets' data (alt 0; a DfuSe file may have several alt-0 targets). */
  readonly images: readonly MemoryImage[];
  /** The file's elements (DfuSe elements, else contiguous runs), drawn one by one so element borders show. */
  readonly elements: readonly MapElement[];
  /** Data of other alts, listed with what lives at their addresses. */
  readonly otherTargets?: readonly { alt: number; name?: string; ranges: readonly Range[] }[];
  readonly findings?: readonly Finding[];
}

/** One stretch of the axis: a bank (or, without a chip, the data's span) drawn to scale from x0 to x1. */
interface Band {
  readonly start: number;
  readonly end: number;
  readonly x0: number;
  readonly x1: number;
  readonly bank?: number;
}

/** A piecewise-linear address → x scale over bands; an address in a hole between bands maps to the band before. */
export class Scale {
  constructor(readonly bands: readonly Band[]) {}

  x(addr: number): number {
    for (const b of this.bands) {
      if (addr >= b.start && addr <= b.end) return b.x0 + ((addr - b.start) / (b.end - b.start)) * (b.x1 - b.x0);
    }
    const before = this.bands.filter((b) => b.end < addr);
    return before.length > 0 ? before[before.length - 1]!.x1 : this.bands[0]!.x0;
  }

  /** [x, width] of a range, at least `min` wide (a 4-byte pad stays visible). */
  span(start: number, end: number, min = 0): [number, number] {
    const x0 = this.x(start);
    return [x0, Math.max(this.x(end) - x0, min)];
  }
}

export const VIEW_W = 820;
const LEFT = 2;
const RIGHT = VIEW_W - 2;
const HOLE_W = 18;
const MIN_MARK = 2.5;

/** Bands for the chip's banks side by side, sized by bytes; holes between banks get HOLE_W. */
export function flashScale(chip: ChipProfile, x0 = LEFT, x1 = RIGHT): Scale {
  const banks = [...chip.banks].sort((a, b) => a.start - b.start);
  const holes = banks.filter((b, i) => i > 0 && b.start > banks[i - 1]!.end).length;
  const total = banks.reduce((n, b) => n + b.size, 0);
  const k = (x1 - x0 - holes * HOLE_W) / total;
  const bands: Band[] = [];
  let x = x0;
  banks.forEach((b, i) => {
    if (i > 0 && b.start > banks[i - 1]!.end) x += HOLE_W;
    bands.push({ start: b.start, end: b.end, x0: x, x1: x + b.size * k, bank: b.bank });
    x += b.size * k;
  });
  return new Scale(bands);
}

function title(text: string): SVGElement {
  return s('title', {}, text);
}

function pctText(part: number, whole: number): string {
  const p = (part / whole) * 100;
  return p === 0 ? '0%' : p < 1 ? '<1%' : `${Math.round(p)}%`;
}

interface Prepared {
  chip?: ChipProfile;
  elements: MapElement[];
  /** Data ranges in flash (all of them without a chip). */
  inFlash: Range[];
  pads: Range[];
  touched: FlashSector[];
  outside: { start: number; end: number; name: string; alt: number }[];
  marks: Finding[];
}

function prepare(input: MapInput): Prepared {
  const chip = input.chip;
  const ranges = unionRanges(input.images.flatMap((i) => i.ranges()));
  const outside: Prepared['outside'] = [];
  let inFlash = ranges;
  let pads: Range[] = [];
  let touched: FlashSector[] = [];
  if (chip !== undefined) {
    const out = rangesOutsideFlash(chip, ranges);
    for (const r of out) outside.push({ ...r, name: classifyAddress(chip, r.start).name, alt: 0 });
    inFlash = ranges.flatMap((r) => {
      // r minus the parts outside flash
      const pieces: Range[] = [];
      let at = r.start;
      for (const o of out) {
        if (o.end <= at || o.start >= r.end) continue;
        if (o.start > at) pieces.push({ start: at, end: o.start });
        at = Math.max(at, o.end);
      }
      if (at < r.end) pieces.push({ start: at, end: r.end });
      return pieces;
    });
    const aligned = input.images.map((i) => i.align(chip.programUnit, chip.erasedValue));
    pads = aligned.flatMap((a) => a.pads).filter((p) => rangesOutsideFlash(chip, [p]).length === 0);
    touched = sectorsTouched(chip, aligned.flatMap((a) => a.image.ranges()));
  }
  for (const t of input.otherTargets ?? []) {
    for (const r of t.ranges) outside.push({ ...r, alt: t.alt, name: chip !== undefined ? classifyAddress(chip, r.start).name : (t.name ?? `alt ${t.alt}`) });
  }
  const marks = (input.findings ?? []).filter((f) => f.start !== undefined && (f.alt === undefined || f.alt === 0) && f.severity !== 'info');
  return { ...(chip !== undefined ? { chip } : {}), elements: [...input.elements], inFlash, pads, touched, outside, marks };
}

/** Adjacent touched sectors as groups: each group is one close-up row. */
export function sectorGroups(touched: readonly FlashSector[]): FlashSector[][] {
  const groups: FlashSector[][] = [];
  for (const sec of touched) {
    const g = groups[groups.length - 1];
    if (g !== undefined && g[g.length - 1]!.end === sec.start) g.push(sec);
    else groups.push([sec]);
  }
  return groups;
}

/** Data, padding and finding marks over a bar at y..y+hgt on `scale`, clipped to [lo, hi). */
function drawContent(g: SVGElement, p: Prepared, scale: Scale, y: number, hgt: number, lo: number, hi: number, view: string): void {
  const clip = (a: number, b: number): [number, number] | undefined => {
    const st = Math.max(a, lo);
    const en = Math.min(b, hi);
    return st < en ? [st, en] : undefined;
  };
  p.elements.forEach((e, i) => {
    const c = clip(e.address, e.address + e.size);
    if (c === undefined) return;
    const [x, w] = scale.span(c[0], c[1], MIN_MARK);
    g.appendChild(
      s(
        'rect',
        { class: 'data', x, y, width: w, height: hgt, 'data-index': i, 'data-start': hex32(e.address), 'data-end': hex32(e.address + e.size), 'data-view': view },
        title(`${e.label}: ${formatRange(e.address, e.address + e.size)}, ${e.size} bytes (${human(e.size)})`),
      ),
    );
    // Adjacent elements: a thin light line keeps their border visible.
    if (i > 0 && p.elements[i - 1]!.address + p.elements[i - 1]!.size === e.address && c[0] === e.address) {
      g.appendChild(s('line', { class: 'element-border', x1: x, x2: x, y1: y, y2: y + hgt }));
    }
  });
  for (const pad of p.pads) {
    const c = clip(pad.start, pad.end);
    if (c === undefined) continue;
    const [x, w] = scale.span(c[0], c[1]);
    const what = `padding ${formatRange(pad.start, pad.end)}: ${plural(pad.end - pad.start, 'byte')} of erased value added to fill the flash word`;
    // Narrower than a pixel, a drawn pad would hide the data beside it: then only its marker shows it.
    g.appendChild(s('rect', { class: w >= 1 ? 'pad' : 'pad hairline', x, y, width: Math.max(w, 1), height: hgt, 'data-start': hex32(pad.start), 'data-end': hex32(pad.end), 'data-view': view }, title(what)));
    // A pad is a few bytes: a marker above the bar makes it findable at any scale.
    const cx = x + w / 2;
    g.appendChild(s('path', { class: 'pad-mark', d: `M${cx - 5} ${y - 9} L${cx + 5} ${y - 9} L${cx} ${y - 1} Z` }, title(what)));
  }
  for (const f of p.marks) {
    const st = f.start!;
    const en = f.end !== undefined && f.end > st ? f.end : st + 1;
    const c = clip(st, en);
    if (c === undefined) continue;
    const [x, w] = scale.span(c[0], c[1], 3);
    g.appendChild(
      s(
        'g',
        { class: `finding-mark ${f.severity}`, 'data-code': f.code, 'data-view': view },
        s('rect', { x, y: y + hgt + 3, width: w, height: 4 }),
        s('path', { d: `M${x} ${y + hgt + 6} l-5 9 h10 Z` }),
        title(`${f.severity} ${f.code}: ${f.message}`),
      ),
    );
  }
}

/** Sector cells, outlined, the ones a flash erases tinted. */
function sectorCells(g: SVGElement, p: Prepared, sectors: readonly FlashSector[], scale: Scale, y: number, hgt: number, view: string): void {
  const touched = new Set(p.touched.map((t) => t.index));
  const narrow = Math.min(...sectors.map((sec) => scale.span(sec.start, sec.end)[1])) < 5;
  for (const sec of sectors) {
    const [x, w] = scale.span(sec.start, sec.end);
    const hit = touched.has(sec.index);
    g.appendChild(
      s(
        'rect',
        { class: `sector${hit ? ' touched' : ''}${narrow ? ' narrow' : ''}`, x, y, width: w, height: hgt, 'data-bank': sec.bank, 'data-sector': sec.sector, 'data-start': hex32(sec.start), 'data-view': view },
        title(`bank ${sec.bank} sector ${sec.sector}: ${formatRange(sec.start, sec.end)}, ${human(sec.size)}${hit ? ' - erased when this file is flashed' : ''}`),
      ),
    );
  }
}

/**
 * Sector borders and numbers, over the data so they stay readable where data covers a sector (white there).
 * Tiny pages (G4, L4: 2 KiB) get a tick every k pages instead, numbered so labels are 40 px apart.
 */
function sectorLabels(g: SVGElement, p: Prepared, sectors: readonly FlashSector[], scale: Scale, y: number, hgt: number, bankStarts: ReadonlySet<number>): void {
  const widths = sectors.map((sec) => scale.span(sec.start, sec.end)[1]);
  const narrow = Math.min(...widths) < 5;
  let every = 1;
  while (narrow && every * Math.min(...widths) < 40) every *= 2;
  const covered = (addr: number): boolean => p.elements.some((e) => addr >= e.address && addr < e.address + e.size);
  for (const sec of sectors) {
    const [x, w] = scale.span(sec.start, sec.end);
    if (!bankStarts.has(sec.start) && (!narrow || sec.sector % every === 0)) {
      g.appendChild(s('line', { class: narrow ? 'tick' : 'sector-border', x1: x, x2: x, y1: narrow ? y + hgt - 8 : y, y2: y + hgt }));
    }
    if (narrow) {
      if (sec.sector % every === 0 && sec.sector > 0) g.appendChild(s('text', { class: `sector-no${covered(sec.start) ? ' on-data' : ''}`, x: x + 3, y: y + hgt - 10 }, String(sec.sector)));
    } else if (w >= 16) {
      g.appendChild(s('text', { class: `sector-no${covered(sec.start + sec.size / 2) ? ' on-data' : ''}`, x: x + w / 2, y: y + hgt - 6, 'text-anchor': 'middle' }, String(sec.sector)));
    }
  }
}

function boundaryLine(g: SVGElement, x: number, y0: number, y1: number, address: number, bank: number, view: string, labelY: number): void {
  g.appendChild(
    s(
      'g',
      { class: 'bank-boundary', 'data-address': hex32(address), 'data-x': x.toFixed(3), 'data-view': view },
      s('line', { x1: x, x2: x, y1: y0, y2: y1 }),
      s('text', { x, y: labelY, class: 'boundary-label', 'text-anchor': 'middle' }, `bank ${bank} starts ${hex32(address)}`),
      title(`bank boundary: bank ${bank} starts at ${hex32(address)}`),
    ),
  );
}

/** Overview: the whole flash. */
function overview(p: Prepared, chip: ChipProfile): SVGElement {
  const scale = flashScale(chip);
  const top = 30;
  const hgt = 58;
  const bottom = top + hgt + 36;
  const svg = s('svg', { class: 'map overview', viewBox: `0 0 ${VIEW_W} ${bottom}`, role: 'img', 'aria-label': `memory map of ${chip.displayName} flash` });
  const g = s('g');
  svg.appendChild(g);
  for (const b of scale.bands) {
    const bank = chip.banks.find((x) => x.bank === b.bank)!;
    const sizes = new Set(bank.sectors.map((x) => x.size));
    g.appendChild(s('rect', { class: 'flash-bar', x: b.x0, y: top, width: b.x1 - b.x0, height: hgt, 'data-start': hex32(b.start), 'data-end': hex32(b.end), 'data-bank': b.bank }));
    g.appendChild(
      s('text', { class: 'bank-label', x: b.x0 + (b === scale.bands[0] ? 0 : 8), y: top - 12 }, `Bank ${b.bank}: ${human(bank.size)}, ${plural(bank.sectors.length, sizes.size === 1 ? 'sector' : 'sector')}${sizes.size === 1 ? ` of ${human(bank.sectors[0]!.size)}` : ` (${[...sizes].map(human).join(', ')})`}`),
    );
    sectorCells(g, p, bank.sectors, scale, top, hgt, 'overview');
  }
  const first = scale.bands[0]!;
  const last = scale.bands[scale.bands.length - 1]!;
  g.appendChild(s('text', { class: 'axis', x: first.x0, y: top + hgt + 28 }, hex32(first.start)));
  g.appendChild(s('text', { class: 'axis', x: last.x1, y: top + hgt + 28, 'text-anchor': 'end' }, hex32(last.end)));
  scale.bands.forEach((b, i) => {
    const prev = scale.bands[i - 1];
    if (prev === undefined || b.start === prev.end) return;
    g.appendChild(s('g', { class: 'hole' }, s('rect', { x: prev.x1 + 3, y: top + 8, width: b.x0 - prev.x1 - 6, height: hgt - 16 }), title(`no flash at ${formatRange(prev.end, b.start)} (not to scale)`)));
  });
  drawContent(g, p, scale, top, hgt, 0, 0x1_0000_0000, 'overview');
  const bankStarts = new Set(chip.banks.map((b) => b.start));
  for (const bank of chip.banks) sectorLabels(g, p, bank.sectors, scale, top, hgt, bankStarts);
  scale.bands.forEach((b, i) => {
    if (i === 0) return;
    const prev = scale.bands[i - 1]!;
    const x = prev.end === b.start ? b.x0 : (b.x0 + prev.x1) / 2;
    boundaryLine(g, x, top - 26, top + hgt + 14, b.start, b.bank!, 'overview', top + hgt + 28);
  });
  return svg;
}

/** Close-up: one row per group of adjacent touched sectors (at most 4; the rest are counted). */
function closeUp(p: Prepared, chip: ChipProfile): SVGElement | undefined {
  const groups = sectorGroups(p.touched);
  if (groups.length === 0) return undefined;
  const shown = groups.slice(0, 4);
  const rowH = 106;
  const hgt = 40;
  const extra = groups.length > shown.length ? 20 : 0;
  const svg = s('svg', { class: 'map closeup', viewBox: `0 0 ${VIEW_W} ${shown.length * rowH + extra}`, role: 'img', 'aria-label': 'close-up of the sectors a flash erases' });
  shown.forEach((grp, i) => {
    const top = i * rowH + 34;
    const start = grp[0]!.start;
    const end = grp[grp.length - 1]!.end;
    const bands: Band[] = [];
    for (const b of chip.banks) {
      const st = Math.max(b.start, start);
      const en = Math.min(b.end, end);
      if (st < en) bands.push({ start: st, end: en, x0: LEFT + ((st - start) / (end - start)) * (RIGHT - LEFT), x1: LEFT + ((en - start) / (end - start)) * (RIGHT - LEFT), bank: b.bank });
    }
    const scale = new Scale(bands);
    const g = s('g', { class: 'group', 'data-start': hex32(start), 'data-end': hex32(end) });
    svg.appendChild(g);
    const written = p.inFlash.reduce((n, r) => n + Math.max(0, Math.min(r.end, end) - Math.max(r.start, start)), 0);
    const a = grp[0]!;
    const z = grp[grp.length - 1]!;
    const name = grp.length === 1 ? `Bank ${a.bank} sector ${a.sector}` : a.bank === z.bank ? `Bank ${a.bank} sectors ${a.sector}-${z.sector}` : `Bank ${a.bank} sector ${a.sector} to bank ${z.bank} sector ${z.sector}`;
    g.appendChild(s('text', { class: 'group-label', x: LEFT, y: top - 14 }, `${name}: ${human(end - start)} erased, ${human(written)} written (${pctText(written, end - start)})`));
    sectorCells(g, p, grp, scale, top, hgt, 'closeup');
    drawContent(g, p, scale, top, hgt, start, end, 'closeup');
    sectorLabels(g, p, grp, scale, top, hgt, new Set([start, ...bands.slice(1).map((b) => b.start)]));
    for (const b of bands.slice(1)) boundaryLine(g, b.x0, top - 8, top + hgt + 14, b.start, b.bank!, 'closeup', top + hgt + 28);
    g.appendChild(s('text', { class: 'axis', x: LEFT, y: top + hgt + 28 }, hex32(start)));
    g.appendChild(s('text', { class: 'axis', x: RIGHT, y: top + hgt + 28, 'text-anchor': 'end' }, hex32(end)));
  });
  if (extra > 0) svg.appendChild(s('text', { class: 'axis', x: LEFT, y: shown.length * rowH + 12 }, `+ ${plural(groups.length - shown.length, 'more group')} of erased sectors not shown`));
  return svg;
}

/** Without a chip: the data's span to scale, no sectors. */
function dataOnly(p: Prepared): SVGElement | undefined {
  if (p.inFlash.length === 0) return undefined;
  const lo = alignDown(p.inFlash[0]!.start, 0x1000);
  const hi = Math.min(0x1_0000_0000, alignUp(p.inFlash[p.inFlash.length - 1]!.end, 0x1000));
  const scale = new Scale([{ start: lo, end: hi, x0: LEFT, x1: RIGHT }]);
  const top = 14;
  const hgt = 58;
  const svg = s('svg', { class: 'map overview', viewBox: `0 0 ${VIEW_W} ${top + hgt + 32}`, role: 'img', 'aria-label': 'memory map of the data (no chip chosen)' });
  const g = s('g');
  svg.appendChild(g);
  g.appendChild(s('rect', { class: 'flash-bar nochip', x: LEFT, y: top, width: RIGHT - LEFT, height: hgt }));
  drawContent(g, p, scale, top, hgt, lo, hi, 'overview');
  g.appendChild(s('text', { class: 'axis', x: LEFT, y: top + hgt + 24 }, hex32(lo)));
  g.appendChild(s('text', { class: 'axis', x: RIGHT, y: top + hgt + 24, 'text-anchor': 'end' }, hex32(hi)));
  return svg;
}

function legend(chip: ChipProfile | undefined, p: Prepared): HTMLElement {
  const item = (cls: string, text: string): HTMLElement => h('span', { class: 'legend-item' }, h('span', { class: `swatch ${cls}` }), text);
  return h(
    'div',
    { class: 'legend' },
    item('data', 'data'),
    chip !== undefined && item('pad', `padding to the ${chip.programUnit}-byte flash word`),
    chip !== undefined && item('touched', 'erased by the flash, not written'),
    chip !== undefined && item('sector', 'left as it is'),
    chip !== undefined && chip.banks.length > 1 && item('boundary', 'bank boundary'),
    p.marks.some((m) => m.severity === 'error') && item('mark-error', 'error'),
    p.marks.some((m) => m.severity === 'warning') && item('mark-warning', 'warning'),
  );
}

function summary(p: Prepared, chip: ChipProfile | undefined): string {
  const bytes = p.inFlash.reduce((n, r) => n + r.end - r.start, 0);
  const parts = [`${human(bytes)} of data in ${plural(p.elements.length, p.elements.length === 1 ? 'element' : 'element')}`];
  if (chip !== undefined) {
    const banks = [...new Set(p.touched.map((t) => t.bank))];
    if (p.touched.length > 0) parts.push(`erases ${plural(p.touched.length, 'sector')} (${human(p.touched.reduce((n, t) => n + t.size, 0))}) in ${banks.length === 1 ? `bank ${banks[0]}` : `banks ${banks.join(' and ')}`}`);
    if (p.pads.length > 0) parts.push(`${plural(p.pads.reduce((n, x) => n + x.end - x.start, 0), 'byte')} of padding`);
    if (p.outside.length > 0) parts.push(`${human(p.outside.reduce((n, x) => n + x.end - x.start, 0))} outside the flash`);
  }
  return parts.join(' · ');
}

/** The whole map section for one file. */
export function renderMap(input: MapInput): HTMLElement {
  const p = prepare(input);
  const chip = input.chip;
  const box = h('div', { class: 'map-box' });
  if (p.elements.length === 0 && p.outside.length === 0) {
    box.appendChild(h('p', { class: 'muted' }, 'The file holds no data.'));
    return box;
  }
  box.appendChild(h('p', { class: 'map-summary' }, summary(p, chip)));
  if (chip === undefined) {
    box.appendChild(h('p', { class: 'hint' }, 'Choose the chip above to see its banks and erase sectors, the padding a flash adds and the sectors it erases.'));
    const svg = dataOnly(p);
    if (svg !== undefined) box.appendChild(svg);
  } else {
    box.appendChild(h('h4', {}, `${chip.displayName}: the whole internal flash (${human(chip.flashSize)}), to scale`));
    box.appendChild(overview(p, chip));
    const cu = closeUp(p, chip);
    if (cu !== undefined) {
      box.appendChild(h('h4', {}, 'Close-up: the sectors a flash erases, each row to its own scale'));
      box.appendChild(cu);
    }
  }
  box.appendChild(legend(chip, p));
  if (p.outside.length > 0) {
    box.appendChild(
      h(
        'div',
        { class: 'outside' },
        h('h4', {}, chip !== undefined ? 'Data outside the internal flash (not written by a flash of alt 0)' : 'Other targets'),
        h('ul', {}, p.outside.map((o) => h('li', { 'data-start': hex32(o.start) }, `${o.alt !== 0 ? `alt ${o.alt}: ` : ''}${formatRange(o.start, o.end)} (${human(o.end - o.start)}): ${o.name}`))),
      ),
    );
  }
  return box;
}
