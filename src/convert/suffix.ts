/**
 * DFU suffix values of the output. Each field comes from the options when given, else from the DfuSe inputs
 * when they all agree (a re-encode keeps the file's VID/PID/bcdDevice), else the default: 0483:DF11, the ST
 * ROM bootloader, and bcdDevice 0xFFFF, which matches any device release. dfu-util refuses a file whose
 * VID/PID match neither the device nor the 0xFFFF wildcard.
 */
import { EXIT_USAGE, FwError } from '../core/errors.ts';
import { hexN } from '../core/format.ts';
import type { Note } from '../core/notes.ts';
import type { LoadedInput, SuffixValues } from './types.ts';

export const DEFAULT_SUFFIX: SuffixValues = { vid: 0x0483, pid: 0xdf11, bcdDevice: 0xffff };

const FIELDS = ['vid', 'pid', 'bcdDevice'] as const;
const FLAGS: Record<(typeof FIELDS)[number], string> = { vid: '--vid', pid: '--pid', bcdDevice: '--bcd-device' };

export function resolveSuffix(
  given: Partial<SuffixValues> | undefined,
  inputs: readonly LoadedInput[],
  notes: Note[],
): SuffixValues & { from: 'options' | 'input' | 'default' } {
  for (const f of FIELDS) {
    const v = given?.[f];
    if (v !== undefined && !(Number.isInteger(v) && v >= 0 && v <= 0xffff)) {
      throw new FwError('CONVERT_OPTION', `${FLAGS[f]} must be a 16-bit value 0..0xFFFF, got ${v}`, {}, EXIT_USAGE);
    }
  }
  const fromInputs = inputs.flatMap((i) => (i.suffix === undefined ? [] : [{ name: i.name, suffix: i.suffix }]));
  const agreed = fromInputs.length > 0 && fromInputs.every((x) => FIELDS.every((f) => x.suffix[f] === fromInputs[0]!.suffix[f])) ? fromInputs[0]!.suffix : undefined;
  if (fromInputs.length > 1 && agreed === undefined) {
    notes.push({
      code: 'CONVERT_SUFFIX_DISAGREE',
      severity: 'info',
      message: `the DfuSe inputs have different suffix IDs (${fromInputs.map((x) => `${x.name} ${ids(x.suffix)}`).join(', ')}): unless given, the defaults apply`,
      location: {},
    });
  }
  const base = agreed ?? DEFAULT_SUFFIX;
  const out = { vid: given?.vid ?? base.vid, pid: given?.pid ?? base.pid, bcdDevice: given?.bcdDevice ?? base.bcdDevice };
  const anyGiven = FIELDS.some((f) => given?.[f] !== undefined);
  return { ...out, from: anyGiven ? 'options' : agreed !== undefined ? 'input' : 'default' };
}

export function ids(s: SuffixValues): string {
  return `${hexN(s.vid, 4).slice(2)}:${hexN(s.pid, 4).slice(2)} bcdDevice ${hexN(s.bcdDevice, 4)}`;
}
