/**
 * MCUboot images byte-identical to `imgtool sign` without a key (mcuboot 2d4bacc3, imgtool 2.4.0): the expected
 * files were made once with imgtool and are committed in test/header/mcuboot/ with the command lines (README.md).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { bytesEqual } from '../../src/core/bytes.ts';
import { encodeBin } from '../../src/formats/bin.ts';
import { injectHeader, type InjectRequest } from '../../src/header/inject.ts';
import { verifyHeader } from '../../src/header/verify.ts';
import { ROOT } from '../helpers/corpus.ts';
import { dfukit } from '../helpers/cli.ts';
import { imageAt } from './helpers.ts';
import { makeApp, makeReservedApp } from './mcuboot/make-inputs.ts';

const DIR = join(ROOT, 'test', 'header', 'mcuboot');
const SLOT = { name: 'A', start: 0x08020000, size: 0x14000 };
const read = (name: string): Uint8Array => new Uint8Array(readFileSync(join(DIR, name)));

interface Case {
  expected: string;
  input: string;
  address: number;
  req: Omit<InjectRequest, 'layout' | 'slot'>;
  cli: string[];
}

const CASES: Case[] = [
  { expected: 'expected-plain.bin', input: 'app-reserved.bin', address: 0x08020000, req: { headerSize: 0x200, options: { version: '1.2.3+4' } }, cli: ['--header-size', '0x200', '--version', '1.2.3+4'] },
  {
    expected: 'expected-pad-confirm.bin',
    input: 'app-reserved.bin',
    address: 0x08020000,
    req: { headerSize: 0x200, options: { version: '0.9.0', pad: true, confirm: true } },
    cli: ['--header-size', '0x200', '--version', '0.9.0', '--pad', '--confirm'],
  },
  {
    expected: 'expected-align32-pad-header.bin',
    input: 'app.bin',
    address: 0x08020200,
    req: { headerSize: 0x200, padHeader: true, options: { version: '2.0.1+77', align: '32', 'max-align': '32', pad: true } },
    cli: ['--header-size', '0x200', '--version', '2.0.1+77', '--align', '32', '--max-align', '32', '--pad-header', '--pad'],
  },
  {
    expected: 'expected-align16-confirm.bin',
    input: 'app.bin',
    address: 0x08020400,
    req: { headerSize: 0x400, padHeader: true, options: { version: '255.255.65535+4294967295', align: '16', 'max-sectors': '64', confirm: true } },
    cli: ['--header-size', '0x400', '--version', '255.255.65535+4294967295', '--align', '16', '--max-sectors', '64', '--pad-header', '--confirm'],
  },
];

function firstDifference(a: Uint8Array, b: Uint8Array): string {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) return `first difference at offset 0x${i.toString(16)} (sizes ${a.length}, ${b.length})`;
  return 'equal';
}

test('the committed inputs are what make-inputs.ts writes: > 64 KiB, not a multiple of 32', () => {
  assert.ok(bytesEqual(read('app.bin'), makeApp()));
  assert.ok(bytesEqual(read('app-reserved.bin'), makeReservedApp()));
  for (const b of [makeApp(), makeReservedApp()]) {
    assert.ok(b.length >= 65536);
    assert.notEqual(b.length % 32, 0);
  }
});

test('the four option sets give four different outputs', () => {
  const hashes = new Set(CASES.map((c) => Buffer.from(read(c.expected)).toString('base64')));
  assert.equal(hashes.size, 4);
});

describe('injectHeader gives the bytes imgtool sign gives', () => {
  for (const c of CASES) {
    test(c.expected, () => {
      const r = injectHeader(imageAt(c.address, read(c.input)), { layout: 'mcuboot', slot: SLOT, ...c.req });
      const out = encodeBin(r.image).bytes;
      const want = read(c.expected);
      assert.ok(bytesEqual(out, want), firstDifference(out, want));
      const v = verifyHeader(imageAt(SLOT.start, want), { layout: 'mcuboot', slot: SLOT, options: { 'max-align': c.req.options?.['max-align'] ?? (c.req.options?.align === '16' ? '16' : '0') } });
      assert.equal(v.ok, true, JSON.stringify(v.findings));
      if (c.req.options?.confirm === true) assert.equal(v.details.imageOk, 'set');
      if (c.req.options?.pad === true || c.req.options?.confirm === true) assert.equal(v.details.trailerMagic, 'good');
    });
  }
});

describe('dfukit header inject (the CLI) writes the same files', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'dfukit-mcuboot-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));
  for (const c of CASES) {
    test(c.expected, () => {
      const out = join(tmp, c.expected);
      const r = dfukit(['header', 'inject', '--layout', 'mcuboot', '--slot', 'A=0x08020000+0x14000', ...c.cli, `${join(DIR, c.input)}@0x${c.address.toString(16)}`, '-o', out]);
      assert.equal(r.status, 0, r.stderr);
      const got = new Uint8Array(readFileSync(out));
      assert.ok(bytesEqual(got, read(c.expected)), firstDifference(got, read(c.expected)));
    });
  }
});
