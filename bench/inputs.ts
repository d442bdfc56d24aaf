/**
 * Benchmark inputs, generated into the bench's temp dir on first use (deterministic content):
 * - `hex`: ~6.3 MB Intel HEX, 2.2 MiB of random data at 0x08000000 in 16-byte records (type 04 records at every
 *   64 KiB), written with our own encodeIhex: the size of a large STM32H7 application.
 * - `hexDescending`: 40 000 of those records in descending address order (legal, and what merging tools produce).
 * - `elf`: ~2 MB ELF32 ARM executable written by bench/elf-writer.ts (vector table, .text, .rodata, .data with
 *   LMA != VMA, .bss, 2000 symbols), so the bench needs no cross toolchain.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeIhex } from '../src/formats/ihex.ts';
import { MemoryImage } from '../src/image/memory-image.ts';
import { SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE, SHT_NOBITS, writeElf32, type ElfSymbolSpec } from './elf-writer.ts';

export interface BenchFile {
  path: string;
  bytes: Uint8Array;
  /** Bytes of data the file places in memory. */
  dataSize: number;
}

export interface BenchInputs {
  hex(): BenchFile;
  /** The first DESCENDING_RECORDS data records of `hex` in descending address order (each with its type 04 record). */
  hexDescending(): BenchFile;
  elf(): BenchFile;
}

export const DESCENDING_RECORDS = 40_000;

/** xorshift32 fill: deterministic, and fast enough for megabytes. */
function random(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x;
    out[i + 1] = x >>> 8;
    out[i + 2] = x >>> 16;
    out[i + 3] = x >>> 24;
  }
  return out;
}

export const HEX_DATA_BYTES = Math.round(2.2 * 1024 * 1024);
export const ELF_TEXT_BYTES = 1_880_000;

export function createInputs(tmp: string): BenchInputs {
  let hex: BenchFile | undefined;
  let hexDescending: BenchFile | undefined;
  let elf: BenchFile | undefined;
  const inputs: BenchInputs = {
    hex(): BenchFile {
      if (hex === undefined) {
        const image = new MemoryImage();
        image.add(0x08000000, random(HEX_DATA_BYTES, 0x1badb002));
        const bytes = encodeIhex(image, { start: 0x08000199 });
        const path = join(tmp, 'app-2.2MiB.hex');
        writeFileSync(path, bytes);
        hex = { path, bytes, dataSize: HEX_DATA_BYTES };
      }
      return hex;
    },
    hexDescending(): BenchFile {
      if (hexDescending === undefined) {
        const lines = new TextDecoder().decode(inputs.hex().bytes).trimEnd().split('\n');
        const records: string[][] = [];
        let ext = '';
        for (const l of lines) {
          const type = l.slice(7, 9);
          if (type === '04') ext = l;
          else if (type === '00' && records.length < DESCENDING_RECORDS) records.push([ext, l]);
        }
        const text = [...records.reverse().flat(), ':00000001FF'].join('\n') + '\n';
        const bytes = new TextEncoder().encode(text);
        const path = join(tmp, 'app-descending.hex');
        writeFileSync(path, bytes);
        hexDescending = { path, bytes, dataSize: 16 * records.length };
      }
      return hexDescending;
    },
    elf(): BenchFile {
      if (elf === undefined) {
        const flash = 0x08000000;
        const vectors = random(0x200, 7);
        new DataView(vectors.buffer).setUint32(0, 0x20020000, true);
        new DataView(vectors.buffer).setUint32(4, (flash + 0x201) | 1, true);
        const text = random(ELF_TEXT_BYTES, 11);
        const rodata = random(64 * 1024, 13);
        const data = random(32 * 1024, 17);
        const textAddr = flash + 0x200;
        const rodataAddr = textAddr + ELF_TEXT_BYTES;
        const dataLma = rodataAddr + rodata.length;
        const symbols: ElfSymbolSpec[] = [];
        for (let i = 0; i < 2000; i++) {
          symbols.push({ name: `fn_${i.toString(16).padStart(4, '0')}`, value: (textAddr + i * 900) | 1, size: 900, section: '.text', type: 2, global: i % 3 !== 0 });
        }
        symbols.push({ name: 'Reset_Handler', value: (textAddr + 1) | 1, size: 64, section: '.text', type: 2, global: true });
        symbols.push({ name: '_sidata', value: dataLma, section: '.rodata', global: true });
        const bytes = writeElf32({
          entry: textAddr | 1,
          sections: [
            { name: '.isr_vector', flags: SHF_ALLOC, addr: flash, data: vectors },
            { name: '.text', flags: SHF_ALLOC | SHF_EXECINSTR, addr: textAddr, data: text },
            { name: '.rodata', flags: SHF_ALLOC, addr: rodataAddr, data: rodata },
            { name: '.data', flags: SHF_ALLOC | SHF_WRITE, addr: 0x20000000, data },
            { name: '.bss', type: SHT_NOBITS, flags: SHF_ALLOC | SHF_WRITE, addr: 0x20000000 + data.length, size: 16 * 1024 },
          ],
          segments: [
            { sections: ['.isr_vector', '.text', '.rodata'], flags: 5 },
            { sections: ['.data', '.bss'], paddr: dataLma, flags: 6 },
          ],
          symbols,
        });
        const path = join(tmp, 'app-2MB.elf');
        writeFileSync(path, bytes);
        elf = { path, bytes, dataSize: vectors.length + text.length + rodata.length + data.length };
      }
      return elf;
    },
  };
  return inputs;
}
