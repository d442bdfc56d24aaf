/**
 * Whole-process `node bin/dfukit.js convert` (start-up included: what a user and a CI step wait for), median wall
 * time and peak RSS, beside the peers that do the same job, measured in the same run:
 * - a 2 MB dual-core STM32H745 ELF pair (CM7 1 MB at 0x08000000, CM4 1 MB at 0x08100000, written by
 *   bench/elf-writer.ts) to one aligned DfuSe file with `--chip stm32h745`. Target: 0.3 s, peak RSS < 100 MB.
 *   No peer tool reads ELF and writes DfuSe in one step, so there is no peer figure.
 * - the 6 MB Intel HEX of bench/inputs.ts to DfuSe, beside `dfuse-pack -i in.hex out.dfu` (dfu-util's Python
 *   packer; it neither aligns nor merges). Its flash content is compared with dfukit's output.
 * - the same HEX to an aligned Intel HEX (`--align 32`), beside `srec_cat in.hex -intel -fill 0xFF -within
 *   in.hex -intel -range-padding 32 -o out.hex -intel`: the same job (pad each run to 32 bytes with 0xFF).
 *   The two outputs are decoded and compared.
 * Peers that are missing print n/a. Peak RSS from `/usr/bin/time -v`, else the child's own maxRSS.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { decodeFile } from '../../src/formats/decode.ts';
import type { MemoryImage } from '../../src/image/memory-image.ts';
import { writeCortexMElf } from '../elf-writer.ts';
import { fmtMB, fmtMs, fmtRatio, MB, peakRssKiB, timeProcess, type BenchCase, type BenchContext, type BenchRow } from '../lib.ts';

const RUNS = 5;
const TARGET_MS = 300;
const TARGET_RSS_MB = 100;
/** Flash bytes of each core's image. */
const CORE_BYTES = 1_000_000;

interface Pair {
  cm7: string;
  cm4: string;
  bytes: number;
}

function elfPair(ctx: BenchContext): Pair {
  const cm7 = join(ctx.tmp, 'h745-cm7-1MB.elf');
  const cm4 = join(ctx.tmp, 'h745-cm4-1MB.elf');
  const a = writeCortexMElf({ flash: 0x08000000, flashBytes: CORE_BYTES, ram: 0x24000000, stack: 0x24080000, seed: 0x7c7 });
  const b = writeCortexMElf({ flash: 0x08100000, flashBytes: CORE_BYTES, ram: 0x10000000, stack: 0x10040000, seed: 0x4c4 });
  writeFileSync(cm7, a);
  writeFileSync(cm4, b);
  return { cm7, cm4, bytes: a.length + b.length };
}

/** Peak RSS in MiB of `node bin/dfukit.js ARGS`. */
function oursRssMiB(ctx: BenchContext, args: string[]): number | undefined {
  const bin = join(ctx.root, 'bin', 'dfukit.js');
  const viaTime = peakRssKiB(process.execPath, [bin, ...args], ctx.root);
  if (viaTime !== undefined) return viaTime / 1024;
  const main = pathToFileURL(join(ctx.root, 'dist', 'src', 'cli', 'main.js')).href;
  const code = `const m = await import(${JSON.stringify(main)}); await m.main(${JSON.stringify(args)}); process.stderr.write('MAXRSS ' + process.resourceUsage().maxRSS + '\\n');`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: ctx.root, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const m = /MAXRSS (\d+)/.exec(r.stderr ?? '');
  return m === null ? undefined : Number(m[1]) / 1024;
}

function dfukit(ctx: BenchContext, args: string[]): { ms: number; text: string; ok: boolean } {
  const t = timeProcess(process.execPath, [join(ctx.root, 'bin', 'dfukit.js'), ...args], RUNS, ctx.root);
  const ok = t.status === 0;
  return { ms: t.ms, ok, text: ok ? fmtMs(t.ms) : `failed (exit ${t.status}): ${t.stderr.trim().split('\n')[0]}` };
}

/** The alt-0 flash content of a file as one image (DfuSe elements or HEX records). */
function imageOf(path: string): MemoryImage {
  const decoded = decodeFile(new Uint8Array(readFileSync(path)), { file: path, lenient: ['image-size-includes-suffix'] }).decoded;
  return decoded.targets[0]!.image;
}

/** Whether every byte the peer wrote equals dfukit's at that address (pads aside); `exact`: the ranges must be equal too. */
function sameData(oursPath: string, peerPath: string, exact: boolean): string {
  if (!existsSync(peerPath)) return 'no output';
  const a = imageOf(oursPath);
  const b = imageOf(peerPath);
  if (exact) {
    const same = a.ranges().length === b.ranges().length && a.ranges().every((r, i) => r.start === b.ranges()[i]!.start && r.end === b.ranges()[i]!.end);
    if (!same) return 'DIFFERENT ranges from dfukit';
  }
  for (const r of b.ranges()) {
    if (!a.covers(r.start, r.end)) return 'DIFFERENT ranges from dfukit';
    const x = a.read(r.start, r.end - r.start);
    const y = b.read(r.start, r.end - r.start);
    if (Buffer.compare(x, y) !== 0) return 'DIFFERENT data from dfukit';
  }
  return exact ? 'same data and ranges as dfukit' : 'same data as dfukit';
}

