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

/** MPEG-2 slicing tables: T[k][i] = CRC of byte i followed by k zero bytes (4 tables, one 32-bit word per step). */
const MPEG2_SLICED: Int32Array = (() => {
  const t = new Int32Array(4 * 256);
  for (let i = 0; i < 256; i++) t[i] = MPEG2_TABLE[i]! | 0;
  for (let i = 0; i < 256; i++) {
    let c = t[i]!;
    for (let k = 1; k < 4; k++) {
      c = (c << 8) ^ t[(c >>> 24) & 0xff]!;
      t[k * 256 + i] = c;
    }
  }
  return t;
})();

/** Whether 32-bit typed arrays read memory little-endian (every platform Node and browsers run on). */
const LITTLE_ENDIAN_HOST = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/**
 * The STM32 CRC unit fed with 32-bit writes of words read little-endian from memory (CRC->DR = *(uint32_t*)p):
 * the unit consumes each word MSB first, so the bytes of each word are processed in the order 3,2,1,0.
 * The word 0x12345678 gives 0xDF8A8A2B; the bytes 01 02 .. 08 give 0xA3141BDA.
 *
 * Tail rule (length not a multiple of 4): the last partial word is completed with `tailFill` (default 0xFF,
 * the erased value, as if the bootloader read the next bytes of erased flash) and fed as a whole word.
 * This matches a bootloader that CRCs whole words over a range rounded up inside erased flash.
 *
 * One table step per word (slicing by 4): megabyte images in a few milliseconds.
 */
export function crc32Stm32(data: Uint8Array, prev = 0xffffffff, tailFill = 0xff): number {
  const t = MPEG2_SLICED;
  let c = prev | 0;
  const whole = data.length & ~3;
  const word = (w: number): void => {
    const x = c ^ w;
    c = t[768 + (x >>> 24)]! ^ t[512 + ((x >>> 16) & 0xff)]! ^ t[256 + ((x >>> 8) & 0xff)]! ^ t[x & 0xff]!;
  };
  if (LITTLE_ENDIAN_HOST && (data.byteOffset & 3) === 0) {
    const words = new Int32Array(data.buffer, data.byteOffset, whole >>> 2);
    for (let i = 0; i < words.length; i++) word(words[i]!);
  } else {
    for (let i = 0; i < whole; i += 4) word(data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24));
  }
  const rest = data.length - whole;
  if (rest > 0) {
    let w = 0;
    for (let k = 0; k < 4; k++) w |= (k < rest ? data[whole + k]! : tailFill) << (8 * k);
    word(w);
  }
  return c >>> 0;
}
