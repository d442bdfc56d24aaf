/**
 * One fuzz case, decoded three ways (strict with the fuzzed format forced; every leniency plus `overwrite`;
 * format detected from the content) and, when the lenient decode succeeds, turned into an `inspect` report.
 * Each call is metered. A call passes when it returns a well-formed result whose data size is within the
 * format's bound, or throws an `FwError` with an UPPER_SNAKE code; and when no single allocation exceeded
 * 4 × the input length + 64 KiB. Anything else is a Failure.
 */
import { FwError } from '../../src/core/errors.ts';
import { ADDRESS_LIMIT } from '../../src/core/range.ts';
import { decodeFile, type DecodedFile, type DecodeFileOptions } from '../../src/formats/decode.ts';
import { buildInspectReport } from '../../src/formats/inspect.ts';
import { KNOWN_LENIENCIES } from '../../src/formats/leniencies.ts';
import { FORMAT_NAMES, type FormatName } from '../../src/formats/types.ts';
import { MemoryImage } from '../../src/image/memory-image.ts';
import type { AllocationMeter } from './alloc-meter.ts';
import type { Case } from './mutate.ts';

/** Every leniency of every reader, by name (the lenient call passes them all, plus `overwrite`). */
export const EVERY_LENIENCY: readonly string[] = KNOWN_LENIENCIES;

/** Largest single allocation allowed for an input of `n` bytes. */
export function allocationLimit(n: number): number {
  return 4 * n + 64 * 1024;
}

/**
 * Decoded data (bytes held by all targets) per input byte. Text formats spell each byte with two digits;
 * DfuSe elements and DFU/raw payloads are disjoint parts of the file; ELF sections are views into the file
 * and may legitimately share little, so 2 leaves room without allowing one range to be loaded many times.
 */
export const DATA_FACTOR: Readonly<Record<FormatName, number>> = { elf: 2, ihex: 0.5, srec: 0.5, dfuse: 1, dfu: 1, bin: 1 };
const DATA_SLACK = 64;

export type CallName = 'strict' | 'lenient' | 'detect' | 'inspect';
export type FailureKind = 'non-fwerror' | 'bad-code' | 'allocation' | 'amplification' | 'invalid-result' | 'hang' | 'worker-crash';

export interface Failure {
  format: FormatName;
  seed: number;
  index: number;
  corpus: boolean;
  seedName: string;
  origin: string;
  mutation: string;
  inputLength: number;
  /** The call(s) that failed: `strict`, `lenient`, `detect`, `inspect`, comma-separated; `worker` for hangs and crashes. */
  call: string;
  kind: FailureKind;
  detail: string;
  stack?: string;
}

export interface CallStats {
  ok: number;
  /** FwError codes seen, with counts. */
  codes: Record<string, number>;
  /** Largest allocation relative to its case's limit, and where. */
  maxAlloc: { bytes: number; inputLength: number; what: string; index: number };
  /** Largest decoded data / input length seen. */
  maxData: { ratio: number; bytes: number; inputLength: number; index: number };
}

export function emptyStats(): CallStats {
  return { ok: 0, codes: {}, maxAlloc: { bytes: 0, inputLength: 0, what: '', index: -1 }, maxData: { ratio: 0, bytes: 0, inputLength: 0, index: -1 } };
}

/** A deliberately broken decoder for the harness's negative controls. */
export type Sabotage =
  | 'type-error'
  | 'range-error'
  | 'plain-error'
  | 'fwerror-without-code'
  | 'alloc-1gb'
  | 'alloc-uint32'
  | 'alloc-arraybuffer'
  | 'alloc-array'
  | 'alloc-array-from'
  | 'alloc-buffer'
  | 'alloc-string'
  | 'alloc-swallowed'
  | 'amplify'
  | 'view-ok'
  | 'hang';

export interface CaseContext {
  format: FormatName;
  seed: number;
  corpus: boolean;
  meter: AllocationMeter;
  stats: CallStats;
  /** Sabotage for this case, applied to its strict call. */
  sabotage?: Sabotage;
}

