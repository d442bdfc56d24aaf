/**
 * Deterministic randomness for the fuzzer: mulberry32 (Tommy Ettinger's 32-bit generator), seeded per case
 * from (run seed, format, case index), so any single case can be regenerated without running the ones before.
 */

/** The run seed: fixed, printed in every failure; `DFUKIT_FUZZ_SEED=0x...` explores other sequences. */
export const DEFAULT_SEED = 0xdf0c_2024;

export function runSeed(): number {
  const env = process.env.DFUKIT_FUZZ_SEED;
  if (env === undefined || env === '') return DEFAULT_SEED;
  const v = Number(env);
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`DFUKIT_FUZZ_SEED must be a 32-bit integer, got ${env}`);
  return v;
}

/** FNV-1a over the parts, then one avalanche round: a 32-bit seed for one case. */
export function mixSeed(...parts: (number | string)[]): number {
  let h = 0x811c9dc5;
  const byte = (b: number): void => {
    h ^= b & 0xff;
    h = Math.imul(h, 0x01000193);
  };
  for (const p of parts) {
    if (typeof p === 'number') for (let i = 0; i < 4; i++) byte(p >>> (8 * i));
    else for (let i = 0; i < p.length; i++) byte(p.charCodeAt(i));
    byte(0x1f);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform 32-bit unsigned integer. */
  u32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    if (n <= 0) return 0;
    return Math.floor((this.u32() / 0x1_0000_0000) * n);
  }

  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(items.length)]!;
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}
