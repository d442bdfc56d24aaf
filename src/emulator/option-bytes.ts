/**
 * Factory option-byte images and where the RDP (read-protection) byte sits, per family. The ROM exposes
 * them through the option-bytes alt (alt 1); `Read Unprotect` (0x92) resets them and mass-erases flash
 * (AN3156 §3 "Read unprotect"; RM0090/RM0385/RM0351/RM0440/RM0433 option-byte chapters).
 *
 * RDP encoding is the same on every family: 0xAA = level 0, 0xCC = level 2, anything else = level 1.
 * The images are the documented factory values as far as the RDP and user bytes go; the other bytes
 * (write protection, boot addresses) are plausible factory values, not read from a device: tools that
 * decode more than RDP should not take them as ground truth.
 */

export type RdpLevel = 0 | 1 | 2;

export const RDP_LEVEL0 = 0xaa;
export const RDP_LEVEL1 = 0xbb;
export const RDP_LEVEL2 = 0xcc;

export function rdpLevelOf(byte: number): RdpLevel {
  return byte === RDP_LEVEL0 ? 0 : byte === RDP_LEVEL2 ? 2 : 1;
}

export function rdpByteFor(level: RdpLevel): number {
  return level === 0 ? RDP_LEVEL0 : level === 2 ? RDP_LEVEL2 : RDP_LEVEL1;
}

export interface OptionByteLayout {
  /** Factory image of a region of `size` bytes. */
  image(size: number): Uint8Array;
  /** Offset of the RDP byte in the first option-byte region. */
  rdpOffset: number;
  /** Offset of the byte holding ~RDP, on families that store complements. */
  rdpComplementOffset?: number;
}

function fill(size: number, value: number, head: readonly number[]): Uint8Array {
  const out = new Uint8Array(size).fill(value);
  out.set(head.slice(0, size));
  return out;
}

/** F2/F4 (RM0090 "Option bytes"): 0x1FFFC000 USER (0xEC: WDG_SW, nRST_STOP, nRST_STDBY set; BOR off), RDP; 0x1FFFC008 nWRP 0x0FFF. */
const F4: OptionByteLayout = {
  image: (size) => fill(size, 0xff, [0xec, RDP_LEVEL0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]),
  rdpOffset: 1,
};

/** F7 (RM0385/RM0431): USER 0xFF, RDP, then their complements; nWRP; BOOT_ADD0 0x0080 (0x00200000), BOOT_ADD1 0x0040 (0x00100000). */
const F7: OptionByteLayout = {
  image: (size) =>
    fill(size, 0xff, [
      0xff, RDP_LEVEL0, 0x00, 0x55, //
      0xff, 0x00, 0x00, 0xff,
      0xff, 0x00, 0x00, 0xff,
      0xff, 0x00, 0x00, 0xff,
      0x80, 0x00, 0x7f, 0xff,
      0x40, 0x00, 0xbf, 0xff,
    ]),
  rdpOffset: 1,
  rdpComplementOffset: 3,
};

/** L4/G4 (RM0351/RM0440): FLASH_OPTR (RDP in bits 7:0, factory 0xFFEFF8AA) and its complement, then PCROP/WRP words with complements. */
const L4: OptionByteLayout = {
  image: (size) => {
    const out = new Uint8Array(size);
    for (let i = 0; i < size; i += 8) out.set([0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00].slice(0, size - i), i);
    out.set([RDP_LEVEL0, 0xf8, 0xef, 0xff, 0x55, 0x07, 0x10, 0x00].slice(0, size));
    return out;
  },
  rdpOffset: 0,
  rdpComplementOffset: 4,
};

/** H7 (RM0433/RM0455): the FLASH option register window from FLASH_OPTSR_CUR (RDP in bits 15:8), OPTSR_PRG, ..., BOOT_CURR. */
const H7: OptionByteLayout = {
  image: (size) => {
    const out = new Uint8Array(size);
    out.set([0xf0, RDP_LEVEL0, 0xc6, 0x13].slice(0, size)); // OPTSR_CUR
    if (size >= 8) out.set([0xf0, RDP_LEVEL0, 0xc6, 0x13], 4); // OPTSR_PRG
    if (size >= 0x20) out.set([0xff, 0x00, 0x00, 0x00], 0x1c); // WPSN_CUR1R: no sector write-protected
    if (size >= 0x28) out.set([0x00, 0x08, 0xf0, 0x1f], 0x24); // BOOT_CURR: BOOT_ADD0 0x0800, BOOT_ADD1 0x1FF0
    return out;
  },
  rdpOffset: 1,
};

const GENERIC: OptionByteLayout = { image: (size) => fill(size, 0xff, [0xff, RDP_LEVEL0]), rdpOffset: 1 };

export function optionByteLayout(profile: string): OptionByteLayout {
  if (profile.startsWith('stm32f4') || profile.startsWith('stm32f2')) return F4;
  if (profile.startsWith('stm32f7')) return F7;
  if (profile.startsWith('stm32l4') || profile.startsWith('stm32g4')) return L4;
  if (profile.startsWith('stm32h7')) return H7;
  return GENERIC;
}
