/**
 * Semantic checks on chip profiles that JSON Schema cannot express. The compile step
 * (scripts/compile-chips.ts) runs them on every YAML file after the zod schema, maps each issue's `path`
 * to a YAML line, and refuses to write the generated module while any remain. Platform-neutral, no zod.
 */
import { formatRange, formatSize, hex32 } from '../core/format.ts';
import type { ChipProfileSource, FlashVariantSource } from './chip-schema.ts';
import { layoutSectors, parseLayoutString, type MemoryLayout } from './layout-string.ts';
import { FwError } from '../core/errors.ts';

export type IssuePath = readonly (string | number)[];

export interface ChipIssue {
  readonly code: string;
  readonly message: string;
  /** Path into the profile object (same shape as a zod issue path). */
  readonly path: IssuePath;
}

export interface ProfileInput {
  /** File name the profile came from (for cross-file messages). */
  readonly file: string;
  readonly profile: ChipProfileSource;
}

interface Span {
  start: number;
  end: number;
  what: string;
  path: IssuePath;
}

/** Bank spans of one variant, in declaration order. */
export function variantBankSpans(v: FlashVariantSource): { bank: number; start: number; end: number; size: number }[] {
  return v.banks.map((b) => {
    const size = b.sectors.reduce((n, r) => n + r.count * r.size, 0);
    return { bank: b.bank, start: b.start, end: b.start + size, size };
  });
}

function overlapsSpan(a: { start: number; end: number }, b: { start: number; end: number }): boolean {
  return a.start < b.end && b.start < a.end;
}

