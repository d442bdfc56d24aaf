/**
 * The failure classes of a read-back diff (shared/reference/image-formats.md §5), in priority order: a range gets
 * the first class whose rule it meets. Titles and the likely causes are data, shared by every renderer.
 */

/** In priority order. */
export const DIFF_CLASSES = ['truncated', 'not-written', 'tail-lost', 'shifted', 'bits-cleared', 'header-only', 'different-build', 'other'] as const;

export type DiffClassName = (typeof DIFF_CLASSES)[number];

export interface ClassInfo {
  /** Short human name. */
  readonly title: string;
  /** What usually causes it and what to do, for the human report. */
  readonly cause: string;
}

export const CLASS_INFO: Readonly<Record<DiffClassName, ClassInfo>> = {
  truncated: {
    title: 'truncated',
    cause: 'the actual image has no data there: the read-back (or file) is shorter than the image, or has a hole. Read back the whole range.',
  },
  'not-written': {
    title: 'not written',
    cause: 'the flash there is still erased: the write stopped early, an element or alt was skipped, or the ROM refused the bank (H74x/H75x bank 2). Flash again and watch for errors.',
  },
  'tail-lost': {
    title: 'tail lost to program-unit alignment',
    cause: 'the element does not end on a whole program unit and the writer dropped the partial unit. Pad elements to the unit (dfukit convert --chip does).',
  },
  shifted: {
    title: 'shifted copy',
    cause: 'the image was written at the wrong address: a .bin flashed with the wrong base address, a header added or stripped, a HEX whose base was lost.',
  },
  'bits-cleared': {
    title: 'programmed over unerased flash',
    cause: 'the sector was not erased before programming (flash can only clear bits): erase the sectors the image touches, then write.',
  },
  'header-only': {
    title: 'header only',
    cause: 'the payload matches; only header fields differ (version, CRC, confirmed flag). Expected after a bootloader or tool updated the header; otherwise rebuild the header.',
  },
  'different-build': {
    title: 'different build',
    cause: 'scattered differences over the image: the device holds another build of the firmware. Check which file was flashed.',
  },
  other: {
    title: 'other',
    cause: 'no known pattern: compare the bytes shown; data left from earlier firmware or bit errors are possible.',
  },
};
