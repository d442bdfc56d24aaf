/**
 * Numbers as users type them (DESIGN.md "Conventions"): decimal, `0x` hex, and for sizes a `K`/`M` suffix
 * (binary: 1K = 1024). Returns undefined for anything else, so callers can name the bad argument.
 */
export function parseNumber(text: string, opts: { sizeSuffix?: boolean } = {}): number | undefined {
  const t = text.trim().replace(/_/g, '');
  const m = /^(0x[0-9a-f]+|0b[01]+|[0-9]+)([km])?$/i.exec(t);
  if (m === null) return undefined;
  const suffix = m[2]?.toLowerCase();
  if (suffix !== undefined && opts.sizeSuffix !== true) return undefined;
  const base = m[1]!.toLowerCase();
  const n = base.startsWith('0x') ? parseInt(base.slice(2), 16) : base.startsWith('0b') ? parseInt(base.slice(2), 2) : parseInt(base, 10);
  const v = suffix === 'k' ? n * 1024 : suffix === 'm' ? n * 1024 * 1024 : n;
  return Number.isSafeInteger(v) ? v : undefined;
}

/**
 * `file.bin@0x08000000`: split at the last `@` only when what follows parses as a number, because real
 * paths contain `@` (corpus folders such as `NICLA_VISION@d975abca`).
 */
export function splitAddressSuffix(spec: string): { path: string; address?: number } {
  const at = spec.lastIndexOf('@');
  if (at > 0) {
    const addr = parseNumber(spec.slice(at + 1));
    if (addr !== undefined) return { path: spec.slice(0, at), address: addr };
  }
  return { path: spec };
}
