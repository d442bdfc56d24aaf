/**
 * Fuzz worker: builds the plan for one format, installs the allocation meter, and runs the cases in order.
 * Before each case it stores the case number in the shared progress word, so the main thread can tell a hang
 * (no change for the stall timeout) from slow progress and name the case it stopped at.
 *
 * Messages to the main thread: `plan` (sizes), `failure` (each, up to MAX_POSTED), `done` (stats).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { installAllocationMeter } from './alloc-meter.ts';
import { emptyStats, prepareSabotage, runCase, type CallStats, type Failure, type Sabotage } from './check.ts';
import { Plan } from './mutate.ts';
import type { FormatName } from '../../src/formats/types.ts';

export interface WorkerInput {
  format: FormatName;
  seed: number;
  corpusDir?: string;
  /** [case index, sabotage]: negative controls only. */
  sabotage?: [number, Sabotage][];
  /** Run only the first N cases (negative controls). */
  maxCases?: number;
  /** Int32Array[1]: number of the case being run, 1-based (0 while planning). */
  progress: SharedArrayBuffer;
}

export interface PlanMessage {
  type: 'plan';
  total: number;
  baseCases: number;
  corpusCases: number;
  seeds: number;
  corpusSeeds: number;
  toRun: number;
}

export interface WorkerStats extends CallStats {
  cases: number;
  calls: number;
  byOrigin: Record<string, number>;
  slowest: { ms: number; index: number; seedName: string };
  ms: number;
  failureCount: number;
  failureKinds: Record<string, number>;
}

export type WorkerMessage = PlanMessage | { type: 'failure'; failure: Failure } | { type: 'done'; stats: WorkerStats };

const MAX_POSTED = 200;

const input = workerData as WorkerInput;
const port = parentPort!;
const progress = new Int32Array(input.progress);
const sabotage = new Map(input.sabotage ?? []);
if (sabotage.size > 0) prepareSabotage();

const t0 = performance.now();
const plan = new Plan(input.format, input.seed, input.corpusDir);
const toRun = Math.min(plan.total, input.maxCases ?? plan.total);
port.postMessage({
  type: 'plan',
  total: plan.total,
  baseCases: plan.baseCases,
  corpusCases: plan.corpusCases,
  seeds: plan.seeds.length,
  corpusSeeds: plan.corpusSeedCount,
  toRun,
} satisfies PlanMessage);

const meter = installAllocationMeter();
const stats: WorkerStats = {
  ...emptyStats(),
  cases: 0,
  calls: 0,
  byOrigin: {},
  slowest: { ms: 0, index: -1, seedName: '' },
  ms: 0,
  failureCount: 0,
  failureKinds: {},
};
let posted = 0;
for (let i = 0; i < toRun; i++) {
  Atomics.store(progress, 0, i + 1);
  const c = plan.caseAt(i);
  const start = performance.now();
  const s = sabotage.get(i);
  const failures = runCase(c, {
    format: input.format,
    seed: input.seed,
    corpus: input.corpusDir !== undefined,
    meter,
    stats,
    ...(s !== undefined ? { sabotage: s } : {}),
  });
  const ms = performance.now() - start;
  if (ms > stats.slowest.ms) stats.slowest = { ms, index: i, seedName: c.seedName };
  stats.cases++;
  stats.calls += 3;
  stats.byOrigin[c.origin] = (stats.byOrigin[c.origin] ?? 0) + 1;
  for (const f of failures) {
    stats.failureCount++;
    stats.failureKinds[f.kind] = (stats.failureKinds[f.kind] ?? 0) + 1;
    if (posted++ < MAX_POSTED) port.postMessage({ type: 'failure', failure: f } satisfies WorkerMessage);
  }
}
stats.ms = performance.now() - t0;
port.postMessage({ type: 'done', stats } satisfies WorkerMessage);
