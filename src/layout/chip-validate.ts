/**
 * Semantic checks on chip profiles that JSON Schema cannot express. The compile step
 * (scripts/compile-chips.ts) runs them on every YAML file after the zod schema, maps each issue's `path`
 * to a YAML line, and refuses to write the generated module while any remain. Platform-neutral, no zod.
 */
import { formatRange, formatSize, hex32 } from '../core/format.ts';
import type { ChipProfileSource, FlashBankSource, FlashVariantSource } from './chip-schema.ts';
import { parseLayoutString, type MemoryLayout } from './layout-string.ts';
import { compareLayoutToSectors, describeComparison, effectiveBankMode, expandBankSectors, layoutQuirkFor, variantLayouts } from './layout-compare.ts';
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

/** Bank spans of one organisation, in declaration order. */
function bankSpans(banks: readonly FlashBankSource[]): { bank: number; start: number; end: number; size: number }[] {
  return banks.map((b) => {
    const size = b.sectors.reduce((n, r) => n + r.count * r.size, 0);
    return { bank: b.bank, start: b.start, end: b.start + size, size };
  });
}

/** Bank spans of one variant in declaration order; for a variant with bank modes, those of every mode. */
export function variantBankSpans(v: FlashVariantSource): { bank: number; start: number; end: number; size: number }[] {
  return variantLayouts(v).flatMap((l) => bankSpans(l.banks));
}

function overlapsSpan(a: { start: number; end: number }, b: { start: number; end: number }): boolean {
  return a.start < b.end && b.start < a.end;
}

