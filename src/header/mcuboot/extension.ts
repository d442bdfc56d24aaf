/**
 * The `mcuboot` extension: the TLV area after the payload (SHA-256 over header region + payload) and, with
 * `pad`, the trailer at the slot end (magic; image_ok with `confirm`), exactly as `imgtool sign` without a key.
 */
import { formatSize, hex32 } from '../../core/format.ts';
import { sha256, toHex } from '../../core/sha256.ts';
import type { ExtensionContext, ExtensionVerify, HeaderExtension } from '../extension.ts';
import type { Finding } from '../findings.ts';
import { payloadEnd } from '../geometry.ts';
import { optionNumber, type ResolvedOptions } from '../options.ts';
import type { FieldCheck } from '../report.ts';
import { slotEnd } from '../slots.ts';
import { alignUp } from '../../core/range.ts';
import { BOOT_MAGIC_SIZE, magicMaxAlign, readTrailer, trailerBytes, trailerOffsets, trailerSize, type TrailerParams } from './trailer.ts';
import { buildTlvArea, readTlvArea, SHA256_SIZE, TLV_AREA_SIZE, TLV_SHA256 } from './tlv.ts';

export function trailerParams(options: ResolvedOptions): TrailerParams {
  const align = optionNumber(options, 'align');
  const given = optionNumber(options, 'max-align');
  return { align, maxAlign: given === 0 ? Math.max(8, align) : given, maxSectors: optionNumber(options, 'max-sectors') };
}

function hashed(ctx: ExtensionContext, protectedSize: number): Uint8Array {
  const g = ctx.geometry;
  const body = ctx.image.read(g.payloadStart, g.payloadSize + protectedSize, ctx.erased);
  const all = new Uint8Array(ctx.header.length + body.length);
  all.set(ctx.header, 0);
  all.set(body, ctx.header.length);
  return all;
}

function verify(ctx: ExtensionContext): ExtensionVerify & { afterPayload: number } {
  const g = ctx.geometry;
  const at = payloadEnd(g);
  const limit = slotEnd(g.slot);
  const checks: FieldCheck[] = [];
  const findings: Finding[] = [];
  const details: Record<string, string | number | boolean> = {};
  const area = readTlvArea(ctx.image, at, limit, ctx.erased);
  const base = { offset: at - g.headerStart, type: 'tlv', address: at };
  if ('problem' in area) {
    findings.push({ code: 'HEADER_TLV', severity: 'error', message: `${area.problem} at ${hex32(at)}`, field: 'tlv_info', address: at });
    checks.push({ ...base, name: 'tlv_info', size: 4, stored: '', storedDisplay: area.problem, status: 'mismatch', code: 'HEADER_TLV' });
    return { checks, findings, details, afterPayload: 0 };
  }
  details.tlvTotal = area.total;
  details.protectedTlvSize = area.protectedSize;
  details.tlvs = area.entries.map((e) => e.name).join(', ');
  checks.push({ ...base, name: 'tlv_info', size: 4, stored: area.total, storedDisplay: `magic 0x6907, ${area.total} bytes: ${details.tlvs}`, status: 'info' });
  const hash = area.entries.find((e) => e.type === TLV_SHA256 && e.data.length === SHA256_SIZE);
  if (hash === undefined) {
    findings.push({ code: 'HEADER_TLV', severity: 'error', message: 'the TLV area has no SHA-256 TLV (type 0x10): an unsigned MCUboot image needs one', field: 'tlv_sha256', address: area.address });
  } else {
    const want = sha256(hashed(ctx, area.protectedSize));
    const same = want.every((b, i) => b === hash.data[i]);
    checks.push({
      name: 'tlv_sha256',
      offset: hash.address - g.headerStart,
      size: SHA256_SIZE,
      type: 'tlv',
      address: hash.address + 4,
      stored: toHex(hash.data),
      storedDisplay: toHex(hash.data),
      expected: toHex(want),
      expectedDisplay: toHex(want),
      status: same ? 'ok' : 'mismatch',
      ...(same ? {} : { code: 'HEADER_PAYLOAD_HASH' }),
    });
    if (!same) {
      findings.push({ code: 'HEADER_PAYLOAD_HASH', severity: 'error', message: `SHA-256 TLV ${toHex(hash.data)} is not the hash of header + payload (${toHex(want)})`, field: 'tlv_sha256', address: hash.address });
    }
  }
  for (const e of area.entries) {
    if (e.type !== TLV_SHA256) findings.push({ code: 'HEADER_TLV_NOT_CHECKED', severity: 'info', message: `TLV ${e.name} (${e.data.length} bytes) is not checked (no key)`, address: e.address });
  }
  if (ctx.slotKnown) {
    const p = trailerParams(ctx.options);
    const t = readTrailer(ctx.image, g.slot.start, g.slot.size, p, ctx.erased);
    const written = magicMaxAlign(ctx.image.read(slotEnd(g.slot) - BOOT_MAGIC_SIZE, BOOT_MAGIC_SIZE, ctx.erased));
    details.trailerMagic = t.magic === 'bad' && written !== undefined ? `bad: written for max-align ${written} (give --max-align ${written})` : t.magic;
    details.imageOk = t.imageOk;
    details.copyDone = t.copyDone;
  }
  return { checks, findings, details, afterPayload: area.end - at };
}

export const mcubootExtension: HeaderExtension = {
  name: 'mcuboot',
  afterPayloadSize: () => TLV_AREA_SIZE,
  reservedAtSlotEnd: (options) => trailerSize(trailerParams(options)),
  build(ctx) {
    const g = ctx.geometry;
    const pieces = [{ addr: payloadEnd(g), data: buildTlvArea(hashed(ctx, 0)), what: 'TLV area (SHA-256)' }];
    if (ctx.options.values.get('pad') === true) {
      const t = trailerBytes(g.slot.size, trailerParams(ctx.options), ctx.options.values.get('confirm') === true, ctx.erased);
      pieces.push({ addr: g.slot.start + t.offset, data: t.data, what: `trailer (${formatSize(t.data.length)} bytes, magic${ctx.options.values.get('confirm') === true ? ', image_ok' : ''})` });
    }
    return pieces;
  },
  verify,
  lastRanges({ options, geometry }) {
    if (options.values.get('pad') !== true) return [];
    const p = trailerParams(options);
    const o = trailerOffsets(geometry.slot.size, p);
    const end = slotEnd(geometry.slot);
    const out = [{ start: end - alignUp(BOOT_MAGIC_SIZE, p.maxAlign), end, what: 'trailer magic' }];
    if (options.values.get('confirm') === true) out.unshift({ start: geometry.slot.start + o.imageOk, end: geometry.slot.start + o.imageOk + p.maxAlign, what: 'trailer image_ok' });
    return out;
  },
  describe() {
    return [
      'after the payload: TLV info {u16 0x6907, u16 total = 40}, TLV {u8 0x10, u8 0, u16 32} + SHA-256 over the header region (ih_hdr_size bytes) and the payload',
      'with pad: the slot is padded to its end; the trailer (max_sectors x 3 x align + 4 x max_align + the magic unit) is erased except',
      '  the 16-byte magic at the slot end (77c295f3 60d2ef7f 3552500f 2cb67980; with max_align != 8: align as u16 LE + 2de15d29 410b8d77 679c110f 1f8a)',
      '  and, with confirm, image_ok = 0x01 at slot end - (magic unit + max_align)',
      'image + TLV area + trailer must fit the slot (imgtool check_trailer), with or without pad',
      'select follows bootutil: swap type from the trailers (test, perm, revert, none), then the hash of the image that would run',
    ];
  },
};
