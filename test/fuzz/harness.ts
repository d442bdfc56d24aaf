/**
 * Main-thread side of the fuzzer: runs one format's plan in a worker thread and watches it. Decoding is
 * synchronous, so a case that never returns can only be stopped from outside: the worker stores the number
 * of the case it starts in a shared word, and when that word has not changed for `stallMs` the worker is
 * terminated and the case is reported as a hang (its description regenerated here from the same plan).
 *
 * The worker is started from a small eval'd bootstrap that registers tsx's loader and imports worker.ts:
 * on Node 20 `execArgv: ['--import', 'tsx']` is not applied to worker threads (the preload never runs, and
 * the .ts entry fails with ERR_UNKNOWN_FILE_EXTENSION), so the loader is registered through `tsx/esm/api`.
 */
import { Worker } from 'node:worker_threads';
import type { FormatName } from '../../src/formats/types.ts';
import { allocationLimit, type Failure, type Sabotage } from './check.ts';
import { Plan } from './mutate.ts';
import type { PlanMessage, WorkerInput, WorkerMessage, WorkerStats } from './worker.ts';

export interface FuzzOptions {
  format: FormatName;
  seed: number;
  corpusDir?: string;
  sabotage?: [number, Sabotage][];
  maxCases?: number;
  /** A case that makes no progress for this long is a hang. Default 5 s. */
  stallMs?: number;
  /** Time allowed to start the worker and build the plan. Default 60 s. */
  startupMs?: number;
}

export interface FuzzReport {
  format: FormatName;
  seed: number;
  corpus: boolean;
  plan?: PlanMessage;
  stats?: WorkerStats;
  /** Failures posted by the worker (at most 200), plus a hang or crash. */
  failures: Failure[];
  /** All failures, including the ones not posted. */
  failureCount: number;
  /** Cases started (the last one may have hung). */
  started: number;
  ms: number;
}

const WORKER_URL = new URL('./worker.ts', import.meta.url).href;
const TSX_API = import.meta.resolve('tsx/esm/api');

export function runFuzz(o: FuzzOptions): Promise<FuzzReport> {
  const stallMs = o.stallMs ?? 5000;
  const startupMs = o.startupMs ?? 60_000;
  const progressBuffer = new SharedArrayBuffer(4);
  const progress = new Int32Array(progressBuffer);
  const data: WorkerInput = {
    format: o.format,
    seed: o.seed,
    progress: progressBuffer,
    ...(o.corpusDir !== undefined ? { corpusDir: o.corpusDir } : {}),
    ...(o.sabotage !== undefined ? { sabotage: o.sabotage } : {}),
    ...(o.maxCases !== undefined ? { maxCases: o.maxCases } : {}),
  };
  const bootstrap = `import(${JSON.stringify(TSX_API)}).then((m) => { m.register(); return import(${JSON.stringify(WORKER_URL)}); })`;
  const t0 = performance.now();
  const report: FuzzReport = { format: o.format, seed: o.seed, corpus: o.corpusDir !== undefined, failures: [], failureCount: 0, started: 0, ms: 0 };

  return new Promise((resolve) => {
    const worker = new Worker(bootstrap, { eval: true, execArgv: [], workerData: data, resourceLimits: { maxOldGenerationSizeMb: 2048 } });
    let settled = false;
    let stopping = false;
    let last = 0;
    let lastChange = performance.now();
    const finish = (): void => {
      if (settled) return;
      settled = true;
      clearInterval(timer);
      report.started = Atomics.load(progress, 0);
      report.ms = performance.now() - t0;
      resolve(report);
    };
    const stop = (kind: 'hang' | 'worker-crash', detail: string, stack?: string): void => {
      if (settled || stopping) return;
      stopping = true;
      const started = Atomics.load(progress, 0);
      report.failures.push(describeStop(o, started - 1, kind, detail, stack));
      report.failureCount++;
      void worker.terminate().finally(finish);
    };
    const timer = setInterval(() => {
      const now = performance.now();
      const p = Atomics.load(progress, 0);
      if (p !== last) {
        last = p;
        lastChange = now;
        return;
      }
      if (report.plan === undefined) {
        if (now - t0 > startupMs) stop('hang', `the worker did not finish planning within ${startupMs} ms`);
      } else if (now - lastChange > stallMs) {
        stop('hang', `no progress for ${stallMs} ms: the decoder did not return, so the worker was terminated`);
      }
    }, Math.min(250, Math.max(20, stallMs / 4)));

    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'plan') {
        report.plan = m;
        lastChange = performance.now();
      } else if (m.type === 'failure') {
        report.failures.push(m.failure);
      } else {
        report.stats = m.stats;
        report.failureCount += m.stats.failureCount;
      }
    });
    worker.on('error', (e) => stop('worker-crash', `the worker died: ${e.name}: ${e.message}`, e.stack));
    worker.on('exit', (code) => {
      if (!settled && !stopping && report.stats === undefined) {
        report.failures.push(describeStop(o, Atomics.load(progress, 0) - 1, 'worker-crash', `the worker exited with code ${code} before finishing`));
        report.failureCount++;
      }
      finish();
    });
  });
}

