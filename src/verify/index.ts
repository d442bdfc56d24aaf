/**
 * Read-back verification: the diff of an expected image against what is in flash (or another file), with each
 * differing range classified and its evidence. Platform-neutral; the CLI renders it (src/cli/render/diff.ts).
 */
export { diffImages, diffVerdict, DEFAULT_CONTEXT, DEFAULT_MERGE, DEFAULT_PROGRAM_UNIT, STRONG_BITS_CLEARED, type DiffOptions, type SideLabel } from './diff.ts';
export { CLASS_INFO, DIFF_CLASSES, type DiffClassName, type ClassInfo } from './classes.ts';
export type { DiffReport, DiffRange, DiffClass, Evidence, DiffSide } from './report-schema.ts';
