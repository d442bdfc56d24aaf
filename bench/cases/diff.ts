/**
 * `diffImages` on 2 MiB images (the size of a large STM32H7 application), in-process, median of N after warm-up:
 * - 300 scattered one-byte differences (a different build): the common case, target < 100 ms;
 * - one 128 KiB sector not written and the last partial 32-byte unit lost (the classifier's structural paths);
 * - the whole image flashed 0x400 too high (shift detection searches and verifies the offset).
 * Then the whole process, `dfukit diff a.bin@ADDR b.bin@ADDR --json` on the scattered case, beside the peers that
 * compare the same two files: `cmp -l` (lists every differing byte) and `srec_cmp -v` (srecord: ranges).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryImage } from '../../src/image/memory-image.ts';
import { diffImages } from '../../src/verify/diff.ts';
import { resolveChip } from '../../src/layout/chips.ts';
import { fmtMs, fmtRatio, timeInProcess, timeProcess, type BenchCase, type BenchContext, type BenchRow } from '../lib.ts';

const SIZE = 2 * 1024 * 1024 - 4;
const BASE = 0x08000000;
const TARGET_MS = 100;

/** xorshift32 bytes, never 0xFF (firmware rarely holds long erased runs inside code). */
function firmware(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = (x & 0xff) === 0xff ? 0xfe : x & 0xff;
  }
  return out;
}

function image(bytes: Uint8Array, addr = BASE): MemoryImage {
  const m = new MemoryImage();
  m.add(addr, bytes);
  return m;
}

function inProcess(ctx: BenchContext, what: string, expected: MemoryImage, actual: MemoryImage, check: (classes: string[]) => boolean, target?: number): BenchRow {
  const opts = { chip: resolveChip('stm32h743') };
  const report = diffImages(expected, actual, opts);
  const classes = [...new Set(report.ranges.map((r) => r.class))];
  if (!check(classes)) throw new Error(`${what}: unexpected classes ${classes.join(', ')}`);
  const ms = timeInProcess(() => diffImages(expected, actual, opts), ctx.runs);
  return {
    what: `diff 2 MiB vs 2 MiB, ${what}: ${report.ranges.length} ranges (${classes.join(', ')}), in-process, median of ${ctx.runs}`,
    ours: fmtMs(ms),
    peer: '-',
    ratio: '-',
    target: target === undefined ? '-' : `< ${target} ms: ${ms < target ? 'met' : 'NOT met'}`,
  };
}

export const benchCase: BenchCase = {
  name: 'diff',
  order: 40,
  run(ctx) {
    ctx.log('diff: in-process on 2 MiB images, then whole process beside cmp and srec_cmp');
    const a = firmware(SIZE, 0x5eed);
    const expected = image(a);

    // 300 scattered one-byte changes (never to 0xFF, never a pure bit-clear: a rebuild, not a flash fault).
    const b = a.slice();
    const pos = firmware(600, 0xd1ff);
    for (let i = 0; i < 300; i++) {
      const k = (((pos[2 * i]! << 8) | pos[2 * i + 1]!) * 31 + i * 6983) % SIZE;
      b[k] = (a[k]! ^ 0x5a) === 0xff ? a[k]! ^ 0x3c : a[k]! ^ 0x5a;
    }
    const scattered = image(b);

    const faulty = a.slice();
    faulty.fill(0xff, 0x60000, 0x80000);
    faulty.fill(0xff, SIZE - (SIZE % 32));
    const shifted = new Uint8Array(SIZE).fill(0xff);
    shifted.set(a.subarray(0, SIZE - 0x400), 0x400);

    const rows: BenchRow[] = [
      inProcess(ctx, '300 scattered byte changes', expected, scattered, (c) => c.length === 1 && c[0] === 'different-build', TARGET_MS),
      inProcess(ctx, 'a sector not written and the tail unit lost', expected, image(faulty), (c) => c.join() === 'not-written,tail-lost', TARGET_MS),
      inProcess(ctx, 'the image flashed 0x400 too high', expected, image(shifted), (c) => c.includes('shifted'), TARGET_MS),
    ];

    // Whole process, the scattered case, beside the peers.
    const fa = join(ctx.tmp, 'diff-a.bin');
    const fb = join(ctx.tmp, 'diff-b.bin');
    writeFileSync(fa, a);
    writeFileSync(fb, b);
    const runs = Math.max(3, Math.ceil(ctx.runs / 2));
    const bin = join(ctx.root, 'bin', 'dfukit.js');
    const ours = timeProcess(process.execPath, [bin, 'diff', `${fa}@0x08000000`, `${fb}@0x08000000`, '--json'], runs, ctx.root);
    const oursText = ours.status === 1 ? fmtMs(ours.ms) : `failed (exit ${ours.status}): ${ours.stderr.trim().split('\n')[0]}`;
    const peers: { name: string; tool: string; args: string[]; ok: (s: number | null) => boolean }[] = [
      { name: 'cmp -l', tool: 'cmp', args: ['-l', fa, fb], ok: (s) => s === 1 },
      { name: 'srec_cmp -v', tool: 'srec_cmp', args: [fa, '-binary', fb, '-binary', '-v'], ok: (s) => s === 2 || s === 1 },
    ];
    for (const p of peers) {
      let peer: string;
      let peerMs: number | undefined;
      if (!ctx.hasTool(p.tool)) peer = `${p.name}: n/a (not installed)`;
      else {
        const t = timeProcess(p.tool, p.args, runs);
        peerMs = t.ms;
        peer = p.ok(t.status) ? `${p.name}: ${fmtMs(t.ms)}` : `${p.name}: exit ${t.status}`;
      }
      rows.push({
        what: `\`dfukit diff --json\` 2 MiB .bin files, 300 scattered changes, whole process, median of ${runs}`,
        ours: oursText,
        peer,
        ratio: fmtRatio(ours.ms, peerMs),
        target: '-',
      });
    }
    return rows;
  },
};
