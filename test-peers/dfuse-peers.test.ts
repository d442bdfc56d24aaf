/**
 * DfuSe and DFU files checked against tools nobody on the project wrote (peers.md):
 * - dfu-util 0.11's `dfu-suffix -c` (suffix and CRC) and `dfuse-pack` (parser that slices by dwTargetSize, and
 *   a writer: `-b ADDR[@ALT]:file.bin`, `-i file.hex`);
 * - fwupd's `fwupdtool firmware-parse/-export/-build FILE dfuse` (structure, element bytes, and a writer).
 * fwupdtool runs offline as root with no daemon and needs no --force; stdin is closed so it never waits on a menu.
 * Where peers disagree, each test says who is right and why.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { crc32Jam } from '../src/core/crc.ts';
import { isFwError } from '../src/core/errors.ts';
import { decodeDfu, encodeDfu } from '../src/formats/dfu-suffix.ts';
import { decodeDfuse, encodeDfuse, reencodeInputs, type DfuseSuffixInput, type DfuseTargetInput } from '../src/formats/dfuse-file.ts';
import { MemoryImage } from '../src/image/memory-image.ts';
import { corpusOrSkip, manifestEntries } from '../test/helpers/corpus.ts';
import { run, toolsOrSkip } from '../test/helpers/peers.ts';

const skip = toolsOrSkip('dfu-suffix', 'fwupdtool', 'dfuse-pack');
const dir = mkdtempSync(join(tmpdir(), 'dfukit-dfuse-peers-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Debian's python sees python3-intelhex; a pyenv `python3` on PATH may not (peers.md). */
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const DFUSE_PACK = spawnSync('sh', ['-c', 'command -v dfuse-pack'], { encoding: 'utf8' }).stdout.trim();

function dfusePack(args: string[]): { status: number | null; out: string } {
  const r = run(PYTHON, [DFUSE_PACK, ...args], { cwd: dir });
  return { status: r.status, out: r.stdout + r.stderr };
}

/** Deterministic filler bytes. */
function bytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

function image(...segs: [number, Uint8Array][]): MemoryImage {
  const m = new MemoryImage();
  for (const [addr, data] of segs) m.add(addr, data);
  return m;
}

function write(name: string, data: Uint8Array | string): string {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
}

function reseal(b: Uint8Array): Uint8Array {
  new DataView(b.buffer, b.byteOffset).setUint32(b.length - 4, crc32Jam(b.subarray(0, b.length - 4)), true);
  return b;
}

interface FwupdTarget {
  id: string | undefined;
  idx: number;
  chunks: [number, number[]][];
}
interface FwupdDfuse {
  vendor: number;
  product: number;
  release: number;
  targets: FwupdTarget[];
}

/** fwupdtool's XML. It omits elements whose value is 0 (`<idx>`, `<addr>`, `<product>`...). */
function parseFwupdExport(xml: string): FwupdDfuse {
  const top = xml.slice(0, Math.max(0, xml.indexOf('<firmware>')));
  const num = (text: string, tag: string): number => {
    const m = new RegExp(`<${tag}>(0x[0-9a-f]+)</${tag}>`).exec(text);
    return m === null ? 0 : parseInt(m[1]!, 16);
  };
  const unescape = (s: string): string => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
  const targets = [...xml.matchAll(/<firmware>([\s\S]*?)<\/firmware>/g)].map((m): FwupdTarget => {
    const body = m[1]!;
    const id = /<id>([^<]*)<\/id>/.exec(body)?.[1];
    const chunks = [...body.matchAll(/<chunk>([\s\S]*?)<\/chunk>/g)].map((c): [number, number[]] => {
      const d = /<data size="(0x[0-9a-f]+)">([^<]*)<\/data>/.exec(c[1]!);
      assert.ok(d !== null, `no data in chunk: ${c[1]}`);
      const data = [...Buffer.from(d[2]!, 'base64')];
      assert.equal(data.length, parseInt(d[1]!, 16));
      return [num(c[1]!, 'addr'), data];
    });
    return { id: id === undefined ? undefined : unescape(id), idx: num(body, 'idx'), chunks };
  });
  return { vendor: num(top, 'vendor'), product: num(top, 'product'), release: num(top, 'release'), targets };
}

