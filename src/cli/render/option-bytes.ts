/**
 * Human output of `dfukit option-bytes` and `dfukit unprotect`: the decoded option bytes (read protection,
 * write protection, boot addresses per core, bank mode, every field), the diff a `--set` would write, and the
 * read-back after a write.
 */
import { formatRange, hex32 } from '../../core/format.ts';
import type { DecodedOptionBytes, FieldChange } from '../../layout/option-bytes.ts';

export function renderOptionBytes(d: DecodedOptionBytes, where: string): string {
  const out: string[] = [];
  out.push(`option bytes of ${d.chip} on ${where}`);
  for (const r of d.regions) out.push(`  raw       ${hex32(r.start)} +${r.size}: ${r.hex}`);
  if (!d.mapped) {
    out.push('  (dfukit has no option-byte map for this profile: raw bytes only)');
    return out.join('\n') + '\n';
  }
  if (d.rdp !== undefined) out.push(`  read protection   level ${d.rdp.level} (RDP 0x${d.rdp.raw.toString(16).toUpperCase().padStart(2, '0')})${d.rdp.level === 2 ? ': permanent' : d.rdp.level === 1 ? ': flash not readable over DFU; `dfukit unprotect --force` mass-erases and clears it' : ''}`);
  if (d.writeProtection.length === 0) out.push('  write protection  none');
  else {
    for (const w of d.writeProtection) out.push(`  ${w.kind === 'pcrop' ? 'PCROP            ' : 'write protection '} bank ${w.bank} ${w.what} ${formatRange(w.start, w.end)} (${w.field})`);
  }
  for (const b of d.bootAddresses) out.push(`  boot              ${b.core ?? 'core'}${b.boot !== undefined ? `, ${b.boot}` : ''}: ${hex32(b.address)} (${b.field})`);
  if (d.bankMode !== undefined) out.push(`  bank mode         ${d.bankMode.mode} (${d.bankMode.field} = ${d.bankMode.raw})`);
  for (const c of d.complementErrors) out.push(`  warning           complement mismatch at ${c}`);
  out.push('  fields');
  const w = Math.max(...d.fields.map((f) => f.name.length));
  for (const f of d.fields) out.push(`    ${f.name.padEnd(w)}  ${f.text}${f.readOnly === true ? ' (read-only)' : ''}  ${f.summary}`);
  return out.join('\n') + '\n';
}

export function renderOptionByteDiff(changes: readonly FieldChange[], bytes: readonly string[], warnings: readonly string[]): string {
  const out: string[] = ['option-byte changes'];
  const w = Math.max(0, ...changes.map((c) => c.field.length));
  for (const c of changes) out.push(`  ${c.field.padEnd(w)}  ${c.from} -> ${c.to}`);
  for (const b of bytes) out.push(`    ${b}`);
  for (const x of warnings) out.push(`  warning: ${x}`);
  return out.join('\n') + '\n';
}
