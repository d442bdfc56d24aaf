/**
 * Which chip profile and load address each corpus firmware file is diagnosed with. The chip comes from the part
 * named in MANIFEST.md's description (the first STM32 part number there); files for parts without a profile
 * (G491, F105, H72x/H73x, F446, F469, F413, nRF52840) and fwupd's synthetic fixtures run without --chip. Raw
 * binaries are placed where their MANIFEST cross-check puts them: the address in the file name, OpenMV's firmware
 * and UVC images behind their bootloader, the nRF52840 image at 0, everything else at the flash base.
 */
import { isFwError } from '../../src/core/errors.ts';
import { resolveChip } from '../../src/layout/chips.ts';
import type { ManifestEntry } from '../helpers/corpus.ts';

export const FIRMWARE_KINDS = new Set(['dfuse', 'dfu', 'hex', 'elf', 'bin']);

export interface CorpusCase {
  file: string;
  kind: string;
  /** The --chip argument, when a profile covers the part. */
  chip?: string;
  /** Load address of a raw binary (`file.bin@ADDR`). */
  address?: number;
}

export function chipArgument(description: string): string | undefined {
  const m = /\bSTM32[A-Z0-9]+/.exec(description);
  if (m === null) return undefined;
  try {
    resolveChip(m[0]);
    return m[0];
  } catch (e) {
    if (isFwError(e)) return undefined;
    throw e;
  }
}

export function binAddress(file: string): number {
  const named = /[_@ ](0x[0-9A-Fa-f]{7,8})(?:\.bin)?$/.exec(file.replace(/\.bin$/, ''));
  if (named !== null) return Number(named[1]);
  if (/OPENMV4\/(firmware|uvc)\.bin$/.test(file)) return 0x08040000;
  if (/OPENMV3\/(firmware|uvc)\.bin$/.test(file)) return 0x08020000;
  if (/nano33ble\//.test(file)) return 0;
  return 0x08000000;
}

export function corpusCase(e: ManifestEntry): CorpusCase {
  const c: CorpusCase = { file: e.file, kind: e.kind };
  const chip = chipArgument(e.description);
  if (chip !== undefined) c.chip = chip;
  if (e.kind === 'bin') c.address = binAddress(e.file);
  return c;
}
