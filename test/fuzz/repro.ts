/**
 * Regenerates one fuzz case, writes it to a file and decodes it in-process (no meter, full stack traces):
 *
 *   node --import tsx test/fuzz/repro.ts <format> <case> [--seed 0x...] [--corpus] [--out FILE]
 *
 * The failure messages of test/fuzz/formats.test.ts print this command for every failing case.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeFile, type DecodeFileOptions } from '../../src/formats/decode.ts';
import { FORMAT_NAMES, type FormatName } from '../../src/formats/types.ts';
import { CORPUS } from '../helpers/corpus.ts';
import { EVERY_LENIENCY } from './check.ts';
import { hex32 } from './harness.ts';
import { Plan } from './mutate.ts';
import { DEFAULT_SEED } from './prng.ts';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const [format, indexText] = args.filter((a, i) => !a.startsWith('--') && !(i > 0 && ['--seed', '--out'].includes(args[i - 1]!)));
if (format === undefined || !FORMAT_NAMES.includes(format as FormatName) || indexText === undefined) {
  console.error('usage: node --import tsx test/fuzz/repro.ts <elf|ihex|srec|dfuse|dfu|bin> <case> [--seed 0x...] [--corpus] [--out FILE]');
  process.exit(2);
}
const seed = flag('--seed') !== undefined ? Number(flag('--seed')) : DEFAULT_SEED;
const plan = new Plan(format as FormatName, seed, args.includes('--corpus') ? CORPUS : undefined);
const c = plan.caseAt(Number(indexText));
const out = flag('--out') ?? join(tmpdir(), `dfukit-fuzz-${format}-${hex32(seed)}-${c.index}.bin`);
writeFileSync(out, c.bytes);
console.log(`case ${c.index} of ${plan.total} (${format}, seed ${hex32(seed)})`);
console.log(`seed file: ${c.seedName} (${c.origin})`);
console.log(`mutation:  ${c.mutation}`);
console.log(`written:   ${out} (${c.bytes.length} bytes); address ${c.address !== undefined ? hex32(c.address) : 'none'}`);
const base = { file: c.seedName, ...(c.address !== undefined ? { address: c.address } : {}) };
const calls: [string, DecodeFileOptions][] = [
  ['strict', { ...base, format: format as FormatName }],
  ['lenient', { ...base, format: format as FormatName, lenient: EVERY_LENIENCY, overwrite: true }],
  ['detect', c.index % 2 === 0 ? base : { ...base, lenient: EVERY_LENIENCY, overwrite: true }],
];
for (const [name, opts] of calls) {
  try {
    const df = decodeFile(c.bytes, opts);
    const size = df.decoded.targets.reduce((n, t) => n + t.image.size, 0);
    console.log(`${name}: ok, ${df.detection.format}, ${df.decoded.targets.length} target(s), ${size} data bytes, ${df.decoded.notes.length} notes`);
  } catch (e) {
    const err = e as { code?: string; stack?: string };
    console.log(`${name}: ${err.code !== undefined ? `FwError ${err.code}: ` : ''}${err.stack ?? String(e)}`);
  }
}
