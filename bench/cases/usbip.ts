/**
 * dfukit against the real dfu-util 0.11 over the same wire: each flashes the same 2 MiB .dfu (the whole flash of
 * an STM32H743, 1024-byte blocks) into its own `dfukit emulate --chip stm32h743` process over USB/IP, dfukit
 * with `--device usbip://` and dfu-util through test-peers/libusb-usbip (LD_LIBRARY_PATH). Both are measured on
 * the emulator's request log, so the figures are the device's view:
 *
 * - write requests per block: from the first request after the last erase to the last block's final GETSTATUS,
 *   divided by the blocks written (dfukit: DNLOAD + 2 GETSTATUS; dfu-util adds SET_ADDRESS + its 2 GETSTATUS
 *   before every block; dfu-protocol.md §1b);
 * - device time of erase + write on the emulator's virtual clock (erase/program times from the profile, 1 ms per
 *   control transfer), which does not depend on the host's sleeps or on --poll-scale;
 * - wall time of the whole process (dfukit without verify, as dfu-util does none), with --poll-scale 0.25 so
 *   neither sleeps real seconds per erase.
 * One run each (a 2 MiB flash is long enough to be stable; the request figures are exact). Without cc,
 * libusb-1.0-0-dev or dfu-util the peer column says n/a.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildShim, LIBUSB_HEADER, peerEnv, readLog, spawnPeer, startEmulator, within, type LogLine } from '../../test-peers/libusb-usbip/harness.ts';
import { fmtMs, fmtRatio, type BenchCase, type BenchContext, type BenchRow } from '../lib.ts';

const SIZE = 2 * 1024 * 1024;
const CHIP = 'stm32h743';
const TARGET_REQUESTS_PER_BLOCK = 3;
/**
 * bwPollTimeout × 0.25: a block's 4 ms program time is reported as 1 ms, a sector erase as 250 ms. Both hosts
 * sleep what the device reports; a scale that rounded the block's timeout to 0 would instead measure how each
 * host treats a busy device reporting 0 ms (dfu-util re-polls at once, dfukit backs off from 1 ms).
 */
const POLL_SCALE = '0.25';

/** Firmware-like bytes without 0xFF (no block is skipped as erased), a vector table at the start. */
function firmware(n: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = 0x2545f491;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = (x & 0xff) === 0xff ? 0xfe : x & 0xff;
  }
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 0x20020000, true);
  dv.setUint32(4, 0x08000101, true);
  return out;
}

interface Measured {
  blocks: number;
  writeRequests: number;
  requests: number;
  deviceMs: number;
  wallMs: number;
}

/** Figures from an emulator log of one download (erase phase, then write phase). */
function fromLog(lines: LogLine[], wallMs: number): Measured {
  const lastErase = lines.map((l) => l.command?.startsWith('ERASE ') === true).lastIndexOf(true);
  const firstErase = lines.findIndex((l) => l.command?.startsWith('ERASE ') === true);
  const lastWrite = lines.map((l) => l.op?.kind === 'write').lastIndexOf(true);
  if (lastErase < 0 || lastWrite < 0) throw new Error('the log holds no erase or no write');
  // The erase's own GETSTATUS polls end at its dfuDNLOAD_IDLE; the write phase starts after that.
  let start = lastErase + 1;
  while (start < lines.length && lines[start]!.request === 'GETSTATUS') start++;
  // The last block's final GETSTATUS (dfuDNLOAD_IDLE) ends the write phase.
  let end = lastWrite;
  while (end + 1 < lines.length && lines[end + 1]!.request === 'GETSTATUS' && lines[end]!.stateAfter !== 'dfuDNLOAD_IDLE') end++;
  const blocks = lines.filter((l) => l.command?.startsWith('WRITE ') === true).length;
  return {
    blocks,
    writeRequests: end - start + 1,
    requests: lines.length,
    deviceMs: lines[end]!.atMs + 1 - lines[firstErase]!.atMs,
    wallMs,
  };
}

