/**
 * `dfukit erase --device D (--range R | --sectors LIST | --mass)`: erase sectors (whole sectors: the range is
 * rounded out to the sectors it touches, and the output says which) or the whole flash.
 */
import { EXIT_USAGE, FwError, isFwError } from '../../core/errors.ts';
import { eraseMemory } from '../../dfu/operations.ts';
import type { ChipProfile } from '../../layout/chip-types.ts';
import { sectorsTouched } from '../../layout/sectors.ts';
import { toPlanSector } from '../../plan/plan.ts';
import type { PlanSector } from '../../plan/types.ts';
import { renderErase } from '../render/flash.ts';
import { progressReporter } from '../render/progress.ts';
import { withDevice, type DeviceCliOptions } from './flash.ts';
import { parseRangeSpec } from './read.ts';

export interface EraseCliOptions extends DeviceCliOptions {
  range?: string;
  sectors?: string;
  mass?: true;
}

/** `0-3,8,bank2:0` → sectors: indices in the profile's list (as `dfukit chips` numbers them), or BANKn:SECTOR. */
export function parseSectorList(text: string, profile: ChipProfile): PlanSector[] {
  const picked = new Set<number>();
  const bad = (part: string, why: string): FwError => new FwError('SECTOR_SPEC', `--sectors '${text}': ${part}: ${why}`, {}, EXIT_USAGE);
  for (const raw of text.split(',')) {
    const part = raw.trim();
    const bank = /^bank(\d+):(\d+)(?:-(\d+))?$/i.exec(part);
    if (bank !== null) {
      const b = profile.banks.find((x) => x.bank === Number(bank[1]));
      if (b === undefined) throw bad(part, `${profile.displayName} has banks ${profile.banks.map((x) => x.bank).join(', ')}`);
      const lo = Number(bank[2]);
      const hi = bank[3] !== undefined ? Number(bank[3]) : lo;
      for (let n = lo; n <= hi; n++) {
        const s = b.sectors.find((x) => x.sector === n);
        if (s === undefined) throw bad(part, `bank ${b.bank} has sectors ${b.sectors[0]!.sector}..${b.sectors.at(-1)!.sector}`);
        picked.add(s.index);
      }
      continue;
    }
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (m === null) throw bad(part, 'expected N, N-M or bankB:N');
    const lo = Number(m[1]);
    const hi = m[2] !== undefined ? Number(m[2]) : lo;
    if (hi < lo || hi >= profile.sectors.length) throw bad(part, `${profile.displayName} has sectors 0..${profile.sectors.length - 1}`);
    for (let n = lo; n <= hi; n++) picked.add(n);
  }
  return [...picked].sort((a, b) => a - b).map((i) => toPlanSector(profile.sectors[i]!));
}

export async function runErase(opts: EraseCliOptions): Promise<number> {
  const given = [opts.range, opts.sectors, opts.mass].filter((x) => x !== undefined).length;
  if (given !== 1) throw new FwError('ERASE_USAGE', 'say what to erase: exactly one of --range ADDR:SIZE, --sectors LIST, --mass', {}, EXIT_USAGE);
  const whatFor = (profile: ChipProfile): { sectors: PlanSector[] } | { mass: true } => {
    if (opts.mass === true) return { mass: true };
    if (opts.sectors !== undefined) return { sectors: parseSectorList(opts.sectors, profile) };
    const r = parseRangeSpec(opts.range!);
    const sectors = sectorsTouched(profile, [r]).map(toPlanSector);
    if (sectors.length === 0) throw new FwError('ERASE_RANGE', `--range ${opts.range}: no ${profile.displayName} flash sector lies in it`, {}, EXIT_USAGE);
    return { sectors };
  };
  if (opts.range !== undefined) parseRangeSpec(opts.range); // a bad range is a usage error before any device is opened
  const progress = progressReporter({ quiet: opts.json === true });
  try {
    const r = await withDevice(opts, (p, _h, signal) => eraseMemory(p.session, whatFor(p.profile), { signal, onEvent: (e) => progress.onEvent(e) }));
    process.stdout.write(opts.json === true ? JSON.stringify({ ok: true, ...r }, null, 2) + '\n' : renderErase(r));
    return 0;
  } catch (e) {
    progress.stop();
    if (opts.json === true && isFwError(e)) process.stdout.write(JSON.stringify({ ok: false, error: e.toJSON() }, null, 2) + '\n');
    throw e;
  }
}
