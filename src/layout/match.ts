/**
 * Which chip profiles fit the DfuSe layout strings a device reports: for identifying a part from a real
 * device's alt-setting names (`dfu-util --list`, the interface strings of a WebUSB device), and for saying in
 * which way it differs from what dfukit knows.
 *
 * Every profile is expanded to one candidate per flash size and bank mode (the layout string alone cannot
 * tell an H743xI from an H745xI, nor an F767 in single-bank mode from one in dual-bank mode), and each
 * candidate is compared alt by alt:
 *   - with the strings the profile records for the ROM (`layout`, `otherLayouts`), verbatim, then by geometry;
 *   - for the flash alt, with the candidate's real flash map (layout-compare.ts), where a recorded
 *     `layout-string` quirk may document the difference (the H750 ROM reporting 2 MiB, the H7A3 V9.0 ROM
 *     reporting 2 KiB sectors, the F76x ROM reporting the single-bank map in dual-bank mode).
 * A candidate is `exact` when nothing differs. Candidates are sorted best first: exact ones, then by a penalty
 * score (documented differences cost little, undocumented ones much), then by the evidence of the recorded
 * flash string (a captured string before an inferred one), then larger flash first.
 */
import type { ChipProfileSource, DfuAlt, FlashVariantSource } from './chip-schema.ts';
import type { BankMode, ChipProfile } from './chip-types.ts';
import { chipProfileSources, resolveChip } from './chips.ts';
import { compareLayoutToSectors, describeComparison, effectiveBankMode, layoutQuirkFor, sameGeometry, variantLayouts } from './layout-compare.ts';
import { parseLayoutString, type MemoryLayout } from './layout-string.ts';
import { FwError } from '../core/errors.ts';

export type MatchDifferenceKind =
  /** The profile records an alt the device does not list. */
  | 'alt-missing'
  /** The device lists an alt the profile does not record. */
  | 'alt-extra'
  /** The string is one the profile records as another version's or capture's (`otherLayouts`). */
  | 'layout-variant'
  /** Same sectors as the recorded string, other text (name padding, zero-padding of the numbers). */
  | 'layout-text'
  /** Other sectors than the recorded string. */
  | 'layout-differs'
  /** The string does not parse. */
  | 'unparsable'
  /** The string parses only with a named parser leniency (short address, type letter as multiplier). */
  | 'leniency'
  /** The flash alt describes more than this candidate's flash (the die size, the hole between banks). */
  | 'map-larger'
  /** The flash alt does not describe this candidate's sectors. */
  | 'map-differs';

export interface MatchDifference {
  readonly kind: MatchDifferenceKind;
  readonly alt: number;
  readonly message: string;
  /** A recorded quirk or `otherLayouts` entry explains it. */
  readonly documented: boolean;
  /** The quirk that documents it. */
  readonly quirk?: string;
  /** What it adds to the candidate's score. */
  readonly penalty: number;
}

export type Evidence = DfuAlt['evidence'];

export interface ProfileMatch {
  /** The candidate: a profile resolved for one flash size and bank mode. */
  readonly profile: ChipProfile;
  /** Nothing differs: every string is the one recorded and the flash string describes this map exactly. */
  readonly exact: boolean;
  readonly differences: readonly MatchDifference[];
  /** Penalty sum, lower is better (0 when exact). */
  readonly score: number;
  /** Evidence grade of the profile's recorded flash string. */
  readonly evidence: Evidence;
}

export interface MatchOptions {
  /**
   * Keep every candidate, also those whose flash string neither matches a recorded string nor describes
   * their map (exactly or as a superset). Default false: such candidates are dropped.
   */
  readonly all?: boolean;
  /** Only these profiles (names as in `dfukit chips`, e.g. `stm32h743`). */
  readonly profiles?: readonly string[];
}

const EVIDENCE_RANK: Record<Evidence, number> = { A: 0, B: 1, C: 2, U: 3, inferred: 4 };

/**
 * What a difference costs. Documented differences (a recorded quirk or other layout explains them) and
 * differences from strings the profile only infers cost little; undocumented ones on captured strings much.
 */
