/**
 * Allocation meter for the fuzz worker: replaces the global constructors that allocate by a length
 * (ArrayBuffer, SharedArrayBuffer, every typed array, Array, Buffer.alloc*, String#repeat/padStart/padEnd)
 * with Proxies that record the requested size before anything is allocated. While a case runs, a request
 * above the case's limit is recorded as a violation and refused with an `AllocationLimitError`, so a decoder
 * that asks for 1 GB is caught without the worker ever holding 1 GB. The violation is kept even if the decoder
 * catches the error, so swallowing it does not hide it.
 *
 * Only allocations by length count: a typed array over an existing buffer (`new Uint8Array(buf, off, len)`)
 * and `subarray` are views, `slice` copies at most what exists already.
 *
 * Install it only in a worker: it changes globals for the whole thread. Code that captured the original
 * constructors before installation (Node internals use primordials) is not metered.
 */

export class AllocationLimitError extends Error {
  constructor(
    readonly bytes: number,
    readonly what: string,
    readonly limit: number,
  ) {
    super(`allocation of ${bytes} bytes by ${what} exceeds the case limit of ${limit} bytes`);
    this.name = 'AllocationLimitError';
  }
}

export interface Violation {
  bytes: number;
  what: string;
  limit: number;
  /** Where the allocation was requested. */
  stack: string;
}

export interface MeterReading {
  /** Largest single allocation requested during the case, in bytes. */
  largest: number;
  /** What requested it, e.g. `new Uint8Array(1048576)`. */
  largestWhat: string;
  /** Metered allocations during the case. */
  count: number;
  /** The first request above the limit, if any. */
  violation?: Violation;
}

export interface AllocationMeter {
  /** Starts metering one case; requests above `limit` bytes are violations. */
  begin(limit: number): void;
  end(): MeterReading;
}

const TYPED = [
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
] as const;

/** Assumed bytes per element of a JS Array (a pointer). */
const ARRAY_SLOT = 8;

let installed: AllocationMeter | undefined;

type AnyCtor = new (...args: unknown[]) => object;

