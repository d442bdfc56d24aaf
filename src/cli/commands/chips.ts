/**
 * `dfukit chips [CHIP]` and `dfukit chips show CHIP`: the built-in chip profiles. Without an argument, one line
 * per profile (name, parts that resolve to it, flash sizes, program unit, banks); with a chip name or ST part
 * number, the resolved profile: banks with their sector runs and address ranges, program unit, RAM, other
 * memories, cores, timing, DFU alternate settings with the ROM's layout strings (and how they relate to the
 * part's map), bootloader versions and known quirks. `--bank-mode single|dual` picks the organisation of parts
 * whose bank mode an option bit selects.
 */
import { InvalidArgumentError, type Command } from '@commander-js/extra-typings';
import type { BankMode, ChipProfile, ChipSummary } from '../../layout/chips.ts';
import { parseSizeArg } from '../options.ts';

/** `2 MiB`, `128 KiB`, `48 B`: exact, for table cells. */
function human(n: number): string {
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n / (1 << 20)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} B`;
}

function hex(n: number, digits = 8): string {
  return '0x' + n.toString(16).toUpperCase().padStart(digits, '0');
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ').trimEnd()).join('\n') + '\n';
}

export function parseBankModeArg(value: string): BankMode {
  const v = value.toLowerCase();
  if (v === 'single' || v === 'dual') return v;
  throw new InvalidArgumentError(`expected single or dual, got '${value}'`);
}

export function renderChipList(chips: readonly ChipSummary[]): string {
  const rows = [['NAME', 'ALSO', 'FLASH', 'UNIT', 'BANKS', 'CORES', 'MANUAL']];
  for (const c of chips) {
    rows.push([
      c.name,
      c.parts.filter((p) => p !== c.name).join(' ') || '-',
      c.flashSizes.map((f) => `x${f.code} ${human(f.size)}${f.code === c.defaultFlashCode && c.flashSizes.length > 1 ? '*' : ''}`).join(', '),
      `${c.programUnit} B`,
      [...new Set(c.flashSizes.map((f) => (f.bankModes.length > 1 ? `${f.banks}+` : String(f.banks))))].join('/'),
      c.cores.join('+'),
      c.referenceManual,
    ]);
  }
  return (
    table(rows) +
    '* default when neither a part number nor --flash-size gives the flash size\n' +
    (chips.some((c) => c.flashSizes.some((f) => f.bankModes.length > 1)) ? '+ bank mode selectable by option bit (--bank-mode single|dual); the factory mode is counted\n' : '')
  );
}

interface SectorRun {
  size: number;
  first: number;
  last: number;
  start: number;
  end: number;
}

/** Runs of equal consecutive sectors of one bank. */
function runsOf(p: ChipProfile, bank: number): SectorRun[] {
  const runs: SectorRun[] = [];
  for (const s of p.sectors) {
    if (s.bank !== bank) continue;
    const r = runs[runs.length - 1];
    if (r !== undefined && r.size === s.size && r.end === s.start) {
      r.last = s.sector;
      r.end = s.end;
    } else runs.push({ size: s.size, first: s.sector, last: s.sector, start: s.start, end: s.end });
  }
  return runs;
}

function sectorNumbers(r: SectorRun): string {
  return r.first === r.last ? `sector ${r.first}` : `sectors ${r.first}-${r.last}`;
}

/** Runs of equal sectors: "8 x 128 KiB (sectors 0-7)". */
function sectorRuns(p: ChipProfile, bank: number): string {
  return runsOf(p, bank)
    .map((r) => `${r.last - r.first + 1} x ${human(r.size)} (${sectorNumbers(r)})`)
    .join(', ');
}

function ms(n: number): string {
  return n >= 1000 && n % 100 === 0 ? `${n / 1000} s` : `${n} ms`;
}

export interface ChipDetailExtras {
  /** How each flash alt's layout string relates to the part's map: `alt` -> one sentence. */
  readonly layoutNotes?: ReadonlyMap<number, string>;
}

export function renderChipDetail(p: ChipProfile, extras: ChipDetailExtras = {}): string {
  const from = { default: 'default size of the family', 'part-number': 'from the part number', option: 'from --flash-size', 'only-size': 'the only size sold' }[p.flashSizeFrom];
  const rows: string[][] = [];
  rows.push([
    'flash',
    `${human(p.flashSize)} (x${p.flashCode}, ${from}); program unit ${p.programUnit} B; ROM write alignment ${p.bootloaderWriteAlignment} B; erased 0x${p.erasedValue.toString(16).toUpperCase()}`,
  ]);
  const modeFrom = { fixed: 'fixed', default: 'factory default', option: 'from --bank-mode' }[p.bankModeFrom];
  rows.push([
    'bank mode',
    `${p.bankMode} (${modeFrom})` + (p.bankModes.length > 1 ? `; selectable: ${p.bankModes.join(', ')} by ${p.bankModeSelectedBy ?? 'option bytes'}` : ''),
  ]);
  for (const b of p.banks) {
    rows.push([`bank ${b.bank}`, `${hex(b.start)}..${hex(b.end)}  ${sectorRuns(p, b.bank)}`]);
    for (const r of runsOf(p, b.bank)) rows.push(['', `  ${hex(r.start)}..${hex(r.end)}  ${r.last - r.first + 1} x ${human(r.size)}  ${sectorNumbers(r)}`]);
  }
  rows.push(['ram', p.ram.map((r) => `${r.name} ${hex(r.start)} ${human(r.size)}${r.cores !== undefined ? ` (${r.cores.join('+')})` : ''}`).join('; ')]);
  for (const m of p.memories) rows.push([m.kind, `${hex(m.start)} ${human(m.size)}  ${m.name}`]);
  for (const c of p.cores) rows.push([`core ${c.name}`, `${c.cpu}; boots ${hex(c.bootAddress)}: ${c.bootOption}; image at ${hex(c.imageBase)}`]);
  const t = p.timing;
  const sizes = new Set(p.sectors.map((s) => s.size));
  const erase = t.sectorEraseMs
    .filter((e) => sizes.has(e.size) && (e.bankMode === undefined || e.bankMode === p.bankMode))
    .map((e) => `${human(e.size)} ${ms(e.typ)}${e.max !== undefined ? ` (max ${ms(e.max)})` : ''}`)
    .join(', ');
  rows.push([
    'timing',
    `erase ${erase}; program ${p.programUnit} B ${t.programUs.typ} us${t.programUs.max !== undefined ? ` (max ${t.programUs.max} us)` : ''}` +
      (t.massEraseMs !== undefined ? `; mass erase ${ms(t.massEraseMs.typ)}${t.massEraseMs.max !== undefined ? ` (max ${ms(t.massEraseMs.max)})` : ''}` : '') +
      `; ${t.confidence}${t.parallelism !== undefined ? `; ${t.parallelism}` : ''}`,
  ]);
  rows.push(['usb', `${hex(p.dfu.usbVid, 4).slice(2)}:${hex(p.dfu.usbPid, 4).slice(2)}, wTransferSize ${p.dfu.wTransferSize} [${p.dfu.wTransferSizeEvidence}]`]);
  for (const a of p.dfu.alts) {
    rows.push([`alt ${a.alt}`, `${JSON.stringify(a.layout)}  ${a.kind} [${a.evidence}]`]);
    const note = extras.layoutNotes?.get(a.alt);
    if (note !== undefined) rows.push(['', `  ${note}`]);
    for (const o of a.otherLayouts ?? []) {
      const bl = o.bootloaderIds !== undefined ? `, bootloader ${o.bootloaderIds.map((id) => `0x${id.toString(16).toUpperCase()}`).join(', ')}` : '';
      rows.push(['', `  also ${JSON.stringify(o.layout)} [${o.evidence}${bl}]`]);
    }
  }
  rows.push([
    'bootloader',
    `PID 0x${p.bootloader.pid.toString(16).toUpperCase()}, ID byte at ${hex(p.bootloader.idAddress)}; versions ${p.bootloader.versions
      .map((v) => `${v.version} (0x${v.id.toString(16).toUpperCase()})`)
      .join(', ')}`,
  ]);
  for (const q of p.quirks) {
    const bl = q.bootloaderIds !== undefined ? ` [bootloader ${q.bootloaderIds.map((id) => `0x${id.toString(16).toUpperCase()}`).join(', ')}]` : '';
    rows.push(['quirk', `${q.id}${bl} (${q.kind}, ${q.confidence})`]);
    rows.push(['', `  ${q.summary}`]);
  }
  for (const w of p.warnings) rows.push(['warning', w]);
  return `${p.displayName}  ${p.title}; profile ${p.profile}, ${p.referenceManual}\n` + table(rows);
}

interface ChipsOptions {
  flashSize?: number;
  bankMode?: BankMode;
  json?: true;
}

/** Where the command writes (process.stdout/stderr; tests pass their own). */
export interface ChipsIo {
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
}

const PROCESS_IO: ChipsIo = {
  out: (s) => {
    process.stdout.write(s);
  },
  err: (s) => {
    process.stderr.write(s);
  },
};

async function show(chip: string, opts: ChipsOptions, io: ChipsIo): Promise<void> {
  const { resolveChip } = await import('../../layout/chips.ts');
  const { layoutNotes } = await import('../../layout/chip-report.ts');
  const profile = resolveChip(chip, { ...(opts.flashSize !== undefined ? { flashSize: opts.flashSize } : {}), ...(opts.bankMode !== undefined ? { bankMode: opts.bankMode } : {}) });
  if (opts.json === true) {
    io.out(JSON.stringify(profile, null, 2) + '\n');
    for (const w of profile.warnings) io.err(`dfukit: warning: ${w}\n`);
    return;
  }
  io.out(renderChipDetail(profile, { layoutNotes: layoutNotes(profile) }));
}

export function registerChips(program: Command, io: ChipsIo = PROCESS_IO): void {
  const chips = program
    .command('chips')
    .description('list the built-in chip profiles, or show one resolved for a part number (also: chips show CHIP)')
    .argument('[chip]', 'chip or ST part number to show in detail (stm32h743, h753, STM32H743ZI, stm32h745xg)')
    .option('--flash-size <size>', 'flash size when the name has no flash-size letter (2M, 0x100000)', parseSizeArg)
    .option('--bank-mode <mode>', 'single or dual, for parts whose bank mode an option bit selects (F42x 1 MiB, F76x, L47x, G47x)', parseBankModeArg)
    .option('--json', 'print JSON: the list of profiles, or the resolved profile with every sector')
    .action(async (chip, opts) => {
      if (chip === undefined) {
        const { listChips } = await import('../../layout/chips.ts');
        const list = listChips();
        io.out(opts.json === true ? JSON.stringify({ chips: list }, null, 2) + '\n' : renderChipList(list));
        return;
      }
      await show(chip, opts, io);
    });
  chips
    .command('show')
    .description('show one chip profile resolved for a part number: banks, sectors, RAM, alt settings, quirks')
    .argument('<chip>', 'chip or ST part number (stm32f767zi, h7a3, STM32G474RE)')
    // The options are the parent's: commander parses them wherever they appear on the command line.
    .action(async (chip) => {
      await show(chip, chips.opts(), io);
    });
}
