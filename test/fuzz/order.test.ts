/**
 * Record order does not change what a file means: the records of a text file, or the elements of a DfuSe file,
 * in descending address order (legal in every format, and what merging tools and hand-edited files produce)
 * decode to the same image as in ascending order. The time this takes is measured by `npm run bench`
 * ("descending address order" row), not here: timing belongs in benchmarks, not in unit tests. Decoders sort
 * once (MemoryImage.fromUnsorted), so the descending order costs O(n log n), not O(n^2).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { crc32Jam } from '../../src/core/crc.ts';
import { decodeFile } from '../../src/formats/decode.ts';
import { encodeDfuse } from '../../src/formats/dfuse-file.ts';
import { encodeIhex } from '../../src/formats/ihex.ts';
import { encodeSrec } from '../../src/formats/srec.ts';
import type { FormatName } from '../../src/formats/types.ts';
import { MemoryImage } from '../../src/image/memory-image.ts';

const RECORDS = 50_000;
/** 16-byte runs 16 bytes apart: every record or element is a segment of its own. */
function sparseImage(): MemoryImage {
  const m = new MemoryImage();
  for (let i = 0; i < RECORDS; i++) m.add(0x08000000 + i * 32, new Uint8Array(16).fill(i & 0xff));
  return m;
}

/** Lines of a text file with its data records reversed; `isData` picks them, the other lines keep their place. */
function reverseRecords(text: Uint8Array, isData: (line: string) => boolean, groupWithPrevious?: (line: string) => boolean): Uint8Array {
  const lines = new TextDecoder().decode(text).trimEnd().split('\n');
  const head: string[] = [];
  const groups: string[][] = [];
  const tail: string[] = [];
  let pending: string[] = [];
  for (const l of lines) {
    if (groupWithPrevious?.(l) === true) pending.push(l);
    else if (isData(l)) {
      groups.push([...pending, l]);
      pending = [];
    } else if (groups.length === 0) head.push(l);
    else tail.push(l);
  }
  return new TextEncoder().encode([...head, ...groups.reverse().flat(), ...tail].join('\n') + '\n');
}

function check(format: FormatName, ascending: Uint8Array, descending: Uint8Array): void {
  const image = (bytes: Uint8Array): MemoryImage => decodeFile(bytes, { format }).decoded.targets[0]!.image;
  const a = image(ascending);
  const d = image(descending);
  assert.equal(d.segments.length, RECORDS);
  assert.deepEqual(d.ranges(), a.ranges());
  assert.deepEqual(d.read(a.start!, a.end! - a.start!), a.read(a.start!, a.end! - a.start!));
}

describe('descending record order decodes to the same image', () => {
  const image = sparseImage();

  test(`Intel HEX: ${RECORDS} data records, descending`, () => {
    const asc = encodeIhex(image);
    // Each data record with its own type 04 record before it (reversing the records of `asc` would separate
    // data records from the 04 record that gives their upper address bits).
    const dec = new TextDecoder();
    const records = image.segments.map((seg) => dec.decode(encodeIhex(MemoryImage.from([seg]))).replace(':00000001FF\n', ''));
    const desc = new TextEncoder().encode(records.reverse().join('') + ':00000001FF\n');
    check('ihex', asc, desc);
  });

  test(`S-record: ${RECORDS} S3 records, descending`, () => {
    const asc = encodeSrec(image);
    check('srec', asc, reverseRecords(asc, (l) => l.startsWith('S3')));
  });

  test(`DfuSe: ${RECORDS} elements, descending`, () => {
    const asc = encodeDfuse([{ alt: 0, image }], { vid: 0x0483, pid: 0xdf11, bcdDevice: 0 });
    const first = 11 + 274;
    const size = 8 + 16;
    const desc = asc.slice();
    for (let i = 0; i < RECORDS; i++) desc.set(asc.subarray(first + i * size, first + (i + 1) * size), first + (RECORDS - 1 - i) * size);
    new DataView(desc.buffer).setUint32(desc.length - 4, crc32Jam(desc.subarray(0, desc.length - 4)), true);
    check('dfuse', asc, desc);
  });
});
