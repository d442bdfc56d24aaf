/**
 * `dfukit doctor --fix` output checked by tools nobody on the project wrote: fwupd's `fwupdtool firmware-parse`
 * (strict: image size, suffix length, CRC) and `firmware-export` (the element bytes), and dfu-util's
 * `dfu-suffix -c`. Inputs: a file from dfu-util's own `dfuse-pack` (which fwupd rejects), a synthetic file with
 * every structural fault doctor repairs, and real corpus files when the corpus is present.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DoctorReportSchema, type DoctorReport } from '../src/doctor/report-schema.ts';
import { dfukit } from '../test/helpers/cli.ts';
import { CORPUS, corpusOrSkip } from '../test/helpers/corpus.ts';
import { run, toolsOrSkip } from '../test/helpers/peers.ts';
import { filler, program, rawDfuse } from '../test/doctor/helpers.ts';

const skip = toolsOrSkip('dfu-suffix', 'fwupdtool', 'dfuse-pack');
const dir = mkdtempSync(join(tmpdir(), 'dfukit-doctor-peers-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

function write(name: string, bytes: Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

function fwupdParse(path: string): { status: number | null; error: string } {
  const r = run('fwupdtool', ['firmware-parse', path, 'dfuse']);
  return { status: r.status, error: r.stderr.split('\n').filter((l) => l.trim() !== '' && !/Loading|Idle|Decompressing/.test(l)).join('\n') };
}

/** fwupd's view of the elements: [address, bytes] per chunk of every image (it omits <addr> when it is 0). */
function fwupdChunks(path: string): [number, Uint8Array][] {
  const r = run('fwupdtool', ['firmware-export', path, 'dfuse']);
  assert.equal(r.status, 0, r.stderr);
  return [...r.stdout.matchAll(/<chunk>([\s\S]*?)<\/chunk>/g)].map((m) => {
    const addr = /<addr>(0x[0-9a-f]+)<\/addr>/.exec(m[1]!);
    const data = /<data size="(0x[0-9a-f]+)">([^<]*)<\/data>/.exec(m[1]!)!;
    return [addr === null ? 0 : parseInt(addr[1]!, 16), new Uint8Array(Buffer.from(data[2]!, 'base64'))];
  });
}

function doctorFix(input: string, chip: string, out: string): DoctorReport {
  const r = dfukit(['doctor', '--fix', input, '--chip', chip, '-o', out, '--json']);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  return DoctorReportSchema.parse(JSON.parse(r.stdout));
}

describe('doctor --fix output is accepted by fwupd and dfu-util', { skip }, () => {
  test('a dfuse-pack file: fwupd rejects it, doctor says why, the fixed file passes and holds the same bytes', () => {
    const a = program(0x08000000, 1000, { reset: 0x08000101 });
    const b = filler(77, 11);
    const binA = write('a.bin', a);
    const binB = write('b.bin', b);
    const packed = join(dir, 'packed.dfu');
    const p = run(PYTHON, [run('sh', ['-c', 'command -v dfuse-pack']).stdout.trim(), '-b', `0x08000000:${binA}`, '-b', `0x08100000:${binB}`, packed], { cwd: dir });
    assert.equal(p.status, 0, p.stderr);
    const before = fwupdParse(packed);
    assert.notEqual(before.status, 0);
    assert.match(before.error, /invalid DfuSe image size/);

    const diag = DoctorReportSchema.parse(JSON.parse(dfukit(['doctor', packed, '--chip', 'stm32h743', '--json']).stdout));
    const size = diag.findings.find((f) => f.code === 'DFUSE_IMAGE_SIZE');
    assert.equal(size?.severity, 'warning');
    assert.match(size!.message, /fwupd rejects this file/);

    const fixed = join(dir, 'packed-fixed.dfu');
    const report = doctorFix(packed, 'stm32h743', fixed);
    assert.equal(report.fix!.summary.errors, 0);
    assert.deepEqual(fwupdParse(fixed), { status: 0, error: '' });
    assert.equal(run('dfu-suffix', ['-c', fixed]).status, 0);
    const chunks = fwupdChunks(fixed);
    assert.deepEqual(
      chunks.map(([addr, data]) => [addr, data.length]),
      [
        [0x08000000, 1024],
        [0x08100000, 96],
      ],
    );
    assert.deepEqual(chunks[0]![1].subarray(0, 1000), a);
    assert.ok(chunks[0]![1].subarray(1000).every((x) => x === 0xff));
    assert.deepEqual(chunks[1]![1].subarray(0, 77), b);
    assert.ok(chunks[1]![1].subarray(77).every((x) => x === 0xff));
  });

  test('every structural fault at once: the fixed file passes fwupd and dfu-suffix', () => {
    const messy = write(
      'messy.dfu',
      rawDfuse(
        [
          {
            name: 'ST...',
            nameGarbage: new TextEncoder().encode('C:\\work'),
            bTargetNamed: 0x0101,
            elements: [{ address: 0x08020005, data: filler(19) }, { address: 0x08000000, data: program(0x08000000, 0x4bc8, { reset: 0x08000401 }) }],
            dwNbElements: 3,
          },
        ],
        { bTargets: 2, trailing: new Uint8Array(9), badCrc: 0xbeef, suffixExtra: 3 },
      ),
    );
    assert.notEqual(fwupdParse(messy).status, 0);
    const fixed = join(dir, 'messy-fixed.dfu');
    const report = doctorFix(messy, 'stm32h743', fixed);
    assert.equal(report.fix!.summary.errors, 0);
    assert.deepEqual(fwupdParse(fixed), { status: 0, error: '' });
    assert.equal(run('dfu-suffix', ['-c', fixed]).status, 0);
    assert.deepEqual(
      fwupdChunks(fixed).map(([addr, data]) => [addr, data.length]),
      [
        [0x08000000, 0x4be0],
        [0x08020000, 32],
      ],
    );
  });

  const corpus = corpusOrSkip();
  test('real files: OpenMV H7 firmware and an ST sample with a garbage target name', { skip: corpus.skip }, () => {
    for (const [file, chip] of [
      ['openmv__openmv/firmware/OPENMV4/openmv.dfu', 'stm32h743'],
      ['STMicroelectronics__STM32CubeH7/Projects/STM32H745I-DISCO/Applications/USB_Device/DFU_Standalone/Binary/v@e261d820/STM32H745I_DISCO_USBD-FS_0x08020000.dfu', 'stm32h745'],
    ] as const) {
      const fixed = join(dir, file.replace(/[/@ ]/g, '_'));
      const report = doctorFix(join(CORPUS, file), chip, fixed);
      assert.equal(report.fix!.summary.errors, 0);
      assert.deepEqual(fwupdParse(fixed), { status: 0, error: '' }, file);
      assert.equal(run('dfu-suffix', ['-c', fixed]).status, 0, file);
      for (const [addr, data] of fwupdChunks(fixed)) {
        assert.equal(addr % 32, 0);
        assert.equal(data.length % 32, 0);
      }
      assert.ok(readFileSync(fixed).length > 0);
    }
  });
});
