/**
 * `dfukit chips [CHIP]`: the built-in chip profiles. Without an argument, one line per profile (name, parts
 * that resolve to it, flash sizes, program unit, banks); with a chip name or ST part number, the resolved
 * profile: banks and sector runs, RAM, cores, DFU alternate settings, bootloader versions and known quirks.
 */
import type { Command } from '@commander-js/extra-typings';
import type { ChipProfile, ChipSummary } from '../../layout/chips.ts';
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

export function renderChipList(chips: readonly ChipSummary[]): string {
  const rows = [['NAME', 'ALSO', 'FLASH', 'UNIT', 'BANKS', 'CORES', 'MANUAL']];
  for (const c of chips) {
    rows.push([
      c.name,
      c.parts.filter((p) => p !== c.name).join(' ') || '-',
      c.flashSizes.map((f) => `x${f.code} ${human(f.size)}${f.code === c.defaultFlashCode && c.flashSizes.length > 1 ? '*' : ''}`).join(', '),
      `${c.programUnit} B`,
      [...new Set(c.flashSizes.map((f) => f.banks))].join('/'),
      c.cores.join('+'),
      c.referenceManual,
    ]);
  }
  return table(rows) + '* default when neither a part number nor --flash-size gives the flash size\n';
}

/** Runs of equal sectors: "8 x 128 KiB (sectors 0-7)". */
function sectorRuns(p: ChipProfile, bank: number): string {
  const runs: { size: number; first: number; last: number }[] = [];
  for (const s of p.sectors) {
    if (s.bank !== bank) continue;
    const r = runs[runs.length - 1];
    if (r !== undefined && r.size === s.size) r.last = s.sector;
    else runs.push({ size: s.size, first: s.sector, last: s.sector });
  }
  return runs
    .map((r) => `${r.last - r.first + 1} x ${human(r.size)} (sector${r.first === r.last ? ` ${r.first}` : `s ${r.first}-${r.last}`})`)
    .join(', ');
}

export function renderChipDetail(p: ChipProfile): string {
  const from = { default: 'default size of the family', 'part-number': 'from the part number', option: 'from --flash-size', 'only-size': 'the only size sold' }[p.flashSizeFrom];
  const rows: string[][] = [];
  rows.push(['flash', `${human(p.flashSize)} (x${p.flashCode}, ${from}); program unit ${p.programUnit} B; ROM write alignment ${p.bootloaderWriteAlignment} B; erased 0x${p.erasedValue.toString(16).toUpperCase()}`]);
  for (const b of p.banks) rows.push([`bank ${b.bank}`, `${hex(b.start)}..${hex(b.end)}  ${sectorRuns(p, b.bank)}`]);
  rows.push(['ram', p.ram.map((r) => `${r.name} ${hex(r.start)} ${human(r.size)}${r.cores !== undefined ? ` (${r.cores.join('+')})` : ''}`).join('; ')]);
  for (const m of p.memories) rows.push([m.kind, `${hex(m.start)} ${human(m.size)}  ${m.name}`]);
  for (const c of p.cores) rows.push([`core ${c.name}`, `${c.cpu}; boots ${hex(c.bootAddress)}: ${c.bootOption}; image at ${hex(c.imageBase)}`]);
  rows.push(['usb', `${hex(p.dfu.usbVid, 4).slice(2)}:${hex(p.dfu.usbPid, 4).slice(2)}, wTransferSize ${p.dfu.wTransferSize} [${p.dfu.wTransferSizeEvidence}]`]);
  for (const a of p.dfu.alts) rows.push([`alt ${a.alt}`, `${JSON.stringify(a.layout)}  ${a.kind} [${a.evidence}]`]);
  rows.push([
    'bootloader',
    `PID 0x${p.bootloader.pid.toString(16).toUpperCase()}, ID byte at ${hex(p.bootloader.idAddress)}; versions ${p.bootloader.versions
      .map((v) => `${v.version} (0x${v.id.toString(16).toUpperCase()})`)
      .join(', ')}`,
  ]);
  for (const q of p.quirks) {
    const bl = q.bootloaderIds !== undefined ? ` [bootloader ${q.bootloaderIds.map((id) => `0x${id.toString(16).toUpperCase()}`).join(', ')}]` : '';
    rows.push(['quirk', `${q.id}${bl} (${q.confidence})`]);
  }
  for (const w of p.warnings) rows.push(['warning', w]);
  return `${p.displayName}  ${p.title}; profile ${p.profile}, ${p.referenceManual}\n` + table(rows);
}

export function registerChips(program: Command): void {
  program
    .command('chips')
    .description('list the built-in chip profiles, or show one resolved for a part number')
    .argument('[chip]', 'chip or ST part number to show in detail (stm32h743, h753, STM32H743ZI, stm32h745xg)')
    .option('--flash-size <size>', 'flash size when the name has no flash-size letter (2M, 0x100000)', parseSizeArg)
    .option('--json', 'print JSON: the list of profiles, or the resolved profile with every sector')
    .action(async (chip, opts) => {
      const { listChips, resolveChip } = await import('../../layout/chips.ts');
      if (chip === undefined) {
        const chips = listChips();
        process.stdout.write(opts.json === true ? JSON.stringify({ chips }, null, 2) + '\n' : renderChipList(chips));
        return;
      }
      const profile = resolveChip(chip, opts.flashSize !== undefined ? { flashSize: opts.flashSize } : {});
      process.stdout.write(opts.json === true ? JSON.stringify(profile, null, 2) + '\n' : renderChipDetail(profile));
      for (const w of opts.json === true ? profile.warnings : []) process.stderr.write(`dfukit: warning: ${w}\n`);
    });
}
