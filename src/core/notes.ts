/**
 * Non-fatal findings of a decoder: leniencies it applied (named, so the user can tell which tool's
 * convention a file follows) and warnings. A reader is strict by default: a leniency must be
 * requested by name, and every use of it is reported.
 */
import type { Location } from './errors.ts';

export interface Note {
  /** Stable code, same namespace as FwError codes. */
  code: string;
  severity: 'warning' | 'info';
  message: string;
  location: Location;
  /** The leniency that let the reader accept this, when one did. */
  leniency?: string;
}
