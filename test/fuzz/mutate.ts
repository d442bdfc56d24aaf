/**
 * The fuzz plan of one format: a deterministic list of cases, each a mutated seed file. Case `i` is rebuilt
 * from (run seed, format, i) alone, so a failure names a case that `repro.ts` can regenerate.
 *
 * Order: systematic cases of the fixture and synthesized seeds (every length/count/offset field set to 0,
 * all-ones, 0xFFFFFFFF, the file length ± 1 and its own value ± 1; truncation at every structure boundary;
 * record fields of text files with the checksum recomputed; ELF sections sharing one range of file bytes), then
 * random stacked mutations of those seeds (bit flips, byte and field writes, insertions, deletions,
 * truncations, duplicated and spliced chunks, line edits), then the same two parts for corpus seeds. The base
 * part alone has at least MIN_BASE_CASES cases; corpus cases come on top and do not shift the base indices.
 */
import { crc32Jam } from '../../src/core/crc.ts';
import type { FormatName } from '../../src/formats/types.ts';
import { mixSeed, Rng } from './prng.ts';
import { baseSeeds, corpusSeeds, type Origin, type Seed } from './seeds.ts';
import { analyze, hexAt, readField, resealRecord, textRecords, writeField, type Field, type Structure, type TextRecord } from './structure.ts';

/** Cases per format without the corpus: the brief's floor. */
export const MIN_BASE_CASES = 2000;
/** Random cases on base seeds: at least this many, and enough to bring the base part to BASE_TARGET. */
const MIN_BASE_RANDOM = 900;
const BASE_TARGET = 2400;
/** Corpus part: systematic header cases per corpus seed are capped, plus this many random cases. */
const CORPUS_FIELDS_PER_SEED = 12;
const CORPUS_RANDOM = 700;
const CORPUS_MAX_SEEDS = 40;

/** `DFUKIT_FUZZ_SCALE=N` multiplies the random cases, for longer exploratory runs (default 1). */
function scale(): number {
  const v = Number(process.env.DFUKIT_FUZZ_SCALE ?? 1);
  return Number.isFinite(v) && v > 0 ? v : 1;
}

export interface Case {
  index: number;
  seedName: string;
  origin: Origin;
  /** What was done to the seed, step by step. */
  mutation: string;
  bytes: Uint8Array;
  /** Load address passed for raw binaries and plain DFU payloads (sometimes none: a plain DFU file then loads at 0). */
  address?: number;
}

type SysOp =
  | { kind: 'field'; field: Field; value: bigint }
  | { kind: 'truncate'; at: number; resuffix: boolean }
  | { kind: 'record'; record: TextRecord; part: 'count' | 'address' | 'type' | 'value'; value: number }
  | { kind: 'elf-shared-bytes' }
  | { kind: 'elf-paddr-zero' };

interface SysCase {
  seed: number;
  op: SysOp;
}

interface Part {
  from: number;
  seeds: number[];
  systematic: SysCase[];
  random: number;
}

export class Plan {
  readonly seeds: Seed[];
  private readonly structures: Structure[];
  private readonly base: Part;
  private readonly corpus: Part;

  constructor(
    readonly format: FormatName,
    readonly seed: number,
    corpusDir?: string,
  ) {
    const base = baseSeeds(format);
    const extra = corpusDir !== undefined ? pickCorpus(corpusSeeds(format, corpusDir)) : [];
    this.seeds = [...base, ...extra];
    this.structures = this.seeds.map((s) => analyze(format, s.bytes));
    const baseIdx = base.map((_, i) => i);
    const corpusIdx = extra.map((_, i) => base.length + i);
    const baseSys = baseIdx.flatMap((i) => this.systematicFor(i, false));
    this.base = { from: 0, seeds: baseIdx, systematic: baseSys, random: Math.round(scale() * Math.max(MIN_BASE_RANDOM, BASE_TARGET - baseSys.length)) };
    const corpusSys = corpusIdx.flatMap((i) => this.systematicFor(i, true));
    const baseTotal = baseSys.length + this.base.random;
    this.corpus = { from: baseTotal, seeds: corpusIdx, systematic: corpusSys, random: corpusIdx.length > 0 ? Math.round(scale() * CORPUS_RANDOM) : 0 };
  }