function fwupdExport(path: string): FwupdDfuse {
  const r = run('fwupdtool', ['firmware-export', path, 'dfuse']);
  assert.equal(r.status, 0, `fwupdtool firmware-export: ${r.stderr.split('\n').filter((l) => !/Loading|Idle/.test(l)).join('\n')}`);
  return parseFwupdExport(r.stdout);
}

/** fwupdtool's verdict: rc and its one-line error (progress lines dropped). */
function fwupdParse(path: string): { status: number | null; error: string } {
  const r = run('fwupdtool', ['firmware-parse', path, 'dfuse']);
  return { status: r.status, error: r.stderr.split('\n').filter((l) => l.trim() !== '' && !/Loading|Idle|Decompressing/.test(l)).join('\n') };
}

/** Our decode in fwupd's terms, for a direct comparison. */
function ours(data: Uint8Array, lenient: string[] = []): FwupdDfuse {
  const d = decodeDfuse(data, { lenient });
  return {
    vendor: d.dfuse.suffix.idVendor,
    product: d.dfuse.suffix.idProduct,
    release: d.dfuse.suffix.bcdDevice,
    targets: d.targets.map((t) => ({ id: t.name, idx: t.alt, chunks: t.image.segments.map((s): [number, number[]] => [s.addr, [...s.data]]) })),
  };
}

function errorCode(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    if (isFwError(e)) return e.code;
    throw e;
  }
}

const st: DfuseSuffixInput = { vid: 0x0483, pid: 0xdf11, bcdDevice: 0x0000 };

const shapes: { name: string; targets: DfuseTargetInput[]; suffix: DfuseSuffixInput }[] = [
  { name: 'single element', targets: [{ alt: 0, image: image([0x08000000, bytes(1000, 1)]) }], suffix: st },
  {
    name: 'multi-element, odd sizes and an odd address',
    targets: [{ alt: 0, image: image([0x08000000, bytes(37, 2)], [0x08004001, bytes(3, 3)], [0x08060000, bytes(1, 4)]) }],
    suffix: st,
  },
  {
    name: 'multi-target alt 0/1/2, named and unnamed',
    targets: [
      { alt: 0, name: 'Internal Flash', image: image([0x08000000, bytes(512, 5)], [0x08100000, bytes(77, 6)]) },
      { alt: 1, name: 'Option Bytes', image: image([0x1fff0000, bytes(32, 7)]) },
      { alt: 2, named: false, image: image([0x1ff0f000, bytes(5, 8)]) },
    ],
    suffix: { vid: 0x1234, pid: 0x5678, bcdDevice: 0x8642 },
  },
  {
    name: 'QSPI above 0x80000000 with internal flash (unsigned order)',
    targets: [{ alt: 0, image: image([0x90000000, bytes(100, 9)], [0x08000000, bytes(64, 10)]) }],
    suffix: { vid: 0x0483, pid: 0xdf11, bcdDevice: 0x2200 },
  },
];

