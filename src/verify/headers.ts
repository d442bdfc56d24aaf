/**
 * "Header only": the headers of known layouts (schemas/headers/*.yaml) that the expected image carries, found by
 * their magic at the starts of its data, and the differences inside one decoded field by field on both sides.
 * Layout options are the defaults (a header found by its default magic); the actual header is verified as a
 * bootloader following the layout would, so the report says whether the device's header is still valid.
 */
import { verifyHeader, type VerifyResult } from '../header/verify.ts';
import { detectHeaders } from '../header/detect.ts';
import { getLayout } from '../header/layouts.ts';
import type { MemoryImage } from '../image/memory-image.ts';
import type { HeaderFieldDiffReport } from './report-schema.ts';

export interface HeaderRegion {
  readonly layout: string;
  readonly start: number;
  readonly end: number;
}

export interface HeaderDiff {
  readonly layout: string;
  readonly headerAddress: number;
  readonly headerSize: number;
  readonly fields: HeaderFieldDiffReport[];
  readonly paddingBytes: number;
  readonly actualHeader: { valid: boolean; reason?: string };
}

export class HeaderFinder {
  private regions: HeaderRegion[] | undefined;
  private readonly verified = new Map<string, VerifyResult>();

  constructor(
    private readonly expected: MemoryImage,
    private readonly actual: MemoryImage,
    private readonly erased: number,
  ) {}

  /** Header regions of the expected image: the header size its own field states, else the layout's default. */
  all(): readonly HeaderRegion[] {
    if (this.regions === undefined) {
      this.regions = [];
      for (const d of detectHeaders(this.expected)) {
        const v = this.verify(this.expected, 'e', d.layout, d.address);
        const size = v.geometry?.headerSize ?? getLayout(d.layout).headerSize.default;
        this.regions.push({ layout: d.layout, start: d.address, end: d.address + size });
      }
    }
    return this.regions;
  }

  /** The header region that holds all of [start, end), if any. */
  holding(start: number, end: number): HeaderRegion | undefined {
    return this.all().find((h) => start >= h.start && end <= h.end);
  }

  private verify(image: MemoryImage, side: string, layout: string, address: number): VerifyResult {
    const key = `${side}:${layout}:${address}`;
    let v = this.verified.get(key);
    if (v === undefined) {
      v = verifyHeader(image, { layout, headerAddress: address, erasedValue: this.erased });
      this.verified.set(key, v);
    }
    return v;
  }

  /** The fields of `h` whose bytes differ between the two images in [start, end), with both values decoded. */
  explain(h: HeaderRegion, start: number, end: number): HeaderDiff {
    const e = this.verify(this.expected, 'e', h.layout, h.start);
    const a = this.verify(this.actual, 'a', h.layout, h.start);
    const eb = this.expected.read(start, end - start, this.erased);
    const ab = this.actual.read(start, end - start, this.erased);
    const fields: HeaderFieldDiffReport[] = [];
    let padding = 0;
    for (let i = 0; i < eb.length; i++) {
      if (eb[i] === ab[i]) continue;
      const addr = start + i;
      const f = e.fields.find((x) => addr >= x.address && addr < x.address + x.size);
      if (f === undefined) {
        padding++;
        continue;
      }
      if (fields.some((x) => x.name === f.name)) continue;
      const af = a.fields.find((x) => x.name === f.name && x.address === f.address);
      fields.push({ name: f.name, offset: f.offset, address: f.address, size: f.size, expected: f.storedDisplay, actual: af?.storedDisplay ?? '?' });
    }
    return {
      layout: h.layout,
      headerAddress: h.start,
      headerSize: h.end - h.start,
      fields,
      paddingBytes: padding,
      actualHeader: a.ok ? { valid: true } : { valid: false, ...(a.reason !== undefined ? { reason: `${a.reason.message} [${a.reason.code}]` } : {}) },
    };
  }
}