  get baseCases(): number {
    return this.base.systematic.length + this.base.random;
  }

  get corpusCases(): number {
    return this.corpus.systematic.length + this.corpus.random;
  }

  get total(): number {
    return this.baseCases + this.corpusCases;
  }

  get corpusSeedCount(): number {
    return this.corpus.seeds.length;
  }

  caseAt(index: number): Case {
    if (!Number.isInteger(index) || index < 0 || index >= this.total) throw new Error(`case ${index} is outside the plan (0..${this.total - 1})`);
    const part = index < this.corpus.from ? this.base : this.corpus;
    const local = index - part.from;
    const rng = new Rng(mixSeed(this.seed, this.format, index));
    let seedIndex: number;
    let bytes: Uint8Array;
    let mutation: string;
    if (local < part.systematic.length) {
      const c = part.systematic[local]!;
      seedIndex = c.seed;
      ({ bytes, mutation } = this.applySystematic(c));
    } else {
      seedIndex = part.seeds[rng.int(part.seeds.length)]!;
      ({ bytes, mutation } = this.applyRandom(seedIndex, part, rng));
    }
    const s = this.seeds[seedIndex]!;
    const address = pickAddress(rng, bytes.length);
    return { index, seedName: s.name, origin: s.origin, mutation, bytes, ...(address !== undefined ? { address } : {}) };
  }

  // -------------------------------------------------------------------------------------------------
  // Systematic cases.

  private systematicFor(i: number, corpus: boolean): SysCase[] {
    const seed = this.seeds[i]!;
    const st = this.structures[i]!;
    const n = seed.bytes.length;
    const out: SysCase[] = [];
    const fields = corpus ? st.fields.filter((f) => SIZE_LIKE.test(f.name)).slice(0, CORPUS_FIELDS_PER_SEED) : st.fields;
    for (const field of fields) {
      for (const value of fieldValues(field, readField(seed.bytes, field), n, SIZE_LIKE.test(field.name))) out.push({ seed: i, op: { kind: 'field', field, value } });
    }
    if (this.format === 'ihex' || this.format === 'srec') {
      const records = corpus ? [...st.records.filter((r) => !isData(this.format, r)).slice(0, 6), ...st.records.slice(0, 3), ...st.records.slice(-3)] : sampleRecords(this.format, st.records);
      for (const record of [...new Set(records)]) out.push(...recordCases(this.format, seed.bytes, record).map((op) => ({ seed: i, op })));
      const cuts = new Set<number>();
      for (const r of records) for (const p of [r.start, r.start + 1, r.start + 2, r.addressAt, r.dataAt, r.checksumAt, r.end - 1, r.end]) cuts.add(p);
      for (const at of [...cuts].sort((a, b) => a - b)) if (at >= 0 && at < n) out.push({ seed: i, op: { kind: 'truncate', at, resuffix: false } });
    } else {
      const cuts = corpus ? st.boundaries.slice(0, 24) : st.boundaries;
      for (const at of cuts) {
        for (const d of [-1, 0, 1]) {
          const p = at + d;
          if (p < 0 || p >= n || (d !== 0 && cuts.includes(p))) continue;
          out.push({ seed: i, op: { kind: 'truncate', at: p, resuffix: false } });
          if (st.crc && p < n - 16) out.push({ seed: i, op: { kind: 'truncate', at: p, resuffix: true } });
        }
      }
    }
    if (this.format === 'elf' && !corpus) out.push({ seed: i, op: { kind: 'elf-shared-bytes' } }, { seed: i, op: { kind: 'elf-paddr-zero' } });
    return out;
  }