function penaltyOf(kind: MatchDifferenceKind, documented: boolean, againstInferred: boolean): number {
  switch (kind) {
    case 'alt-missing':
      return againstInferred ? 0.5 : 2;
    case 'alt-extra':
      return 1;
    case 'layout-variant':
      return 0.1;
    case 'layout-text':
      return 0.2;
    case 'layout-differs':
      return againstInferred ? 0.5 : 2;
    case 'unparsable':
      return 5;
    case 'leniency':
      return documented ? 0 : 0.5;
    case 'map-larger':
      return documented ? 0.3 : 1;
    case 'map-differs':
      return documented ? 0.6 : 3;
  }
}

function tryParse(raw: string): MemoryLayout | FwError {
  try {
    return parseLayoutString(raw);
  } catch (e) {
    if (e instanceof FwError) return e;
    throw e;
  }
}

function partFor(p: ChipProfileSource, v: FlashVariantSource): string {
  return (p.parts.find((x) => x.flashCodes.includes(v.code)) ?? p.parts[0]!).name;
}

interface Candidate {
  source: ChipProfileSource;
  variant: FlashVariantSource;
  mode: BankMode;
  selectable: boolean;
}

function candidates(opts: MatchOptions): Candidate[] {
  const out: Candidate[] = [];
  for (const source of chipProfileSources()) {
    if (opts.profiles !== undefined && !opts.profiles.includes(source.name)) continue;
    for (const variant of source.flash.variants) {
      const layouts = variantLayouts(variant);
      for (const l of layouts) out.push({ source, variant, mode: effectiveBankMode(l), selectable: layouts.length > 1 });
    }
  }
  return out;
}

function compareCandidate(c: Candidate, device: readonly (string | undefined)[]): { profile: ChipProfile; differences: MatchDifference[]; keep: boolean; evidence: Evidence } {
  const profile = resolveChip(`${partFor(c.source, c.variant)}x${c.variant.code}`, c.selectable ? { bankMode: c.mode } : {});
  const quirks = c.source.quirks;
  const diffs: MatchDifference[] = [];
  const add = (kind: MatchDifferenceKind, alt: number, message: string, documented: boolean, quirk?: string, againstInferred = false): void => {
    diffs.push({ kind, alt, message, documented, ...(quirk !== undefined ? { quirk } : {}), penalty: penaltyOf(kind, documented, againstInferred) });
  };
  let keep = false;
  const flashAlt = c.source.dfu.alts.find((a) => a.kind === 'flash')!;

  for (const alt of c.source.dfu.alts) {
    const raw = device[alt.alt];
    if (raw === undefined) {
      const inferred = alt.evidence === 'inferred';
      add('alt-missing', alt.alt, `the device lists no alt ${alt.alt} (${alt.kind}${inferred ? ', recorded string inferred' : ''})`, false, undefined, inferred);
      continue;
    }
    const parsed = tryParse(raw);
    if (parsed instanceof FwError) {
      add('unparsable', alt.alt, parsed.message, false);
      continue;
    }
    const recorded = parseLayoutString(alt.layout);
    const other = (alt.otherLayouts ?? []).find((o) => o.layout === raw);
    const verbatim = raw === alt.layout || other !== undefined;
    if (other !== undefined) {
      add('layout-variant', alt.alt, `alt ${alt.alt} is a recorded variant: ${other.note}`, true);
    } else if (raw !== alt.layout) {
      if (sameGeometry(parsed, recorded)) {
        add('layout-text', alt.alt, `alt ${alt.alt} has the recorded sectors but other text than ${JSON.stringify(alt.layout)}`, false);
      } else if (alt.kind !== 'flash') {
        const inferred = alt.evidence === 'inferred';
        add('layout-differs', alt.alt, `alt ${alt.alt} differs from the recorded ${JSON.stringify(alt.layout)}${inferred ? ' (recorded string inferred)' : ''}`, false, undefined, inferred);
      }
      for (const len of parsed.leniencies) {
        const q = layoutQuirkFor(quirks, { alt: alt.alt, leniency: len });
        add('leniency', alt.alt, `alt ${alt.alt} needs the parser leniency '${len}'`, q !== undefined, q?.id);
      }
    }
    if (alt.alt !== flashAlt.alt) continue;

    // The flash alt: against the recorded strings, then against the candidate's real map.
    const recordedFlash = [recorded, ...(alt.otherLayouts ?? []).map((o) => parseLayoutString(o.layout))];
    const likeRecorded = verbatim || recordedFlash.some((r) => sameGeometry(parsed, r));
    const cmp = compareLayoutToSectors(parsed, profile.sectors);
    if (likeRecorded || cmp.relation !== 'differs') keep = true;
    if (!likeRecorded) {
      const inferred = alt.evidence === 'inferred';
      add(
        'layout-differs',
        alt.alt,
        `alt ${alt.alt} has other sectors than the recorded ${JSON.stringify(alt.layout)}${inferred ? ' (recorded string inferred)' : ''}`,
        false,
        undefined,
        // A string that describes this very map differs from the recorded one only in what it claims beyond it.
        inferred || cmp.relation === 'exact',
      );
    }
    if (cmp.relation !== 'exact') {
      // A quirk explains the difference only for the strings it is about: the ones the profile records.
      const q = likeRecorded ? layoutQuirkFor(quirks, { alt: alt.alt, flashCode: c.variant.code, bankMode: c.mode }) : undefined;
      add(cmp.relation === 'covers' ? 'map-larger' : 'map-differs', alt.alt, `${profile.displayName}${c.selectable ? ` (${c.mode}-bank)` : ''}: ${describeComparison(cmp)}`, q !== undefined, q?.id);
    }
  }
  const recordedAlts = new Set(c.source.dfu.alts.map((a) => a.alt));
  device.forEach((raw, alt) => {
    if (raw !== undefined && !recordedAlts.has(alt)) add('alt-extra', alt, `the device lists alt ${alt} ${JSON.stringify(raw)}, which the profile does not record`, false);
  });
  return { profile, differences: diffs, keep, evidence: flashAlt.evidence };
}

