/**
 * `dfukit emulate` as a process (compiled CLI): the `listening on` line with the port it picked, --json, a
 * clean stop on SIGTERM with its counts, and the usage errors (non-loopback --listen, --rom-rev on a part
 * without revision-dependent ROMs, a missing --flash-in).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { listUsbipDevices } from '../../src/node/usbip-client.ts';
import { dfukit } from '../helpers/cli.ts';
import { ROOT } from '../helpers/corpus.ts';

const dir = mkdtempSync(join(tmpdir(), 'dfukit-emulate-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Starts the emulator, waits (bounded) for `lines` lines of stdout, then SIGTERMs it; resolves with everything it printed. */
function serveThen(args: string[], lines: number, during: (firstLines: string[]) => Promise<void>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = spawn(process.execPath, [join(ROOT, 'bin', 'dfukit.js'), 'emulate', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let started = false;
  const kill = setTimeout(() => p.kill('SIGKILL'), 20_000);
  return new Promise((resolve, reject) => {
    p.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const ls = out.split('\n').filter((l) => l !== '');
      if (!started && ls.length >= lines) {
        started = true;
        during(ls).then(
          () => p.kill('SIGTERM'),
          (e: unknown) => {
            p.kill('SIGKILL');
            reject(e);
          },
        );
      }
    });
    p.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    p.on('exit', (code) => {
      clearTimeout(kill);
      resolve({ code, stdout: out, stderr: err });
    });
  });
}

describe('dfukit emulate', () => {
  test('--listen 127.0.0.1:0 prints the port it bound; SIGTERM stops it cleanly with its counts', async () => {
    const r = await serveThen(['--chip', 'stm32f405', '--listen', '127.0.0.1:0', '--flash-out', join(dir, 'f.bin')], 3, async (ls) => {
      const m = /^listening on 127\.0\.0\.1:(\d+)$/.exec(ls[0]!);
      assert.ok(m !== null, ls[0]);
      assert.match(ls[1]!, /^emulating STM32F405xG \(stm32f405\) ROM bootloader 0x\w+, quirks: none; busid 1-1; poll scale 1$/);
      const devs = await listUsbipDevices({ host: '127.0.0.1', port: Number(m[1]) });
      assert.deepEqual(devs.map((d) => [d.busid, d.idVendor, d.idProduct, d.bcdDevice]), [['1-1', 0x0483, 0xdf11, 0x2200]]);
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^stopped \(SIGTERM\): 0 requests, 0 sector erases, 0 bytes written, 0 bytes read, 0 leaves, device time 0 ms$/m);
    const flash = readFileSync(join(dir, 'f.bin'));
    assert.equal(flash.length, 1024 * 1024, 'the flash file holds the whole (erased) flash from the start');
    assert.ok(flash.every((b) => b === 0xff));
  });

  test('--json: one line when listening (url, part, bootloader, quirks), one with the counts at the end', async () => {
    const r = await serveThen(['--chip', 'stm32h743', '--rom-rev', 'V', '--poll-scale', '0.01', '--listen', '127.0.0.1:0', '--json'], 1, async () => {});
    assert.equal(r.code, 0, r.stderr);
    const [start, end] = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.match(String(start!.url), /^usbip:\/\/127\.0\.0\.1:\d+\/1-1$/);
    assert.equal(start!.chip, 'stm32h743');
    assert.equal(start!.bootloader, '0x90');
    assert.ok((start!.quirks as string[]).includes('h7-revV-bank2-erase-hang'));
    assert.equal(start!.pollScale, 0.01);
    assert.equal(end!.stopped, 'SIGTERM');
    assert.equal(end!.requests, 0);
  });

  test('usage errors: a non-loopback address, --rom-rev where no revision matters, a missing --flash-in', () => {
    const open = dfukit(['emulate', '--chip', 'stm32f405', '--listen', '0.0.0.0:0']);
    assert.equal(open.status, 2);
    assert.match(open.stderr, /refusing to listen on 0\.0\.0\.0: USB\/IP has no authentication/);
    const rev = dfukit(['emulate', '--chip', 'stm32f405', '--rom-rev', 'V', '--listen', '127.0.0.1:0']);
    assert.equal(rev.status, 2);
    assert.match(rev.stderr, /--rom-rev: STM32F405xG has no ROM that depends on the silicon revision/);
    const missing = dfukit(['emulate', '--chip', 'stm32f405', '--flash-in', join(dir, 'nope.bin'), '--listen', '127.0.0.1:0']);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /--flash-in .*nope\.bin: no such file/);
    const bad = dfukit(['emulate', '--chip', 'stm32f405', '--listen', 'localhost']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--listen 'localhost': expected HOST:PORT/);
  });
});
