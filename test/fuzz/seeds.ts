/**
 * Seed files for the fuzzer, per format: our fixtures (always), files synthesized with the library's own
 * encoders (always, so every format has ≥ 2 000 cases without the corpus), and corpus files when the corpus is
 * present (read in place, never copied). Everything here is deterministic.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fromAscii } from '../../src/core/bytes.ts';
import { encodeBin } from '../../src/formats/bin.ts';
import { detectFormat } from '../../src/formats/detect.ts';
import { BCD_DFU_DFUSE, encodeDfu } from '../../src/formats/dfu-suffix.ts';
import { encodeDfuse } from '../../src/formats/dfuse-file.ts';
import { encodeIhex } from '../../src/formats/ihex.ts';
import { encodeSrec } from '../../src/formats/srec.ts';
import type { FormatName } from '../../src/formats/types.ts';
import { MemoryImage } from '../../src/image/memory-image.ts';
import { fixturePath } from '../helpers/corpus.ts';
import { Rng } from './prng.ts';

export type Origin = 'fixture' | 'synth' | 'corpus';

export interface Seed {
  /** Fixture or corpus path (relative), or `synth:<what>`. */
  name: string;
  origin: Origin;
  bytes: Uint8Array;
}

/** Corpus files above this size are left out of fuzzing (whole-file CRCs and copies would dominate the time). */
export const CORPUS_MAX_BYTES = 256 * 1024;
const CORPUS_BIN_MAX_BYTES = 48 * 1024;

const IDS = { vid: 0x0483, pid: 0xdf11, bcdDevice: 0x2200 };

function fixture(dir: string, name: string): Seed {
  return { name: `test/fixtures/${dir}/${name}`, origin: 'fixture', bytes: new Uint8Array(readFileSync(fixturePath(dir, name))) };
}

function fixtures(dir: string, ext: string): Seed[] {
  return readdirSync(fixturePath(dir))
    .filter((f) => f.endsWith(ext))
    .sort()
    .map((f) => fixture(dir, f));
}

function synth(name: string, bytes: Uint8Array): Seed {
  return { name: `synth:${name}`, origin: 'synth', bytes };
}

/** Cortex-M-like code: a vector table (SP, reset | 1, handlers) then random bytes. */
function code(rng: Rng, size: number, base: number): Uint8Array {
  const b = rng.bytes(size);
  const v = new DataView(b.buffer);
  if (size >= 16) {
    v.setUint32(0, 0x20020000, true);
    for (let i = 4; i + 4 <= Math.min(size, 64); i += 4) v.setUint32(i, (base + 0x199 + i * 8) | 1, true);
  }
  return b;
}

interface Images {
  /** Flash image: two adjacent segments, an odd-sized one, and one crossing a 64 KiB boundary. */
  flash: MemoryImage;
  /** Data at address 0 and up to the very top of the 32-bit space. */
  edges: MemoryImage;
  /** One byte in RAM. */
  tiny: MemoryImage;
  /** Below 1 MiB (where Intel HEX segment addressing reaches), sparse. */
  low: MemoryImage;
}

function images(): Images {
  const rng = new Rng(0x5eed_0001);
  const flash = new MemoryImage();
  flash.add(0x08000000, code(rng, 1536, 0x08000000), 'vectors+text');
  flash.add(0x08000600, rng.bytes(100), 'adjacent');
  flash.add(0x08010000, rng.bytes(333), 'odd');
  flash.add(0x0801fff0, rng.bytes(64), 'crossing');
  const edges = new MemoryImage();
  edges.add(0, rng.bytes(16), 'zero');
  edges.add(0xffffff00, rng.bytes(256), 'top');
  const tiny = new MemoryImage();
  tiny.add(0x20000000, new Uint8Array([0x5a]), 'one');
  const low = new MemoryImage();
  low.add(0x100, rng.bytes(40), 'a');
  low.add(0xfff8, rng.bytes(24), 'b');
  low.add(0x000f0000, rng.bytes(48), 'c');
  return { flash, edges, tiny, low };
}

/** A text record with its checksum, for hand-made files (S6 counts, type 02/03 records). */
function srecLine(type: number, hexBody: string): string {
  const bytes = hexBody.match(/../g)!.map((h) => parseInt(h, 16));
  const count = bytes.length + 1;
  const sum = bytes.reduce((a, c) => a + c, count);
  return `S${type}${hex2(count)}${hexBody}${hex2(~sum & 0xff)}`;
}
function ihexLine(hexBody: string): string {
  const bytes = hexBody.match(/../g)!.map((h) => parseInt(h, 16));
  const sum = bytes.reduce((a, c) => a + c, 0);
  return `:${hexBody}${hex2(-sum & 0xff)}`;
}
function hex2(v: number): string {
  return (v & 0xff).toString(16).toUpperCase().padStart(2, '0');
}

let cache: Map<FormatName, Seed[]> | undefined;

/** Fixture and synthesized seeds, per format (the part that never depends on the corpus). */
export function baseSeeds(format: FormatName): Seed[] {
  cache ??= buildBase();
  return cache.get(format)!;
}

