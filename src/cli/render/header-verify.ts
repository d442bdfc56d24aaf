/** Human output of `dfukit header verify`: one block per header, every field stored vs computed. */
import { formatRange, hexN } from '../../core/format.ts';
import type { VerifyResult } from '../../header/verify.ts';
import { cell, table } from './header-table.ts';

const MARK: Record<string, string> = { ok: 'ok', mismatch: 'MISMATCH', info: '', unchecked: 'not checked' };

export function renderVerify(file: string, r: VerifyResult): string {
  const slot = r.slotKnown ? `slot ${r.slot.name} ${formatRange(r.slot.start, r.slot.start + r.slot.size)}` : 'no slot given';
  let out = `${file}: ${r.layout} header at ${hexN(r.headerAddress, 8)} (${slot}): ${r.ok ? 'valid' : `INVALID - ${r.reason?.code}`}\n`;
  const rows = [['offset', 'field', 'stored', 'computed', '']];
  for (const f of r.fields) {
    const expected = f.expectedDisplay !== undefined && f.expectedDisplay !== f.storedDisplay ? cell(f.expectedDisplay) : f.expectedDisplay !== undefined ? '=' : '';
    rows.push([hexN(f.offset, 2), f.name, cell(f.storedDisplay), expected, [MARK[f.status] ?? f.status, f.code ?? '', f.note ?? ''].filter((x) => x !== '').join(' ')]);
  }
  out += table(rows);
  for (const x of r.findings) out += `  ${x.severity}: ${x.message} [${x.code}]\n`;
  const d = Object.entries(r.details).filter(([k]) => k !== 'runsFrom');
  if (d.length > 0) out += `  ${d.map(([k, v]) => `${k}: ${String(v)}`).join(', ')}\n`;
  return out;
}
