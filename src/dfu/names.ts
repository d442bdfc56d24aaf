/**
 * Display names of DFU 1.1 states, statuses and requests for error messages and `--json`, from the shared
 * table in constants.ts. States are shown as the specification prints them (DFU 1.1 §6.1.2, Appendix A:
 * `dfuDNLOAD-IDLE`, `dfuMANIFEST-WAIT-RESET`); constants.ts spells them with `_` because they are identifiers.
 * Statuses are identifiers in the spec already (`errCHECK_ERASED`, Table 6.2).
 */
import { DFU_STATUS_TEXT, dfuRequestName, dfuStateName, dfuStatusName } from './constants.ts';

export function stateName(state: number): string {
  const n = dfuStateName(state);
  return n === undefined ? `bState ${state} (undefined in DFU 1.1)` : n.replace(/_/g, '-');
}

export function statusName(status: number): string {
  return dfuStatusName(status) ?? `bStatus 0x${status.toString(16).toUpperCase().padStart(2, '0')} (undefined in DFU 1.1)`;
}

/** DFU 1.1 Table 6.2's sentence for a bStatus. */
export function statusMeaning(status: number): string | undefined {
  const n = dfuStatusName(status);
  return n === undefined ? undefined : DFU_STATUS_TEXT[n];
}

export function requestName(request: number): string {
  return dfuRequestName(request) ?? `request ${request}`;
}
