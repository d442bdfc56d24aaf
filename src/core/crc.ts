/**
 * CRC-32 variants (check values over ASCII "123456789"; image-formats.md §4 "CRC variants"):
 * - CRC-32/ISO-HDLC (zlib): 0xCBF43926. Through `crc-32`, which returns a signed int: normalised with `>>> 0`.
 * - CRC-32/JAMCRC (the DFU suffix dwCRC, dfu-util `dfu_file.c`): ISO-HDLC without the final XOR.
 * - STM32 CRC unit in its reset configuration (poly 0x04C11DB7, init 0xFFFFFFFF, no reflection, no final
 *   XOR) fed with 32-bit words read little-endian from memory: CRC-32/MPEG-2 over each word MSB first.
 */
import CRC32 from 'crc-32';

/** CRC-32/ISO-HDLC (zlib). `prev` continues a running CRC. */
export function crc32(data: Uint8Array, prev?: number): number {
  return (prev === undefined ? CRC32.buf(data) : CRC32.buf(data, prev)) >>> 0;
}

/** CRC-32/JAMCRC: the DFU suffix CRC (UM0391 / DFU 1.1 appendix B; dfu-util `dfu_file.c`). */
export function crc32Jam(data: Uint8Array): number {
  return (~CRC32.buf(data)) >>> 0;
}

const MPEG2_TABLE: Uint32Array = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC-32/MPEG-2 over a byte stream (non-reflected, init 0xFFFFFFFF, no final XOR): "123456789" → 0x0376E6E7. */
export function crc32Mpeg2(data: Uint8Array, prev = 0xffffffff): number {
  let c = prev >>> 0;
  for (let i = 0; i < data.length; i++) {
    c = ((c << 8) ^ (MPEG2_TABLE[((c >>> 24) ^ data[i]!) & 0xff] as number)) >>> 0;
  }
  return c;
}

/**
 * The STM32 CRC unit fed with 32-bit writes of words read little-endian from memory (CRC->DR = *(uint32_t*)p):
 * the unit consumes each word MSB first, so the bytes of each word are processed in the order 3,2,1,0.
 * The word 0x12345678 gives 0xDF8A8A2B; the bytes 01 02 .. 08 give 0xA3141BDA.
 *
 * Tail rule (length not a multiple of 4): the last partial word is completed with `tailFill` (default 0xFF,
 * the erased value, as if the bootloader read the next bytes of erased flash) and fed as a whole word.
 * This matches a bootloader that CRCs whole words over a range rounded up inside erased flash.
 */
export function crc32Stm32(data: Uint8Array, prev = 0xffffffff, tailFill = 0xff): number {
  let c = prev >>> 0;
  const whole = data.length & ~3;
  const word = (b3: number, b2: number, b1: number, b0: number): void => {
    c = ((c << 8) ^ (MPEG2_TABLE[((c >>> 24) ^ b3) & 0xff] as number)) >>> 0;
    c = ((c << 8) ^ (MPEG2_TABLE[((c >>> 24) ^ b2) & 0xff] as number)) >>> 0;
    c = ((c << 8) ^ (MPEG2_TABLE[((c >>> 24) ^ b1) & 0xff] as number)) >>> 0;
    c = ((c << 8) ^ (MPEG2_TABLE[((c >>> 24) ^ b0) & 0xff] as number)) >>> 0;
  };
  for (let i = 0; i < whole; i += 4) word(data[i + 3]!, data[i + 2]!, data[i + 1]!, data[i]!);
  const rest = data.length - whole;
  if (rest > 0) {
    const b = [tailFill, tailFill, tailFill, tailFill];
    for (let k = 0; k < rest; k++) b[k] = data[whole + k]!;
    word(b[3]!, b[2]!, b[1]!, b[0]!);
  }
  return c;
}