/**
 * Ranks the profiles against a device's layout strings, best first. `layoutStrings[i]` is the interface
 * string of alternate setting i (leave holes `undefined`); strings are compared verbatim, so pass them as the
 * device reports them, padding included.
 */
export function matchProfiles(layoutStrings: readonly (string | undefined)[], opts: MatchOptions = {}): ProfileMatch[] {
  if (!layoutStrings.some((s) => s !== undefined)) return [];
  const out: ProfileMatch[] = [];
  for (const c of candidates(opts)) {
    const r = compareCandidate(c, layoutStrings);
    if (!r.keep && opts.all !== true) continue;
    const score = r.differences.reduce((n, d) => n + d.penalty, 0);
    out.push({ profile: r.profile, exact: r.differences.length === 0, differences: r.differences, score: Math.round(score * 100) / 100, evidence: r.evidence });
  }
  return out.sort(
    (a, b) =>
      Number(b.exact) - Number(a.exact) ||
      a.score - b.score ||
      EVIDENCE_RANK[a.evidence] - EVIDENCE_RANK[b.evidence] ||
      b.profile.flashSize - a.profile.flashSize ||
      a.profile.profile.localeCompare(b.profile.profile) ||
      a.profile.bankMode.localeCompare(b.profile.bankMode),
  );
}

/** One line per match for humans: `STM32H743xI (stm32h743) exact` / `... 2 differences (1 documented)`. */
export function formatMatch(m: ProfileMatch): string {
  const mode = m.profile.bankModes.length > 1 ? `, ${m.profile.bankMode}-bank` : '';
  if (m.exact) return `${m.profile.displayName} (${m.profile.profile}${mode}) exact`;
  const documented = m.differences.filter((d) => d.documented).length;
  return `${m.profile.displayName} (${m.profile.profile}${mode}) ${m.differences.length} difference${m.differences.length === 1 ? '' : 's'} (${documented} documented), score ${m.score}`;
}
