/**
 * What every benchmark case shares: the context (temp dir, generated inputs, peer tools), timing helpers
 * (median of N after warm-up, in-process and whole-process), peak RSS, and the row type of the printed table.
 *
 * A case is a module in bench/cases/ exporting `benchCase: BenchCase`; bench/run.ts finds them itself, so a
 * later issue adds convert/flash/diff benchmarks by adding a file.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type { BenchInputs } from './inputs.ts';

export interface BenchRow {
  /** What is measured, e.g. `decode Intel HEX (6.3 MB), in-process`. */
  what: string;
  /** dfukit's figure, formatted with its unit. */
  ours: string;
  /** The peer tool and its figure, or `n/a`. */
  peer?: string;
  /** ours / peer (for times: below 1 means dfukit is faster). */
  ratio?: string;
  /** The target, and whether it is met. */
  target?: string;
}

export interface BenchContext {
  /** Repository root (bin/dfukit.js lives there). */
  root: string;
  /** Scratch directory for generated inputs and outputs; removed afterwards. */
  tmp: string;
  /** Measured runs per figure (after warm-up). */
  runs: number;
  inputs: BenchInputs;
  hasTool(name: string): boolean;
  /** Progress lines go to stderr, so the table on stdout stays clean. */
  log(line: string): void;
}

export interface BenchCase {
  name: string;
  /** Lower runs first. */
  order: number;
  run(ctx: BenchContext): Promise<BenchRow[]> | BenchRow[];
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Median wall time of `fn` in ms, after `warmup` unmeasured calls. */
export function timeInProcess(fn: () => unknown, runs: number, warmup = 3): number {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

export interface ProcessTiming {
  /** Median wall time in ms. */
  ms: number;
  /** Exit status of the last run. */
  status: number | null;
  stderr: string;
}

/** Median wall time of a whole process (fork + exec + run), after one warm-up run (file cache, JIT caches). */
export function timeProcess(cmd: string, args: string[], runs: number, cwd?: string): ProcessTiming {
  const once = (): { ms: number; status: number | null; stderr: string } => {
    const t0 = performance.now();
    const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', input: '', maxBuffer: 256 * 1024 * 1024, timeout: 120_000 });
    return { ms: performance.now() - t0, status: r.status, stderr: r.stderr ?? '' };
  };
  once();
  const rs = Array.from({ length: runs }, once);
  const last = rs[rs.length - 1]!;
  return { ms: median(rs.map((r) => r.ms)), status: last.status, stderr: last.stderr };
}

/**
 * Peak resident set size of a process in KiB: `/usr/bin/time -v` when present (GNU time), else undefined
 * (callers fall back to the child's own `process.resourceUsage().maxRSS`).
 */
export function peakRssKiB(cmd: string, args: string[], cwd?: string): number | undefined {
  if (!existsSync('/usr/bin/time')) return undefined;
  const r = spawnSync('/usr/bin/time', ['-v', cmd, ...args], { cwd, encoding: 'utf8', input: '', maxBuffer: 256 * 1024 * 1024, timeout: 120_000 });
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr ?? '');
  return m === null ? undefined : Number(m[1]);
}

export function hasTool(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).status === 0;
}

export const MB = 1_000_000;

export function fmtMs(ms: number): string {
  return ms >= 100 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(1)} ms`;
}

export function fmtRatio(ours: number, peer: number | undefined): string {
  return peer === undefined || peer === 0 ? 'n/a' : `${(ours / peer).toFixed(2)}x`;
}

export function fmtMB(bytes: number): string {
  return `${(bytes / MB).toFixed(1)} MB`;
}

export function sameBytes(a: string, b: Uint8Array): boolean {
  if (!existsSync(a)) return false;
  const x = readFileSync(a);
  return x.length === b.length && x.equals(b);
}
