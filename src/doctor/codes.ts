/**
 * Every finding code `dfukit doctor` produces itself, with its usual severity and whether --fix repairs it.
 * Reader notes passed through (DFU_*, IHEX_*, SREC_*, BIN_* and the other ELF_* codes) keep the readers' codes.
 * Some codes change severity with the case (a HEX run is one level below a DfuSe element; a missing vector table
 * is an error only at a core's boot address); `severity` is the DfuSe-element case.
 */
import type { Severity } from '../layout/check.ts';

export interface CodeInfo {
  code: string;
  severity: Severity;
  fixable: boolean;
  what: string;
}

export const DOCTOR_CODES: readonly CodeInfo[] = [
  // DfuSe file structure (src/doctor/dfuse-scan.ts, diagnose.ts).
  { code: 'DFUSE_SUFFIX_CRC', severity: 'error', fixable: true, what: 'suffix CRC does not match the file' },
  { code: 'DFUSE_NO_SUFFIX', severity: 'error', fixable: true, what: 'no DFU suffix' },
  { code: 'DFUSE_BCD_DFU', severity: 'error', fixable: true, what: 'suffix bcdDFU is not 0x011A' },
  { code: 'DFUSE_SUFFIX_LENGTH', severity: 'warning', fixable: true, what: 'suffix bLength is not 16' },
  { code: 'DFUSE_VERSION', severity: 'error', fixable: true, what: 'prefix bVersion is not 1' },
  { code: 'DFUSE_IMAGE_SIZE', severity: 'warning', fixable: true, what: 'DFUImageSize in the dfuse-pack convention (warning) or matching neither (error)' },
  { code: 'DFUSE_TARGET_COUNT', severity: 'error', fixable: true, what: 'bTargets disagrees with the targets in the file' },
  { code: 'DFUSE_ELEMENT_COUNT', severity: 'error', fixable: true, what: 'dwNbElements disagrees with the elements' },
  { code: 'DFUSE_TARGET_SIZE', severity: 'error', fixable: true, what: 'dwTargetSize disagrees with the elements' },
  { code: 'DFUSE_TRUNCATED', severity: 'error', fixable: false, what: 'a target or element runs past the end of the data' },
  { code: 'DFUSE_TRAILING_BYTES', severity: 'warning', fixable: true, what: 'bytes after the last target' },
  { code: 'DFUSE_TARGET_NAMED', severity: 'warning', fixable: true, what: 'bTargetNamed is not 0 or 1' },
  { code: 'DFUSE_TARGET_NAME_GARBAGE', severity: 'info', fixable: true, what: 'non-zero bytes after the target name' },
  { code: 'DFUSE_NO_TARGETS', severity: 'error', fixable: false, what: 'no target' },
  { code: 'DFUSE_EMPTY_TARGET', severity: 'warning', fixable: true, what: 'a target without elements' },
  { code: 'DFUSE_EMPTY_ELEMENT', severity: 'warning', fixable: true, what: 'an element without data' },
  { code: 'DFUSE_ELEMENTS_UNSORTED', severity: 'error', fixable: true, what: 'elements out of address order' },
  { code: 'DFUSE_ELEMENT_OVERLAP', severity: 'error', fixable: true, what: 'elements overlap (fixable only with identical bytes)' },
  { code: 'DFUSE_SUFFIX_IDS', severity: 'warning', fixable: false, what: 'suffix VID:PID is neither the ROM bootloader nor the wildcard' },
  // Image × chip (src/layout/check.ts).
  { code: 'LAYOUT_ELEMENT_START_UNALIGNED', severity: 'error', fixable: true, what: 'element starts inside a flash word' },
  { code: 'LAYOUT_ELEMENT_PARTIAL_WORD', severity: 'warning', fixable: true, what: 'element ends inside a flash word' },
  { code: 'LAYOUT_SECTOR_SHARED', severity: 'warning', fixable: true, what: 'two elements in one erase sector' },
  { code: 'LAYOUT_BANK_CROSSING', severity: 'warning', fixable: true, what: 'element runs across a bank boundary' },
  { code: 'LAYOUT_OUTSIDE_FLASH', severity: 'error', fixable: false, what: 'data outside the writable memory of its alternate setting' },
  { code: 'LAYOUT_WRONG_ALT', severity: 'error', fixable: false, what: 'option bytes / OTP data in the flash target' },
  { code: 'LAYOUT_ALT_UNKNOWN', severity: 'error', fixable: false, what: 'target for an alternate setting the ROM does not have' },
  { code: 'LAYOUT_NOT_WRITABLE', severity: 'error', fixable: false, what: 'data in memory the ROM reports as not writable' },
  { code: 'LAYOUT_ROM_QUIRK', severity: 'warning', fixable: false, what: 'data in an address range where known ROM versions fail (profile quirk data)' },
  { code: 'LAYOUT_SECTOR_PARTLY_WRITTEN', severity: 'info', fixable: false, what: 'part of a touched erase sector is not in the file and will be erased' },
  { code: 'LAYOUT_NO_VECTOR_TABLE', severity: 'error', fixable: false, what: 'image start holds no vector table (error at a boot address)' },
  { code: 'LAYOUT_SP_OUTSIDE_RAM', severity: 'error', fixable: false, what: 'initial stack pointer outside the core\'s RAM' },
  { code: 'LAYOUT_RESET_NOT_THUMB', severity: 'error', fixable: false, what: 'reset handler without the Thumb bit' },
  { code: 'LAYOUT_RESET_OUTSIDE_IMAGE', severity: 'error', fixable: false, what: 'reset handler points outside the image' },
  { code: 'LAYOUT_CORE_IMAGE_MISSING', severity: 'error', fixable: false, what: 'dual-core part: no image at a core\'s boot address' },
  { code: 'LAYOUT_CORE_IMAGE_MISPLACED', severity: 'error', fixable: false, what: 'dual-core part: a core\'s image away from its boot address' },
  { code: 'LAYOUT_CORE_IMAGES_OVERLAP', severity: 'error', fixable: false, what: 'dual-core part: one core\'s image runs over the other\'s boot address' },
  { code: 'LAYOUT_HEADER_AT_START', severity: 'info', fixable: false, what: 'image starts with an A/B header (vector-table checks skipped)' },
  // ELF (src/doctor/diagnose.ts).
  { code: 'ELF_LOAD_IN_RAM', severity: 'error', fixable: false, what: 'loadable data at RAM addresses (VMA where the LMA belongs)' },
  { code: 'ELF_EMPTY_SEGMENT', severity: 'info', fixable: false, what: 'PT_LOAD segments with a flash load address and no file bytes' },
  // Doctor itself.
  { code: 'DOCTOR_NO_CHIP', severity: 'info', fixable: false, what: 'no --chip: chip checks skipped' },
  { code: 'DOCTOR_ADDRESS_ASSUMED', severity: 'info', fixable: false, what: 'raw binary / plain DFU placed at 0x08000000' },
  { code: 'DOCTOR_CHIP_NOTE', severity: 'info', fixable: false, what: 'a warning from resolving the part name' },
];