async function flashOnce(ctx: BenchContext, name: string, run: (emu: { addr: string; url: string }) => { cmd: string; args: string[]; env: NodeJS.ProcessEnv }): Promise<Measured> {
  const log = join(ctx.tmp, `usbip-${name}.jsonl`);
  const emu = await startEmulator(['--chip', CHIP, '--log', log, '--poll-scale', POLL_SCALE]);
  try {
    const { cmd, args, env } = run(emu);
    const t0 = performance.now();
    const p = spawnPeer(cmd, args, env, ctx.tmp);
    const end = await within(p.done, 300_000);
    const wallMs = performance.now() - t0;
    if (end === undefined) {
      p.proc.kill('SIGKILL');
      throw new Error(`${name}: no end within 300 s`);
    }
    if (end.code !== 0) throw new Error(`${name} exited ${end.code ?? end.signal}: ${(p.stderr() || p.stdout()).slice(-400)}`);
    await emu.stop();
    return fromLog(readLog(log), wallMs);
  } finally {
    await emu.kill();
  }
}

function sec(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : fmtMs(ms);
}

export const benchCase: BenchCase = {
  name: 'usbip',
  order: 60,
  async run(ctx) {
    ctx.log(`usbip: 2 MiB into dfukit emulate --chip ${CHIP} over USB/IP, dfukit and dfu-util`);
    const bin = join(ctx.tmp, 'usbip-fw.bin');
    writeFileSync(bin, firmware(SIZE));
    const dfu = join(ctx.tmp, 'usbip-fw.dfu');
    const conv = spawnPeer(process.execPath, [join(ctx.root, 'bin', 'dfukit.js'), 'convert', `${bin}@0x08000000`, '--chip', CHIP, '-o', dfu], process.env, ctx.tmp);
    const c = await within(conv.done, 120_000);
    if (c?.code !== 0) throw new Error(`dfukit convert failed: ${conv.stderr()}`);

    const ours = await flashOnce(ctx, 'dfukit', (emu) => ({
      cmd: process.execPath,
      args: [join(ctx.root, 'bin', 'dfukit.js'), 'flash', dfu, '--device', emu.url, '--no-verify'],
      env: { ...process.env, NO_COLOR: '1' },
    }));
    let peer: Measured | undefined;
    let why = '';
    if (ctx.hasTool('dfu-util') && ctx.hasTool('cc') && existsSync(LIBUSB_HEADER)) {
      const lib = join(ctx.tmp, 'libusb-usbip');
      mkdirSync(lib, { recursive: true });
      buildShim(lib);
      peer = await flashOnce(ctx, 'dfu-util', (emu) => ({ cmd: 'dfu-util', args: ['-a', '0', '-D', dfu], env: peerEnv(emu, lib) }));
    } else why = 'n/a (needs dfu-util, cc and libusb-1.0-0-dev)';

    const what = `flash 2 MiB .dfu into emulated ${CHIP.toUpperCase()} over USB/IP (1 run; dfu-util 0.11 through libusb-usbip)`;
    const perBlock = (m: Measured): number => m.writeRequests / m.blocks;
    const rows: BenchRow[] = [
      {
        what: `${what}: write-phase requests per block`,
        ours: `${perBlock(ours).toFixed(2)} (${ours.writeRequests} requests, ${ours.blocks} blocks)`,
        peer: peer !== undefined ? `dfu-util: ${perBlock(peer).toFixed(2)} (${peer.writeRequests} requests, ${peer.blocks} blocks)` : why,
        ratio: fmtRatio(perBlock(ours), peer !== undefined ? perBlock(peer) : undefined),
        target: `≤ ${TARGET_REQUESTS_PER_BLOCK}: ${perBlock(ours) <= TARGET_REQUESTS_PER_BLOCK + 0.01 ? 'met' : 'NOT met'}`,
      },
      {
        what: `${what}: erase + write device time (virtual clock; ${ours.requests} vs ${peer?.requests ?? '-'} requests in all)`,
        ours: sec(ours.deviceMs),
        peer: peer !== undefined ? `dfu-util: ${sec(peer.deviceMs)}` : why,
        ratio: fmtRatio(ours.deviceMs, peer?.deviceMs),
        target: peer !== undefined ? `below dfu-util: ${ours.deviceMs < peer.deviceMs ? 'met' : 'NOT met'}` : '-',
      },
      {
        what: `${what}: wall time of the process (poll scale ${POLL_SCALE}; dfukit --no-verify)`,
        ours: sec(ours.wallMs),
        peer: peer !== undefined ? `dfu-util: ${sec(peer.wallMs)}` : why,
        ratio: fmtRatio(ours.wallMs, peer?.wallMs),
        target: '-',
      },
    ];
    return rows;
  },
};