function sizeName(n: number): string {
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n / (1 << 20)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} B`;
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
  /** Variants already reported as not adding up: later checks would only repeat the same problem. */
  const broken = new Set<string>();
  /** Checks one organisation (the fixed one, or one bank mode) of a variant. */
  const checkBanks = (v: FlashVariantSource, banks: readonly FlashBankSource[], base: IssuePath, what: string): void => {
    const spans = bankSpans(banks);
    const total = spans.reduce((n, s) => n + s.size, 0);
    if (total !== v.size) {
      broken.add(v.code);
      add(
        'CHIP_FLASH_SIZE_MISMATCH',
        `variant '${v.code}'${what}: banks add up to ${formatSize(total)}, not the declared ${formatSize(v.size)} (${spans
          .map((s) => `bank ${s.bank} ${formatSize(s.size)}`)
          .join(' + ')})`,
        what === '' ? ['flash', 'variants', base[2]!, 'size'] : [...base],
      );
    }
    const bankIds = new Set<number>();
    banks.forEach((b, bi) => {
      const bp = [...base, 'banks', bi] as const;
      if (bankIds.has(b.bank)) add('CHIP_BANK_DUPLICATE', `variant '${v.code}'${what}: bank ${b.bank} is declared twice`, [...bp, 'bank']);
      bankIds.add(b.bank);
      const span = spans[bi]!;
      if (span.end > 0x1_0000_0000) add('CHIP_BANK_RANGE', `variant '${v.code}'${what} bank ${b.bank} runs past 0xFFFFFFFF`, [...bp, 'sectors']);
      if (bi > 0) {
        const prev = spans[bi - 1]!;
        if (span.start < prev.end) {
          add(
            'CHIP_BANK_OVERLAP',
            `variant '${v.code}'${what}: bank ${b.bank} at ${hex32(b.start)} starts inside or before bank ${prev.bank} (${formatRange(prev.start, prev.end)}); banks must ascend without overlap`,
            [...bp, 'start'],
          );
        }
      }
      if (b.start % f.programUnit !== 0) {
        add('CHIP_PROGRAM_UNIT', `variant '${v.code}'${what} bank ${b.bank}: start ${hex32(b.start)} is not a multiple of the program unit ${f.programUnit}`, [...bp, 'start']);
      }
      let addr = b.start;
      b.sectors.forEach((run, ri) => {
        const rp = [...bp, 'sectors', ri] as const;
        if (run.size % f.programUnit !== 0) {
          add('CHIP_PROGRAM_UNIT', `variant '${v.code}'${what} bank ${b.bank}: sector size ${formatSize(run.size)} is not a multiple of the program unit ${f.programUnit}`, [...rp, 'size']);
        }
        if (addr % run.size !== 0) {
          add(
            'CHIP_SECTOR_ALIGNMENT',
            `variant '${v.code}'${what} bank ${b.bank}: ${formatSize(run.size)} sectors start at ${hex32(addr)}, which is not a multiple of their size`,
            [...rp, 'size'],
          );
        }
        addr += run.count * run.size;
      });
    });
  };
  f.variants.forEach((v, vi) => {
    const vp = ['flash', 'variants', vi] as const;
    if (codes.has(v.code)) add('CHIP_VARIANT_DUPLICATE', `flash-size letter '${v.code}' is declared twice`, [...vp, 'code']);
    if (sizes.has(v.size)) add('CHIP_VARIANT_DUPLICATE', `flash size ${formatSize(v.size)} is declared twice`, [...vp, 'size']);
    codes.add(v.code);
    sizes.add(v.size);
    if ((v.banks === undefined) === (v.bankModes === undefined)) {
      broken.add(v.code);
      add('CHIP_BANK_MODES', `variant '${v.code}': give either 'banks' (one fixed organisation) or 'bankModes' (one per bank mode), not ${v.banks === undefined ? 'neither' : 'both'}`, [...vp]);
      return;
    }
    if (v.banks !== undefined) {
      checkBanks(v, v.banks, vp, '');
      return;
    }
    const modes = new Set<string>();
    v.bankModes!.forEach((m, mi) => {
      const mp = [...vp, 'bankModes', mi] as const;
      if (modes.has(m.mode)) add('CHIP_BANK_MODES', `variant '${v.code}': bank mode '${m.mode}' is declared twice`, [...mp, 'mode']);
      modes.add(m.mode);
      checkBanks(v, m.banks, mp, ` (${m.mode}-bank mode)`);
    });
    if (f.bankMode === undefined) {
      add('CHIP_BANK_MODES', `variant '${v.code}' has bank modes, so flash.bankMode must say which option bit selects them and the factory default`, [...vp, 'bankModes']);
    } else if (!modes.has(f.bankMode.default)) {
      add('CHIP_BANK_MODES', `variant '${v.code}' has no layout for the default bank mode '${f.bankMode.default}'`, [...vp, 'bankModes']);
    }
  });
  if (f.bankMode !== undefined && !f.variants.some((v) => v.bankModes !== undefined)) {
    add('CHIP_BANK_MODES', 'flash.bankMode is given but no variant has bankModes', ['flash', 'bankMode']);
  }
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

  // --- timing: every sector size of every organisation has an erase time ----------------------------
  const t = p.timing;
  t.sectorEraseMs.forEach((e, i) => {
    if (e.max !== undefined && e.max < e.typ) add('CHIP_TIMING', `sectorEraseMs ${i}: max ${e.max} ms is below typ ${e.typ} ms`, ['timing', 'sectorEraseMs', i, 'max']);
  });
  for (const [key, fig] of [['programUs', t.programUs], ['massEraseMs', t.massEraseMs]] as const) {
    if (fig !== undefined && fig.max !== undefined && fig.max < fig.typ) add('CHIP_TIMING', `${key}: max ${fig.max} is below typ ${fig.typ}`, ['timing', key, 'max']);
  }
  const missingTiming = new Set<string>();
  for (const v of f.variants) {
    if (broken.has(v.code)) continue;
    for (const l of variantLayouts(v)) {
      const mode = effectiveBankMode(l);
      for (const s of expandBankSectors(l.banks)) {
        const found = t.sectorEraseMs.some((e) => e.size === s.size && (e.bankMode === undefined || e.bankMode === mode));
        if (!found) missingTiming.add(`${sizeName(s.size)} sectors (variant '${v.code}', ${mode}-bank)`);
      }
    }
  }
  for (const m of missingTiming) add('CHIP_TIMING', `timing.sectorEraseMs has no erase time for ${m}`, ['timing', 'sectorEraseMs']);

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
  // Every ROM string (the alt's `layout` and its `otherLayouts`) must parse. A flash alt must describe
  // every variant and bank mode exactly; where it does not (the ROM reports the die size, an old ROM a
  // wrong sector size, a dual-bank ROM the single-bank map) a `layout-string` quirk naming the alt, and
  // scoped to the variant and mode, must say so. The same goes for a non-flash alt whose range is not a
  // known memory of its kind, and for every named leniency the parser needed.
  const alts = new Set<number>();
  let flashAlts = 0;
  const blIds = new Set(p.bootloader.versions.map((v) => v.id));
  p.dfu.alts.forEach((a, i) => {
    const ap = ['dfu', 'alts', i] as const;
    if (alts.has(a.alt)) add('CHIP_ALT_DUPLICATE', `DFU alt ${a.alt} is declared twice`, [...ap, 'alt']);
    alts.add(a.alt);
    if (a.kind === 'flash') flashAlts += 1;
    const strings: { raw: string; path: IssuePath; label: string }[] = [
      { raw: a.layout, path: [...ap, 'layout'], label: `DFU alt ${a.alt}` },
      ...(a.otherLayouts ?? []).map((o, oi) => ({ raw: o.layout, path: [...ap, 'otherLayouts', oi, 'layout'] as IssuePath, label: `DFU alt ${a.alt} other layout ${oi}` })),
    ];
    (a.otherLayouts ?? []).forEach((o, oi) => {
      (o.bootloaderIds ?? []).forEach((id, k) => {
        if (!blIds.has(id)) {
          add('CHIP_ALT_BOOTLOADER', `DFU alt ${a.alt} other layout ${oi} names bootloader ID 0x${id.toString(16).toUpperCase()}, which bootloader.versions does not list`, [...ap, 'otherLayouts', oi, 'bootloaderIds', k]);
        }
      });
    });
    for (const str of strings) {
      let layout: MemoryLayout;
      try {
        layout = parseLayoutString(str.raw);
      } catch (e) {
        add('CHIP_LAYOUT_INVALID', `${str.label}: ${e instanceof FwError ? e.message : String(e)}`, str.path);
        continue;
      }
      for (const len of layout.leniencies) {
        if (layoutQuirkFor(p.quirks, { alt: a.alt, leniency: len }) === undefined) {
          add('CHIP_LAYOUT_LENIENCY', `${str.label} needs the parser leniency '${len}'; document it with a layout-string quirk listing alt ${a.alt} and leniencies: [${len}]`, str.path);
        }
      }
      if (a.kind === 'flash') {
        for (const v of f.variants) {
          if (broken.has(v.code)) continue;
          for (const l of variantLayouts(v)) {
            const mode = effectiveBankMode(l);
            const cmp = compareLayoutToSectors(layout, expandBankSectors(l.banks));
            if (cmp.relation === 'exact') continue;
            if (layoutQuirkFor(p.quirks, { alt: a.alt, flashCode: v.code, bankMode: mode }) !== undefined) continue;
            const where = `variant '${v.code}'${l.mode === undefined ? '' : ` in ${l.mode}-bank mode`}`;
            const fix = `; if the ROM really reports it, add a layout-string quirk with alts: [${a.alt}] covering flash code ${v.code}${l.mode === undefined ? '' : ` and bank mode ${l.mode}`}`;
            if (cmp.relation === 'differs') {
              const m = cmp.mismatches[0]!;
              const bank = l.banks.find((b) => m.start >= b.start && m.start < b.start + b.sectors.reduce((n, r) => n + r.count * r.size, 0));
              add(
                'CHIP_LAYOUT_MISMATCH',
                `${str.label} layout does not describe the ${formatSize(m.size)} sector at ${hex32(m.start)} of ${where} bank ${bank?.bank ?? '?'}` +
                  (m.reported === undefined ? '' : m.reported.size !== m.size ? ` (it reports ${formatSize(m.reported.size)} there)` : ` (it reports type '${m.reported.type}', not erasable and writable)`) +
                  fix,
                str.path,
              );
            } else {
              add('CHIP_LAYOUT_UNDOCUMENTED', `${str.label} layout vs ${where}: ${describeComparison(cmp)}${fix}`, str.path);
            }
          }
        }
      } else {
        const kindOf: Record<string, string> = { 'option-bytes': 'option-bytes', otp: 'otp', 'device-feature': 'device-feature' };
        const want = kindOf[a.kind];
        if (want === undefined) continue;
        for (const seg of layout.segments) {
          const inside = p.memories.some((m) => m.kind === want && seg.start >= m.start && seg.end <= m.start + m.size);
          if (!inside && layoutQuirkFor(p.quirks, { alt: a.alt }) === undefined) {
            add(
              'CHIP_LAYOUT_REGION',
              `${str.label} (${a.kind}) covers ${formatRange(seg.start, seg.end)}, which no memory of kind '${want}' contains`,
              str.path,
            );
          }
        }
      }
    }
  });
  if (flashAlts === 0) add('CHIP_LAYOUT_MISSING', 'no DFU alt of kind "flash" (the internal flash layout string is required)', ['dfu', 'alts']);

  // --- bootloader versions and quirks --------------------------------------------------------------
  const seenIds = new Set<number>();
  p.bootloader.versions.forEach((v, i) => {
    if (seenIds.has(v.id)) add('CHIP_BOOTLOADER_DUPLICATE', `bootloader ID 0x${v.id.toString(16).toUpperCase()} is listed twice`, ['bootloader', 'versions', i, 'id']);
    seenIds.add(v.id);
  });
  const quirkIds = new Set<string>();
  p.quirks.forEach((q, i) => {
    const qp = ['quirks', i] as const;
    if (quirkIds.has(q.id)) add('CHIP_QUIRK_DUPLICATE', `quirk '${q.id}' is declared twice`, [...qp, 'id']);
    quirkIds.add(q.id);
    (q.bootloaderIds ?? []).forEach((id, k) => {
      if (!seenIds.has(id)) add('CHIP_QUIRK_BOOTLOADER', `quirk '${q.id}' names bootloader ID 0x${id.toString(16).toUpperCase()}, which bootloader.versions does not list`, [...qp, 'bootloaderIds', k]);
    });
    (q.parts ?? []).forEach((name, k) => {
      if (!partNames.has(name)) add('CHIP_QUIRK_PART', `quirk '${q.id}' names part '${name}', which is not one of this profile's parts`, [...qp, 'parts', k]);
    });
    (q.ranges ?? []).forEach((r, k) => {
      if (r.start + r.size > 0x1_0000_0000) add('CHIP_REGION_RANGE', `quirk '${q.id}' range ${k} runs past 0xFFFFFFFF`, [...qp, 'ranges', k]);
    });
    (q.flashCodes ?? []).forEach((c, k) => {
      if (!codes.has(c)) add('CHIP_QUIRK_FLASH_CODE', `quirk '${q.id}' names flash-size letter '${c}', which is not a variant`, [...qp, 'flashCodes', k]);
    });
    (q.bankModes ?? []).forEach((m, k) => {
      const exists = f.variants.some((v) => variantLayouts(v).some((l) => effectiveBankMode(l) === m));
      if (!exists) add('CHIP_QUIRK_BANK_MODE', `quirk '${q.id}' names bank mode '${m}', which no variant has`, [...qp, 'bankModes', k]);
    });
    (q.alts ?? []).forEach((alt, k) => {
      if (!alts.has(alt)) add('CHIP_QUIRK_ALT', `quirk '${q.id}' names DFU alt ${alt}, which dfu.alts does not declare`, [...qp, 'alts', k]);
    });
    if (q.kind === 'layout-string' && q.alts === undefined) {
      add('CHIP_QUIRK_ALT', `layout-string quirk '${q.id}' must list the DFU alts it is about (alts: [...])`, [...qp, 'kind']);
    }
    if (q.leniencies !== undefined && q.kind !== 'layout-string') {
      add('CHIP_QUIRK_ALT', `quirk '${q.id}' names parser leniencies, which only layout-string quirks may`, [...qp, 'leniencies']);
    }
  });
  validateOptionBytes(p, add);
  return issues;
}

