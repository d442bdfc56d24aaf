/**
 * What the USB/IP peer tests (test-peers/usbip-*.test.ts) and the USB/IP benchmark (bench/cases/usbip.ts) share:
 *  - `buildShim`: compiles libusb-usbip.c into DIR/libusb-1.0.so.0 with the system cc (the same command as the
 *    Makefile), so dfu-util and pyusb load it through LD_LIBRARY_PATH; never committed as a binary;
 *  - `startEmulator`: `node bin/dfukit.js emulate ... --listen 127.0.0.1:0`, waiting (bounded) for its
 *    `listening on` line; every emulator started is killed when the test process exits, whatever happens;
 *  - `runPeer` / `spawnPeer`: dfu-util or /usr/bin/python3 with DFUKIT_USBIP and LD_LIBRARY_PATH set, bounded;
 *  - `readLog`: the emulator's JSON-lines request log.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHIM_SOURCE = join(ROOT, 'test-peers', 'libusb-usbip', 'libusb-usbip.c');
export const LIBUSB_HEADER = '/usr/include/libusb-1.0/libusb.h';
/** Debian's interpreter: the one that sees python3-usb (a pyenv `python3` on PATH may not; peers.md). */
export const SYSTEM_PYTHON = '/usr/bin/python3';

function which(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).status === 0;
}

/**
 * `false` when cc, libusb-1.0-0-dev's header and the named tools are there, else a skip reason; under CI=true
 * (.ci/run installs dfu-util python3-usb libusb-1.0-0-dev) a missing piece throws instead.
 */
export function usbipPeersOrSkip(...tools: string[]): false | string {
  const missing = ['cc', ...tools].filter((t) => (t.startsWith('/') ? !existsSync(t) : !which(t)));
  if (!existsSync(LIBUSB_HEADER)) missing.push(`${LIBUSB_HEADER} (libusb-1.0-0-dev)`);
  if (tools.includes(SYSTEM_PYTHON) && existsSync(SYSTEM_PYTHON) && spawnSync(SYSTEM_PYTHON, ['-c', 'import usb.backend.libusb1'], { encoding: 'utf8' }).status !== 0) missing.push('python3-usb');
  if (missing.length === 0) return false;
  if (process.env.CI === 'true') throw new Error(`USB/IP peer prerequisites missing in CI: ${missing.join(', ')}`);
  return `USB/IP peer prerequisites missing: ${missing.join(', ')} - skipping (apt-get install -y --no-install-recommends libusb-1.0-0-dev dfu-util python3-usb)`;
}

/** Compiles the shim into `dir`/libusb-1.0.so.0; returns `dir` (for LD_LIBRARY_PATH). */
export function buildShim(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const out = join(dir, 'libusb-1.0.so.0');
  const r = spawnSync('cc', ['-O2', '-g', '-Wall', '-Wextra', '-Werror', '-std=gnu11', '-fPIC', '-shared', '-I/usr/include/libusb-1.0', '-Wl,-soname,libusb-1.0.so.0', '-o', out, SHIM_SOURCE], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`building ${out} failed (cc exit ${r.status}):\n${r.stdout}${r.stderr}`);
  return dir;
}

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

export interface Emulator {
  readonly proc: ChildProcess;
  readonly port: number;
  /** `127.0.0.1:PORT`, for DFUKIT_USBIP. */
  readonly addr: string;
  /** `usbip://127.0.0.1:PORT`, for dfukit --device. */
  readonly url: string;
  /** Everything it printed so far. */
  stdout(): string;
  stderr(): string;
  /** SIGTERM and wait (bounded) for its exit; SIGKILL if it does not go. Resolves with its exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL, no clean-up on its side; resolves once it is gone. */
  kill(): Promise<void>;
}

function exited(p: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), timeoutMs);
    p.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

/** Starts `dfukit emulate ARGS --listen 127.0.0.1:0` and waits (at most `timeoutMs`) for `listening on`. */
export async function startEmulator(args: string[], timeoutMs = 20_000): Promise<Emulator> {
  const proc = spawn(process.execPath, [join(ROOT, 'bin', 'dfukit.js'), 'emulate', ...args, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`dfukit emulate ${args.join(' ')} printed no 'listening on' line within ${timeoutMs} ms:\n${out}${err}`));
    }, timeoutMs);
    const check = (): void => {
      const m = /^listening on 127\.0\.0\.1:(\d+)$/m.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    proc.stdout!.on('data', check);
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`dfukit emulate ${args.join(' ')} exited (${code ?? signal}) before listening:\n${out}${err}`));
    });
    check();
  });
  return {
    proc,
    port,
    addr: `127.0.0.1:${port}`,
    url: `usbip://127.0.0.1:${port}`,
    stdout: () => out,
    stderr: () => err,
    stop: async () => {
      proc.kill('SIGTERM');
      if (!(await exited(proc, 5000))) {
        proc.kill('SIGKILL');
        await exited(proc, 5000);
      }
      return proc.exitCode;
    },
    kill: async () => {
      proc.kill('SIGKILL');
      await exited(proc, 5000);
    },
  };
}

export function peerEnv(emu: { addr: string }, libDir: string): NodeJS.ProcessEnv {
  return { ...process.env, DFUKIT_USBIP: emu.addr, LD_LIBRARY_PATH: libDir, LC_ALL: 'C' };
}

/** Runs a peer (dfu-util, python) against the emulator through the shim; bounded by `timeoutMs`. */
export function runPeer(cmd: string, args: string[], emu: { addr: string }, libDir: string, opts: { timeoutMs?: number; cwd?: string } = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, {
    encoding: 'utf8',
    input: '',
    timeout: opts.timeoutMs ?? 120_000,
    maxBuffer: 64 * 1024 * 1024,
    env: peerEnv(emu, libDir),
    ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
  });
}

export interface RunningPeer {
  readonly proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or signal) once it has ended. */
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts a peer in the background (for runs the test ends itself: a wedged dfu-util). Killed at exit at the latest. */
export function spawnPeer(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): RunningPeer {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env, ...(cwd !== undefined ? { cwd } : {}) });
  children.add(proc);
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => {
      children.delete(proc);
      resolve({ code, signal });
    }),
  );
  return { proc, stdout: () => out, stderr: () => err, done };
}

/** `p`, or undefined when it has not settled within `ms` (the timer does not keep the process alive). */
export async function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)));
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `cond` every `everyMs` until it holds or `timeoutMs` passes; returns whether it held. */
export async function waitFor(cond: () => boolean, timeoutMs: number, everyMs = 20): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return cond();
}

export interface LogLine {
  device: number;
  seq: number;
  atMs: number;
  request: string;
  direction: 'in' | 'out';
  wValue: number;
  wIndex: number;
  wLength: number;
  alt: number;
  stateBefore: string;
  stateAfter: string;
  status: string;
  result: string;
  pollTimeoutMs?: number;
  command?: string;
  op?: { kind: string; address?: number; status: string; durationMs: number; note?: string };
  leave?: { address: number; sp?: number; pc?: number; vectorValid: boolean };
  jump?: string;
  quirk?: string;
}

/** The emulator's request log (a line cut off by a kill is dropped). */
export function readLog(file: string): LogLine[] {
  if (!existsSync(file)) return [];
  const out: LogLine[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line) as LogLine);
    } catch {
      // the last line of a killed emulator may be partial
    }
  }
  return out;
}