/** Checks one profile on its own. `fileBase` is the YAML file name without `.yaml`. */
export function validateChipProfile(p: ChipProfileSource, fileBase?: string): ChipIssue[] {
  const issues: ChipIssue[] = [];
  const add = (code: string, message: string, path: IssuePath): void => {
    issues.push({ code, message, path });
  };

  if (fileBase !== undefined && fileBase !== p.name) {
    add('CHIP_FILE_NAME', `profile name '${p.name}' must match the file name '${fileBase}.yaml'`, ['name']);
  }

  // --- parts ---------------------------------------------------------------------------------------
  const partNames = new Map<string, number>();
  p.parts.forEach((part, i) => {
    if (partNames.has(part.name)) add('CHIP_PART_DUPLICATE', `part '${part.name}' is listed twice`, ['parts', i, 'name']);
    partNames.set(part.name, i);
  });
  if (!partNames.has(p.name)) add('CHIP_PART_PROFILE', `the profile's own name '${p.name}' must be one of its parts`, ['parts']);

  // --- flash variants ------------------------------------------------------------------------------
  const f = p.flash;
  const codes = new Set<string>();
  const sizes = new Set<number>();
  f.variants.forEach((v, vi) => {
    const vp = ['flash', 'variants', vi] as const;
    if (codes.has(v.code)) add('CHIP_VARIANT_DUPLICATE', `flash-size letter '${v.code}' is declared twice`, [...vp, 'code']);
    if (sizes.has(v.size)) add('CHIP_VARIANT_DUPLICATE', `flash size ${formatSize(v.size)} is declared twice`, [...vp, 'size']);
    codes.add(v.code);
    sizes.add(v.size);

    const spans = variantBankSpans(v);
    const total = spans.reduce((n, s) => n + s.size, 0);
    if (total !== v.size) {
      add(
        'CHIP_FLASH_SIZE_MISMATCH',
        `variant '${v.code}': banks add up to ${formatSize(total)}, not the declared ${formatSize(v.size)} (${spans
          .map((s) => `bank ${s.bank} ${formatSize(s.size)}`)
          .join(' + ')})`,
        [...vp, 'size'],
      );
    }
    const bankIds = new Set<number>();
    v.banks.forEach((b, bi) => {
      const bp = [...vp, 'banks', bi] as const;
      if (bankIds.has(b.bank)) add('CHIP_BANK_DUPLICATE', `variant '${v.code}': bank ${b.bank} is declared twice`, [...bp, 'bank']);
      bankIds.add(b.bank);
      const span = spans[bi]!;
      if (span.end > 0x1_0000_0000) add('CHIP_BANK_RANGE', `variant '${v.code}' bank ${b.bank} runs past 0xFFFFFFFF`, [...bp, 'sectors']);
      if (bi > 0) {
        const prev = spans[bi - 1]!;
        if (span.start < prev.end) {
          add(
            'CHIP_BANK_OVERLAP',
            `variant '${v.code}': bank ${b.bank} at ${hex32(b.start)} starts inside or before bank ${prev.bank} (${formatRange(prev.start, prev.end)}); banks must ascend without overlap`,
            [...bp, 'start'],
          );
        }
      }
      if (b.start % f.programUnit !== 0) {
        add('CHIP_PROGRAM_UNIT', `variant '${v.code}' bank ${b.bank}: start ${hex32(b.start)} is not a multiple of the program unit ${f.programUnit}`, [...bp, 'start']);
      }
      let addr = b.start;
      b.sectors.forEach((run, ri) => {
        const rp = [...bp, 'sectors', ri] as const;
        if (run.size % f.programUnit !== 0) {
          add('CHIP_PROGRAM_UNIT', `variant '${v.code}' bank ${b.bank}: sector size ${formatSize(run.size)} is not a multiple of the program unit ${f.programUnit}`, [...rp, 'size']);
        }
        if (addr % run.size !== 0) {
          add(
            'CHIP_SECTOR_ALIGNMENT',
            `variant '${v.code}' bank ${b.bank}: ${formatSize(run.size)} sectors start at ${hex32(addr)}, which is not a multiple of their size`,
            [...rp, 'size'],
          );
        }
        addr += run.count * run.size;
      });
    });
  });
  if (!codes.has(f.defaultVariant)) {
    add('CHIP_DEFAULT_VARIANT', `defaultVariant '${f.defaultVariant}' is not one of the variants (${[...codes].join(', ')})`, ['flash', 'defaultVariant']);
  }
  if (f.programUnit % f.bootloaderWriteAlignment !== 0 && f.bootloaderWriteAlignment % f.programUnit !== 0) {
    add('CHIP_PROGRAM_UNIT', `program unit ${f.programUnit} and bootloader write alignment ${f.bootloaderWriteAlignment} must divide one another`, ['flash', 'bootloaderWriteAlignment']);
  }
  p.parts.forEach((part, i) => {
    part.flashCodes.forEach((c, ci) => {
      if (!codes.has(c)) add('CHIP_PART_FLASH_CODE', `part '${part.name}': flash-size letter '${c}' has no flash variant`, ['parts', i, 'flashCodes', ci]);
    });
  });

  // --- cores ---------------------------------------------------------------------------------------
  const coreNames = new Set<string>();
  p.cores.forEach((c, i) => {
    if (coreNames.has(c.name)) add('CHIP_CORE_DUPLICATE', `core '${c.name}' is declared twice`, ['cores', i, 'name']);
    coreNames.add(c.name);
    f.variants.forEach((v) => {
      if (!variantBankSpans(v).some((s) => c.imageBase >= s.start && c.imageBase < s.end)) {
        add('CHIP_CORE_IMAGE_BASE', `core '${c.name}': imageBase ${hex32(c.imageBase)} is not in the flash of variant '${v.code}'`, ['cores', i, 'imageBase']);
      }
    });
  });

  // --- RAM and other memories: no overlap with flash or with each other (RAM) ------------------------
  const flashSpans: Span[] = [];
  f.variants.forEach((v, vi) =>
    variantBankSpans(v).forEach((s, bi) =>
      flashSpans.push({ start: s.start, end: s.end, what: `flash bank ${s.bank} of variant '${v.code}'`, path: ['flash', 'variants', vi, 'banks', bi] }),
    ),
  );
  const checkOverlaps = (spans: Span[]): void => {
    for (let i = 0; i < spans.length; i++) {
      for (let j = 0; j < i; j++) {
        if (overlapsSpan(spans[i]!, spans[j]!)) {
          add(
            'CHIP_REGION_OVERLAP',
            `${spans[i]!.what} (${formatRange(spans[i]!.start, spans[i]!.end)}) overlaps ${spans[j]!.what} (${formatRange(spans[j]!.start, spans[j]!.end)})`,
            spans[i]!.path,
          );
        }
      }
      for (const fl of flashSpans) {
        if (overlapsSpan(spans[i]!, fl)) {
          add('CHIP_REGION_OVERLAP', `${spans[i]!.what} (${formatRange(spans[i]!.start, spans[i]!.end)}) overlaps ${fl.what}`, spans[i]!.path);
        }
      }
    }
  };
  const checkRam = (ram: ChipProfileSource['ram'], base: IssuePath): void => {
    const spans: Span[] = [];
    ram.forEach((r, i) => {
      const rp = [...base, i] as const;
      if (r.start + r.size > 0x1_0000_0000) add('CHIP_REGION_RANGE', `RAM '${r.name}' runs past 0xFFFFFFFF`, [...rp, 'size']);
      for (const c of r.cores ?? []) {
        if (!coreNames.has(c)) add('CHIP_RAM_CORE', `RAM '${r.name}' names unknown core '${c}'`, [...rp, 'cores']);
      }
      spans.push({ start: r.start, end: r.start + r.size, what: `RAM '${r.name}'`, path: rp });
    });
    checkOverlaps(spans);
  };
  checkRam(p.ram, ['ram']);
  p.parts.forEach((part, i) => {
    if (part.ram !== undefined) checkRam(part.ram, ['parts', i, 'ram']);
  });
  p.memories.forEach((m, i) => {
    const mp = ['memories', i] as const;
    if (m.start + m.size > 0x1_0000_0000) add('CHIP_REGION_RANGE', `memory '${m.name}' runs past 0xFFFFFFFF`, [...mp, 'size']);
    for (const fl of flashSpans) {
      if (overlapsSpan({ start: m.start, end: m.start + m.size }, fl)) {
        add('CHIP_REGION_OVERLAP', `memory '${m.name}' (${formatRange(m.start, m.start + m.size)}) overlaps ${fl.what}`, mp);
      }
    }
    for (const r of p.ram) {
      if (overlapsSpan({ start: m.start, end: m.start + m.size }, { start: r.start, end: r.start + r.size })) {
        add('CHIP_REGION_OVERLAP', `memory '${m.name}' overlaps RAM '${r.name}'`, mp);
      }
    }
    if ((m.kind === 'flash-alias') !== (m.aliasOf !== undefined)) {
      add('CHIP_MEMORY_ALIAS', `memory '${m.name}': aliasOf is required for kind 'flash-alias' and only allowed there`, mp);
    }
  });

  // --- DFU alternate settings ----------------------------------------------------------------------
  const alts = new Set<number>();
  let flashAlts = 0;
  p.dfu.alts.forEach((a, i) => {
    const ap = ['dfu', 'alts', i] as const;
    if (alts.has(a.alt)) add('CHIP_ALT_DUPLICATE', `DFU alt ${a.alt} is declared twice`, [...ap, 'alt']);
    alts.add(a.alt);
    let layout: MemoryLayout;
    try {
      layout = parseLayoutString(a.layout);
    } catch (e) {
      add('CHIP_LAYOUT_INVALID', `DFU alt ${a.alt}: ${e instanceof FwError ? e.message : String(e)}`, [...ap, 'layout']);
      return;
    }
    if (a.kind === 'flash') {
      flashAlts += 1;
      const laid = new Map(layoutSectors(layout).map((s) => [s.start, s]));
      f.variants.forEach((v) => {
        for (const b of v.banks) {
          let addr = b.start;
          for (const run of b.sectors) {
            for (let k = 0; k < run.count; k++, addr += run.size) {
              const s = laid.get(addr);
              if (s === undefined || s.size !== run.size) {
                add(
                  'CHIP_LAYOUT_MISMATCH',
                  `DFU alt ${a.alt} layout does not describe the ${formatSize(run.size)} sector at ${hex32(addr)} of variant '${v.code}' bank ${b.bank}` +
                    (s === undefined ? '' : ` (it reports ${formatSize(s.size)} there)`),
                  [...ap, 'layout'],
                );
                return;
              }
              if (!s.segment.erasable || !s.segment.writable) {
                add('CHIP_LAYOUT_MISMATCH', `DFU alt ${a.alt} layout marks the flash sector at ${hex32(addr)} as type '${s.segment.type}' (not erasable and writable)`, [...ap, 'layout']);
                return;
              }
            }
          }
        }
      });
    } else {
      const kindOf: Record<string, string> = { 'option-bytes': 'option-bytes', otp: 'otp', 'device-feature': 'device-feature' };
      const want = kindOf[a.kind];
      if (want !== undefined) {
        for (const seg of layout.segments) {
          const inside = p.memories.some((m) => m.kind === want && seg.start >= m.start && seg.end <= m.start + m.size);
          if (!inside) {
            add(
              'CHIP_LAYOUT_REGION',
              `DFU alt ${a.alt} (${a.kind}) covers ${formatRange(seg.start, seg.end)}, which no memory of kind '${want}' contains`,
              [...ap, 'layout'],
            );
          }
        }
      }
    }
  });
  if (flashAlts === 0) add('CHIP_LAYOUT_MISSING', 'no DFU alt of kind "flash" (the internal flash layout string is required)', ['dfu', 'alts']);

  // --- bootloader versions and quirks --------------------------------------------------------------
  const blIds = new Set<number>();
  p.bootloader.versions.forEach((v, i) => {
    if (blIds.has(v.id)) add('CHIP_BOOTLOADER_DUPLICATE', `bootloader ID 0x${v.id.toString(16).toUpperCase()} is listed twice`, ['bootloader', 'versions', i, 'id']);
    blIds.add(v.id);
  });
  const quirkIds = new Set<string>();
  p.quirks.forEach((q, i) => {
    const qp = ['quirks', i] as const;
    if (quirkIds.has(q.id)) add('CHIP_QUIRK_DUPLICATE', `quirk '${q.id}' is declared twice`, [...qp, 'id']);
    quirkIds.add(q.id);
    (q.bootloaderIds ?? []).forEach((id, k) => {
      if (!blIds.has(id)) add('CHIP_QUIRK_BOOTLOADER', `quirk '${q.id}' names bootloader ID 0x${id.toString(16).toUpperCase()}, which bootloader.versions does not list`, [...qp, 'bootloaderIds', k]);
    });
    (q.parts ?? []).forEach((name, k) => {
      if (!partNames.has(name)) add('CHIP_QUIRK_PART', `quirk '${q.id}' names part '${name}', which is not one of this profile's parts`, [...qp, 'parts', k]);
    });
    (q.ranges ?? []).forEach((r, k) => {
      if (r.start + r.size > 0x1_0000_0000) add('CHIP_REGION_RANGE', `quirk '${q.id}' range ${k} runs past 0xFFFFFFFF`, [...qp, 'ranges', k]);
    });
  });
  return issues;
}

/** Checks across profiles: part names must resolve to exactly one profile. */
export function validateChipSet(inputs: readonly ProfileInput[]): { file: string; issue: ChipIssue }[] {
  const out: { file: string; issue: ChipIssue }[] = [];
  const owner = new Map<string, string>();
  for (const { file, profile } of inputs) {
    profile.parts.forEach((part, i) => {
      const prev = owner.get(part.name);
      if (prev !== undefined && prev !== profile.name) {
        out.push({
          file,
          issue: { code: 'CHIP_PART_DUPLICATE', message: `part '${part.name}' is already listed by profile '${prev}'`, path: ['parts', i, 'name'] },
        });
      } else owner.set(part.name, profile.name);
    });
  }
  const names = new Map<string, string>();
  for (const { file, profile } of inputs) {
    const prev = names.get(profile.name);
    if (prev !== undefined) out.push({ file, issue: { code: 'CHIP_PROFILE_DUPLICATE', message: `profile '${profile.name}' is also defined in ${prev}`, path: ['name'] } });
    else names.set(profile.name, file);
  }
  return out;
}