export function installAllocationMeter(): AllocationMeter {
  if (installed !== undefined) return installed;
  const g = globalThis as unknown as Record<string, unknown>;
  const OrigArrayBuffer = ArrayBuffer;
  const OrigShared = typeof SharedArrayBuffer === 'function' ? SharedArrayBuffer : undefined;
  const OrigError = Error;

  let active = false;
  let limit = Infinity;
  let largest = 0;
  let largestWhat = '';
  let count = 0;
  let violation: Violation | undefined;

  const record = (bytes: number, what: () => string): void => {
    if (!active) return;
    count++;
    if (bytes > largest) {
      largest = bytes;
      largestWhat = what();
    }
    if (bytes > limit) {
      const w = what();
      if (violation === undefined) {
        const stack = (new OrigError().stack ?? '').split('\n').slice(3, 12).join('\n');
        violation = { bytes, what: w, limit, stack };
      }
      throw new AllocationLimitError(bytes, w, limit);
    }
  };

  /** A valid length argument, or undefined (the real constructor then throws its own RangeError/TypeError). */
  const asLength = (v: unknown): number | undefined => {
    const n = typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : undefined;
    if (n === undefined || !Number.isFinite(n) || n < 0) return undefined;
    return Math.floor(n);
  };
  const isBuffer = (v: unknown): boolean => v instanceof OrigArrayBuffer || (OrigShared !== undefined && v instanceof OrigShared);

  const wrapCtor = (name: string, Orig: AnyCtor, sizeOf: (args: unknown[]) => number | undefined): AnyCtor => {
    const proxy: AnyCtor = new Proxy(Orig, {
      construct(target, args, newTarget) {
        const n = sizeOf(args);
        if (n !== undefined) record(n, () => `new ${name}(${describeArgs(args)})`);
        return Reflect.construct(target, args, newTarget === proxy ? target : newTarget) as object;
      },
      apply(target, thisArg, args) {
        const n = sizeOf(args);
        if (n !== undefined) record(n, () => `${name}(${describeArgs(args)})`);
        return Reflect.apply(target as unknown as (...a: unknown[]) => unknown, thisArg, args);
      },
    });
    return proxy;
  };

  for (const name of TYPED) {
    const Orig = g[name] as AnyCtor & { BYTES_PER_ELEMENT: number };
    const per = Orig.BYTES_PER_ELEMENT;
    g[name] = wrapCtor(name, Orig, (args) => {
      const a = args[0];
      if (a === undefined || a === null) return 0;
      if (typeof a === 'object') {
        if (isBuffer(a)) return undefined; // a view over an existing buffer
        const len = (a as { length?: unknown }).length;
        return typeof len === 'number' && len >= 0 ? len * per : undefined;
      }
      const n = asLength(a);
      return n === undefined ? undefined : n * per;
    });
  }
  const bufferSize = (args: unknown[]): number | undefined => {
    const n = asLength(args[0]);
    const opts = args[1] as { maxByteLength?: unknown } | undefined;
    const max = typeof opts === 'object' && opts !== null ? asLength(opts.maxByteLength) : undefined;
    return n === undefined ? undefined : Math.max(n, max ?? 0);
  };
  g.ArrayBuffer = wrapCtor('ArrayBuffer', OrigArrayBuffer as unknown as AnyCtor, bufferSize);
  if (OrigShared !== undefined) g.SharedArrayBuffer = wrapCtor('SharedArrayBuffer', OrigShared as unknown as AnyCtor, bufferSize);
  g.Array = wrapCtor('Array', Array as unknown as AnyCtor, (args) => {
    if (args.length === 1 && typeof args[0] === 'number') {
      const n = asLength(args[0]);
      return n === undefined ? undefined : n * ARRAY_SLOT;
    }
    return args.length * ARRAY_SLOT;
  });

  if (typeof Buffer === 'function') {
    const B = Buffer as unknown as Record<string, (...a: unknown[]) => unknown>;
    for (const m of ['alloc', 'allocUnsafe', 'allocUnsafeSlow'] as const) {
      const orig = B[m]!;
      B[m] = function (this: unknown, ...args: unknown[]) {
        const n = asLength(args[0]);
        if (n !== undefined) record(n, () => `Buffer.${m}(${describeArgs(args)})`);
        return orig.apply(this, args);
      };
    }
  }

  const S = String.prototype as unknown as Record<string, (...a: unknown[]) => string>;
  for (const m of ['repeat', 'padStart', 'padEnd'] as const) {
    const orig = S[m]!;
    Object.defineProperty(String.prototype, m, {
      configurable: true,
      writable: true,
      value: function (this: string, ...args: unknown[]) {
        const n = asLength(args[0]);
        if (n !== undefined) record(2 * (m === 'repeat' ? String(this).length * n : n), () => `String#${m}(${describeArgs(args)})`);
        return orig.apply(this, args);
      },
    });
  }

  installed = {
    begin(l: number): void {
      active = true;
      limit = l;
      largest = 0;
      largestWhat = '';
      count = 0;
      violation = undefined;
    },
    end(): MeterReading {
      active = false;
      const r: MeterReading = { largest, largestWhat, count };
      if (violation !== undefined) r.violation = violation;
      limit = Infinity;
      return r;
    },
  };
  return installed;
}

function describeArgs(args: unknown[]): string {
  return args
    .map((a) => {
      if (typeof a === 'number' || typeof a === 'bigint') return String(a);
      if (typeof a === 'string') return JSON.stringify(a.length > 20 ? `${a.slice(0, 20)}...` : a);
      if (a !== null && typeof a === 'object') {
        const len = (a as { length?: unknown }).length;
        return typeof len === 'number' ? `<${(a.constructor as { name?: string } | undefined)?.name ?? 'object'} length ${len}>` : '<object>';
      }
      return String(a);
    })
    .join(', ');
}
