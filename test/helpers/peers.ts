/**
 * Peer tools (dfu-util, srecord, binutils, fwupd): tests that need one skip with a message when it is
 * missing, except under CI=true, where .ci/run installs them and a missing tool fails the run.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';

const cache = new Map<string, boolean>();

export function hasTool(name: string): boolean {
  let v = cache.get(name);
  if (v === undefined) {
    v = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).status === 0;
    cache.set(name, v);
  }
  return v;
}

/** `false` when all tools are present, else a skip reason; throws under CI=true. */
export function toolsOrSkip(...names: string[]): false | string {
  const missing = names.filter((n) => !hasTool(n));
  if (missing.length === 0) return false;
  if (process.env.CI === 'true') throw new Error(`peer tool(s) missing in CI: ${missing.join(', ')}`);
  return `peer tool(s) not installed: ${missing.join(', ')} - skipping`;
}

/** Runs a peer tool with a timeout (never waits on a menu: stdin is closed). */
export function run(cmd: string, args: string[], opts: { timeoutMs?: number; cwd?: string } = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, {
    encoding: 'utf8',
    input: '',
    timeout: opts.timeoutMs ?? 60_000,
    maxBuffer: 64 * 1024 * 1024,
    ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
  });
}