export function runCase(c: Case, ctx: CaseContext): Failure[] {
  const failures: Failure[] = [];
  const base = { file: c.seedName, ...(c.address !== undefined ? { address: c.address } : {}) };
  const lenient = { lenient: EVERY_LENIENCY, overwrite: true };
  const calls: [CallName, DecodeFileOptions][] = [
    ['strict', { ...base, format: ctx.format }],
    ['lenient', { ...base, format: ctx.format, ...lenient }],
    ['detect', c.index % 2 === 0 ? base : { ...base, ...lenient }],
  ];
  const fail = (call: CallName, kind: FailureKind, detail: string, stack?: string): void => {
    failures.push({
      format: ctx.format,
      seed: ctx.seed,
      index: c.index,
      corpus: ctx.corpus,
      seedName: c.seedName,
      origin: c.origin,
      mutation: c.mutation,
      inputLength: c.bytes.length,
      call,
      kind,
      detail,
      ...(stack !== undefined ? { stack } : {}),
    });
  };
  for (const [call, opts] of calls) {
    const sabotage = call === 'strict' ? ctx.sabotage : undefined;
    const df = metered(call, c, ctx, fail, () => (sabotage !== undefined ? sabotaged(sabotage, c.bytes, opts) : decodeFile(c.bytes, opts)));
    if (df === undefined) continue;
    const problem = validate(df, c.bytes.length);
    if (problem !== undefined) {
      fail(call, problem.kind, problem.detail);
      continue;
    }
    const data = dataSize(df);
    const ratio = c.bytes.length === 0 ? data : data / c.bytes.length;
    if (ratio > ctx.stats.maxData.ratio) ctx.stats.maxData = { ratio, bytes: data, inputLength: c.bytes.length, index: c.index };
    if (call === 'lenient') metered('inspect', c, ctx, fail, () => buildInspectReport(c.seedName, c.bytes, df));
  }
  return merge(failures);
}

/** One failure per kind and detail: the same problem in several calls of a case is reported once, naming the calls. */
function merge(failures: Failure[]): Failure[] {
  const out = new Map<string, Failure>();
  for (const f of failures) {
    const key = `${f.kind}\0${f.detail}`;
    const seen = out.get(key);
    if (seen === undefined) out.set(key, { ...f });
    else seen.call = `${seen.call}, ${f.call}` as Failure['call'];
  }
  return [...out.values()];
}

/** Runs `fn` under the meter; returns its result, or undefined after it threw (recorded as ok or as a failure). */
function metered<T>(call: CallName, c: Case, ctx: CaseContext, fail: (call: CallName, kind: FailureKind, detail: string, stack?: string) => void, fn: () => T): T | undefined {
  let result: T | undefined;
  let thrown: unknown;
  let threw = false;
  ctx.meter.begin(allocationLimit(c.bytes.length));
  try {
    result = fn();
  } catch (e) {
    threw = true;
    thrown = e;
  }
  const reading = ctx.meter.end();
  const m = ctx.stats.maxAlloc;
  if (reading.largest / allocationLimit(c.bytes.length) > m.bytes / allocationLimit(m.inputLength)) {
    ctx.stats.maxAlloc = { bytes: reading.largest, inputLength: c.bytes.length, what: reading.largestWhat, index: c.index };
  }
  if (reading.violation !== undefined) {
    const v = reading.violation;
    fail(call, 'allocation', `${v.what} asked for ${v.bytes} bytes; the limit for a ${c.bytes.length}-byte input is ${v.limit} (4 x input + 64 KiB)`, v.stack);
    return undefined;
  }
  if (!threw) {
    ctx.stats.ok++;
    return result;
  }
  if (thrown instanceof FwError) {
    if (typeof thrown.code !== 'string' || !/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$/.test(thrown.code)) {
      fail(call, 'bad-code', `FwError with code ${JSON.stringify(thrown.code)}: ${thrown.message}`, thrown.stack);
    } else {
      ctx.stats.codes[thrown.code] = (ctx.stats.codes[thrown.code] ?? 0) + 1;
    }
    return undefined;
  }
  const e = thrown as { name?: unknown; message?: unknown; stack?: unknown } | undefined;
  const name = typeof e?.name === 'string' ? e.name : typeof thrown;
  const message = typeof e?.message === 'string' ? e.message : String(thrown);
  fail(call, 'non-fwerror', `${name}: ${message}`, typeof e?.stack === 'string' ? e.stack : undefined);
  return undefined;
}

function dataSize(df: DecodedFile): number {
  return df.decoded.targets.reduce((n, t) => n + t.image.size, 0);
}

