/**
 * Fuzzing of every decoder (DESIGN.md "Tests and evidence"): for each format, at least 2 000 mutations of
 * real files (our fixtures, files made with our own encoders, and the corpus when present), decoded strict,
 * lenient and by detection in a worker thread. Every outcome must be a well-formed result or an FwError with a
 * code; no single allocation may exceed 4 x the input + 64 KiB; decoded data may not exceed the format's
 * bound; a case that makes no progress for 5 s is a hang. Deterministic: the seed (DFUKIT_FUZZ_SEED to
 * change it) and the case number of every failure are printed with a command that regenerates the case.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FORMAT_NAMES } from '../../src/formats/types.ts';
import { corpusOrSkip } from '../helpers/corpus.ts';
import { formatFailure, hex32, runFuzz, summarize } from './harness.ts';
import { MIN_BASE_CASES } from './mutate.ts';
import { runSeed } from './prng.ts';

const corpus = corpusOrSkip();
const seed = runSeed();
const SHOWN = 12;

describe('fuzz: mutated real files decode to a result or an FwError, in bounded memory and time', () => {
  for (const format of FORMAT_NAMES) {
    test(`${format}: ≥ ${MIN_BASE_CASES} mutations without the corpus, more with it`, async (t) => {
      if (corpus.skip !== false) t.diagnostic(`${corpus.skip} (fixtures and synthesized seeds only)`);
      const report = await runFuzz({ format, seed, ...(corpus.dir !== undefined ? { corpusDir: corpus.dir } : {}) });
      t.diagnostic(summarize(report));
      const shown = report.failures.slice(0, SHOWN).map(formatFailure).join('\n\n');
      const more = report.failureCount > SHOWN ? `\n\n... and ${report.failureCount - SHOWN} more` : '';
      assert.equal(report.failureCount, 0, `${report.failureCount} failing fuzz case(s) for ${format}, seed ${hex32(seed)}:\n\n${shown}${more}\n`);
      assert.ok(report.plan !== undefined && report.stats !== undefined, 'the worker finished its plan');
      assert.ok(report.plan.baseCases >= MIN_BASE_CASES, `${report.plan.baseCases} cases from fixtures and synthesized seeds, at least ${MIN_BASE_CASES} expected`);
      assert.equal(report.stats.cases, report.plan.total);
      if (corpus.dir !== undefined && format !== 'srec') assert.ok(report.plan.corpusSeeds > 0, `no corpus file was detected as ${format}`);
    });
  }
});
