/**
 * MCUboot's image trailer at the end of a slot and the swap decision it drives (mcu-tools/mcuboot @2d4bacc3:
 * imgtool image.py Image._trailer_size/pad_to, bootutil_misc.h boot_magic_off/boot_image_ok_off/
 * boot_copy_done_off, bootutil_public.c boot_swap_tables, boot_read_swap_state, boot_flag_decode).
 *
 * From the slot end down: magic (16 bytes at the very end, in a BOOT_MAX_ALIGN-aligned unit), image_ok,
 * copy_done, swap_info, swap_size (one BOOT_MAX_ALIGN unit each), [encryption keys], swap status
 * (max_sectors x 3 x align). The magic is 77c295f3 60d2ef7f 3552500f 2cb67980 when BOOT_MAX_ALIGN is 8;
 * otherwise it starts with BOOT_MAX_ALIGN as a little-endian u16: "align lsb, msb, 2de15d29 410b8d77 679c110f 1f8a".
 * A flag is set when it reads 0x01, unset when erased, bad otherwise.
 */
import { alignDown, alignUp } from '../../core/range.ts';
import type { MemoryImage } from '../../image/memory-image.ts';

export const BOOT_MAGIC_SIZE = 16;
export const BOOT_FLAG_SET = 0x01;
const MAGIC_8 = [0x77, 0xc2, 0x95, 0xf3, 0x60, 0xd2, 0xef, 0x7f, 0x35, 0x52, 0x50, 0x0f, 0x2c, 0xb6, 0x79, 0x80];
const MAGIC_TAIL = [0x2d, 0xe1, 0x5d, 0x29, 0x41, 0x0b, 0x8d, 0x77, 0x67, 0x9c, 0x11, 0x0f, 0x1f, 0x8a];

export interface TrailerParams {
  /** Flash write alignment of the swap status area (imgtool --align). */
  readonly align: number;
  /** BOOT_MAX_ALIGN (imgtool --max-align, default max(8, align)). */
  readonly maxAlign: number;
  readonly maxSectors: number;
}

export function bootMagic(p: TrailerParams): Uint8Array {
  if (p.maxAlign === 8) return Uint8Array.from(MAGIC_8);
  return Uint8Array.from([p.maxAlign & 0xff, (p.maxAlign >> 8) & 0xff, ...MAGIC_TAIL]);
}

/** imgtool Image._trailer_size for swap modes without encryption. */
export function trailerSize(p: TrailerParams): number {
  return p.maxSectors * 3 * p.align + p.maxAlign * 4 + alignUp(BOOT_MAGIC_SIZE, p.maxAlign);
}

/** Offsets from the slot start (bootutil_misc.h). */
export function trailerOffsets(slotSize: number, p: TrailerParams): { magic: number; imageOk: number; copyDone: number; swapInfo: number } {
  const magic = slotSize - BOOT_MAGIC_SIZE;
  const imageOk = alignDown(magic - p.maxAlign, p.maxAlign);
  const copyDone = imageOk - p.maxAlign;
  return { magic, imageOk, copyDone, swapInfo: copyDone - p.maxAlign };
}

/**
 * The trailer region [slot end - trailer size, slot end) as imgtool --pad leaves it: erased, the magic in the
 * last 16 bytes, and with `confirm` image_ok = 0x01 at the start of its unit (the rest of the unit erased).
 */
export function trailerBytes(slotSize: number, p: TrailerParams, confirm: boolean, erased: number): { offset: number; data: Uint8Array } {
  const size = trailerSize(p);
  const data = new Uint8Array(size).fill(erased);
  const base = slotSize - size;
  const o = trailerOffsets(slotSize, p);
  data.set(bootMagic(p), o.magic - base);
  if (confirm) data[o.imageOk - base] = BOOT_FLAG_SET;
  return { offset: base, data };
}

export type MagicState = 'good' | 'unset' | 'bad';

/** The BOOT_MAX_ALIGN a trailer magic was written for (8, or the u16 it starts with), or undefined for no magic. */
export function magicMaxAlign(magic: Uint8Array): number | undefined {
  if (magic.length === BOOT_MAGIC_SIZE && magic.every((b, i) => b === MAGIC_8[i])) return 8;
  if (magic.length === BOOT_MAGIC_SIZE && MAGIC_TAIL.every((b, i) => magic[i + 2] === b)) return magic[0]! | (magic[1]! << 8);
  return undefined;
}
export type FlagState = 'set' | 'unset' | 'bad';

export interface TrailerState {
  readonly magic: MagicState;
  readonly imageOk: FlagState;
  readonly copyDone: FlagState;
}

function flag(b: number, erased: number): FlagState {
  return b === erased ? 'unset' : b === BOOT_FLAG_SET ? 'set' : 'bad';
}

/** boot_read_swap_state: the trailer of the slot at `start` of `size` bytes. */
export function readTrailer(image: MemoryImage, start: number, size: number, p: TrailerParams, erased: number): TrailerState {
  const o = trailerOffsets(size, p);
  const m = image.read(start + o.magic, BOOT_MAGIC_SIZE, erased);
  const want = bootMagic(p);
  const magic: MagicState = m.every((b) => b === erased) ? 'unset' : m.every((b, i) => b === want[i]) ? 'good' : 'bad';
  return {
    magic,
    imageOk: flag(image.read(start + o.imageOk, 1, erased)[0]!, erased),
    copyDone: flag(image.read(start + o.copyDone, 1, erased)[0]!, erased),
  };
}

export type SwapType = 'none' | 'test' | 'perm' | 'revert';

/** boot_swap_type_multi with the default (non SWAP_USING_OFFSET) table, first match wins. */
export function swapType(primary: TrailerState, secondary: TrailerState): SwapType {
  if (secondary.magic === 'good' && secondary.imageOk === 'unset') return 'test';
  if (secondary.magic === 'good' && secondary.imageOk === 'set') return 'perm';
  if (primary.magic === 'good' && primary.imageOk === 'unset' && primary.copyDone === 'set') return 'revert';
  return 'none';
}
