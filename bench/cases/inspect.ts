/**
 * Whole-process `node bin/dfukit.js inspect FILE` (start-up included: what a user waits for), median wall time
 * beside the peers that read the same file, measured in the same run: `srec_cat FILE -intel -o /dev/null
 * -binary` and `arm-none-eabi-objcopy -I ihex -O binary` for the HEX, `arm-none-eabi-objcopy -O binary` for the
 * ELF. The peers also write the binary, so they do a little more than inspect; they are the fastest readers of
 * these formats a user has. Missing peers print n/a. objcopy's output is compared with dfukit's decode of the
 * same file (`same bytes`), which also checks the generated inputs. The start-up floor (`node -e 0`,
 * `dfukit --version`) shows how much of dfukit's time is Node itself. Peak RSS from `/usr/bin/time -v`, else
 * from the child's own `process.resourceUsage().maxRSS`.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { encodeBin } from '../../src/formats/bin.ts';
import { decodeFile } from '../../src/formats/decode.ts';
import type { FormatName } from '../../src/formats/types.ts';
import { fmtMs, fmtRatio, peakRssKiB, sameBytes, timeProcess, type BenchCase, type BenchContext, type BenchRow } from '../lib.ts';

interface Peer {
  name: string;
  tool: string;
  args: (file: string, out: string) => string[];
  /** The peer writes a binary image from the lowest address that can be compared with our decode. */
  comparable: boolean;
}

function oursRss(ctx: BenchContext, file: string): number | undefined {
  const bin = join(ctx.root, 'bin', 'dfukit.js');
  const viaTime = peakRssKiB(process.execPath, [bin, 'inspect', file], ctx.root);
  if (viaTime !== undefined) return viaTime;
  // No GNU time: the child reports its own peak (maxRSS is in KiB) after running the CLI in-process.
  const main = pathToFileURL(join(ctx.root, 'dist', 'src', 'cli', 'main.js')).href;
  const code = `const m = await import(${JSON.stringify(main)}); await m.main(['inspect', ${JSON.stringify(file)}]); process.stderr.write('MAXRSS ' + process.resourceUsage().maxRSS + '\\n');`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: ctx.root, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const m = /MAXRSS (\d+)/.exec(r.stderr ?? '');
  return m === null ? undefined : Number(m[1]);
}

function rows(ctx: BenchContext, label: string, format: FormatName, file: { path: string; bytes: Uint8Array }, peers: Peer[]): BenchRow[] {
  const runs = Math.max(3, Math.ceil(ctx.runs / 2));
  const bin = join(ctx.root, 'bin', 'dfukit.js');
  const what = `\`dfukit inspect\` ${label}, whole process, median of ${runs}`;
  const ours = timeProcess(process.execPath, [bin, 'inspect', file.path], runs, ctx.root);
  const oursText = ours.status === 0 ? fmtMs(ours.ms) : `failed (exit ${ours.status}): ${ours.stderr.trim().split('\n')[0]}`;
  const image = decodeFile(file.bytes, { format }).decoded.targets[0]!.image;
  const expected = encodeBin(image).bytes;
  const out: BenchRow[] = [];
  for (const p of peers) {
    let peerText: string;
    let peerMs: number | undefined;
    if (!ctx.hasTool(p.tool)) {
      peerText = `${p.name}: n/a (not installed)`;
    } else {
      const output = join(ctx.tmp, `peer-${p.tool}.bin`);
      const t = timeProcess(p.tool, p.args(file.path, output), runs);
      if (t.status === 0) {
        peerMs = t.ms;
        const agree = p.comparable ? (sameBytes(output, expected) ? ' (same bytes as dfukit)' : ' (DIFFERENT bytes from dfukit)') : '';
        peerText = `${p.name}: ${fmtMs(t.ms)}${agree}`;
      } else {
        peerText = `${p.name}: failed (exit ${t.status})`;
      }
    }
    out.push({ what, ours: oursText, peer: peerText, ratio: ours.status === 0 ? fmtRatio(ours.ms, peerMs) : 'n/a' });
  }
  const rss = oursRss(ctx, file.path);
  out.push({ what: `\`dfukit inspect\` ${label}, peak RSS`, ours: rss === undefined ? 'n/a' : `${(rss / 1024).toFixed(0)} MiB`, peer: '-', ratio: '-' });
  return out;
}

export const benchCase: BenchCase = {
  name: 'inspect',
  order: 20,
  run(ctx) {
    ctx.log('inspect: whole-process timings');
    const runs = Math.max(3, Math.ceil(ctx.runs / 2));
    const node = timeProcess(process.execPath, ['-e', '0'], runs);
    const version = timeProcess(process.execPath, [join(ctx.root, 'bin', 'dfukit.js'), '--version'], runs, ctx.root);
    const hex = ctx.inputs.hex();
    const elf = ctx.inputs.elf();
    return [
      { what: `start-up floor: \`node -e 0\` / \`dfukit --version\`, median of ${runs}`, ours: `${fmtMs(node.ms)} / ${fmtMs(version.ms)}`, peer: '-', ratio: '-' },
      ...rows(ctx, `Intel HEX (${(hex.bytes.length / 1e6).toFixed(1)} MB)`, 'ihex', hex, [
        { name: 'srec_cat -intel -o /dev/null -binary', tool: 'srec_cat', args: (f) => [f, '-intel', '-o', '/dev/null', '-binary'], comparable: false },
        { name: 'objcopy -I ihex -O binary', tool: 'arm-none-eabi-objcopy', args: (f, o) => ['-I', 'ihex', '-O', 'binary', f, o], comparable: true },
      ]),
      ...rows(ctx, `ELF (${(elf.bytes.length / 1e6).toFixed(1)} MB)`, 'elf', elf, [
        { name: 'arm-none-eabi-objcopy -O binary', tool: 'arm-none-eabi-objcopy', args: (f, o) => ['-O', 'binary', f, o], comparable: true },
      ]),
    ];
  },
};
