/** `dfukit doctor` through the compiled CLI: output shape, exit codes, --json schema, --fix writing. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DoctorReportSchema } from '../../src/doctor/report-schema.ts';
import { parseDfuse } from '../../src/formats/dfuse-file.ts';
import { dfukit } from '../helpers/cli.ts';
import { filler, program, rawDfuse } from './helpers.ts';

const tmp = mkdtempSync(join(tmpdir(), 'dfukit-doctor-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function file(name: string, bytes: Uint8Array): string {
  const p = join(tmp, name);
  writeFileSync(p, bytes);
  return p;
}

const warnOnly = file('warn.dfu', rawDfuse([{ name: 'ST...', elements: [{ address: 0x08000000, data: program(0x08000000, 19400) }] }]));
const broken = file(
  'broken.dfu',
  rawDfuse([{ name: 'ST...', elements: [{ address: 0x08020004, data: filler(40) }, { address: 0x08000000, data: program(0x08000000, 64) }] }], { badCrc: 1 }),
);
const conflict = file(
  'conflict.dfu',
  rawDfuse([{ elements: [{ address: 0x08000000, data: program(0x08000000, 64) }, { address: 0x08000020, data: filler(64) }] }]),
);

describe('dfukit doctor (compiled CLI)', () => {
  test('warnings only: exit 0; grouped output and a one-line summary', () => {
    const r = dfukit(['doctor', warnOnly, '--chip', 'stm32h743']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^.*warn\.dfu: DfuSe, checked for STM32H743xI \(stm32h743: 2 MiB dual-bank flash, 32-byte flash word\)\n/);
    assert.match(r.stdout, /\nwarnings \(1\)\n  LAYOUT_ELEMENT_PARTIAL_WORD  target 0 element 0, offset 0x00004CE5, 0x08004BC0\.\.0x08004BC8\n/);
    assert.match(r.stdout, /\ninfo \(1\)\n  LAYOUT_SECTOR_PARTLY_WRITTEN/);
    assert.doesNotMatch(r.stdout, /\nerrors \(/);
    assert.match(r.stdout, /warn\.dfu: 0 errors, 1 warning, 1 note \(fails with some tools or ROM versions\); --fix repairs 1\n$/);
  });

  test('errors: exit 1, errors listed first', () => {
    const r = dfukit(['doctor', broken, '--chip', 'STM32H743ZI']);
    assert.equal(r.status, 1, r.stderr);
    const errorsAt = r.stdout.indexOf('\nerrors (');
    const warningsAt = r.stdout.indexOf('\nwarnings (');
    assert.ok(errorsAt > 0 && (warningsAt < 0 || errorsAt < warningsAt));
    assert.match(r.stdout, /DFUSE_SUFFIX_CRC/);
    assert.match(r.stdout, /DFUSE_ELEMENTS_UNSORTED  target 0 element 1/);
    assert.match(r.stdout, /LAYOUT_ELEMENT_START_UNALIGNED  target 0 element 0, offset 0x0000011D, 0x08020004\.\.0x0802002C/);
    assert.match(r.stdout, /will not flash or run as meant/);
  });

  test('--json: the full report, valid against the published schema', () => {
    const r = dfukit(['doctor', broken, '--chip', 'stm32h743', '--json']);
    assert.equal(r.status, 1, r.stderr);
    const report = DoctorReportSchema.parse(JSON.parse(r.stdout));
    assert.equal(report.format, 'dfuse');
    assert.equal(report.chip?.part, 'STM32H743xI');
    assert.equal(report.summary.errors, report.findings.filter((f) => f.severity === 'error').length);
    const crc = report.findings.find((f) => f.code === 'DFUSE_SUFFIX_CRC')!;
    assert.equal(crc.offset, readFileSync(broken).length - 4);
  });

  test('--fix -o: writes the repaired file, lists the repairs, exit 0', () => {
    const out = join(tmp, 'fixed.dfu');
    const r = dfukit(['doctor', '--fix', broken, '--chip', 'stm32h743', '-o', out]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /--fix wrote .*fixed\.dfu \(\d+ \(0x[0-9A-F]+\) bytes\), \d+ repairs:/);
    assert.match(r.stdout, /- wrote the suffix CRC of the new file \[DFUSE_SUFFIX_CRC\]/);
    assert.match(r.stdout, /- wrote the elements in address order \[DFUSE_ELEMENTS_UNSORTED\]/);
    assert.match(r.stdout, /fixed\.dfu: 0 errors, .* \(no errors\)\n$/);
    const parsed = parseDfuse(new Uint8Array(readFileSync(out)));
    assert.deepEqual(parsed.targets[0]!.elements.map((e) => e.address), [0x08000000, 0x08020000]);

    const json = dfukit(['doctor', '--fix', broken, '--chip', 'stm32h743', '-o', join(tmp, 'fixed2.dfu'), '--json']);
    const report = DoctorReportSchema.parse(JSON.parse(json.stdout));
    assert.equal(report.fix?.summary.errors, 0);
    assert.ok(report.fix!.repairs.length >= 4);
  });

  test('--fix refuses a conflict: exit 1, diagnosis printed, nothing written', () => {
    const out = join(tmp, 'never.dfu');
    const r = dfukit(['doctor', '--fix', conflict, '--chip', 'stm32h743', '-o', out]);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /DFUSE_ELEMENT_OVERLAP/);
    assert.match(r.stderr, /\[DOCTOR_FIX_CONFLICT\]/);
    assert.equal(existsSync(out), false);
  });

  test('usage errors: exit 2', () => {
    assert.equal(dfukit(['doctor', '--fix', broken, '--chip', 'stm32h743']).status, 2);
    assert.equal(dfukit(['doctor', broken, '-o', join(tmp, 'x.dfu')]).status, 2);
    assert.equal(dfukit(['doctor', broken, '--chip', 'stm32h7433']).status, 2);
    assert.equal(dfukit(['doctor', '--fix', broken, '--chip', 'stm32h743', '-o', broken]).status, 2, 'never overwrites the input');
  });

  test('unreadable input: exit 3 with the reader\'s code', () => {
    const bad = file('bad.elf', new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 9, 1, 1]));
    const r = dfukit(['doctor', bad, '--chip', 'stm32h743']);
    assert.equal(r.status, 3);
    assert.match(r.stderr, /\[ELF_/);
    assert.equal(dfukit(['doctor', join(tmp, 'missing.dfu')]).status, 3);
  });

  test('a raw binary without @ADDR is checked at 0x08000000 and says so', () => {
    const bin = file('app.bin', program(0x08000000, 256, { reset: 0x08000041 }));
    const r = dfukit(['doctor', bin, '--chip', 'stm32f405', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const report = DoctorReportSchema.parse(JSON.parse(r.stdout));
    assert.equal(report.address, 0x08000000);
    assert.ok(report.findings.some((f) => f.code === 'DOCTOR_ADDRESS_ASSUMED'));
    const at = DoctorReportSchema.parse(JSON.parse(dfukit(['doctor', `${bin}@0x08000000`, '--chip', 'stm32f405', '--json']).stdout));
    assert.ok(!at.findings.some((f) => f.code === 'DOCTOR_ADDRESS_ASSUMED'));
  });
});
