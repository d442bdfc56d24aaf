/**
 * `npm run bench` (= `npm run build && node --import tsx bench/run.ts [--runs N] [--only NAME]`): generates the
 * inputs in a temp dir, runs every case module in bench/cases/ (each exports `benchCase`), and prints one
 * markdown table (stdout; progress on stderr). A benchmark is not a test: missing peers print n/a, a missed
 * target is reported in the table, and the exit status is 0 unless a case itself crashed.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createInputs } from './inputs.ts';
import { hasTool, type BenchCase, type BenchContext, type BenchRow } from './lib.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const runs = Number(opt('--runs') ?? 10);
if (!Number.isInteger(runs) || runs < 1) {
  console.error('usage: node --import tsx bench/run.ts [--runs N] [--only CASE]');
  process.exit(2);
}
const only = opt('--only');

const tmp = mkdtempSync(join(tmpdir(), 'dfukit-bench-'));
const tools = new Map<string, boolean>();
const ctx: BenchContext = {
  root,
  tmp,
  runs,
  inputs: createInputs(tmp),
  hasTool: (name) => {
    let v = tools.get(name);
    if (v === undefined) tools.set(name, (v = hasTool(name)));
    return v;
  },
  log: (line) => process.stderr.write(`bench: ${line}\n`),
};

const cases: BenchCase[] = [];
for (const f of readdirSync(join(here, 'cases')).filter((n) => n.endsWith('.ts')).sort()) {
  const mod = (await import(pathToFileURL(join(here, 'cases', f)).href)) as { benchCase?: BenchCase };
  if (mod.benchCase === undefined) throw new Error(`bench/cases/${f} exports no benchCase`);
  if (only === undefined || mod.benchCase.name === only) cases.push(mod.benchCase);
}
cases.sort((a, b) => a.order - b.order || a.name.localeCompare(b.name));

const rows: BenchRow[] = [];
let crashed = false;
try {
  for (const c of cases) {
    try {
      rows.push(...(await c.run(ctx)));
    } catch (e) {
      crashed = true;
      rows.push({ what: `${c.name}: crashed`, ours: String((e as Error).message ?? e) });
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

const cell = (s: string | undefined): string => (s ?? '-').replace(/\|/g, '\\|');
const cpu = cpus();
console.log(`dfukit benchmarks: Node ${process.version}, ${cpu[0]?.model.trim() ?? 'unknown CPU'} x ${cpu.length}, ${process.platform}/${process.arch}\n`);
console.log('| Benchmark | dfukit | Peer | dfukit / peer | Target |');
console.log('|---|---|---|---|---|');
for (const r of rows) console.log(`| ${cell(r.what)} | ${cell(r.ours)} | ${cell(r.peer)} | ${cell(r.ratio)} | ${cell(r.target)} |`);
process.exitCode = crashed ? 1 : 0;