function validate(df: DecodedFile, inputLength: number): { kind: FailureKind; detail: string } | undefined {
  const bad = (detail: string): { kind: FailureKind; detail: string } => ({ kind: 'invalid-result', detail });
  const format = df.detection.format;
  if (!FORMAT_NAMES.includes(format)) return bad(`detected format ${String(format)} is not a format name`);
  const d = df.decoded;
  if (d.format !== format) return bad(`decoded.format ${d.format} differs from the detected ${format}`);
  if (!Array.isArray(d.targets)) return bad('targets is not an array');
  if (!Array.isArray(d.notes) || d.notes.some((n) => typeof n.code !== 'string' || n.code === '')) return bad('notes are not a list of coded notes');
  if (d.entry !== undefined && !(Number.isSafeInteger(d.entry) && d.entry >= 0)) return bad(`entry ${d.entry} is not an address`);
  for (const [i, t] of d.targets.entries()) {
    if (!Number.isInteger(t.alt) || t.alt < 0 || t.alt > 0xff) return bad(`target ${i} alt ${t.alt} is not 0..255`);
    if (!(t.image instanceof MemoryImage)) return bad(`target ${i} image is not a MemoryImage`);
    let prevEnd = -1;
    for (const [j, s] of t.image.segments.entries()) {
      if (!(s.data instanceof Uint8Array) || s.data.length === 0) return bad(`target ${i} segment ${j} has no bytes`);
      const end = s.addr + s.data.length;
      if (!Number.isInteger(s.addr) || s.addr < 0 || end > ADDRESS_LIMIT) return bad(`target ${i} segment ${j} at ${s.addr} (+${s.data.length}) leaves the 32-bit space`);
      if (s.addr < prevEnd) return bad(`target ${i} segment ${j} at ${s.addr} overlaps or precedes the previous segment ending at ${prevEnd}`);
      prevEnd = end;
    }
  }
  const data = dataSize(df);
  const bound = DATA_FACTOR[format] * inputLength + DATA_SLACK;
  if (data > bound) {
    return {
      kind: 'amplification',
      detail: `decoded ${data} bytes of data from a ${inputLength}-byte ${format} input (${(data / Math.max(1, inputLength)).toFixed(2)}x; the bound is ${DATA_FACTOR[format]}x + ${DATA_SLACK})`,
    };
  }
  return undefined;
}

/** Preallocated before metering, so `view-ok` can make a large view that must not count. */
let bigBuffer: ArrayBuffer | undefined;
export function prepareSabotage(): void {
  bigBuffer ??= new ArrayBuffer(8 * 1024 * 1024);
}

/** The broken decoders of the negative controls: each does one thing the harness must catch (or, for view-ok, must not flag). */
function sabotaged(kind: Sabotage, bytes: Uint8Array, opts: DecodeFileOptions): DecodedFile {
  const real = (): DecodedFile => decodeFile(bytes, opts);
  switch (kind) {
    case 'type-error':
      return (undefined as unknown as { x: () => DecodedFile }).x();
    case 'range-error':
      new Uint8Array(-1);
      return real();
    case 'plain-error':
      throw new Error('decoder gave up');
    case 'fwerror-without-code':
      throw new FwError('', 'an error with an empty code');
    case 'alloc-1gb':
      new Uint8Array(1024 * 1024 * 1024);
      return real();
    case 'alloc-uint32':
      new Uint32Array(64 * 1024 * 1024);
      return real();
    case 'alloc-arraybuffer':
      new ArrayBuffer(512 * 1024 * 1024);
      return real();
    case 'alloc-array':
      // Without `new`: Array(n) allocates as well.
      Array(100_000_000);
      return real();
    case 'alloc-array-from':
      Uint8Array.from({ length: 300_000_000 });
      return real();
    case 'alloc-buffer':
      Buffer.alloc(256 * 1024 * 1024);
      return real();
    case 'alloc-string':
      'x'.repeat(400_000_000);
      return real();
    case 'alloc-swallowed':
      try {
        new ArrayBuffer(2 ** 31);
      } catch {
        // a decoder that hides its failed allocation
      }
      return real();
    case 'amplify': {
      // The same input bytes loaded 100 times (views: no allocation, only the data-size bound can see it).
      const image = new MemoryImage();
      const chunk = bytes.length > 0 ? bytes.subarray(0, 0x100000) : new Uint8Array(1);
      for (let i = 0; i < 100; i++) image.add(0x10000000 + i * 0x100000, chunk);
      const format = opts.format ?? 'bin';
      return { detection: { format, reason: 'sabotage' }, decoded: { format, targets: [{ alt: 0, image }], notes: [] } as DecodedFile['decoded'] };
    }
    case 'view-ok':
      new Uint8Array(bigBuffer!, 0, bigBuffer!.byteLength);
      new DataView(bigBuffer!);
      return real();
    case 'hang':
      for (;;) {
        // never returns: the watchdog must terminate the worker
      }
  }
}