describe('files we write', { skip }, () => {
  for (const shape of shapes) {
    const data = encodeDfuse(shape.targets, shape.suffix);
    const file = write(`${shape.name.replace(/\W+/g, '-')}.dfu`, data);

    test(`${shape.name}: dfu-suffix -c accepts it and reads our suffix fields`, () => {
      const r = run('dfu-suffix', ['-c', file]);
      assert.equal(r.status, 0, r.stderr);
      const field = (label: string): number => parseInt(new RegExp(`${label}:\\s+0x([0-9A-F]+)`).exec(r.stdout)![1]!, 16);
      assert.equal(field('BCD device'), shape.suffix.bcdDevice);
      assert.equal(field('Product ID'), shape.suffix.pid);
      assert.equal(field('Vendor ID'), shape.suffix.vid);
      assert.equal(field('BCD DFU'), 0x011a);
      assert.match(r.stdout, /Length:\s+16\n/);
    });

    test(`${shape.name}: fwupdtool firmware-parse accepts it`, () => {
      assert.deepEqual(fwupdParse(file), { status: 0, error: '' });
    });

    test(`${shape.name}: fwupdtool firmware-export gives our targets, alt settings, names, addresses and bytes`, () => {
      const expected: FwupdDfuse = {
        vendor: shape.suffix.vid,
        product: shape.suffix.pid,
        release: shape.suffix.bcdDevice,
        targets: shape.targets.map((t) => ({
          id: t.named === false ? undefined : (t.name ?? 'ST...'),
          idx: t.alt,
          chunks: t.image.segments.map((s): [number, number[]] => [s.addr, [...s.data]]),
        })),
      };
      assert.deepEqual(fwupdExport(file), expected);
      assert.deepEqual(ours(data), expected);
    });

    test(`${shape.name}: dfuse-pack parses it (it slices by dwTargetSize) and dumps our element bytes`, () => {
      const r = dfusePack(['-d', file]);
      assert.doesNotMatch(r.out, /ERROR|Traceback/); // its parse mode exits 0 even on errors (peers.md)
      shape.targets.forEach((t, ti) =>
        t.image.segments.forEach((s, ei) => {
          assert.deepEqual(new Uint8Array(readFileSync(`${file}.target${ti}.image${ei}.bin`)), s.data);
          assert.match(r.out, new RegExp(`${ei}, address: 0x${s.addr.toString(16).padStart(8, '0')}, size: ${s.data.length}\\n`));
        }),
      );
    });
  }

  for (const bLength of [16, 62]) {
    test(`plain DFU with bLength ${bLength}: dfu-suffix -c and fwupdtool read our suffix and payload`, () => {
      const payload = bytes(100, 11);
      const extra = bytes(bLength - 16, 12);
      const file = write(`plain-${bLength}.dfu`, encodeDfu(payload, { vid: 0x273f, pid: 0x1009, bcdDevice: 0xffff, extra }));
      const c = run('dfu-suffix', ['-c', file]);
      assert.equal(c.status, 0, c.stderr);
      assert.match(c.stdout, new RegExp(`Length:\\s+${bLength}\\n`));
      const e = run('fwupdtool', ['firmware-export', file, 'dfu']);
      assert.equal(e.status, 0, e.stderr);
      assert.equal(/<data type="GBytes" size="0x[0-9a-f]+">([^<]*)<\/data>/.exec(e.stdout)?.[1], Buffer.from(payload).toString('base64'));
      assert.deepEqual(decodeDfu(new Uint8Array(readFileSync(file)), { address: 0 }).payload, payload);
    });
  }
});

describe('dfuse-pack output read by us', { skip }, () => {
  const a = bytes(1000, 21);
  const b = bytes(37, 22);
  const c = bytes(16, 23);
  const [aBin, bBin, cBin] = [write('a.bin', a), write('b.bin', b), write('c.bin', c)];

  test('-b ADDR[@ALT]:file.bin: strict rejects DFUImageSize; the leniency reads it and says so; contents equal', () => {
    const out = join(dir, 'packed-b.dfu');
    const r = dfusePack(['-b', `0x08000000:${aBin}`, '-b', `0x08010000:${bBin}`, '-b', `0x1FFF0000@1:${cBin}`, out]);
    assert.equal(r.status, 0, r.out);
    const data = new Uint8Array(readFileSync(out));

    assert.throws(() => decodeDfuse(data), { code: 'DFUSE_IMAGE_SIZE', message: /including the suffix.*'image-size-includes-suffix'/ });
    const d = decodeDfuse(data, { lenient: ['image-size-includes-suffix'] });
    assert.deepEqual(
      d.notes.map((n) => [n.code, n.leniency, n.location.offset]),
      [['DFUSE_IMAGE_SIZE', 'image-size-includes-suffix', 6]],
    );
    assert.equal(d.dfuse.imageSizeConvention, 'with-suffix');
    assert.deepEqual(ours(data, ['image-size-includes-suffix']), {
      vendor: 0x0483,
      product: 0xdf11,
      release: 0,
      targets: [
        { id: 'ST...', idx: 0, chunks: [[0x08000000, [...a]], [0x08010000, [...b]]] },
        { id: 'ST...', idx: 1, chunks: [[0x1fff0000, [...c]]] },
      ],
    });
    // Our writer, asked for dfuse-pack's convention, reproduces its file byte for byte: the two writers agree on
    // every other field (name "ST..." zero-filled, bTargetNamed u32 1, bcdDevice 0, dwTargetSize, JAMCRC).
    const again = reencodeInputs(d);
    assert.deepEqual(encodeDfuse(again.targets, again.suffix, again.options), data);
  });

  test('-b in unsorted argv order: elements stay in file order and we warn about dfu-util\'s erase bookkeeping', () => {
    const out = join(dir, 'packed-unsorted.dfu');
    assert.equal(dfusePack(['-b', `0x08010000:${bBin}`, '-b', `0x08000000:${aBin}`, out]).status, 0);
    const d = decodeDfuse(new Uint8Array(readFileSync(out)), { lenient: ['image-size-includes-suffix'] });
    assert.deepEqual(
      d.dfuse.targets[0]!.elements.map((e) => e.address),
      [0x08010000, 0x08000000],
    );
    assert.deepEqual(
      d.notes.map((n) => n.code),
      ['DFUSE_IMAGE_SIZE', 'DFUSE_ELEMENTS_UNSORTED'],
    );
  });

  test('-i file.hex: one element per contiguous HEX segment, read with the leniency, rejected strictly', (t) => {
    if (run(PYTHON, ['-c', 'import intelhex']).status !== 0) {
      if (process.env.CI === 'true') assert.fail('python3-intelhex missing in CI');
      t.skip('python3-intelhex not installed');
      return;
    }
    // Records written by hand: 0x08000000 (16 B) and 0x08000020 (5 B) with a hole between, then 0x08010000 (3 B)
    // through a type-04 extended linear address record.
    const rec = (addr: number, type: number, data: number[]): string => {
      const body = [data.length, addr >> 8, addr & 0xff, type, ...data];
      const sum = (0x100 - (body.reduce((x, y) => x + y, 0) & 0xff)) & 0xff;
      return ':' + [...body, sum].map((x) => x.toString(16).padStart(2, '0').toUpperCase()).join('') + '\n';
    };
    const s1 = [...bytes(16, 31)];
    const s2 = [...bytes(5, 32)];
    const s3 = [...bytes(3, 33)];
    const hex = write('x.hex', rec(0, 4, [0x08, 0x00]) + rec(0, 0, s1) + rec(0x20, 0, s2) + rec(0, 4, [0x08, 0x01]) + rec(0, 0, s3) + rec(0, 1, []));
    const out = join(dir, 'packed-i.dfu');
    const r = dfusePack(['-i', hex, out]);
    assert.equal(r.status, 0, r.out);
    const data = new Uint8Array(readFileSync(out));
    assert.equal(errorCode(() => decodeDfuse(data)), 'DFUSE_IMAGE_SIZE');
    assert.deepEqual(ours(data, ['image-size-includes-suffix']).targets, [
      { id: 'ST...', idx: 0, chunks: [[0x08000000, s1], [0x08000020, s2], [0x08010000, s3]] },
    ]);
  });
});

