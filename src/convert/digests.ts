/**
 * The digests a conversion report and manifest hold (CRC-32/ISO-HDLC and SHA-256 of every element, output and
 * input). The library's own implementations (core/crc.ts, core/sha256.ts) run anywhere, a browser included;
 * the CLI passes Node's native ones (zlib.crc32, node:crypto), which give the same values several times
 * faster on megabytes. Any replacement must give exactly these values.
 */
import { crc32 } from '../core/crc.ts';
import { sha256Hex } from '../core/sha256.ts';

export interface Digests {
  /** CRC-32/ISO-HDLC (zlib), unsigned. */
  crc32(data: Uint8Array): number;
  /** SHA-256, lower-case hex. */
  sha256Hex(data: Uint8Array): string;
}

export const PORTABLE_DIGESTS: Digests = { crc32: (d) => crc32(d), sha256Hex };
