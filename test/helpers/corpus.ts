/**
 * Access to the real-firmware corpus in ../shared/corpus (read in place, never copied into the repo).
 * Without it, corpus tests skip with a message; under CI=true its absence fails the run instead.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CORPUS = process.env.DFUKIT_CORPUS ?? resolve(ROOT, '..', 'shared', 'corpus');

/** Returns the corpus path, or a skip reason; throws under CI=true when absent. */
export function corpusOrSkip(): { dir: string; skip: false } | { dir: undefined; skip: string } {
  if (existsSync(join(CORPUS, 'MANIFEST.md'))) return { dir: CORPUS, skip: false };
  if (process.env.CI === 'true') throw new Error(`corpus not found at ${CORPUS}: CI requires ../shared/corpus`);
  return { dir: undefined, skip: `corpus not found at ${CORPUS} - skipping real-file tests` };
}

export interface ManifestEntry {
  file: string;
  repo: string;
  path: string;
  size: number;
  sha256: string;
  description: string;
  /** From the per-file section's `- kind: **X**` line: dfuse, dfu, hex, elf, bin or text. */
  kind: string;
}

/** Rows of the MANIFEST provenance table. */
export function manifestEntries(dir: string): ManifestEntry[] {
  const text = readFileSync(join(dir, 'MANIFEST.md'), 'utf8');
  const kinds = new Map<string, string>();
  let current: string | undefined;
  for (const line of text.split('\n')) {
    const h = /^#### `([^`]+)`/.exec(line);
    if (h !== null) current = h[1];
    const k = /^- kind: \*\*(\w+)\*\*/.exec(line);
    if (k !== null && current !== undefined) kinds.set(current, k[1]!);
  }
  const out: ManifestEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^\| `([^`]+)` \| ([^|]+) \| `([^`]+)` \| `[0-9a-f]+` \| [^|]* \| (\d+) \| `([0-9a-f]{64})` \| (.*) \|$/.exec(line);
    if (m === null) continue;
    out.push({ file: m[1]!, repo: m[2]!.trim(), path: m[3]!, size: Number(m[4]), sha256: m[5]!, description: m[6]!, kind: kinds.get(m[1]!) ?? 'unknown' });
  }
  return out;
}

export function fixturePath(...parts: string[]): string {
  return join(ROOT, 'test', 'fixtures', ...parts);
}
