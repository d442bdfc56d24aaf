import { FwError, EXIT_USAGE } from '../core/errors.ts';
import { KNOWN_LENIENCIES } from '../formats/leniencies.ts';

/** A misspelt leniency would silently leave the reader strict: refuse it. */
export function checkLeniencies(names: readonly string[] | undefined): void {
  for (const n of names ?? []) {
    if (!KNOWN_LENIENCIES.includes(n)) {
      throw new FwError('USAGE_LENIENCY', `unknown leniency '${n}'; known: ${KNOWN_LENIENCIES.join(', ')}`, {}, EXIT_USAGE);
    }
  }
}
