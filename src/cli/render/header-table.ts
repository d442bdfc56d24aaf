/** Aligned text columns for the `dfukit header` renderers. */
export function table(rows: readonly (readonly string[])[], indent = '  '): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => indent + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}

/** Long hex strings (digests, reserved bytes) shortened for a table cell; JSON keeps them whole. */
export function cell(s: string, max = 40): string {
  return s.length <= max || !/^[0-9a-f]+$/.test(s) ? s : `${s.slice(0, max - 11)}...${s.slice(-8)}`;
}
