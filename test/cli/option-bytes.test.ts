/**
 * Option bytes: decoding per family from the profiles' field maps (hand-made images with known values: RDP,
 * write protection as sectors or page ranges, PCROP mode, boot addresses per core, bank mode, complements),
 * encoding `FIELD=VALUE` (complement and _PRG mirror updated, RDP level 2 refused); and `dfukit option-bytes` /
 * `dfukit unprotect` as a user runs them against the emulator: the diff before a write, --force, the reset and
 * re-enumeration, the read-back.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { resolveChip } from '../../src/layout/chips.ts';
import { byteDiff, decodeOptionBytes, encodeOptionBytes, optionByteRegions, type OptionByteRegion } from '../../src/layout/option-bytes.ts';
import { dfukit } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'dfukit-cli-ob-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const run = (args: string[]) => dfukit(args, { cwd: dir });

function region(start: number, size: number, fill: number, at: Record<number, number[]>): OptionByteRegion {
  const bytes = new Uint8Array(size).fill(fill);
  for (const [a, b] of Object.entries(at)) bytes.set(b, Number(a) - start);
  return { start, bytes };
}

const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];

describe('decode per family', () => {
  test('F405: RDP level 1, nWRP sectors 0 and 1, BOR off', () => {
    const p = resolveChip('stm32f405');
    const d = decodeOptionBytes(p, [region(0x1fffc000, 16, 0xff, { 0x1fffc000: [0xec, 0xbb], 0x1fffc008: [0xfc, 0x0f] })]);
    assert.deepEqual(d.rdp, { level: 1, raw: 0xbb });
    assert.deepEqual(d.writeProtection.map((w) => [w.what, w.start, w.end, w.kind]), [['sector 0', 0x08000000, 0x08004000, 'write-protection'], ['sector 1', 0x08004000, 0x08008000, 'write-protection']]);
    assert.equal(d.fields.find((f) => f.name === 'BOR_LEV')!.valueName, 'off');
    assert.equal(d.fields.find((f) => f.name === 'WDG_SW')!.valueName, 'software');
    assert.equal(d.bankMode, undefined);
  });

  test('F411 SPRMOD = 1: the nWRP bits are active-high PCROP bits', () => {
    const p = resolveChip('stm32f411');
    const d = decodeOptionBytes(p, [region(0x1fffc000, 16, 0xff, { 0x1fffc000: [0xec, 0xaa], 0x1fffc008: [0x03, 0x80] })]);
    assert.deepEqual(d.writeProtection.map((w) => [w.what, w.kind]), [['sector 0', 'pcrop'], ['sector 1', 'pcrop']]);
  });

  test('F429: DB1M selects dual bank; bank-2 nWRP at 0x1FFEC008 names sectors 12..', () => {
    const p = resolveChip('stm32f429');
    const d = decodeOptionBytes(p, [region(0x1fffc000, 16, 0xff, { 0x1fffc000: [0xec, 0xaa], 0x1fffc008: [0xff, 0x4f] }), region(0x1ffec000, 16, 0xff, { 0x1ffec008: [0xfe, 0x0f] })]);
    assert.deepEqual(d.bankMode, { field: 'DB1M', mode: 'dual', raw: 1 });
    assert.deepEqual(d.writeProtection.map((w) => [w.bank, w.what]), [[2, 'sector 12']]);
  });

  test('F767: value + complement words; nDBANK = 0 is dual; boot addresses << 14; a broken complement is reported', () => {
    const p = resolveChip('stm32f767');
    const image = { 0x1fff0000: [0xff, 0xaa, 0x00, 0x55], 0x1fff0008: [0xff, 0xdf, 0x00, 0x20], 0x1fff0010: [0x00, 0x20, 0xff, 0xdf], 0x1fff0018: [0x40, 0x00, 0xbf, 0xff] };
    const d = decodeOptionBytes(p, [region(0x1fff0000, 32, 0xff, image)]);
    assert.deepEqual(d.bankMode, { field: 'nDBANK', mode: 'dual', raw: 0 });
    assert.deepEqual(d.bootAddresses.map((b) => [b.field, b.boot, b.address]), [['BOOT_ADD0', 'BOOT0 = 0', 0x08000000], ['BOOT_ADD1', 'BOOT0 = 1', 0x00100000]]);
    assert.deepEqual(d.writeProtection, []);
    assert.deepEqual(d.complementErrors, []);
    const bad = decodeOptionBytes(p, [region(0x1fff0000, 32, 0xff, { ...image, 0x1fff0000: [0xff, 0xbb, 0x00, 0x55] })]);
    assert.deepEqual(bad.complementErrors, ['0x1FFF0000: 0xBBFF with complement 0x5500 at 0x1FFF0002']);
  });

  test('H745: dual-core boot options (BCM4/BCM7, BOOT_CM7_ADDx, BOOT_CM4_ADDx) and bank-1 WRPSN', () => {
    const p = resolveChip('stm32h745');
    const optsr = 0x13c6aaf0 & ~(1 << 22); // BCM4 = 0: the Cortex-M4 is gated
    const d = decodeOptionBytes(p, [region(0x5200201c, 128, 0x00, { 0x5200201c: le32(optsr), 0x52002020: le32(optsr), 0x52002038: le32(0xfe), 0x52002040: le32(0x1ff00800), 0x52002048: le32(0x1ff00810) })]);
    assert.deepEqual(d.rdp, { level: 0, raw: 0xaa });
    assert.deepEqual(d.bootAddresses.map((b) => [b.core, b.boot, b.address]), [
      ['cm7', 'BOOT0 = 0', 0x08000000],
      ['cm7', 'BOOT0 = 1', 0x1ff00000],
      ['cm4', 'BOOT0 = 0', 0x08100000],
      ['cm4', 'BOOT0 = 1', 0x1ff00000],
    ]);
    assert.equal(d.fields.find((f) => f.name === 'BCM4')!.valueName, 'gated');
    assert.equal(d.fields.find((f) => f.name === 'BCM7')!.valueName, 'boot');
    assert.deepEqual(d.writeProtection.map((w) => [w.bank, w.what]), [[1, 'sector 0']]);
  });

  test('L476 and G474: OPTR with complement, page-range write protection, DUALBANK / DBANK', () => {
    const l4 = resolveChip('stm32l476');
    const optr = 0xffeff8aa;
    const d = decodeOptionBytes(l4, [region(0x1fff7800, 40, 0xff, { 0x1fff7800: [...le32(optr), ...le32(~optr >>> 0)], 0x1fff7818: [...le32(0x00030000), ...le32(0xfffcffff)], 0x1fff7820: [...le32(0x000000ff), ...le32(0xffffff00)] })]);
    assert.deepEqual(d.rdp, { level: 0, raw: 0xaa });
    assert.deepEqual(d.bankMode, { field: 'DUALBANK', mode: 'dual', raw: 1 });
    assert.deepEqual(d.writeProtection.map((w) => [w.field, w.what, w.start, w.end]), [['WRP1A', 'pages 0-3', 0x08000000, 0x08002000]], 'WRP1B start 0xFF > end 0: not protected');
    assert.deepEqual(d.complementErrors, []);
    const g4 = resolveChip('stm32g474');
    const where = optionByteRegions(g4)!;
    assert.deepEqual(where.regions, [{ start: 0x1fff7800, size: 48 }, { start: 0x1ffff800, size: 48 }]);
    const opt = 0xffafffaa; // DBANK (bit 22) = 0
    const g = decodeOptionBytes(g4, [region(0x1fff7800, 48, 0xff, { 0x1fff7800: [...le32(opt), ...le32(~opt >>> 0)] }), region(0x1ffff800, 48, 0xff, {})]);
    assert.deepEqual(g.bankMode, { field: 'DBANK', mode: 'single', raw: 0 });
  });
});

describe('encode FIELD=VALUE', () => {
  test('complement and _PRG mirror follow the field; names, numbers, addresses, sector lists', () => {
    const f7 = resolveChip('stm32f767');
    const base = [region(0x1fff0000, 32, 0xff, { 0x1fff0000: [0xff, 0xaa, 0x00, 0x55], 0x1fff0008: [0xff, 0xff, 0x00, 0x00], 0x1fff0010: [0x80, 0x00, 0x7f, 0xff] })];
    const e = encodeOptionBytes(f7, base, ['nDBANK=dual', 'BOOT_ADD0=0x08000000', 'nwrp=0,3']);
    assert.deepEqual(e.changes.map((c) => `${c.field} ${c.from} -> ${c.to}`), ['nDBANK single (1) -> dual (0)', 'BOOT_ADD0 0x00200000 (0x0080) -> 0x08000000 (0x2000)', 'nWRP 0b111111111111 -> 0b111111110110']);
    assert.deepEqual(byteDiff(base, e.regions), ['0x1FFF0008: FF -> F6', '0x1FFF0009: FF -> DF', '0x1FFF000A: 00 -> 09', '0x1FFF000B: 00 -> 20', '0x1FFF0010: 80 -> 00', '0x1FFF0011: 00 -> 20', '0x1FFF0012: 7F -> FF', '0x1FFF0013: FF -> DF']);
    assert.deepEqual(decodeOptionBytes(f7, e.regions).complementErrors, []);
    assert.match(e.warnings.join(' | '), /nDBANK: the flash organisation changes/);
    const h7 = resolveChip('stm32h745');
    const h = encodeOptionBytes(h7, [region(0x5200201c, 128, 0x00, {})], ['BOOT_CM4_ADD0=0x08100000']);
    assert.deepEqual(byteDiff([region(0x5200201c, 128, 0x00, {})], h.regions), ['0x52002048: 00 -> 10', '0x52002049: 00 -> 08', '0x5200204C: 00 -> 10', '0x5200204D: 00 -> 08']);
  });

  test('refusals: RDP level 2, unknown fields, bad values, read-only and unmapped profiles', () => {
    const f4 = resolveChip('stm32f405');
    const r = [region(0x1fffc000, 16, 0xff, { 0x1fffc000: [0xec, 0xaa] })];
    assert.throws(() => encodeOptionBytes(f4, r, ['RDP=2']), /RDP=2: read-protection level 2 is permanent.*dfukit does not set it/);
    assert.throws(() => encodeOptionBytes(f4, r, ['FOO=1']), /has no option-byte field 'FOO' \(fields: BOR_LEV, WDG_SW, nRST_STOP, nRST_STDBY, RDP, nWRP\)/);
    assert.throws(() => encodeOptionBytes(f4, r, ['WDG_SW=maybe']), /WDG_SW=maybe: expected one of hardware, software or a number 0\.\.1/);
    assert.throws(() => encodeOptionBytes(resolveChip('stm32f767'), [region(0x1fff0000, 32, 0xff, {})], ['BOOT_ADD0=0x08001000']), /must be a multiple of 0x00004000/);
    assert.throws(() => encodeOptionBytes(resolveChip('stm32h7a3'), [], ['RDP=0']), /no option-byte map for this profile \(stm32h7a3\)/);
    const lvl1 = encodeOptionBytes(f4, r, ['RDP=1']);
    assert.equal(lvl1.changes[0]!.toRaw, 0xbb);
    assert.match(lvl1.warnings[0]!, /RDP level 1: flash can no longer be read or written over DFU/);
  });
});

describe('dfukit option-bytes / unprotect', () => {
  test('read and decode: human and --json', () => {
    const r = run(['option-bytes', '--device', 'emulator:stm32h745']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^option bytes of STM32H745xI on the in-process ROM emulator\n {2}raw {7}0x5200201C \+128: F0 AA C6 13 /);
    assert.match(r.stdout, /\n {2}read protection {3}level 0 \(RDP 0xAA\)\n {2}write protection {2}none\n {2}boot {14}cm7, BOOT0 = 0: 0x08000000 \(BOOT_CM7_ADD0\)\n/);
    assert.match(r.stdout, /\n {4}BCM4 {11}boot \(1\) {2}Cortex-M4 boot after reset\n/);
    const j = JSON.parse(run(['option-bytes', '--device', 'emulator:stm32f405', '--json']).stdout);
    assert.equal(j.ok, true);
    assert.equal(j.chip, 'STM32F405xG');
    assert.deepEqual(j.optionBytes.rdp, { level: 0, raw: 0xaa });
    assert.equal(j.optionBytes.fields.length, 6);
  });

  test('--set shows the diff and writes nothing without --force (exit 2); with --force it writes, the device resets and comes back', () => {
    const no = run(['option-bytes', '--device', 'emulator:stm32f767', '--set', 'nDBANK=dual', '--set', 'BOOT_ADD0=0x08000000']);
    assert.equal(no.status, 2);
    assert.match(no.stdout, /^option-byte changes\n {2}nDBANK {5}single \(1\) -> dual \(0\)\n {2}BOOT_ADD0 {2}0x00200000 \(0x0080\) -> 0x08000000 \(0x2000\)\n {4}0x1FFF0009: 20 -> 00\n/);
    assert.match(no.stdout, /warning: nDBANK: the flash organisation changes/);
    assert.match(no.stderr, /nothing written: writing option bytes needs --force .*\[OB_FORCE_REQUIRED\]/);
    const yes = run(['option-bytes', '--device', 'emulator:stm32f767', '--set', 'nDBANK=dual', '--set', 'BOOT_ADD0=0x08000000', '--force', '--json']);
    assert.equal(yes.status, 0, yes.stderr);
    const j = JSON.parse(yes.stdout);
    assert.equal(j.written, true);
    assert.deepEqual(j.optionBytes.bankMode, { field: 'nDBANK', mode: 'single', raw: 1 });
    assert.deepEqual(j.after.bankMode, { field: 'nDBANK', mode: 'dual', raw: 0 });
    assert.equal(j.after.bootAddresses[0].address, 0x08000000);
    const refused = run(['option-bytes', '--device', 'emulator:stm32f405', '--set', 'RDP=2', '--force']);
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /level 2 is permanent/);
  });

  test('unprotect: refused without --force; with it the flash is mass-erased and RDP is level 0 after the reset', () => {
    const flash = join(dir, 'f405.bin');
    writeFileSync(flash, new Uint8Array(1024 * 1024).fill(0x5a));
    const no = run(['unprotect', '--device', `emulator:stm32f405,rdp=1,flash=${flash}`]);
    assert.equal(no.status, 2);
    assert.match(no.stderr, /read-unprotect \(DfuSe 0x92\) mass-erases the whole flash .*nothing was sent; add --force.*\[UNPROTECT_FORCE_REQUIRED\]/);
    assert.ok(readFileSync(flash).every((b) => b === 0x5a), 'untouched');
    const r = run(['unprotect', '--device', `emulator:stm32f405,rdp=1,flash=${flash}`, '--force']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^read-unprotect done on STM32F405xG \(the in-process ROM emulator \(flash in .*f405\.bin\)\): read protection level 1 -> level 0; the flash was mass-erased; the device reset and came back \(serial [0-9A-F]{12}\)\n$/);
    assert.ok(readFileSync(flash).every((b) => b === 0xff), 'mass-erased');
  });
});
