/**
 * `dfukit inspect` lists the image headers it finds at segment starts (any known layout), field by field,
 * stored vs computed, valid or not, in human and --json output; the vector table shown is the payload's.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { decodeDfuse } from '../../src/formats/dfuse-file.ts';
import { encodeIhex } from '../../src/formats/ihex.ts';
import { InspectOutputSchema } from '../../src/formats/inspect-report.ts';
import { injectHeader } from '../../src/header/inject.ts';
import { MemoryImage } from '../../src/image/memory-image.ts';
import { dfukit } from '../helpers/cli.ts';
import { fixturePath, ROOT } from '../helpers/corpus.ts';

const tmp = mkdtempSync(join(tmpdir(), 'dfukit-inspect-headers-'));
const GOLDEN = join(ROOT, 'golden-images', 'h745-ab-headers', 'expected.dfu');

/** The CM7 slot of the golden image (header + payload at 0x08020000) as a raw binary. */
function cm7Slot(): Uint8Array {
  const dfu = decodeDfuse(new Uint8Array(readFileSync(GOLDEN)));
  const image = dfu.targets[0]!.image;
  return image.read(0x08020000, 0x2500);
}

function inspectJson(...args: string[]) {
  const r = dfukit(['inspect', '--json', ...args]);
  assert.equal(r.status, 0, r.stderr);
  return InspectOutputSchema.parse(JSON.parse(r.stdout));
}

describe('dfukit inspect: image headers', () => {
  test('--json: both dfukit-ab-v1 headers of the dual-core release, valid, every field stored vs computed', () => {
    const [rep] = inspectJson(GOLDEN);
    const headers = rep!.headers ?? [];
    assert.deepEqual(
      headers.map((h) => [h.alt, h.layout, h.address, h.valid, h.version, h.options.core, h.options.crc]),
      [
        [0, 'dfukit-ab-v1', 0x08020000, true, '1.4.0+17', 'cm7', 'iso-hdlc'],
        [0, 'dfukit-ab-v1', 0x08120000, true, '1.4.0+17', 'cm4', 'stm32'],
      ],
    );
    const cm7 = headers[0]!;
    assert.deepEqual(cm7.geometry, { headerStart: 0x08020000, headerSize: 0x400, payloadStart: 0x08020400, payloadSize: 8424, loadAddress: 0x08020400 });
    const crc = cm7.fields.find((f) => f.name === 'payload_crc32')!;
    assert.deepEqual([crc.offset, crc.status, crc.stored === crc.expected], [0x20, 'ok', true]);
    assert.equal(cm7.fields.length, 18);
    assert.equal(cm7.findings.filter((f) => f.severity === 'error').length, 0);
    // The vector tables shown are the payloads', not the header bytes read as one.
    assert.deepEqual(
      rep!.targets[0]!.vectorTables.map((v) => [v.address, v.plausible]),
      [
        [0x08020400, true],
        [0x08120400, true],
      ],
    );
  });

  test('human output: a summary line per header and a field table with stored and computed columns', () => {
    const r = dfukit(['inspect', GOLDEN]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /dfukit-ab-v1 header at 0x08020000, version 1\.4\.0\+17: valid\n/);
    assert.match(r.stdout, /dfukit-ab-v1 header at 0x08120000, version 1\.4\.0\+17: valid\n/);
    assert.match(r.stdout, /offset +field +stored +computed/);
    assert.match(r.stdout, /0x20 +payload_crc32 +0x60EA460F += +ok/);
    assert.match(r.stdout, /0x14 +flags +crc_kind=stm32\(2\) sha256_present=0 core_id=cm4\(1\)/);
    assert.match(r.stdout, /vector table at 0x08020400: initial SP 0x24080000, reset 0x08020445 \(Thumb\)/);
    assert.doesNotMatch(r.stdout, /vector table at 0x08020000/);
  });

  test('a corrupted payload: the header is listed as INVALID with the CRC stored vs computed; inspect still exits 0', () => {
    const bytes = cm7Slot();
    bytes[0x400 + 0x100]! ^= 0x01;
    const f = join(tmp, 'cm7-corrupt.bin');
    writeFileSync(f, bytes);
    const [rep] = inspectJson(`${f}@0x08020000`);
    const h = rep!.headers![0]!;
    assert.equal(h.valid, false);
    assert.equal(h.reason?.code, 'HEADER_PAYLOAD_CRC');
    const crc = h.fields.find((f) => f.name === 'payload_crc32')!;
    assert.equal(crc.status, 'mismatch');
    assert.notEqual(crc.stored, crc.expected);
    const human = dfukit(['inspect', `${f}@0x08020000`]);
    assert.equal(human.status, 0, human.stderr);
    assert.match(human.stdout, /dfukit-ab-v1 header at 0x08020000, version 1\.4\.0\+17: INVALID - HEADER_PAYLOAD_CRC: /);
    assert.match(human.stdout, /payload_crc32 +0x60EA460F +0x[0-9A-F]{8} +MISMATCH HEADER_PAYLOAD_CRC/);
  });

  test('a raw binary without @ADDR is shown at 0x08000000; the header is found there all the same', () => {
    const f = join(tmp, 'cm7.bin');
    writeFileSync(f, cm7Slot());
    const [rep] = inspectJson(f);
    const h = rep!.headers![0]!;
    assert.equal(h.address, 0x08000000);
    // load_addr says 0x08020400: taken as the run address (no slots given), so the header is a staging copy.
    assert.equal(h.fields.find((x) => x.name === 'load_addr')?.status, 'info');
  });

  test('an MCUboot header in an Intel HEX file is found and verified too', () => {
    const app = new MemoryImage();
    const payload = new Uint8Array(600).map((_, i) => (i * 7) & 0xff);
    new DataView(payload.buffer).setUint32(0, 0x20010000, true);
    new DataView(payload.buffer).setUint32(4, 0x08010200 + 0x41, true);
    app.add(0x08010200, payload);
    const withHeader = injectHeader(app, { layout: 'mcuboot', slot: { name: 'A', start: 0x08010000, size: 0x10000 }, headerSize: 0x200, options: { version: '3.1.0' } });
    const f = join(tmp, 'mcuboot.hex');
    writeFileSync(f, encodeIhex(withHeader.image));
    const [rep] = inspectJson(f);
    const h = rep!.headers?.find((x) => x.layout === 'mcuboot');
    assert.ok(h !== undefined, JSON.stringify(rep!.headers));
    assert.equal(h.address, 0x08010000);
    assert.equal(h.version, '3.1.0+0');
    assert.equal(h.valid, true, h.reason?.message);
  });

  test('files without a header have no `headers` key', () => {
    const out = inspectJson(fixturePath('elf', 'h745_cm7.elf'), join(ROOT, 'golden-images', 'h745-dual-elf', 'expected.dfu'));
    assert.deepEqual(out.map((r) => 'headers' in r), [false, false]);
  });
});
