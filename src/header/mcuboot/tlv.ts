/**
 * MCUboot's TLV area after the payload, as imgtool writes it for an unsigned image (scripts/imgtool/image.py
 * class TLV and Image.create; bootutil image.h struct image_tlv_info / image_tlv):
 *
 *   image_tlv_info { u16 it_magic = 0x6907; u16 it_tlv_tot }     it_tlv_tot counts the info itself
 *   image_tlv      { u8 it_type; u8 pad = 0; u16 it_len } + it_len bytes, repeated
 *
 * The hash TLV (type 0x10, SHA-256) covers the header region (ih_hdr_size bytes), the payload and the protected
 * TLV area (info magic 0x6908) when there is one. dfukit writes no protected TLVs; it reads them when present.
 * Little-endian, as imgtool's default `--endian little`.
 */
import { sha256 } from '../../core/sha256.ts';
import type { MemoryImage } from '../../image/memory-image.ts';

export const TLV_INFO_MAGIC = 0x6907;
export const TLV_PROT_INFO_MAGIC = 0x6908;
export const TLV_INFO_SIZE = 4;
export const TLV_HEADER_SIZE = 4;
export const TLV_SHA256 = 0x10;
export const SHA256_SIZE = 32;
/** Size of the area dfukit writes: info + one SHA-256 TLV. */
export const TLV_AREA_SIZE = TLV_INFO_SIZE + TLV_HEADER_SIZE + SHA256_SIZE;

/** TLV names for reports (image.h IMAGE_TLV_*). */
export const TLV_NAMES: Readonly<Record<number, string>> = {
  0x01: 'KEYHASH', 0x02: 'PUBKEY', 0x10: 'SHA256', 0x11: 'SHA384', 0x12: 'SHA512', 0x20: 'RSA2048_PSS', 0x22: 'ECDSA_SIG',
  0x23: 'RSA3072_PSS', 0x24: 'ED25519', 0x25: 'SIG_PURE', 0x30: 'ENC_RSA2048', 0x31: 'ENC_KW', 0x32: 'ENC_EC256',
  0x33: 'ENC_X25519', 0x34: 'ENC_X25519_SHA512', 0x40: 'DEPENDENCY', 0x50: 'SEC_CNT', 0x60: 'BOOT_RECORD',
  0x70: 'DECOMP_SIZE', 0x71: 'DECOMP_SHA', 0x72: 'DECOMP_SIGNATURE', 0x73: 'COMP_DEC_SIZE', 0x74: 'UUID_VID', 0x75: 'UUID_CID',
};

/** The TLV area for `hashed` = header region + payload: info (0x6907, 40) and the SHA-256 TLV. */
export function buildTlvArea(hashed: Uint8Array): Uint8Array {
  const out = new Uint8Array(TLV_AREA_SIZE);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, TLV_INFO_MAGIC, true);
  dv.setUint16(2, TLV_AREA_SIZE, true);
  dv.setUint8(4, TLV_SHA256);
  dv.setUint8(5, 0);
  dv.setUint16(6, SHA256_SIZE, true);
  out.set(sha256(hashed), 8);
  return out;
}

export interface TlvEntry {
  readonly type: number;
  readonly name: string;
  readonly address: number;
  readonly data: Uint8Array;
}

export interface TlvArea {
  /** Address of the (unprotected) TLV info. */
  readonly address: number;
  /** Bytes of the protected TLV area (0 without one); included in the hash. */
  readonly protectedSize: number;
  readonly total: number;
  readonly entries: readonly TlvEntry[];
  /** One past the last byte of the TLV areas. */
  readonly end: number;
}

function u16(image: MemoryImage, addr: number, erased: number): number {
  const b = image.read(addr, 2, erased);
  return b[0]! | (b[1]! << 8);
}

/**
 * The TLV area at `at` (= header start + ih_hdr_size + ih_img_size), read no further than `limit`. Returns a
 * problem text instead when there is no info magic or the lengths run past `limit` or past the area.
 */
export function readTlvArea(image: MemoryImage, at: number, limit: number, erased: number): TlvArea | { problem: string } {
  let info = at;
  let protectedSize = 0;
  if (info + TLV_INFO_SIZE > limit) return { problem: 'no room for the TLV info before the slot end' };
  if (u16(image, info, erased) === TLV_PROT_INFO_MAGIC) {
    protectedSize = u16(image, info + 2, erased);
    info += protectedSize;
    if (protectedSize < TLV_INFO_SIZE || info + TLV_INFO_SIZE > limit) return { problem: `protected TLV area of ${protectedSize} bytes runs past the slot end` };
  }
  const magic = u16(image, info, erased);
  if (magic !== TLV_INFO_MAGIC) return { problem: `no TLV info magic 0x6907 at the end of the payload (found 0x${magic.toString(16).padStart(4, '0').toUpperCase()})` };
  const total = u16(image, info + 2, erased);
  const end = info + total;
  if (total < TLV_INFO_SIZE || end > limit) return { problem: `TLV area of ${total} bytes runs past the slot end` };
  const entries: TlvEntry[] = [];
  for (let p = info + TLV_INFO_SIZE; p < end; ) {
    if (p + TLV_HEADER_SIZE > end) return { problem: 'a TLV header runs past the end of the TLV area' };
    const type = image.read(p, 1, erased)[0]!;
    const len = u16(image, p + 2, erased);
    if (p + TLV_HEADER_SIZE + len > end) return { problem: `TLV type 0x${type.toString(16)} of ${len} bytes runs past the end of the TLV area` };
    entries.push({ type, name: TLV_NAMES[type] ?? `0x${type.toString(16).padStart(2, '0')}`, address: p, data: image.read(p + TLV_HEADER_SIZE, len, erased) });
    p += TLV_HEADER_SIZE + len;
  }
  return { address: info, protectedSize, total, entries, end };
}
