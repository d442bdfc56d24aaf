/** inject → verify for every layout and the option sets that change its bytes; every field comes back as written. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { headerRanges } from '../../src/header/ranges.ts';
import { injectHeader, type InjectRequest } from '../../src/header/inject.ts';
import { verifyHeader } from '../../src/header/verify.ts';
import { MemoryImage } from '../../src/image/memory-image.ts';
import { A, B, app, imageAt, payload } from './helpers.ts';

interface Case {
  name: string;
  image: MemoryImage;
  req: Omit<InjectRequest, 'slot'> & { slot?: InjectRequest['slot'] };
  verify?: { headerSize?: number; headerOffset?: number; options?: Record<string, string> };
}

const CASES: Case[] = [
  { name: 'dfukit-ab-v1 defaults', image: app(A.start + 0x400), req: { layout: 'dfukit-ab-v1' } },
  { name: 'dfukit-ab-v1 stm32 CRC, odd payload length, cm4, hw id, version', image: app(A.start + 0x400, 4097), req: { layout: 'dfukit-ab-v1', options: { crc: 'stm32', core: 'cm4', 'hw-id': '0x450', version: '3.1.400+9' } } },
  { name: 'dfukit-ab-v1 no CRC but SHA-256', image: app(A.start + 0x400), req: { layout: 'dfukit-ab-v1', options: { crc: 'none', sha256: true } } },
  { name: 'dfukit-ab-v1 header 0x200', image: app(A.start + 0x200), req: { layout: 'dfukit-ab-v1', headerSize: 0x200 } },
  { name: 'dfukit-ab-v1 in reserved 0xFF space', image: imageAt(A.start, new Uint8Array([...new Uint8Array(0x400).fill(0xff), ...payload(A.start + 0x400)])), req: { layout: 'dfukit-ab-v1' } },
  { name: 'dfukit-ab-v1 staging copy in B for A', image: app(A.start + 0x400), req: { layout: 'dfukit-ab-v1', slot: B, runSlot: A } },
  { name: 'mcuboot plain (reserved zeros)', image: imageAt(A.start, new Uint8Array([...new Uint8Array(0x200), ...payload(A.start + 0x200)])), req: { layout: 'mcuboot', options: { version: '1.2.3+4' } } },
  { name: 'mcuboot --pad-header --pad --confirm --align 8', image: app(A.start + 0x200), req: { layout: 'mcuboot', padHeader: true, options: { pad: true, confirm: true, align: 8 } } },
  { name: 'mcuboot secondary slot (staging) --max-align 32', image: app(A.start + 0x200), req: { layout: 'mcuboot', slot: B, runSlot: A, options: { pad: true, align: 32, 'max-align': 32 } } },
  { name: 'simple-crc defaults', image: app(A.start + 0x200), req: { layout: 'simple-crc' } },
  {
    name: 'simple-crc moved fields, own magic, stm32 CRC, header 0x100',
    image: app(A.start + 0x100, 3001),
    req: { layout: 'simple-crc', headerSize: 0x100, options: { magic: '0xC0DEC0DE', 'crc-offset': '0x10', 'size-offset': '0x20', crc: 'stm32' } },
    verify: { headerSize: 0x100, options: { magic: '0xC0DEC0DE', 'crc-offset': '0x10', 'size-offset': '0x20', crc: 'stm32' } },
  },
  {
    name: 'simple-crc in space the firmware reserved after its vector table',
    image: (() => {
      const p = payload(A.start, 6000);
      p.fill(0xff, 0x200, 0x220);
      return imageAt(A.start, p);
    })(),
    req: { layout: 'simple-crc', headerOffset: 0x200, headerSize: 0x20 },
    verify: { headerOffset: 0x200, headerSize: 0x20 },
  },
];

describe('inject → verify round trips', () => {
  for (const c of CASES) {
    test(c.name, () => {
      const slot = c.req.slot ?? A;
      const r = injectHeader(c.image, { ...c.req, slot });
      const v = verifyHeader(r.image, { layout: c.req.layout, slot, slots: [A, B], ...(c.verify ?? {}) });
      assert.deepEqual(v.findings.filter((f) => f.severity !== 'info'), [], JSON.stringify(v.findings));
      assert.equal(v.ok, true);
      for (const f of r.fields) {
        const check = v.fields.find((x) => x.name === f.name)!;
        assert.equal(check.stored, f.value, f.name);
        assert.notEqual(check.status, 'mismatch', f.name);
      }
      assert.equal(v.geometry?.payloadSize, r.report.geometry.payloadSize);
      assert.equal(v.geometry?.runSlot.start, r.report.geometry.runSlot.start);
      // The header is written last by a flasher: headerRanges finds it where inject put it.
      const ranges = headerRanges(r.image, c.req.layout, [slot], { ...(c.verify?.headerSize !== undefined ? { headerSize: c.verify.headerSize } : {}), ...(c.verify?.headerOffset !== undefined ? { headerOffset: c.verify.headerOffset } : {}), ...(c.verify?.options !== undefined ? { options: c.verify.options } : {}) });
      assert.equal(ranges[0]?.start, r.report.geometry.headerStart);
      assert.equal(ranges[0]?.end, r.report.geometry.headerStart + r.report.geometry.headerSize);
    });
  }
});

test('dfukit-ab-v1 fields as written: sizes, addresses, flags, version, CRCs', () => {
  const r = injectHeader(app(A.start + 0x400, 4097), { layout: 'dfukit-ab-v1', slot: A, options: { crc: 'stm32', core: 'cm4', version: '3.1.400+9', sha256: true } });
  const f = Object.fromEntries(r.fields.map((x) => [x.name, x.value]));
  assert.equal(f.magic, 0x42416664);
  assert.equal(f.hdr_size, 0x400);
  assert.equal(f.payload_size, 4097);
  assert.equal(f.load_addr, A.start + 0x400);
  assert.equal(f.entry, A.start + 0x400 + 0x1c1);
  assert.equal(f.flags, 2 | (1 << 4) | (1 << 8));
  assert.deepEqual([f.version_major, f.version_minor, f.version_revision, f.version_build], [3, 1, 400, 9]);
  assert.equal(f.slot_size, A.size);
  assert.equal(typeof f.sha256, 'string');
  // The header bytes: magic "dfAB", padding 0xFF up to hdr_size.
  const hdr = r.image.read(A.start, 0x400);
  assert.deepEqual([...hdr.subarray(0, 4)], [0x64, 0x66, 0x41, 0x42]);
  assert.ok(hdr.subarray(0x60).every((b) => b === 0xff));
});

test('mcuboot --pad: headerRanges also names the trailer magic and image_ok, rounded to the program unit', () => {
  const r = injectHeader(app(A.start + 0x200), { layout: 'mcuboot', slot: A, padHeader: true, options: { pad: true, confirm: true } });
  const ranges = headerRanges(r.image, 'mcuboot', [A], { programUnit: 32 });
  assert.deepEqual(
    ranges.map((x) => [x.start - A.start, x.end - A.start, x.what]),
    [
      [0, 0x200, 'mcuboot header'],
      [A.size - 32, A.size, 'mcuboot trailer image_ok'],
      [A.size - 32, A.size, 'mcuboot trailer magic'],
    ],
  );
});
