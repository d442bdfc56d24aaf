/**
 * Sentences about a resolved profile's ROM layout strings, for `dfukit chips show` and the doctor: how each
 * flash alt's string relates to this part's map, and which quirk documents a difference or a parser leniency.
 */
import type { ChipProfile } from './chip-types.ts';
import { compareLayoutToSectors, describeComparison, layoutQuirkFor } from './layout-compare.ts';
import { parseLayoutString } from './layout-string.ts';

/** alt number -> one sentence, for the alts that deserve one (every flash alt; others with a leniency). */
export function layoutNotes(p: ChipProfile): Map<number, string> {
  const notes = new Map<number, string>();
  for (const a of p.dfu.alts) {
    const layout = parseLayoutString(a.layout);
    const parts: string[] = [];
    if (a.kind === 'flash') {
      const cmp = compareLayoutToSectors(layout, p.sectors);
      if (cmp.relation === 'exact') parts.push(`describes the ${p.displayName} flash exactly`);
      else {
        const q = layoutQuirkFor(p.quirks, { alt: a.alt, flashCode: p.flashCode, bankMode: p.bankMode });
        parts.push(`${describeComparison(cmp)} (${q !== undefined ? `documented: quirk ${q.id}` : 'undocumented'})`);
      }
    }
    for (const len of layout.leniencies) {
      const q = layoutQuirkFor(p.quirks, { alt: a.alt, leniency: len });
      parts.push(`parsed with the leniency '${len}'${q !== undefined ? ` (quirk ${q.id})` : ''}`);
    }
    if (parts.length > 0) notes.set(a.alt, parts.join('; '));
  }
  return notes;
}
