/**
 * Image versions as MCUboot's imgtool writes them (scripts/imgtool/version.py): `MAJ.MIN.REV+BUILD`, later parts
 * optional, decimal without leading zeros; stored as u8 major, u8 minor, u16 revision, u32 build. Both
 * shipped layouts with a version use that layout, and a bootloader compares them part by part in that order.
 */
import { EXIT_USAGE, FwError } from '../core/errors.ts';

export interface ImageVersion {
  readonly major: number;
  readonly minor: number;
  readonly revision: number;
  readonly build: number;
}

const VERSION_RE = /^([1-9]\d*|0)(?:\.([1-9]\d*|0)(?:\.([1-9]\d*|0)(?:\+([1-9]\d*|0))?)?)?$/;
const LIMITS: Record<keyof ImageVersion, number> = { major: 0xff, minor: 0xff, revision: 0xffff, build: 0xffffffff };

/** `1.2.3+4` → parts; usage error HEADER_VERSION for anything imgtool would refuse or a part that does not fit. */
export function parseVersion(text: string): ImageVersion {
  const m = VERSION_RE.exec(text.trim());
  if (m === null) {
    throw new FwError('HEADER_VERSION', `version '${text}' is not MAJ.MIN.REV+BUILD (later parts optional, decimal, no leading zeros)`, {}, EXIT_USAGE);
  }
  const v = { major: Number(m[1] ?? 0), minor: Number(m[2] ?? 0), revision: Number(m[3] ?? 0), build: Number(m[4] ?? 0) };
  for (const k of Object.keys(LIMITS) as (keyof ImageVersion)[]) {
    if (v[k] > LIMITS[k]) throw new FwError('HEADER_VERSION', `version '${text}': ${k} ${v[k]} is above ${LIMITS[k]}`, {}, EXIT_USAGE);
  }
  return v;
}

export function formatVersion(v: ImageVersion): string {
  return `${v.major}.${v.minor}.${v.revision}+${v.build}`;
}

/** Negative, zero or positive as `a` is older than, equal to or newer than `b` (major, minor, revision, build). */
export function compareVersions(a: ImageVersion, b: ImageVersion): number {
  return a.major - b.major || a.minor - b.minor || a.revision - b.revision || a.build - b.build;
}