describe('where the peers disagree, and who is right', { skip }, () => {
  const base = (): Uint8Array => encodeDfuse([{ alt: 0, image: image([0x08000000, bytes(40, 41)]) }], st);

  test('DFUImageSize with the suffix (D1): fwupd rejects dfuse-pack files, dfu-util ignores the field', () => {
    // dfuse-pack switched to the whole file length in 2020 (dfu-util ee6b393, citing UM0391's "total DFU file
    // length"). ST's own tools write the length without the suffix: all 31 ST DFU_Standalone files in the corpus
    // do, as do fwupd, micropython and elf2dfuse, and fwupd and Flipper's updater require it. ST's files are the
    // best evidence of what UM0391 means, so dfuse-pack is the outlier: we write without the suffix and read
    // dfuse-pack's files only under the named leniency.
    const b = base();
    const v = new DataView(b.buffer);
    v.setUint32(6, b.length, true);
    const file = write('with-suffix.dfu', reseal(b));
    const f = fwupdParse(file);
    assert.equal(f.status, 1);
    assert.match(f.error, new RegExp(`invalid DfuSe image size, got ${b.length}, expected ${b.length - 16}`));
    assert.equal(run('dfu-suffix', ['-c', file]).status, 0);
    assert.equal(errorCode(() => decodeDfuse(b)), 'DFUSE_IMAGE_SIZE');
  });

  test('dwTargetSize one short: fwupd accepts, dfuse-pack misreads, we reject', () => {
    // fwupd walks elements and never reads dwTargetSize; dfuse-pack and pydfu slice targets by it, so the same
    // file means different things to different tools. The field is defined (Σ 8 + size, every writer agrees):
    // a wrong value is a broken file, and we say so with both values.
    const b = base();
    new DataView(b.buffer).setUint32(11 + 266, 47, true);
    const file = write('target-size.dfu', reseal(b));
    assert.equal(fwupdParse(file).status, 0);
    assert.match(dfusePack([file]).out, /ERROR|Traceback/);
    assert.throws(() => decodeDfuse(b), { code: 'DFUSE_TARGET_SIZE', message: /dwTargetSize is 47, but its 1 elements occupy 48 bytes/ });
  });

  test('bytes between the last target and the suffix: fwupd ignores them, we reject strictly', () => {
    // UM0391 has no place for them; dfu-util prints "N bytes leftover". fwupd never compares what it consumed
    // with the file length. Data nobody flashes is more likely a truncated or mis-sized element than padding.
    const b = base();
    const body = new Uint8Array(b.length - 16 + 4);
    body.set(b.subarray(0, b.length - 16));
    new DataView(body.buffer).setUint32(6, body.length, true);
    const withTrailing = encodeDfu(body, { ...st, bcdDFU: 0x011a });
    const file = write('trailing.dfu', withTrailing);
    assert.equal(fwupdParse(file).status, 0);
    assert.equal(errorCode(() => decodeDfuse(withTrailing)), 'DFUSE_TRAILING_BYTES');
    assert.deepEqual(
      decodeDfuse(withTrailing, { lenient: ['trailing-bytes'] }).notes.map((n) => n.leniency),
      ['trailing-bytes'],
    );
  });

  test('bTargetNamed 0x101: dfu-util would call it named, fwupd unnamed; we refuse to guess', () => {
    const b = base();
    new DataView(b.buffer).setUint32(11 + 7, 0x101, true);
    const file = write('named.dfu', reseal(b));
    assert.deepEqual(
      fwupdExport(file).targets.map((t) => t.id),
      [undefined],
    );
    assert.equal(errorCode(() => decodeDfuse(b)), 'DFUSE_TARGET_NAMED');
    assert.equal(decodeDfuse(b, { lenient: ['target-named-nonboolean'] }).targets[0]!.name, undefined, 'lenient: fwupd\'s reading');
  });

  test('stale CRC: everyone agrees it is broken', () => {
    const b = base();
    b[300] = b[300]! ^ 0xff;
    const file = write('crc.dfu', b);
    const s = run('dfu-suffix', ['-c', file]);
    assert.notEqual(s.status, 0);
    assert.match(s.stderr, /CRC does not match/);
    assert.match(fwupdParse(file).error, /CRC failed/);
    assert.equal(errorCode(() => decodeDfuse(b)), 'DFUSE_SUFFIX_CRC');
  });

  test('fwupdtool firmware-build (an independent writer) and encodeDfuse write identical bytes', () => {
    const a = bytes(21, 51);
    const c = bytes(3, 52);
    const xml =
      `<firmware gtype="FuDfuseFirmware"><vendor>0x0483</vendor><product>0xdf11</product><release>0x2200</release>` +
      `<firmware><id>Internal Flash</id><idx>0x0</idx><chunks>` +
      `<chunk><addr>0x08000000</addr><data>${Buffer.from(a).toString('base64')}</data></chunk>` +
      `<chunk><addr>0x08060000</addr><data>${Buffer.from(c).toString('base64')}</data></chunk>` +
      `</chunks></firmware>` +
      `<firmware><idx>0x1</idx><chunks><chunk><addr>0x1FFF0000</addr><data>${Buffer.from(c).toString('base64')}</data></chunk></chunks></firmware>` +
      `</firmware>`;
    const out = join(dir, 'built.dfu');
    const r = run('fwupdtool', ['firmware-build', write('build.xml', xml), out]);
    assert.equal(r.status, 0, r.stderr);
    const mine = encodeDfuse(
      [
        { alt: 0, name: 'Internal Flash', image: image([0x08000000, a], [0x08060000, c]) },
        { alt: 1, named: false, image: image([0x1fff0000, c]) },
      ],
      { vid: 0x0483, pid: 0xdf11, bcdDevice: 0x2200 },
    );
    assert.deepEqual(new Uint8Array(readFileSync(out)), mine);
  });
});

describe('corpus: fwupd reads every real DfuSe file as we do', { skip }, () => {
  const corpus = corpusOrSkip();
  const rows = corpus.dir === undefined ? [] : manifestEntries(corpus.dir).filter((e) => /\. DfuSe, \d+ target/.test(e.description));
  for (const row of rows) {
    test(row.file, () => {
      const path = join(corpus.dir!, row.file);
      // ST's garbage names: fwupd reads the name up to its NUL, as we do under the leniency.
      assert.deepEqual(fwupdExport(path), ours(new Uint8Array(readFileSync(path)), ['target-name-garbage']));
    });
  }
});