function buildBase(): Map<FormatName, Seed[]> {
  const img = images();
  const rng = new Rng(0x5eed_0002);
  const m = new Map<FormatName, Seed[]>();

  m.set('elf', fixtures('elf', '.elf'));

  m.set('ihex', [
    ...fixtures('hex', '.hex'),
    synth('ihex flash', encodeIhex(img.flash)),
    synth('ihex edges 255/CRLF', encodeIhex(img.edges, { recordLength: 255, crlf: true })),
    synth('ihex tiny start 1-byte records', encodeIhex(img.tiny, { start: 0x08000199, recordLength: 1 })),
    synth('ihex low 32', encodeIhex(img.low, { recordLength: 32 })),
    synth(
      'ihex segment records + start segment',
      fromAscii(
        [ihexLine('020000021000'), ihexLine('10FFF000' + '00112233445566778899AABBCCDDEEFF'), ihexLine('02000002F000'), ihexLine('0400000300012345'), ihexLine('00000001')].join('\n') + '\n',
      ),
    ),
  ]);

  m.set('srec', [
    ...fixtures('hex', '.srec'),
    synth('srec flash S3', encodeSrec(img.flash, { header: 'flash', start: 0x08000199 })),
    synth('srec low S2/S8 CRLF', encodeSrec(img.low, { addressSize: 3, crlf: true, start: 0x100 })),
    synth('srec tiny S1/S9', encodeSrec(MemoryImage.from([{ addr: 0x1234, data: rng.bytes(37) }]), { recordLength: 8 })),
    synth(
      'srec S6 count, no termination',
      fromAscii([srecLine(0, '0000'), srecLine(1, '0010' + '00112233'), srecLine(1, '0014' + '44556677'), srecLine(6, '000002')].join('\n') + '\n'),
    ),
    synth('srec edges 252', encodeSrec(img.edges, { recordLength: 250 })),
  ]);

  const flashDfuse = encodeDfuse([{ alt: 0, image: img.flash, name: 'Internal Flash' }], IDS);
  const garbageName = new Uint8Array(255);
  garbageName.set(fromAscii('ST...\0C:\\build\\path'));
  m.set('dfuse', [
    synth('dfuse flash', flashDfuse),
    synth(
      'dfuse 3 targets, with-suffix size',
      encodeDfuse(
        [
          { alt: 0, image: img.flash, name: 'Internal Flash' },
          { alt: 1, image: img.tiny, named: false },
          { alt: 2, image: img.low, name: 'n'.repeat(254) },
        ],
        IDS,
        { imageSizeConvention: 'with-suffix' },
      ),
    ),
    synth('dfuse edges, garbage name', encodeDfuse([{ alt: 0, image: img.edges, raw: { bTargetNamed: 1, szTargetName: garbageName } }], IDS)),
    synth('dfuse tiny', encodeDfuse([{ alt: 0, image: img.tiny }], IDS)),
  ]);

  m.set('dfu', [
    synth('dfu 1 KiB', encodeDfu(rng.bytes(1024), IDS)),
    synth('dfu empty payload', encodeDfu(new Uint8Array(0), IDS)),
    synth('dfu bLength 62', encodeDfu(rng.bytes(300), { ...IDS, extra: rng.bytes(46) })),
    synth('dfu bcdDFU 0x011A without prefix', encodeDfu(rng.bytes(200), { ...IDS, bcdDFU: BCD_DFU_DFUSE })),
    synth('dfu carrying a DfuSe file', flashDfuse),
    synth('dfu flash binary', encodeDfu(encodeBin(img.flash).bytes.subarray(0, 4096), IDS)),
  ]);

  const text = (s: string): Uint8Array => fromAscii(s);
  m.set('bin', [
    synth('bin flash 4 KiB', encodeBin(img.flash).bytes.subarray(0, 4096)),
    synth('bin random 2 KiB', rng.bytes(2048)),
    synth('bin all 0xFF', new Uint8Array(512).fill(0xff)),
    synth('bin empty', new Uint8Array(0)),
    synth('bin one byte', new Uint8Array([0x3a])),
    synth('bin hex-like', text(':10000000' + 'Z'.repeat(32) + '00\n')),
    synth('bin srec-like', text('S1130000' + 'q'.repeat(32) + '00\n')),
    synth('bin ELF magic', new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1, ...rng.bytes(60)])),
    synth('bin DfuSe magic', new Uint8Array([...text('DfuSe'), 1, ...rng.bytes(40)])),
    synth('bin with DFU suffix', encodeDfu(rng.bytes(256), IDS)),
  ]);
  return m;
}

/** Corpus files (≤ CORPUS_MAX_BYTES) whose content is detected as `format`, sorted by path. */
export function corpusSeeds(format: FormatName, dir: string): Seed[] {
  const out: Seed[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && !/\.(md|txt|lsusb)$|README|LICENSE|COPYING/.test(e.name)) {
        const size = statSync(p).size;
        if (size === 0 || size > CORPUS_MAX_BYTES) continue;
        const bytes = new Uint8Array(readFileSync(p));
        const detected = detectFormat(bytes).format;
        if (detected !== format) continue;
        if (format === 'bin' && size > CORPUS_BIN_MAX_BYTES) continue;
        out.push({ name: `corpus:${relative(dir, p)}`, origin: 'corpus', bytes });
      }
    }
  };
  walk(dir);
  return out;
}
