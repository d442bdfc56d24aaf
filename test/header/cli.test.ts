/** `dfukit header ...` end to end: outputs in every format, exit codes 0/1/2/3, JSON, describe. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { decodeFile } from '../../src/formats/decode.ts';
import { parseElf } from '../../src/formats/elf.ts';
import { describeCStruct } from '../../src/header/describe.ts';
import { verifyHeader } from '../../src/header/verify.ts';
import { dfukit } from '../helpers/cli.ts';
import { ROOT } from '../helpers/corpus.ts';
import { payload } from './helpers.ts';

const tmp = mkdtempSync(join(tmpdir(), 'dfukit-header-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const SLOTS = ['--slot', 'A=0x08020000+0x20000', '--slot', 'B=0x08040000+128K'];
const appA = join(tmp, 'app-a.bin');
writeFileSync(appA, payload(0x08020400, 7001));

test('inject writes .bin, .hex, .srec and .dfu holding the same image; verify accepts each (exit 0)', () => {
  const images = [];
  for (const ext of ['bin', 'hex', 'srec', 'dfu']) {
    const out = join(tmp, `a.${ext}`);
    const r = dfukit(['header', 'inject', '--layout', 'dfukit-ab-v1', ...SLOTS, '--version', '1.2.3+4', `${appA}@0x08020400`, '-o', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /dfukit-ab-v1 header for slot A 0x08020000\.\.0x08040000/);
    const spec = ext === 'bin' ? `${out}@0x08020000` : out;
    const v = dfukit(['header', 'verify', spec, ...SLOTS]);
    assert.equal(v.status, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /dfukit-ab-v1 header at 0x08020000 \(slot A 0x08020000\.\.0x08040000\): valid/);
    const decoded = decodeFile(new Uint8Array(readFileSync(out)), ext === 'bin' ? { address: 0x08020000 } : {}).decoded;
    images.push(decoded.targets[0]!.image.read(0x08020000, 0x400 + 7001));
  }
  for (const img of images.slice(1)) assert.deepEqual(img, images[0]);
  const dfu = readFileSync(join(tmp, 'a.dfu'));
  assert.deepEqual([...dfu.subarray(dfu.length - 16 + 2, dfu.length - 16 + 6)], [0x11, 0xdf, 0x83, 0x04]);
});

test('verify without --layout finds the header by its magic; --json is a result value; a changed byte exits 1', () => {
  const out = join(tmp, 'a.hex');
  const j = dfukit(['header', 'verify', out, '--json']);
  assert.equal(j.status, 0, j.stderr);
  const parsed = JSON.parse(j.stdout) as { headers: { layout: string; ok: boolean; fields: { name: string; status: string }[] }[] };
  assert.equal(parsed.headers.length, 1);
  assert.equal(parsed.headers[0]!.layout, 'dfukit-ab-v1');
  assert.ok(parsed.headers[0]!.fields.every((f) => f.status !== 'mismatch'));
  const bin = readFileSync(join(tmp, 'a.bin'));
  bin[0x400 + 77]! ^= 1;
  writeFileSync(join(tmp, 'bad.bin'), bin);
  const bad = dfukit(['header', 'verify', `${join(tmp, 'bad.bin')}@0x08020000`, '--layout', 'dfukit-ab-v1']);
  assert.equal(bad.status, 1);
  assert.match(bad.stdout, /INVALID - HEADER_PAYLOAD_CRC/);
  assert.match(bad.stdout, /payload_crc32 .* MISMATCH HEADER_PAYLOAD_CRC/);
  const none = dfukit(['header', 'verify', `${appA}@0x08020400`]);
  assert.equal(none.status, 1);
  assert.match(none.stdout, /no header found/);
});

test('select: boots the newer slot (exit 0); nothing valid exits 1', () => {
  const b = join(tmp, 'b.hex');
  assert.equal(dfukit(['header', 'inject', '--layout', 'dfukit-ab-v1', ...SLOTS, '--staging', '--version', '1.3.0', `${appA}@0x08020400`, '-o', b]).status, 0);
  const merged = join(tmp, 'flash.hex');
  assert.equal(dfukit(['convert', join(tmp, 'a.hex'), b, '-o', merged]).status, 0);
  const r = dfukit(['header', 'select', merged, '--layout', 'dfukit-ab-v1', ...SLOTS]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /a dfukit-ab-v1 bootloader copies slot B \(valid staging copy, version 1\.3\.0\+0\) to slot A, then boots slot A/);
  const j = JSON.parse(dfukit(['header', 'select', merged, '--layout', 'dfukit-ab-v1', ...SLOTS, '--json']).stdout) as { action: string; copy: unknown };
  assert.equal(j.action, 'copy-then-boot');
  assert.deepEqual(j.copy, { from: 'B', to: 'A' });
  const empty = join(tmp, 'empty.bin');
  writeFileSync(empty, new Uint8Array(0x40000).fill(0xff));
  const n = dfukit(['header', 'select', `${empty}@0x08020000`, '--layout', 'dfukit-ab-v1', ...SLOTS]);
  assert.equal(n.status, 1);
  assert.match(n.stdout, /no slot holds a valid image/);
});

test('exit 2 for usage errors, 3 for an image that cannot take the header; the message says by how much', () => {
  const usage = dfukit(['header', 'inject', '--layout', 'nope', ...SLOTS, `${appA}@0x08020400`, '-o', join(tmp, 'x.bin')]);
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /unknown header layout 'nope' \(known: dfukit-ab-v1, mcuboot, simple-crc\) \[HEADER_LAYOUT_UNKNOWN\]/);
  assert.equal(dfukit(['header', 'inject', '--layout', 'dfukit-ab-v1', '--slot', 'A=0x08020000', `${appA}@0x08020400`, '-o', join(tmp, 'x.bin')]).status, 2);
  const noRoom = dfukit(['header', 'inject', '--layout', 'dfukit-ab-v1', ...SLOTS, `${appA}@0x08020200`, '-o', join(tmp, 'x.bin')]);
  assert.equal(noRoom.status, 3);
  assert.match(noRoom.stderr, /512 \(0x200\) bytes before the end of the header space.*\[HEADER_NO_ROOM\]/);
  const overflow = dfukit(['header', 'inject', '--layout', 'dfukit-ab-v1', '--slot', 'A=0x08020000+0x1000', `${appA}@0x08020400`, '-o', join(tmp, 'x.bin')]);
  assert.equal(overflow.status, 3);
  assert.match(overflow.stderr, /overflows slot A 0x08020000\.\.0x08021000 by 3929 \(0xF59\) bytes/);
});

test('--header-symbol: the header goes where an ELF symbol says; data there is no reserved space', () => {
  const elf = join(ROOT, 'test', 'fixtures', 'elf', 'f722.elf');
  const sym = parseElf(new Uint8Array(readFileSync(elf))).findSymbol('g_version')!;
  const args = ['header', 'inject', '--layout', 'simple-crc', '--slot', 'A=0x08000000+0x80000', '--header-size', '0x20', elf, '-o', join(tmp, 'x.bin')];
  const r = dfukit([...args, '--header-symbol', 'g_version']);
  assert.equal(r.status, 3);
  const at = `0x${sym.value.toString(16).toUpperCase().padStart(8, '0')}`;
  assert.match(r.stderr, new RegExp(`no room for the 32-byte \\(0x20\\) simple-crc header at ${at}\\.\\..*\\[HEADER_NO_ROOM\\]`));
  const missing = dfukit([...args, '--header-symbol', 'nope']);
  assert.equal(missing.status, 3);
  assert.match(missing.stderr, /has no symbol nope \[HEADER_SYMBOL\]/);
  assert.equal(dfukit(['header', 'inject', '--layout', 'simple-crc', '--slot', 'A=0x08020000+0x20000', '--header-symbol', 'x', `${appA}@0x08020400`, '-o', join(tmp, 'x.bin')]).status, 2);
});

test('describe lists the layouts, explains one, and prints the C struct the docs embed', () => {
  const list = dfukit(['header', 'describe']);
  assert.equal(list.status, 0);
  assert.match(list.stdout, /dfukit-ab-v1 +1024 \(0x400\) +dfukit A\/B image header v1/);
  const one = dfukit(['header', 'describe', 'simple-crc']);
  assert.match(one.stdout, /option crc-offset +4 +u32 +crc32 +CRC-32 option crc over the image/);
  const c = dfukit(['header', 'describe', 'dfukit-ab-v1', '--c']);
  assert.equal(c.stdout, describeCStruct('dfukit-ab-v1'));
  const doc = readFileSync(join(ROOT, 'docs', 'header-dfukit-ab-v1.md'), 'utf8');
  const block = /<!-- c-struct:begin[^\n]*\n```c\n([\s\S]*?)```\n<!-- c-struct:end -->/.exec(doc);
  assert.ok(block !== null, 'docs/header-dfukit-ab-v1.md has the generated C block');
  assert.equal(block[1], describeCStruct('dfukit-ab-v1'), 'regenerate the block with dfukit header describe dfukit-ab-v1 --c');
  assert.equal(dfukit(['header', 'describe', 'simple-crc', '--c']).status, 2);
  const json = JSON.parse(dfukit(['header', 'describe', 'mcuboot', '--json']).stdout) as { fields: { name: string }[]; extension: string[] };
  assert.equal(json.fields[0]!.name, 'ih_magic');
  assert.ok(json.extension.length > 0);
});

test('the library verifies what the CLI wrote (no state shared)', () => {
  const img = decodeFile(new Uint8Array(readFileSync(join(tmp, 'a.srec')))).decoded.targets[0]!.image;
  assert.equal(verifyHeader(img, { layout: 'dfukit-ab-v1', slot: { name: 'A', start: 0x08020000, size: 0x20000 } }).ok, true);
});
