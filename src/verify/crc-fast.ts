/**
 * Table-sliced versions of the two CRCs the diff reports over whole images (megabytes each side), bit-for-bit
 * equal to core/crc.ts (`crc32`, `crc32Stm32`; test/verify/crc-fast.test.ts checks it): CRC-32/ISO-HDLC by 8
 * bytes per step, the STM32 CRC unit by 32-bit word. The byte-at-a-time versions take ~40 ms per 2 MiB each;
 * these take a few. (core/crc.ts could adopt them; kept here so the diff does not change code others rely on.)
 */

/** Whether 32-bit typed arrays read memory little-endian (every platform Node and browsers run on, checked). */
const LITTLE = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** ISO-HDLC (reflected, poly 0xEDB88320): 8 tables of 256, T[k][i] = byte i followed by k zero bytes. */
const ISO = (() => {
  const t = new Int32Array(8 * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[i] = c;
  }
  for (let i = 0; i < 256; i++) {
    let c = t[i]!;
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[k * 256 + i] = c;
    }
  }
  return t;
})();

/** CRC-32/ISO-HDLC (zlib): same value and `prev` continuation as core/crc.ts `crc32`. */
export function crc32Fast(data: Uint8Array, prev?: number): number {
  const t = ISO;
  let c = ~(prev ?? 0);
  const n = data.length;
  let i = 0;
  if (LITTLE && (data.byteOffset & 3) === 0) {
    // Whole words straight from memory (little-endian, as the byte order of the CRC needs).
    const words = new Int32Array(data.buffer, data.byteOffset, n >>> 2);
    const pairs = words.length & ~1;
    for (let w = 0; w < pairs; w += 2) {
      const a = c ^ words[w]!;
      const b = words[w + 1]!;
      c =
        t[1792 + (a & 0xff)]! ^
        t[1536 + ((a >>> 8) & 0xff)]! ^
        t[1280 + ((a >>> 16) & 0xff)]! ^
        t[1024 + (a >>> 24)]! ^
        t[768 + (b & 0xff)]! ^
        t[512 + ((b >>> 8) & 0xff)]! ^
        t[256 + ((b >>> 16) & 0xff)]! ^
        t[b >>> 24]!;
    }
    i = pairs * 4;
  }
  for (const end = n - 7; i < end; i += 8) {
    const a = c ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24));
    c =
      t[1792 + (a & 0xff)]! ^
      t[1536 + ((a >>> 8) & 0xff)]! ^
      t[1280 + ((a >>> 16) & 0xff)]! ^
      t[1024 + (a >>> 24)]! ^
      t[768 + data[i + 4]!]! ^
      t[512 + data[i + 5]!]! ^
      t[256 + data[i + 6]!]! ^
      t[data[i + 7]!]!;
  }
  for (; i < n; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** MPEG-2 (poly 0x04C11DB7, MSB first): 4 tables, T[k][i] = byte i followed by k zero bytes. */
const MPEG = (() => {
  const t = new Int32Array(4 * 256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    t[i] = c;
  }
  for (let i = 0; i < 256; i++) {
    let c = t[i]!;
    for (let k = 1; k < 4; k++) {
      c = (c << 8) ^ t[(c >>> 24) & 0xff]!;
      t[k * 256 + i] = c;
    }
  }
  return t;
})();

/**
 * The STM32 CRC unit fed little-endian words: same value, `prev` and tail rule (the last partial word completed
 * with `tailFill`) as core/crc.ts `crc32Stm32`.
 */
export function crc32Stm32Fast(data: Uint8Array, prev = 0xffffffff, tailFill = 0xff): number {
  const t = MPEG;
  let c = prev | 0;
  const whole = data.length & ~3;
  const word = (w: number): void => {
    const x = c ^ w;
    c = t[768 + (x >>> 24)]! ^ t[512 + ((x >>> 16) & 0xff)]! ^ t[256 + ((x >>> 8) & 0xff)]! ^ t[x & 0xff]!;
  };
  if (LITTLE && (data.byteOffset & 3) === 0) {
    const words = new Int32Array(data.buffer, data.byteOffset, whole >>> 2);
    for (let w = 0; w < words.length; w++) {
      const x = c ^ words[w]!;
      c = t[768 + (x >>> 24)]! ^ t[512 + ((x >>> 16) & 0xff)]! ^ t[256 + ((x >>> 8) & 0xff)]! ^ t[x & 0xff]!;
    }
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
