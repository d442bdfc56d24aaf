/** Human output of `dfukit header select`: the decision, then each slot's verdict. */
import { formatRange } from '../../core/format.ts';
import type { SelectResult } from '../../header/select.ts';
import { table } from './header-table.ts';

export function renderSelect(file: string, r: SelectResult): string {
  let out = `${file}: a ${r.layout} bootloader ${r.explanation[0]}\n`;
  for (const line of r.explanation.slice(1)) out += `  ${line}\n`;
  out += table([
    ['slot', 'range', 'verdict', 'version', 'runs from'],
    ...r.slots.map((s) => [
      s.slot.name,
      formatRange(s.slot.start, s.slot.start + s.slot.size),
      s.valid ? 'valid' : `rejected: ${s.reason?.code ?? '?'}`,
      s.version ?? '-',
      s.runsFrom ?? '-',
    ]),
  ]);
  return out;
}
