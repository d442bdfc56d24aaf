/**
 * Renders validated data as a TypeScript literal for the generated modules (chips, header layouts): stable key
 * order, short arrays and objects on one line, numbers through a caller's formatter (hex where the YAML
 * writes hex), so a diff of a generated module reads like a diff of its YAML.
 */
export type NumberFormatter = (n: number, key: string) => string;

export function emitLiteral(value: unknown, formatNumber: NumberFormatter, key = '', indent = '  '): string {
  if (typeof value === 'number') return formatNumber(value, key);
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'boolean') return String(value);
  const inner = indent + '  ';
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const items = value.map((v) => emitLiteral(v, formatNumber, key, inner));
    const flat = `[${items.join(', ')}]`;
    if (!flat.includes('\n') && flat.length + indent.length < 110) return flat;
    return `[\n${items.map((i) => `${inner}${i},\n`).join('')}${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{}';
    const parts = entries.map(([k, v]) => `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)}: ${emitLiteral(v, formatNumber, k, inner)}`);
    const flat = `{ ${parts.join(', ')} }`;
    if (!flat.includes('\n') && flat.length + indent.length < 110) return flat;
    return `{\n${parts.map((p) => `${inner}${p},\n`).join('')}${indent}}`;
  }
  throw new Error(`cannot render ${String(value)}`);
}

/**
 * The command-line end of a compile script: print the errors, or compare the generated module with the file
 * on disk and write it (`--check`: only compare, exit 1 when it is not current).
 */
export async function finishGeneratedModule(opts: {
  root: string;
  path: string;
  moduleText: string | undefined;
  errors: readonly { format(): string }[];
  command: string;
  summary: string;
}): Promise<void> {
  const { readFileSync, writeFileSync } = await import('node:fs');
  const { relative } = await import('node:path');
  const shown = relative(opts.root, opts.path);
  if (opts.moduleText === undefined) {
    for (const e of opts.errors) process.stderr.write(`${e.format()}\n`);
    process.stderr.write(`${opts.command}: ${opts.errors.length} error(s); ${shown} not written\n`);
    process.exit(1);
  }
  let current: string | undefined;
  try {
    current = readFileSync(opts.path, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === opts.moduleText) console.log(`${shown} is current (${opts.summary})`);
  else if (process.argv.includes('--check')) {
    process.stderr.write(`${shown} is not current: run npm run ${opts.command}\n`);
    process.exit(1);
  } else {
    writeFileSync(opts.path, opts.moduleText);
    console.log(`wrote ${shown} (${opts.summary})`);
  }
}