  private applySystematic(c: SysCase): { bytes: Uint8Array; mutation: string } {
    const seed = this.seeds[c.seed]!;
    const st = this.structures[c.seed]!;
    const op = c.op;
    switch (op.kind) {
      case 'field': {
        const b = seed.bytes.slice();
        const before = readField(b, op.field);
        writeField(b, op.field, op.value);
        const steps = [`set ${describeField(op.field)} ${hexBig(before)} -> ${hexBig(readField(b, op.field))}`];
        if (st.crc && op.field.name !== 'suffix dwCRC') steps.push(reseal(b));
        return { bytes: b, mutation: steps.join('; ') };
      }
      case 'truncate': {
        if (!op.resuffix) return { bytes: seed.bytes.slice(0, op.at), mutation: `truncate to ${op.at} of ${seed.bytes.length} bytes` };
        const n = seed.bytes.length;
        const suffixLen = Math.min(seed.bytes[n - 5] ?? 16, n);
        const body = seed.bytes.subarray(0, Math.min(op.at, n - suffixLen));
        const b = concat(body, seed.bytes.subarray(n - suffixLen));
        const steps = [`truncate the body to ${body.length} bytes and keep the ${suffixLen}-byte suffix`];
        if (this.format === 'dfuse') steps.push(fixImageSize(b, false));
        steps.push(reseal(b));
        return { bytes: b, mutation: steps.join('; ') };
      }
      case 'record': {
        const b = seed.bytes.slice();
        const desc = setRecordPart(this.format as 'ihex' | 'srec', b, op.record, op.part, op.value);
        resealRecord(this.format as 'ihex' | 'srec', b, op.record.start, op.record.end);
        return { bytes: b, mutation: `line ${op.record.line}: ${desc}, checksum recomputed` };
      }
      case 'elf-shared-bytes':
        return elfSharedBytes(seed.bytes, st);
      case 'elf-paddr-zero': {
        const b = seed.bytes.slice();
        const paddr = st.fields.filter((f) => f.name.endsWith('p_paddr'));
        for (const f of paddr) writeField(b, f, 0n);
        return { bytes: b, mutation: `set p_paddr of all ${paddr.length} segments to 0` };
      }
    }
  }

  // -------------------------------------------------------------------------------------------------
  // Random cases.

  private applyRandom(seedIndex: number, part: Part, rng: Rng): { bytes: Uint8Array; mutation: string } {
    const seed = this.seeds[seedIndex]!;
    const st = this.structures[seedIndex]!;
    let b: Uint8Array = seed.bytes.slice();
    const steps: string[] = [];
    const text = this.format === 'ihex' || this.format === 'srec';
    const ops = rng.chance(0.6) ? 1 : rng.chance(0.6) ? 2 : 3;
    for (let k = 0; k < ops; k++) {
      const r = text && rng.chance(0.5) ? this.textOp(b, rng) : this.binaryOp(b, st, rng, part);
      b = r.bytes;
      steps.push(r.step);
    }
    // Length changes would otherwise always stop a DfuSe file at DFUImageSize, and any change at dwCRC.
    if (this.format === 'dfuse' && b.length !== seed.bytes.length && rng.chance(0.7)) steps.push(fixImageSize(b, rng.chance(0.2)));
    if (st.crc && b.length >= 4 && rng.chance(0.8)) steps.push(reseal(b));
    return { bytes: b, mutation: `random (${steps.length} steps): ${steps.join('; ')}` };
  }

