/**
 * Runs doctor on every firmware file of the corpus with its case (corpus-cases.ts) and reduces each finding to
 * what test/doctor/corpus-findings.json records: severity, code, address range. `node --import tsx
 * test/doctor/corpus-run.ts --write` regenerates the JSON; every change must be checked by hand and described in
 * corpus-findings.md before it is committed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { diagnose } from '../../src/doctor/diagnose.ts';
import { resolveChip } from '../../src/layout/chips.ts';
import { CORPUS, manifestEntries, ROOT } from '../helpers/corpus.ts';
import { corpusCase, FIRMWARE_KINDS } from './corpus-cases.ts';

export interface RecordedFinding {
  severity: string;
  code: string;
  start?: string;
  end?: string;
}

export interface RecordedFile {
  file: string;
  chip: string | null;
  address?: string;
  findings: RecordedFinding[];
}

const hex = (n: number): string => '0x' + n.toString(16).toUpperCase().padStart(8, '0');

export function runCorpus(dir: string): RecordedFile[] {
  const out: RecordedFile[] = [];
  for (const e of manifestEntries(dir)) {
    if (!FIRMWARE_KINDS.has(e.kind)) continue;
    const c = corpusCase(e);
    const bytes = new Uint8Array(readFileSync(join(dir, e.file)));
    const r = diagnose(bytes, {
      file: e.file,
      ...(c.chip !== undefined ? { chip: resolveChip(c.chip) } : {}),
      ...(c.address !== undefined ? { address: c.address } : {}),
    }).report;
    out.push({
      file: e.file,
      chip: c.chip ?? null,
      ...(c.address !== undefined ? { address: hex(c.address) } : {}),
      findings: r.findings.map((f) => ({
        severity: f.severity,
        code: f.code,
        ...(f.start !== undefined ? { start: hex(f.start) } : {}),
        ...(f.end !== undefined ? { end: hex(f.end) } : {}),
      })),
    });
  }
  return out.sort((a, b) => a.file.localeCompare(b.file));
}

/** One file per block, one finding per line: diffs show which finding of which file changed. */
export function serialize(files: readonly RecordedFile[]): string {
  const blocks = files.map((f) => {
    const head = `  {"file": ${JSON.stringify(f.file)}, "chip": ${JSON.stringify(f.chip)}${f.address !== undefined ? `, "address": ${JSON.stringify(f.address)}` : ''}, "findings": [`;
    if (f.findings.length === 0) return `${head}]}`;
    return `${head}\n${f.findings.map((x) => `    ${JSON.stringify(x)}`).join(',\n')}\n  ]}`;
  });
  return `[\n${blocks.join(',\n')}\n]\n`;
}

export const FINDINGS_JSON = join(ROOT, 'test', 'doctor', 'corpus-findings.json');

if (import.meta.url === `file://${process.argv[1]}` && process.argv.includes('--write')) {
  writeFileSync(FINDINGS_JSON, serialize(runCorpus(CORPUS)));
  console.log(`wrote ${FINDINGS_JSON}`);
}
