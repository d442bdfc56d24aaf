/**
 * `dfukit diff` as a user runs it (the compiled CLI): exit 0 equal, 1 different, 2 usage, 3 unreadable input;
 * `--json` matches the published schema; the human report names each range's class and evidence.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DiffReportSchema } from '../../src/verify/report-schema.ts';
import { dfukit } from '../helpers/cli.ts';
import { fixturePath } from '../helpers/corpus.ts';

const base = fixturePath('diff', 'base.elf');
const layout = fixturePath('diff', 'layout.elf');
const changed = fixturePath('diff', 'const.elf');
const tmp = mkdtempSync(join(tmpdir(), 'dfukit-diff-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** The flash image of base.elf as a raw read-back, with `edit` applied. */
function readBack(name: string, edit: (b: Uint8Array) => void): string {
  const r = dfukit(['convert', base, '-o', join(tmp, 'base.bin')]);
  assert.equal(r.status, 0, r.stderr);
  const b = new Uint8Array(readFileSync(join(tmp, 'base.bin')));
  edit(b);
  writeFileSync(join(tmp, name), b);
  return join(tmp, name);
}

describe('dfukit diff', () => {
  test('equal: exit 0, EQUAL and both CRCs', () => {
    const r = dfukit(['diff', base, readBack('same.bin', () => {}) + '@0x08000000']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^EQUAL: all 672 \(0x2A0\) compared bytes match$/m);
    assert.match(r.stdout, /^CRC-32    expected 0xDE770370  actual 0xDE770370  \(ISO-HDLC\/zlib\)$/m);
    assert.match(r.stdout, /^STM32 CRC expected 0x96529183  actual 0x96529183/m);
  });

  test('different: exit 1, every range with its class, evidence and bytes', () => {
    const r = dfukit(['diff', base, changed]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /^DIFFERENT: 2 bytes differ \(0\.3% of the compared bytes\) in 1 range; first difference at 0x08000250 \(expected F4, actual EE\)$/m);
    assert.match(r.stdout, /^#1  0x08000250\.\.0x08000252  2 bytes, 2 differ$/m);
    assert.match(r.stdout, /^    OTHER: 2 bytes differ; 3 bits set that programming cannot set/m);
    assert.match(r.stdout, /^    0x08000248  expected  54 02 00 08 50 02 00 08 F4 01 00 00 64 66 75 6B$/m);
    assert.match(r.stdout, /^                actual    54 02 00 08 50 02 00 08 EE 02 00 00 64 66 75 6B$/m);
    assert.match(r.stdout, /^ {50}\^\^ \^\^$/m);
  });

  test('--json: the published schema, with every range and class', () => {
    const r = dfukit(['diff', base, layout, '--json', '--chip', 'stm32f722']);
    assert.equal(r.status, 1, r.stderr);
    const report = DiffReportSchema.parse(JSON.parse(r.stdout));
    assert.equal(report.equal, false);
    assert.ok(report.ranges.length >= 3);
    assert.deepEqual(new Set(report.ranges.map((x) => x.class)), new Set(['different-build']));
    assert.equal(report.settings.chip, 'STM32F722xE');
    assert.equal(report.settings.programUnitFrom, 'chip');
    assert.deepEqual(report.ranges[0]!.sectors, ['bank 1 sector 0']);
  });

  test('an erased tail and the program unit: with --align 64 the image ends in a partial unit, a tail lost', () => {
    // base.elf ends at 0x080002A0 (672 bytes): whole units of 8, 16, 32; half a unit of 64.
    const rb = readBack('tail.bin', (b) => b.fill(0xff, 0x298));
    const plain = dfukit(['diff', base, rb + '@0x08000000', '--json']);
    assert.equal(plain.status, 1);
    assert.equal(DiffReportSchema.parse(JSON.parse(plain.stdout)).ranges[0]!.class, 'not-written');
    const aligned = dfukit(['diff', base, rb + '@0x08000000', '--align', '64']);
    assert.equal(aligned.status, 1);
    assert.match(
      aligned.stdout,
      /TAIL LOST TO PROGRAM-UNIT ALIGNMENT: the differences lie only in the last 32 bytes of the element 0x08000000\.\.0x080002A0 and read 0xFF: a partial 64-byte program unit \(unit as given\) at 0x08000280, which the writer dropped/,
    );
  });

  test('a raw binary without @ADDR is taken at 0x08000000, with a warning', () => {
    const r = dfukit(['diff', base, readBack('noaddr.bin', () => {})]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /warning: actual .*noaddr\.bin: no load address given, taken as 0x08000000 \(give one as .*noaddr\.bin@ADDR\) \[DIFF_ADDRESS_ASSUMED\]/);
  });

  test('more ranges than --max-ranges: the rest summarised', () => {
    const r = dfukit(['diff', base, layout, '--max-ranges', '1']);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /^\.\.\. \d+ more ranges \(\d+ different build\), 0x[0-9A-F]{8}\.\.0x[0-9A-F]{8}: --max-ranges 0 or --json lists every one$/m);
  });

  test('unreadable input: exit 3; bad options and a missing DfuSe target: exit 2', () => {
    const missing = dfukit(['diff', base, join(tmp, 'nothing.bin')]);
    assert.equal(missing.status, 3);
    assert.match(missing.stderr, /nothing\.bin: cannot read the file: no such file \[FILE_READ\]/);
    const broken = join(tmp, 'broken.elf');
    writeFileSync(broken, readFileSync(base).subarray(0, 40));
    const bad = dfukit(['diff', broken, base]);
    assert.equal(bad.status, 3);
    assert.match(bad.stderr, /broken\.elf.*\[ELF_/);
    assert.equal(dfukit(['diff', base, base, '--merge', 'x']).status, 2);
    assert.equal(dfukit(['diff', base, base, '--lenient', 'no-such-leniency']).status, 2);
    const alt = dfukit(['diff', base, base, '--alt', '1']);
    assert.equal(alt.status, 2);
    assert.match(alt.stderr, /no DfuSe target for alt 1 in the expected image \(it has alt 0\): choose one with --alt \[DIFF_NO_TARGET\]/);
  });

  test('--help lists the classes and the exit codes', () => {
    const r = dfukit(['diff', '--help']);
    assert.equal(r.status, 0);
    for (const c of ['truncated', 'not-written', 'tail-lost', 'shifted', 'bits-cleared', 'header-only', 'different-build', 'other']) assert.match(r.stdout, new RegExp(`^  ${c} `, 'm'));
    assert.match(r.stdout, /Exit status: 0 equal, 1 different, 2 usage, 3 unreadable input\./);
  });
});
