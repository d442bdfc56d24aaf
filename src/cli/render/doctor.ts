/** Human rendering of a doctor report: findings grouped by severity, each with where and what to do; a summary line. */
import { formatRange, formatSize, hex32 } from '../../core/format.ts';
import type { DoctorReport, Finding, Summary } from '../../doctor/report-schema.ts';

const FORMAT_TITLES: Record<string, string> = {
  elf: 'ELF',
  ihex: 'Intel HEX',
  srec: 'S-record',
  bin: 'raw binary',
  dfuse: 'DfuSe',
  dfu: 'plain DFU',
};

const GROUPS: { severity: Finding['severity']; title: string }[] = [
  { severity: 'error', title: 'errors' },
  { severity: 'warning', title: 'warnings' },
  { severity: 'info', title: 'info' },
];

const WIDTH = 100;

function wrap(text: string, indent: string, width = WIDTH): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (word === '') continue;
    if (line !== '' && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(indent + line);
  return lines.join('\n') + '\n';
}

function human(n: number): string {
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n / (1 << 20)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
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

export function summaryLine(name: string, s: Summary): string {
  const parts = [plural(s.errors, 'error'), plural(s.warnings, 'warning'), plural(s.infos, 'note')];
  return `${name}: ${parts.join(', ')}`;
}

function findingsBlock(findings: readonly Finding[]): string {
  let out = '';
  for (const g of GROUPS) {
    const list = findings.filter((f) => f.severity === g.severity);
    if (list.length === 0) continue;
    out += `\n${g.title} (${list.length})\n`;
    for (const f of list) {
      const w = where(f);
      out += `  ${f.code}${w !== '' ? `  ${w}` : ''}\n`;
      out += wrap(f.message, '    ');
      out += wrap(`fix: ${f.fix}${f.fixable ? ' [--fix]' : ''}`, '    ');
    }
  }
  return out;
}

export function renderDoctor(r: DoctorReport): string {
  let out = `${r.file}: ${FORMAT_TITLES[r.format] ?? r.format}`;
  if (r.address !== undefined) out += ` at ${hex32(r.address)}`;
  if (r.chip !== undefined) {
    out += `, checked for ${r.chip.part} (${r.chip.profile}: ${human(r.chip.flashSize)} ${r.chip.bankMode}-bank flash, ${r.chip.programUnit}-byte flash word)`;
  } else out += ', checked without a chip profile';
  if (r.dualCore) out += ', both cores';
  out += '\n';
  out += findingsBlock(r.findings);
  out += '\n';
  const fixable = r.summary.fixable;
  const summary = summaryLine(r.file, r.summary);
  if (r.fix === undefined) {
    const verdict = r.summary.errors > 0 ? 'will not flash or run as meant' : r.summary.warnings > 0 ? 'fails with some tools or ROM versions' : 'no problems found';
    out += `${summary} (${verdict})${fixable > 0 ? `; --fix repairs ${fixable}` : ''}\n`;
    return out;
  }
  out += `${summary}\n`;
  const fx = r.fix;
  out += `\n--fix wrote ${fx.output} (${formatSize(fx.size)} bytes), ${plural(fx.repairs.length, 'repair')}:\n`;
  for (const rep of fx.repairs) out += wrap(`- ${rep.message} [${rep.code}]`, '  ').replace(/\n(?=.)/g, '\n  ');
  if (fx.unrepaired.length > 0) out += wrap(`not repaired (not mechanical): ${fx.unrepaired.join(', ')}`, '  ');
  const remaining = fx.findings.filter((f) => f.severity !== 'info');
  if (remaining.length > 0) out += `\nin ${fx.output}:` + findingsBlock(remaining);
  out += `\n${summaryLine(fx.output, fx.summary)}${fx.summary.errors === 0 ? ' (no errors)' : ''}\n`;
  return out;
}
