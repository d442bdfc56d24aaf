/**
 * How a DfuSe layout string relates to a part's real flash map, and which recorded quirk documents a
 * difference. Shared by the compile-time checks (chip-validate.ts), the profile matcher (match.ts) and the
 * tests, so "the ROM string says X, the part has Y" is decided in one place. No zod, no compiled data.
 *
 * Relations, judged sector by sector on the part's map:
 *   - `exact`   the layout describes every real sector with the same start and size, erasable and writable,
 *               and nothing else;
 *   - `covers`  every real sector is described exactly, and the layout describes more (the die size on a
 *               part sold with less flash, or the hole between the banks of a trimmed dual-bank part);
 *   - `differs` at least one real sector is missing, has another size, or is typed read-only.
 */
import type { BankMode, FlashBankSource, FlashVariantSource, LayoutLeniencyName, Quirk } from './chip-schema.ts';
import { layoutSectors, type MemoryLayout } from './layout-string.ts';

export interface SectorSpan {
  readonly start: number;
  readonly size: number;
}

export type MapRelation = 'exact' | 'covers' | 'differs';

export interface SectorMismatch {
  /** The real sector. */
  readonly start: number;
  readonly size: number;
  /** What the layout says at that address, if anything starts there. */
  readonly reported?: { readonly size: number; readonly type: string };
}

export interface MapComparison {
  readonly relation: MapRelation;
  /** Real sectors the layout does not describe exactly (relation `differs`), address order. */
  readonly mismatches: readonly SectorMismatch[];
  /** Half-open ranges the layout describes beyond the real sectors, merged, address order. */
  readonly extra: readonly { readonly start: number; readonly end: number }[];
  /** Total bytes the layout describes. */
  readonly layoutBytes: number;
  /** Total bytes of the real map. */
  readonly mapBytes: number;
}

/** One organisation of a variant: the fixed one (`mode` undefined) or one per bank mode. */
export interface VariantLayout {
  readonly mode: BankMode | undefined;
  readonly banks: readonly FlashBankSource[];
}

/** The organisations of a variant: `[{mode: undefined, banks}]` when fixed, one per `bankModes` entry otherwise. */
export function variantLayouts(v: FlashVariantSource): VariantLayout[] {
  if (v.bankModes !== undefined) return v.bankModes.map((m) => ({ mode: m.mode, banks: m.banks }));
  return [{ mode: undefined, banks: v.banks ?? [] }];
}

/** The bank mode an organisation amounts to: the declared one, else `dual` for two banks or more. */
export function effectiveBankMode(layout: VariantLayout): BankMode {
  return layout.mode ?? (layout.banks.length > 1 ? 'dual' : 'single');
}

/** Sectors of the banks, expanded from the run-length lists, address order. */
export function expandBankSectors(banks: readonly FlashBankSource[]): SectorSpan[] {
  const out: SectorSpan[] = [];
  for (const b of banks) {
    let addr = b.start;
    for (const run of b.sectors) {
      for (let k = 0; k < run.count; k++, addr += run.size) out.push({ start: addr, size: run.size });
    }
  }
  return out.sort((a, b) => a.start - b.start);
}

