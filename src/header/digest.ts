/**
 * The digests a header field may hold, by the names layouts use. Check values are asserted in
 * test/header/crc.test.ts and printed by `dfukit header describe`.
 */
import { crc32, crc32Stm32 } from '../core/crc.ts';
import { sha256 } from '../core/sha256.ts';
import type { CrcVariant } from './schema.ts';

export interface CrcVariantInfo {
  readonly name: CrcVariant;
  readonly title: string;
  /** CRC of ASCII "123456789". */
  readonly check: number;
  readonly rule: string;
}

export const CRC_VARIANT_INFO: Readonly<Record<CrcVariant, CrcVariantInfo>> = {
  'iso-hdlc': {
    name: 'iso-hdlc',
    title: 'CRC-32/ISO-HDLC (zlib, Python binascii.crc32)',
    check: 0xcbf43926,
    rule: 'poly 0x04C11DB7 reflected, init 0xFFFFFFFF, final XOR 0xFFFFFFFF, over the bytes in order; any length',
  },
  stm32: {
    name: 'stm32',
    title: 'STM32 CRC unit in its reset configuration, fed 32-bit words read little-endian',
    check: 0xd9020d98,
    rule:
      'poly 0x04C11DB7, init 0xFFFFFFFF, no reflection, no final XOR (CRC-32/MPEG-2) over each little-endian word most significant byte first, ' +
      'i.e. CRC->DR = *(uint32_t *)p for each word. A length that is not a multiple of 4 ends with one word whose missing high bytes are 0xFF ' +
      '(as if read from erased flash). Word 0x12345678 gives 0xDF8A8A2B; bytes 01..08 give 0xA3141BDA',
  },
};

export function crcOf(variant: CrcVariant, data: Uint8Array): number {
  return variant === 'iso-hdlc' ? crc32(data) : crc32Stm32(data);
}

export function sha256Of(data: Uint8Array): Uint8Array {
  return sha256(data);
}
