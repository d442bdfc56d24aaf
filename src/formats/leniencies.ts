/** Every leniency name a reader knows, so the CLI can refuse a misspelt `--lenient` (exit 2) instead of ignoring it. */
import { DFU_LENIENCIES } from './dfu-suffix.ts';
import { DFUSE_LENIENCIES } from './dfuse-file.ts';
import { IHEX_LENIENCIES } from './ihex.ts';
import { SREC_LENIENCIES } from './srec.ts';
import { ALL_LENIENCIES } from './types.ts';

export const KNOWN_LENIENCIES: readonly string[] = [
  ...new Set([ALL_LENIENCIES, ...DFUSE_LENIENCIES, ...DFU_LENIENCIES, ...IHEX_LENIENCIES, ...SREC_LENIENCIES]),
];