  private binaryOp(b: Uint8Array, st: Structure, rng: Rng, part: Part): { bytes: Uint8Array; step: string } {
    const n = b.length;
    const pos = (): number => {
      if (n === 0) return 0;
      if (st.boundaries.length > 0 && rng.chance(0.5)) return Math.max(0, Math.min(n - 1, rng.pick(st.boundaries) + rng.range(-2, 2)));
      return rng.int(n);
    };
    const op = rng.int(st.fields.length > 0 ? 11 : 10);
    switch (op) {
      case 0:
      case 1: {
        if (n === 0) return { bytes: rng.bytes(rng.range(1, 8)), step: 'replace the empty file with random bytes' };
        const flips: string[] = [];
        for (let k = rng.range(1, 8); k > 0; k--) {
          const p = pos();
          const bit = rng.int(8);
          b[p]! ^= 1 << bit;
          flips.push(`${p}.${bit}`);
        }
        return { bytes: b, step: `flip bits ${flips.join(',')}` };
      }
      case 2: {
        if (n === 0) return { bytes: b, step: 'no byte to set' };
        const p = pos();
        const k = Math.min(rng.range(1, 4), n - p);
        const v = rng.pick([0x00, 0x01, 0x7f, 0x80, 0xff, 0x10, 0x20, 0x40, rng.int(256)]);
        b.fill(v, p, p + k);
        return { bytes: b, step: `set ${k} bytes at ${p} to ${hex(v, 2)}` };
      }
      case 3: {
        const p = rng.chance(0.2) ? n : pos();
        const k = rng.range(1, 16);
        const ins = rng.chance(0.5) ? new Uint8Array(k) : rng.bytes(k);
        return { bytes: concat(b.subarray(0, p), ins, b.subarray(p)), step: `insert ${k} ${ins.some((x) => x !== 0) ? 'random' : 'zero'} bytes at ${p}` };
      }
      case 4: {
        if (n === 0) return { bytes: b, step: 'nothing to delete' };
        const p = pos();
        const k = Math.min(rng.range(1, 16), n - p);
        return { bytes: concat(b.subarray(0, p), b.subarray(p + k)), step: `delete ${k} bytes at ${p}` };
      }
      case 5: {
        const p = pos();
        return { bytes: b.slice(0, p), step: `truncate to ${p} of ${n} bytes` };
      }
      case 6: {
        if (n < 2) return { bytes: b, step: 'too short to duplicate' };
        const a = pos();
        const k = Math.min(rng.range(1, 512), n - a);
        const at = pos();
        return { bytes: concat(b.subarray(0, at), b.subarray(a, a + k), b.subarray(at)), step: `duplicate ${k} bytes from ${a} at ${at}` };
      }
      case 7: {
        if (n < 2) return { bytes: b, step: 'too short to overwrite' };
        const a = pos();
        const at = pos();
        const k = Math.min(rng.range(1, 512), n - a, n - at);
        b.copyWithin(at, a, a + k);
        return { bytes: b, step: `overwrite ${k} bytes at ${at} with the bytes at ${a}` };
      }
      case 8: {
        const other = this.seeds[rng.pick(part.seeds)]!;
        const cut = pos();
        const from = other.bytes.length === 0 ? 0 : rng.int(other.bytes.length);
        return { bytes: concat(b.subarray(0, cut), other.bytes.subarray(from)), step: `splice: first ${cut} bytes, then ${other.name} from ${from}` };
      }
      case 9: {
        const k = rng.range(1, 64);
        return { bytes: concat(b, rng.bytes(k)), step: `append ${k} random bytes` };
      }
      default: {
        const f = rng.pick(st.fields);
        if (f.offset + f.width > n) return { bytes: b, step: `${f.name} is outside the mutated file` };
        const orig = readField(b, f);
        const value = rng.pick([0n, 1n, 0xffn, 0xffffn, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0xffffffffffffffffn, BigInt(n - 1), BigInt(n), BigInt(n + 1), orig - 1n, orig + 1n, orig * 2n, BigInt(rng.u32())]);
        writeField(b, f, value);
        return { bytes: b, step: `set ${describeField(f)} ${hexBig(orig)} -> ${hexBig(readField(b, f))}` };
      }
    }
  }