interface PeerRun {
  name: string;
  tool: string;
  cmd: string;
  args: string[];
  output: string;
  /** true: ranges must match too (both pad); false: only the peer's data must match ours. */
  exact: boolean;
}

function compare(ctx: BenchContext, what: string, args: string[], oursOutput: string, peer: PeerRun): BenchRow[] {
  const ours = dfukit(ctx, args);
  let peerText: string;
  let peerMs: number | undefined;
  if (!ctx.hasTool(peer.tool)) peerText = `${peer.name}: n/a (not installed)`;
  else {
    const t = timeProcess(peer.cmd, peer.args, RUNS);
    if (t.status !== 0) peerText = `${peer.name}: failed (exit ${t.status}): ${t.stderr.trim().split('\n').pop() ?? ''}`;
    else {
      peerMs = t.ms;
      peerText = `${peer.name}: ${fmtMs(t.ms)} (${ours.ok ? sameData(oursOutput, peer.output, peer.exact) : 'not compared'})`;
    }
  }
  const rss = oursRssMiB(ctx, args);
  return [
    { what: `${what}, whole process, median of ${RUNS}`, ours: ours.text, peer: peerText, ratio: ours.ok ? fmtRatio(ours.ms, peerMs) : 'n/a' },
    { what: `${what}, peak RSS`, ours: rss === undefined ? 'n/a' : `${rss.toFixed(0)} MiB`, peer: '-', ratio: '-' },
  ];
}

export const benchCase: BenchCase = {
  name: 'convert',
  order: 30,
  run(ctx) {
    ctx.log('convert: whole-process timings');
    // The floor every whole-process figure includes, measured in the same run (a loaded machine shows here).
    const node = timeProcess(process.execPath, ['-e', '0'], RUNS);
    const version = timeProcess(process.execPath, [join(ctx.root, 'bin', 'dfukit.js'), '--version'], RUNS, ctx.root);
    const rows: BenchRow[] = [{ what: `start-up floor: \`node -e 0\` / \`dfukit --version\`, median of ${RUNS}`, ours: `${fmtMs(node.ms)} / ${fmtMs(version.ms)}`, peer: '-', ratio: '-' }];

    const pair = elfPair(ctx);
    const dfuOut = join(ctx.tmp, 'h745-pair.dfu');
    const pairArgs = ['convert', '--chip', 'stm32h745', pair.cm7, pair.cm4, '-o', dfuOut];
    const ours = dfukit(ctx, pairArgs);
    const rss = oursRssMiB(ctx, pairArgs);
    const what = `\`dfukit convert --chip stm32h745\` dual-core ELF pair (${fmtMB(pair.bytes)}: CM7 + CM4, ${fmtMB(2 * CORE_BYTES)} of flash) to DfuSe`;
    rows.push({
      what: `${what}, whole process, median of ${RUNS}`,
      ours: ours.text,
      peer: 'no peer converts ELF to DfuSe in one step',
      ratio: '-',
      target: `≤ ${TARGET_MS} ms: ${ours.ok && ours.ms <= TARGET_MS ? 'met' : 'NOT met'}`,
    });
    rows.push({
      what: `${what}, peak RSS`,
      ours: rss === undefined ? 'n/a' : `${rss.toFixed(0)} MiB`,
      peer: '-',
      ratio: '-',
      target: rss === undefined ? '-' : `< ${TARGET_RSS_MB} MB: ${(rss * 1024 * 1024) / MB < TARGET_RSS_MB ? 'met' : 'NOT met'}`,
    });

    const hex = ctx.inputs.hex();
    const hexLabel = `Intel HEX (${fmtMB(hex.bytes.length)})`;
    const hexDfu = join(ctx.tmp, 'hex-ours.dfu');
    const peerDfu = join(ctx.tmp, 'hex-dfuse-pack.dfu');
    rows.push(
      ...compare(ctx, `\`dfukit convert\` ${hexLabel} to DfuSe`, ['convert', hex.path, '-o', hexDfu], hexDfu, {
        name: 'dfuse-pack -i',
        tool: 'dfuse-pack',
        cmd: '/usr/bin/python3',
        args: ['/usr/bin/dfuse-pack', '-i', hex.path, peerDfu],
        output: peerDfu,
        exact: false,
      }),
    );
    const hexOut = join(ctx.tmp, 'hex-ours.hex');
    const peerHex = join(ctx.tmp, 'hex-srec_cat.hex');
    rows.push(
      ...compare(ctx, `\`dfukit convert --align 32\` ${hexLabel} to aligned Intel HEX`, ['convert', '--align', '32', hex.path, '-o', hexOut], hexOut, {
        name: 'srec_cat -fill 0xFF -within -range-padding 32',
        tool: 'srec_cat',
        cmd: 'srec_cat',
        args: [hex.path, '-intel', '-fill', '0xFF', '-within', hex.path, '-intel', '-range-padding', '32', '-o', peerHex, '-intel'],
        output: peerHex,
        exact: true,
      }),
    );
    return rows;
  },
};