/** Option-byte fields: inside an option-bytes memory, bits inside their word, the extras each kind needs. */
function validateOptionBytes(p: ChipProfileSource, add: (code: string, message: string, path: IssuePath) => void): void {
  const ob = p.optionBytes;
  if (ob === undefined) return;
  const regions = p.memories.filter((m) => m.kind === 'option-bytes');
  const inside = (addr: number, size: number): boolean => regions.some((r) => addr >= r.start && addr + size <= r.start + r.size);
  const names = new Set<string>();
  const cores = new Set(p.cores.map((c) => c.name));
  ob.fields.forEach((f, i) => {
    const fp: IssuePath = ['optionBytes', 'fields', i];
    if (names.has(f.name.toLowerCase())) add('CHIP_OB_FIELD', `option-byte field '${f.name}' is declared twice`, [...fp, 'name']);
    names.add(f.name.toLowerCase());
    if (f.address % f.size !== 0) add('CHIP_OB_FIELD', `option-byte field '${f.name}': ${hex32(f.address)} is not aligned to its ${f.size}-byte word`, [...fp, 'address']);
    for (const [k, a] of [['address', f.address], ['complement', f.complement], ...(f.mirrors ?? []).map((m, j) => [`mirrors.${j}`, m] as const)] as const) {
      if (a !== undefined && !inside(a, f.size)) add('CHIP_OB_FIELD', `option-byte field '${f.name}': ${k} ${hex32(a)} (+${f.size}) is outside the profile's option-bytes memories`, [...fp, k.split('.')[0]!]);
    }
    if (f.lsb + f.bits > 8 * f.size) add('CHIP_OB_FIELD', `option-byte field '${f.name}': bits ${f.lsb}..${f.lsb + f.bits - 1} do not fit a ${f.size}-byte word`, [...fp, 'bits']);
    if (f.kind === 'rdp' && f.bits !== 8) add('CHIP_OB_FIELD', `option-byte field '${f.name}': RDP is an 8-bit field`, [...fp, 'bits']);
    if (f.kind === 'boot-address' && f.addressShift === undefined) add('CHIP_OB_FIELD', `boot-address field '${f.name}' needs addressShift`, [...fp, 'kind']);
    if (f.kind === 'bank-mode' && f.dual === undefined) add('CHIP_OB_FIELD', `bank-mode field '${f.name}' needs dual (the bit value that selects dual bank)`, [...fp, 'kind']);
    if ((f.kind === 'wrp-mask' || f.kind === 'wrp-start' || f.kind === 'wrp-end') && f.bank === undefined) add('CHIP_OB_FIELD', `write-protection field '${f.name}' needs bank`, [...fp, 'kind']);
    if ((f.kind === 'wrp-start' || f.kind === 'wrp-end') && f.area === undefined) add('CHIP_OB_FIELD', `write-protection range field '${f.name}' needs area`, [...fp, 'kind']);
    if (f.core !== undefined && !cores.has(f.core)) add('CHIP_OB_FIELD', `option-byte field '${f.name}' names core '${f.core}', which cores does not declare`, [...fp, 'core']);
  });
  const areas = new Map<string, string[]>();
  for (const f of ob.fields) if (f.area !== undefined) areas.set(f.area, [...(areas.get(f.area) ?? []), f.kind]);
  for (const [area, kinds] of areas) {
    if (!(kinds.includes('wrp-start') && kinds.includes('wrp-end'))) add('CHIP_OB_FIELD', `write-protection area '${area}' needs one wrp-start and one wrp-end field`, ['optionBytes', 'fields']);
  }
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