/** A hang or crash, described from the plan (regenerated here: case i depends only on the seed, format and i). */
function describeStop(o: FuzzOptions, index: number, kind: 'hang' | 'worker-crash', detail: string, stack?: string): Failure {
  const f: Failure = {
    format: o.format,
    seed: o.seed,
    index,
    corpus: o.corpusDir !== undefined,
    seedName: '(planning)',
    origin: '',
    mutation: '',
    inputLength: 0,
    call: 'worker',
    kind,
    detail,
    ...(stack !== undefined ? { stack } : {}),
  };
  if (index >= 0) {
    try {
      const c = new Plan(o.format, o.seed, o.corpusDir).caseAt(index);
      Object.assign(f, { seedName: c.seedName, origin: c.origin, mutation: c.mutation, inputLength: c.bytes.length });
    } catch (e) {
      f.mutation = `(could not regenerate the case: ${(e as Error).message})`;
    }
  }
  return f;
}

export function hex32(v: number): string {
  return `0x${(v >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;
}

export function reproCommand(f: Pick<Failure, 'format' | 'seed' | 'index' | 'corpus'>): string {
  return `node --import tsx test/fuzz/repro.ts ${f.format} ${f.index} --seed ${hex32(f.seed)}${f.corpus ? ' --corpus' : ''}`;
}

export function formatFailure(f: Failure): string {
  const lines = [
    `[${f.format}] case ${f.index} (seed ${hex32(f.seed)}${f.corpus ? ', with corpus' : ''}): ${f.kind} (${f.call === 'worker' ? 'worker' : `${f.call} call${f.call.includes(',') ? 's' : ''}`})`,
    `  seed file: ${f.seedName} (${f.origin}), mutated to ${f.inputLength} bytes`,
    `  mutation:  ${f.mutation}`,
    `  problem:   ${f.detail}`,
  ];
  if (f.stack !== undefined) {
    lines.push(
      ...f.stack
        .split('\n')
        .filter((l) => /^\s+at /.test(l))
        .slice(0, 6)
        .map((l) => `    ${l.trim()}`),
    );
  }
  lines.push(`  reproduce: ${reproCommand(f)}`);
  return lines.join('\n');
}

export function summarize(r: FuzzReport): string {
  const s = r.stats;
  const p = r.plan;
  if (s === undefined || p === undefined) return `${r.format}: incomplete run (${r.started} cases started, ${r.failureCount} failures) in ${(r.ms / 1000).toFixed(1)} s`;
  const topCodes = Object.entries(s.codes)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6)
    .map(([c, n]) => `${c} ${n}`)
    .join(', ');
  return [
    `${r.format}: ${s.cases} cases (${p.baseCases} from fixtures/synthesized seeds, ${p.corpusCases} from ${p.corpusSeeds} corpus files), ${s.calls} decodes, seed ${hex32(r.seed)}, ${(r.ms / 1000).toFixed(1)} s`,
    `  outcomes: ${s.ok} ok; FwError codes: ${topCodes}${Object.keys(s.codes).length > 6 ? `, ... (${Object.keys(s.codes).length} codes)` : ''}`,
    `  largest allocation ${s.maxAlloc.bytes} bytes for a ${s.maxAlloc.inputLength}-byte input (${((100 * s.maxAlloc.bytes) / allocationLimit(s.maxAlloc.inputLength)).toFixed(0)}% of its limit; case ${s.maxAlloc.index}, ${s.maxAlloc.what}); ` +
      `largest data ${s.maxData.ratio.toFixed(2)}x input (case ${s.maxData.index}); slowest case ${s.slowest.ms.toFixed(1)} ms (case ${s.slowest.index})`,
    `  failures: ${r.failureCount}${r.failureCount > 0 ? ` (${Object.entries(s.failureKinds).map(([k, n]) => `${k} ${n}`).join(', ')})` : ''}`,
  ].join('\n');
}
