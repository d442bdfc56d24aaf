/**
 * Negative controls of the fuzz harness: deliberately broken decoders that it must catch, each at a known
 * case, reported with the seed, the case number and the mutation. A harness that passes everything would
 * fail here.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FailureKind, Sabotage } from './check.ts';
import { formatFailure, runFuzz } from './harness.ts';

const SEED = 0x0bad_5eed;

describe('fuzz harness negative controls', () => {
  test('every kind of broken decoder is reported at its case; a view over an existing buffer is not an allocation', async () => {
    // [case, sabotage, expected kind, text the report must contain]
    const plan: [number, Sabotage, FailureKind | undefined, string][] = [
      [3, 'type-error', 'non-fwerror', 'TypeError'],
      [5, 'range-error', 'non-fwerror', 'RangeError'],
      [7, 'plain-error', 'non-fwerror', 'Error: decoder gave up'],
      [9, 'fwerror-without-code', 'bad-code', 'FwError with code ""'],
      [11, 'alloc-1gb', 'allocation', 'new Uint8Array(1073741824)'],
      [13, 'alloc-uint32', 'allocation', 'new Uint32Array(67108864) asked for 268435456 bytes'],
      [15, 'alloc-arraybuffer', 'allocation', 'new ArrayBuffer(536870912)'],
      [17, 'alloc-array', 'allocation', 'Array(100000000)'],
      [19, 'alloc-array-from', 'allocation', 'new Uint8Array(300000000)'],
      [21, 'alloc-buffer', 'allocation', 'Buffer.alloc(268435456)'],
      [23, 'alloc-string', 'allocation', 'String#repeat(400000000)'],
      [25, 'alloc-swallowed', 'allocation', 'new ArrayBuffer(2147483648)'],
      [27, 'amplify', 'amplification', '100.00x'],
      [29, 'view-ok', undefined, ''],
    ];
    const report = await runFuzz({ format: 'ihex', seed: SEED, maxCases: 32, sabotage: plan.map(([i, s]) => [i, s]) });
    // The worker survived every refused allocation and finished.
    assert.ok(report.stats !== undefined, `the worker did not finish: ${report.failures.map(formatFailure).join('\n')}`);
    assert.equal(report.stats.cases, 32);
    for (const [index, sabotage, kind, text] of plan) {
      const strict = report.failures.filter((f) => f.index === index && f.call.split(', ').includes('strict'));
      if (kind === undefined) {
        assert.deepEqual(strict, [], `${sabotage} at case ${index} must not be reported`);
        continue;
      }
      assert.equal(strict.length, 1, `${sabotage} at case ${index}: expected one ${kind} failure, got ${JSON.stringify(strict.map((f) => f.kind))}`);
      const f = strict[0]!;
      assert.equal(f.kind, kind, `${sabotage} at case ${index}`);
      const shown = formatFailure(f);
      assert.ok(shown.includes(text), `${sabotage}: report lacks ${JSON.stringify(text)}:\n${shown}`);
      assert.ok(shown.includes(`case ${index} (seed 0x0BAD5EED`), shown);
      assert.ok(shown.includes(`test/fuzz/repro.ts ihex ${index} --seed 0x0BAD5EED`), shown);
      assert.match(f.mutation, /./, 'the mutation is described');
      assert.match(f.seedName, /./, 'the seed file is named');
    }
  });

  test('a decoder that never returns is stopped by the watchdog and reported as a hang of its case', async () => {
    const t0 = performance.now();
    const report = await runFuzz({ format: 'dfu', seed: SEED, maxCases: 10, stallMs: 1000, sabotage: [[4, 'hang']] });
    assert.equal(report.stats, undefined, 'the worker was terminated before finishing');
    assert.equal(report.failures.length, 1, report.failures.map(formatFailure).join('\n'));
    const f = report.failures[0]!;
    assert.equal(f.kind, 'hang');
    assert.equal(f.index, 4);
    assert.match(f.detail, /no progress for 1000 ms/);
    assert.match(f.mutation, /./, 'the hung case is described (regenerated from the plan)');
    assert.ok(performance.now() - t0 < 20_000, 'the hang was detected promptly');
  });
});
