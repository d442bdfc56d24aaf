/**
 * Format detection by content, never by file extension (a `.bin` may be a HEX, a `.dfu` a plain DFU file).
 * Order matters: magic numbers first, then record syntax, then the DFU suffix, then raw binary.
 */
import type { FormatName } from './types.ts';

export interface Detection {
  format: FormatName;
  /** Why: shown by `inspect` so a surprising verdict can be understood. */
  reason: string;
}

const HEX = new Uint8Array(256);
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1;

/** Offset of the first byte that is not whitespace or a UTF-8 BOM. */
function firstText(b: Uint8Array): number {
  let i = 0;
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) i = 3;
  while (i < b.length && (b[i] === 0x20 || b[i] === 0x09 || b[i] === 0x0d || b[i] === 0x0a)) i++;
  return i;
}

/** `n` hex digits from `at`, then end of line. */
function hexLine(b: Uint8Array, at: number, minDigits: number): boolean {
  let i = at;
  while (i < b.length && HEX[b[i]!] === 1) i++;
  const endOk = i === b.length || b[i] === 0x0d || b[i] === 0x0a;
  return endOk && i - at >= minDigits;
}

/** True when the last bytes form a DFU suffix: "UFD" signature and a plausible bLength (DFU 1.1 appendix B). */
export function hasDfuSuffix(b: Uint8Array): boolean {
  if (b.length < 16) return false;
  const n = b.length;
  // ucDfuSignature is stored as 'U','F','D' in file order at offset -8 (dfu-util dfu_file.c checks the same).
  if (b[n - 8] !== 0x55 || b[n - 7] !== 0x46 || b[n - 6] !== 0x44) return false;
  const bLength = b[n - 5]!;
  return bLength >= 16 && bLength <= n;
}

export function detectFormat(b: Uint8Array): Detection {
  if (b.length >= 4 && b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46) return { format: 'elf', reason: 'ELF magic 7F 45 4C 46' };
  if (b.length >= 5 && b[0] === 0x44 && b[1] === 0x66 && b[2] === 0x75 && b[3] === 0x53 && b[4] === 0x65) return { format: 'dfuse', reason: 'DfuSe prefix signature "DfuSe"' };
  const t = firstText(b);
  // ":LLAAAATT..CC": at least 10 hex digits after the colon.
  if (b[t] === 0x3a && hexLine(b, t + 1, 10)) return { format: 'ihex', reason: 'Intel HEX record syntax (":" + hex digits)' };
  // "S" + record type digit + count/address/checksum digits.
  if (b[t] === 0x53 && b[t + 1] !== undefined && b[t + 1]! >= 0x30 && b[t + 1]! <= 0x39 && hexLine(b, t + 2, 6)) {
    return { format: 'srec', reason: 'Motorola S-record syntax ("S" + type digit + hex digits)' };
  }
  if (hasDfuSuffix(b)) return { format: 'dfu', reason: 'DFU suffix ("UFD" signature) without a DfuSe prefix' };
  return { format: 'bin', reason: 'no known signature or record syntax: raw binary' };
}