  private textOp(b: Uint8Array, rng: Rng): { bytes: Uint8Array; step: string } {
    const format = this.format as 'ihex' | 'srec';
    const records = textRecords(format, b);
    if (records.length === 0) return { bytes: concat(b, fromText(':00000001FF\n')), step: 'append an EOF record' };
    const r = rng.pick(records);
    const lineEndAt = (x: TextRecord): number => (b[x.end] === 0x0d && b[x.end + 1] === 0x0a ? x.end + 2 : Math.min(b.length, x.end + 1));
    switch (rng.int(8)) {
      case 0:
        return { bytes: concat(b.subarray(0, r.start), b.subarray(lineEndAt(r))), step: `delete line ${r.line}` };
      case 1:
        return { bytes: concat(b.subarray(0, r.start), b.subarray(r.start, lineEndAt(r)), b.subarray(r.start)), step: `duplicate line ${r.line}` };
      case 2: {
        const o = rng.pick(records);
        if (o === r) return { bytes: b, step: `swap line ${r.line} with itself` };
        const [x, y] = r.start < o.start ? [r, o] : [o, r];
        const bytes = concat(b.subarray(0, x.start), b.subarray(y.start, y.end), b.subarray(x.end, y.start), b.subarray(x.start, x.end), b.subarray(y.end));
        return { bytes, step: `swap lines ${x.line} and ${y.line}` };
      }
      case 3:
      case 4: {
        const parts = ['count', 'address', 'type', 'value'] as const;
        const part = rng.pick(parts);
        const value = rng.pick([0, 0xff, 0xffff, 0xffffffff, rng.u32(), rng.int(256)]);
        const desc = setRecordPart(format, b, r, part, value);
        const resealed = rng.chance(0.8);
        if (resealed) resealRecord(format, b, r.start, r.end);
        return { bytes: b, step: `line ${r.line}: ${desc}${resealed ? ', checksum recomputed' : ''}` };
      }
      case 5: {
        const p = rng.range(r.start, r.end);
        const c = rng.pick([0x0d, 0x0a, 0x3a, 0x53, 0x20, 0x09, 0x47, 0x00, 0xff, 0x61, 0x30]);
        return { bytes: concat(b.subarray(0, p), new Uint8Array([c]), b.subarray(p)), step: `insert ${hex(c, 2)} at ${p} (line ${r.line})` };
      }
      case 6: {
        const p = rng.range(r.start, r.end);
        return { bytes: concat(b.subarray(0, p), b.subarray(r.end)), step: `cut line ${r.line} at column ${p - r.start + 1}` };
      }
      default: {
        const eol = rng.pick([[0x0d], [0x0d, 0x0a], [], [0x0a, 0x0a]]);
        const after = lineEndAt(r);
        return { bytes: concat(b.subarray(0, r.end), new Uint8Array(eol), b.subarray(after)), step: `line ${r.line} ends in [${eol.map((x) => hex(x, 2)).join(' ')}]` };
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------

const SIZE_LIKE =
  /e_phoff|e_shoff|e_phnum|e_shnum|e_phentsize|e_shentsize|e_shstrndx|e_ehsize|p_offset|p_filesz|p_memsz|sh_offset|sh_size|sh_link|sh_name|sh_info|sh_entsize|st_name|st_shndx|DFUImageSize|bTargets|dwTargetSize|dwNbElements|dwElementSize|dwElementAddress|bTargetNamed|bLength|bcdDFU/;

/** Values that select a code path of their own (gABI constants, DfuSe booleans, DFU versions), by field name. */
const SPECIAL: [RegExp, bigint[]][] = [
  [/sh_type$/, [1n, 2n, 3n, 8n, 18n]], // PROGBITS, SYMTAB, STRTAB, NOBITS, SYMTAB_SHNDX
  [/sh_flags$/, [0x2n, 0x6n, 0x402n]], // ALLOC, ALLOC|EXECINSTR, ALLOC|TLS
  [/p_type$/, [1n, 7n]], // LOAD, TLS
  [/e_type$/, [1n, 2n, 3n]], // REL, EXEC, DYN
  [/e_machine$/, [0n, 40n]], // NONE, ARM
  [/e_shstrndx$|e_phnum$/, [0xffffn]], // SHN_XINDEX, PN_XNUM
  [/bTargetNamed$/, [1n, 2n, 0x100n]],
  [/bcdDFU$/, [0x0100n, 0x011an]],
  [/bLength$/, [15n, 16n, 17n]],
];

/**
 * 0 and all-ones for every field, plus its special values; for size, count, offset and index fields also
 * 0xFFFFFFFF, the file length ± 1, the value ± 1, 2^31 and (64-bit) 2^53.
 */
function fieldValues(f: Field, orig: bigint, n: number, sizeLike: boolean): bigint[] {
  const all = (1n << BigInt(8 * f.width)) - 1n;
  const vs = [0n, all];
  for (const [re, values] of SPECIAL) if (re.test(f.name)) vs.push(...values);
  vs.push(...(f.extra ?? []));
  if (sizeLike) vs.push(0xffffffffn, BigInt(n - 1), BigInt(n + 1), orig - 1n, orig + 1n, 0x80000000n, ...(f.width === 8 ? [1n << 53n] : []));
  const seen = new Set<bigint>();
  return vs.map((v) => BigInt.asUintN(8 * f.width, v)).filter((v) => v !== orig && !seen.has(v) && (seen.add(v), true));
}

function isData(format: FormatName, r: TextRecord): boolean {
  return format === 'ihex' ? r.type === 0 : r.type >= 1 && r.type <= 3;
}

/** Every non-data record, plus the first 6 and last 6 data records. */
function sampleRecords(format: FormatName, records: TextRecord[]): TextRecord[] {
  const data = records.filter((r) => isData(format, r));
  const keep = new Set([...records.filter((r) => !isData(format, r)), ...data.slice(0, 6), ...data.slice(-6)]);
  return records.filter((r) => keep.has(r));
}

function recordCases(format: 'ihex' | 'srec', b: Uint8Array, r: TextRecord): SysOp[] {
  const out: SysOp[] = [];
  const count = hexAt(b, r.countAt);
  for (const v of new Set([0, 0xff, count - 1, count + 1])) if (v >= 0 && v <= 0xff && v !== count) out.push({ kind: 'record', record: r, part: 'count', value: v });
  for (const v of [0, 0xffffffff, 1]) out.push({ kind: 'record', record: r, part: 'address', value: v });
  const types = format === 'ihex' ? [0, 1, 2, 3, 4, 5, 6, 0xff] : [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  for (const t of types) if (t !== r.type) out.push({ kind: 'record', record: r, part: 'type', value: t });
  const valueRecord = format === 'ihex' ? r.type >= 2 && r.type <= 5 : r.type >= 5;
  if (valueRecord) {
    const orig = fieldNumber(b, format, r, 'value');
    for (const v of [0, 0xffffffff, orig - 1, orig + 1]) out.push({ kind: 'record', record: r, part: 'value', value: v });
  }
  return out;
}

/** Digits of a record part: [offset, digit count]. `value`: the data field of an address/start record, or an S5/S6 count. */
function partDigits(format: 'ihex' | 'srec', r: TextRecord, part: 'count' | 'address' | 'type' | 'value'): [number, number] {
  if (format === 'ihex') {
    switch (part) {
      case 'count':
        return [r.start + 1, 2];
      case 'address':
        return [r.start + 3, 4];
      case 'type':
        return [r.start + 7, 2];
      case 'value':
        return [r.start + 9, Math.max(0, Math.min(8, r.checksumAt - (r.start + 9)))];
    }
  }
  switch (part) {
    case 'count':
      return [r.start + 2, 2];
    case 'type':
      return [r.start + 1, 1];
    case 'address':
    case 'value':
      // S5/S6 hold their count in the address field.
      return [r.start + 4, Math.max(0, Math.min(r.addressDigits, r.checksumAt - (r.start + 4)))];
  }
}

function fieldNumber(b: Uint8Array, format: 'ihex' | 'srec', r: TextRecord, part: 'count' | 'address' | 'type' | 'value'): number {
  const [at, digits] = partDigits(format, r, part);
  let v = 0;
  for (let i = 0; i < digits; i++) {
    const c = b[at + i]!;
    const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x41 && c <= 0x46 ? c - 0x37 : c >= 0x61 && c <= 0x66 ? c - 0x57 : 0;
    v = v * 16 + d;
  }
  return v;
}

function setRecordPart(format: 'ihex' | 'srec', b: Uint8Array, r: TextRecord, part: 'count' | 'address' | 'type' | 'value', value: number): string {
  const [at, digits] = partDigits(format, r, part);
  if (digits === 0 || at + digits > r.end) return `no ${part} field to set`;
  const before = new TextDecoder().decode(b.subarray(at, at + digits));
  const text = format === 'srec' && part === 'type' ? String(value % 10) : (value >>> 0).toString(16).toUpperCase().padStart(digits, '0').slice(-digits);
  for (let i = 0; i < digits; i++) b[at + i] = text.charCodeAt(i);
  return `${part} ${before} -> ${text}`;
}

/**
 * Every section but the name table and the symbol tables becomes an allocated PROGBITS section over the
 * largest section's file bytes, each at its own address, with the program headers dropped (so LMA = VMA):
 * k sections make k times those bytes from one copy of them in the file.
 */
function elfSharedBytes(seed: Uint8Array, st: Structure): { bytes: Uint8Array; mutation: string } {
  const b = seed.slice();
  const byName = new Map(st.fields.map((f) => [f.name, f]));
  const get = (name: string): bigint | undefined => {
    const f = byName.get(name);
    return f === undefined ? undefined : readField(b, f);
  };
  const set = (name: string, v: bigint): void => {
    const f = byName.get(name);
    if (f !== undefined) writeField(b, f, v);
  };
  const shstrndx = Number(get('e_shstrndx') ?? 0n);
  const sections: number[] = [];
  for (let i = 1; byName.has(`section ${i} sh_type`); i++) sections.push(i);
  let big = -1;
  let bigSize = 0n;
  for (const i of sections) {
    const size = get(`section ${i} sh_size`)!;
    if (get(`section ${i} sh_type`) === 1n && size > bigSize) [big, bigSize] = [i, size];
  }
  if (big < 0) return { bytes: b, mutation: 'elf-shared-bytes: no PROGBITS section (unchanged)' };
  const offset = get(`section ${big} sh_offset`)!;
  const stride = ((bigSize + 0xfffn) / 0x1000n) * 0x1000n;
  let k = 0;
  for (const i of sections) {
    const type = get(`section ${i} sh_type`)!;
    if (i === shstrndx || type === 2n || type === 3n) continue;
    set(`section ${i} sh_type`, 1n);
    set(`section ${i} sh_flags`, 0x6n);
    set(`section ${i} sh_offset`, offset);
    set(`section ${i} sh_size`, bigSize);
    set(`section ${i} sh_addr`, 0x10000000n + BigInt(k) * stride);
    k++;
  }
  set('e_phnum', 0n);
  return { bytes: b, mutation: `elf-shared-bytes: ${k} sections over the ${bigSize} bytes of section ${big} at offset ${offset}, at distinct addresses, e_phnum 0` };
}

function pickCorpus(seeds: Seed[]): Seed[] {
  if (seeds.length <= CORPUS_MAX_SEEDS) return seeds;
  // Evenly spread over the sorted list, so every source repository is represented.
  const out: Seed[] = [];
  for (let i = 0; i < CORPUS_MAX_SEEDS; i++) out.push(seeds[Math.floor((i * seeds.length) / CORPUS_MAX_SEEDS)]!);
  return out;
}

/** The load address handed to decodeFile (used by raw binaries and plain DFU payloads): mostly flash, sometimes the edges of the 32-bit space. */
function pickAddress(rng: Rng, n: number): number | undefined {
  const top = 0x1_0000_0000;
  return rng.pick([0x08000000, 0x08000000, 0x08000000, undefined, 0, Math.max(0, top - n), top - n + 1, 0xffffffff]);
}

function reseal(b: Uint8Array): string {
  if (b.length < 4) return 'too short to reseal dwCRC';
  const crc = crc32Jam(b.subarray(0, b.length - 4));
  new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(b.length - 4, crc, true);
  return `dwCRC resealed to ${hex(crc, 8)}`;
}

/** DFUImageSize set to agree with the (mutated) length: without the 16-byte suffix, or with it (dfuse-pack). */
function fixImageSize(b: Uint8Array, withSuffix: boolean): string {
  if (b.length < 10) return 'too short for DFUImageSize';
  const v = withSuffix ? b.length : Math.max(0, b.length - 16);
  new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(6, v, true);
  return `DFUImageSize set to ${v} (${withSuffix ? 'with' : 'without'} the suffix)`;
}

function describeField(f: Field): string {
  return `${f.name} (offset ${f.offset}, ${f.width * 8}-bit ${f.le ? 'LE' : 'BE'})`;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function fromText(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

function hex(v: number, digits: number): string {
  return `0x${(v >>> 0).toString(16).toUpperCase().padStart(digits, '0')}`;
}

function hexBig(v: bigint): string {
  return `0x${v.toString(16).toUpperCase()}`;
}