/** Compares a parsed layout with a part's real sectors (see the module comment for the relations). */
export function compareLayoutToSectors(layout: MemoryLayout, sectors: readonly SectorSpan[]): MapComparison {
  const laid = layoutSectors(layout);
  const byStart = new Map(laid.map((s) => [s.start, s]));
  const mismatches: SectorMismatch[] = [];
  const matched = new Set<number>();
  for (const s of sectors) {
    const l = byStart.get(s.start);
    if (l !== undefined && l.size === s.size && l.segment.erasable && l.segment.writable) {
      matched.add(s.start);
      continue;
    }
    mismatches.push(l === undefined ? { start: s.start, size: s.size } : { start: s.start, size: s.size, reported: { size: l.size, type: l.segment.type } });
  }
  const extra: { start: number; end: number }[] = [];
  for (const l of laid) {
    if (matched.has(l.start)) continue;
    // Only what does not overlap a real sector counts as "more": an overlapping layout sector of another
    // size is already reported as a mismatch.
    if (sectors.some((s) => l.start < s.start + s.size && s.start < l.start + l.size)) continue;
    const last = extra[extra.length - 1];
    if (last !== undefined && last.end === l.start) last.end = l.start + l.size;
    else extra.push({ start: l.start, end: l.start + l.size });
  }
  const relation: MapRelation = mismatches.length > 0 ? 'differs' : extra.length > 0 ? 'covers' : 'exact';
  return {
    relation,
    mismatches,
    extra,
    layoutBytes: laid.reduce((n, s) => n + s.size, 0),
    mapBytes: sectors.reduce((n, s) => n + s.size, 0),
  };
}

/** Same sectors with the same access bits: text may differ in name padding and zero-padding only. */
export function sameGeometry(a: MemoryLayout, b: MemoryLayout): boolean {
  const sa = layoutSectors(a);
  const sb = layoutSectors(b);
  if (sa.length !== sb.length) return false;
  return sa.every((s, i) => {
    const t = sb[i]!;
    return s.start === t.start && s.size === t.size && (s.segment.type.charCodeAt(0) & 7) === (t.segment.type.charCodeAt(0) & 7);
  });
}

function kib(n: number): string {
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n / (1 << 20)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} B`;
}

function hex(n: number): string {
  return '0x' + n.toString(16).toUpperCase().padStart(8, '0');
}

/** One sentence for a comparison that is not `exact`. */
export function describeComparison(c: MapComparison): string {
  if (c.relation === 'exact') return 'the layout describes the flash exactly';
  if (c.relation === 'covers') {
    const ranges = c.extra.map((r) => `${hex(r.start)}..${hex(r.end)}`).join(', ');
    return `the layout describes ${kib(c.layoutBytes)}, the part has ${kib(c.mapBytes)}: ${ranges} ${c.extra.length > 1 ? 'are' : 'is'} not flash of this part`;
  }
  const first = c.mismatches[0]!;
  const what =
    first.reported === undefined
      ? `no layout sector starts at ${hex(first.start)}`
      : first.reported.size !== first.size
        ? `the layout has a ${kib(first.reported.size)} sector at ${hex(first.start)}`
        : `the layout types the sector at ${hex(first.start)} '${first.reported.type}' (not erasable and writable)`;
  return `${what}, the part a ${kib(first.size)} one${c.mismatches.length > 1 ? ` (${c.mismatches.length} sectors differ)` : ''}`;
}

/** What a layout-string quirk is asked to document. */
export interface LayoutQuirkQuery {
  readonly alt: number;
  readonly flashCode?: string;
  readonly bankMode?: BankMode;
  /** Set to ask for the quirk that names this parser leniency. */
  readonly leniency?: LayoutLeniencyName;
}

/**
 * The first `layout-string` quirk whose scope (`alts`, `flashCodes`, `bankModes`) covers the query and,
 * when a leniency is asked for, that names it. Quirks without `alts` document nothing here: a difference
 * between a ROM string and the map must be pinned to the alt it is about.
 */
export function layoutQuirkFor(quirks: readonly Quirk[], q: LayoutQuirkQuery): Quirk | undefined {
  return quirks.find(
    (k) =>
      k.kind === 'layout-string' &&
      k.alts !== undefined &&
      k.alts.includes(q.alt) &&
      (q.flashCode === undefined || k.flashCodes === undefined || k.flashCodes.includes(q.flashCode)) &&
      (q.bankMode === undefined || k.bankModes === undefined || k.bankModes.includes(q.bankMode)) &&
      (q.leniency === undefined || (k.leniencies ?? []).includes(q.leniency)),
  );
}
