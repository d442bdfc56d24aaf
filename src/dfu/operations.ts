/**
 * Executes a FlashPlan on a device: connect, (resume check), erase, write, verify, leave; and the single
 * operations `dfukit read` and `dfukit erase` run. The library never prints: progress goes to the caller's
 * `onEvent`, and every failure is a DfuError (FwError, exit 4; a verify mismatch exit 1) naming the operation,
 * address, request, DFU state and status. Verify compares bytes; only a mismatch runs the read-back diff
 * (plan/verify.ts), carried by the VerifyMismatchError.
 *
 * Retries: a block or sector whose request fails with an error status, a STALL or a wedged dfuDNBUSY is retried
 * a bounded number of times after recovering to dfuIDLE by state (CLRSTATUS in dfuERROR), re-sending
 * SET_ADDRESS, as ST's DfuSe Demo does (NB_TRIALS = 3, dfu-protocol.md §1b). A vanished device is not retried:
 * `--resume` (a new process, a new connection) completes the job by read-back.
 *
 * Abort: the AbortSignal is checked before every command and block, never inside one, so the device is never
 * left in the middle of a flash operation; on abort the device is sent back to dfuIDLE (ABORT) and the error
 * says where the job stopped.
 */
import { EXIT_USAGE, FwError } from '../core/errors.ts';
import { formatRange, hex32 } from '../core/format.ts';
import { unionRanges, type Range } from '../core/range.ts';
import { MemoryImage } from '../image/memory-image.ts';
import type { ChipProfile } from '../layout/chip-types.ts';
import { intersectRanges } from '../plan/plan.ts';
import { resumePlan, type ResumeSector } from '../plan/resume.ts';
import type { FlashPlan, LeaveFrom, PlanSector } from '../plan/types.ts';
import type { DiffReport } from '../verify/report-schema.ts';
import { openDfuDevice, type DeviceInfo } from './descriptors.ts';
import { DEFAULT_TIMEOUTS, DfuseDevice, type DfuseTimeouts, type LeaveOutcome } from './dfuse.ts';
import { abortedError, DfuError, isDfuError, transportError, type DfuContext, type DfuErrorCode } from './errors.ts';
import { DfuProtocol, realClock, type Clock, type RequestCounts } from './protocol.ts';
import { HOST_RECOVERIES, type RecoveryEvent, type RecoveryName, type RecoveryOption } from './quirks.ts';
import type { DfuTransport } from './transport.ts';

export interface DfuSession {
  readonly transport: DfuTransport;
  readonly dfu: DfuProtocol;
  readonly dfuse: DfuseDevice;
  readonly info: DeviceInfo;
  readonly profile: ChipProfile;
  readonly alt: number;
}

export interface ConnectOptions {
  readonly clock?: Clock;
  /** Alternate setting; default: the profile's flash alt. */
  readonly alt?: number;
  /** Use this wTransferSize instead of the descriptor's (dfu-util -t). */
  readonly transferSize?: number;
  /** ROM quirk recoveries (quirks.ts): default all on; `false` is a plain DfuSe host. */
  readonly recoveries?: RecoveryOption;
}

/** Deadlines from the profile's datasheet figures, with room: a deadline only ends a wedge, it never paces. */
export function timeoutsFor(profile: ChipProfile, transferSize: number): DfuseTimeouts {
  const t = profile.timing;
  const worstErase = (size: number): number => {
    const e = t.sectorEraseMs.find((x) => x.size === size && (x.bankMode === undefined || x.bankMode === profile.bankMode)) ?? t.sectorEraseMs.find((x) => x.size === size);
    return e === undefined ? 10_000 : (e.max ?? e.typ * 3);
  };
  const units = Math.ceil(transferSize / profile.programUnit);
  // ROMs that program byte by byte (F4/F7: quirk *-rom-writes-bytewise) take several times the unit figure.
  const blockWorst = (units * (t.programUs.max ?? t.programUs.typ * 3) * 8) / 1000;
  const massWorst = t.massEraseMs?.max ?? profile.sectors.reduce((n, s) => n + worstErase(s.size), 0);
  return {
    commandMs: 5000,
    blockMs: Math.max(5000, 2 * blockWorst),
    sectorEraseMs: (size) => 1.5 * worstErase(size) + 1000,
    massEraseMs: Math.max(DEFAULT_TIMEOUTS.massEraseMs, 1.5 * massWorst + 5000),
    pollCapMs: 5000,
  };
}

/**
 * Opens the device, reads wTransferSize and the alt layouts, selects the flash alt and brings the device to
 * dfuIDLE by its state.
 */
export async function connect(transport: DfuTransport, profile: ChipProfile, opts: ConnectOptions = {}): Promise<DfuSession> {
  const info = await openDfuDevice(transport, profile);
  const alt = opts.alt ?? profile.dfu.alts.find((a) => a.kind === 'flash')?.alt ?? 0;
  if (!info.alts.some((a) => a.alt === alt)) {
    throw new DfuError('DFU_DESCRIPTOR', `connect: the device has no alternate setting ${alt} (it offers ${info.alts.map((a) => `${a.alt} "${a.name.trim()}"`).join(', ')})`, { operation: 'connect' });
  }
  try {
    await transport.selectAlternateInterface(info.interfaceNumber, alt);
  } catch (e) {
    throw transportError({ operation: 'connect' }, 'SET_INTERFACE', e);
  }
  const transferSize = opts.transferSize ?? info.transferSize;
  const dfu = new DfuProtocol(transport, { interfaceNumber: info.interfaceNumber, clock: opts.clock ?? realClock, ...(opts.recoveries !== undefined ? { recoveries: opts.recoveries } : {}) });
  await dfu.recoverToIdle({ operation: 'connect' });
  return { transport, dfu, dfuse: new DfuseDevice(dfu, transferSize, timeoutsFor(profile, transferSize), info.transferSize), info, profile, alt };
}

export type FlashPhase = 'check' | 'erase' | 'write' | 'verify' | 'leave' | 'read';

export type FlashEvent =
  | { readonly type: 'phase'; readonly phase: FlashPhase; readonly total: number; readonly unit: 'bytes' | 'sectors' | 'requests' }
  | { readonly type: 'progress'; readonly phase: FlashPhase; readonly done: number; readonly total: number; readonly address?: number }
  | { readonly type: 'phase-end'; readonly phase: FlashPhase; readonly deviceMs: number; readonly wallMs: number }
  | { readonly type: 'retry'; readonly phase: FlashPhase; readonly address?: number; readonly attempt: number; readonly error: string }
  | { readonly type: 'note'; readonly message: string };

export interface RunOptions {
  readonly signal?: AbortSignal;
  readonly onEvent?: (e: FlashEvent) => void;
  /** Extra attempts per block or sector after a recoverable failure. Default 2 (3 tries, as DfuSe Demo). */
  readonly retries?: number;
}

export interface FlashOptions extends RunOptions {
  /** Compare the device with the plan first (read-back) and do only what differs. */
  readonly resume?: boolean;
}

export interface PhaseTiming {
  readonly phase: FlashPhase;
  /** On the session's clock: the virtual clock of the emulator, real time on hardware. */
  readonly deviceMs: number;
  readonly wallMs: number;
  readonly requests: number;
}

export interface FlashResult {
  /** The plan that ran: with `resume`, what was left of the original. */
  readonly executed: FlashPlan;
  readonly resume?: readonly ResumeSector[];
  readonly phases: readonly PhaseTiming[];
  readonly deviceMs: number;
  readonly wallMs: number;
  /** Every DFU class request of the session so far (connect included), by name. */
  readonly requests: RequestCounts;
  /** Requests this job sent. */
  readonly requestCount: number;
  readonly sectorsErased: number;
  readonly blocksWritten: number;
  readonly blocksSkipped: number;
  readonly bytesWritten: number;
  readonly bytesVerified: number;
  readonly retries: number;
  /** Quirk recoveries applied (`erase 0x08100000: dfuDNBUSY cleared with CLRSTATUS ×2 (Q1)`). */
  readonly recoveries: readonly string[];
  readonly leave?: { readonly address: number; readonly from: LeaveFrom; readonly outcome: LeaveOutcome };
}

const RETRYABLE = new Set(['DFU_STATUS', 'DFU_STALL', 'DFU_STATE', 'DFU_TIMEOUT', 'DFU_TRANSPORT']);

/** Bookkeeping shared by the phases of one job. */
class Job {
  readonly s: DfuSession;
  readonly opts: RunOptions;
  readonly phases: PhaseTiming[] = [];
  retries = 0;
  readonly recoveries: string[] = [];
  private readonly t0: number;
  private readonly w0: number;
  private readonly r0: number;
  private readonly q0: number;

  constructor(s: DfuSession, opts: RunOptions) {
    this.s = s;
    this.opts = opts;
    this.t0 = s.dfu.clock.now();
    this.w0 = performance.now();
    this.r0 = s.dfu.requestCount;
    this.q0 = s.dfu.recoveryLog.length;
  }

  /** The job's recoveries: the Q1 lines as they happened, then one line per other recovery kind with its count. */
  summary(): string[] {
    const events = this.s.dfu.recoveryLog.slice(this.q0);
    const byKind = new Map<RecoveryName, RecoveryEvent[]>();
    for (const e of events) {
      if (e.recovery === 'wedgedBusyErase' || e.recovery === 'wedgedBusyWrite') continue; // reported one by one
      byKind.set(e.recovery, [...(byKind.get(e.recovery) ?? []), e]);
    }
    const out = [...this.recoveries];
    for (const [kind, list] of byKind) {
      const info = HOST_RECOVERIES[kind];
      const q = info.profileQuirks.length > 0 ? `, ${info.profileQuirks[0]}` : '';
      out.push(`${info.symptom}, in ${list.length} operation(s): ${info.action} (dfu-protocol.md §2.5 ${info.ref}${q}); first: ${list[0]!.operation}${list[0]!.address !== undefined ? ` at ${hex32(list[0]!.address)}` : ''}: ${list[0]!.message}`);
    }
    return out;
  }

  emit(e: FlashEvent): void {
    this.opts.onEvent?.(e);
  }

  get deviceMs(): number {
    return this.s.dfu.clock.now() - this.t0;
  }

  get wallMs(): number {
    return performance.now() - this.w0;
  }

  get requests(): number {
    return this.s.dfu.requestCount - this.r0;
  }

  async phase<T>(phase: FlashPhase, total: number, unit: 'bytes' | 'sectors' | 'requests', body: () => Promise<T>): Promise<T> {
    const t = this.s.dfu.clock.now();
    const w = performance.now();
    const r = this.s.dfu.requestCount;
    this.emit({ type: 'phase', phase, total, unit });
    const out = await body();
    const timing = { phase, deviceMs: this.s.dfu.clock.now() - t, wallMs: performance.now() - w, requests: this.s.dfu.requestCount - r };
    this.phases.push(timing);
    this.emit({ type: 'phase-end', phase, deviceMs: timing.deviceMs, wallMs: timing.wallMs });
    return out;
  }

  /** Throws DFU_ABORTED after sending the device back to dfuIDLE, when the signal fired. */
  async checkAbort(ctx: DfuContext): Promise<void> {
    const sig = this.opts.signal;
    if (sig?.aborted !== true) return;
    try {
      await this.s.dfu.recoverToIdle({ operation: 'abort' });
    } catch {
      // The device may be gone; the abort error below is what matters.
    }
    throw abortedError(ctx, sig.reason);
  }

  /** `op` with bounded retries after recovering to dfuIDLE; `reset` runs before each retry (re-send SET_ADDRESS...). */
  async retry<T>(phase: FlashPhase, ctx: DfuContext, op: () => Promise<T>, reset: () => void | Promise<void> = () => {}): Promise<T> {
    const max = this.opts.retries ?? 2;
    for (let attempt = 0; ; attempt++) {
      try {
        return await op();
      } catch (e) {
        if (!isDfuError(e) || !RETRYABLE.has(e.code)) throw e;
        if (attempt >= max) {
          throw new DfuError(e.code as DfuErrorCode, `${e.message} (${attempt + 1} attempts)`, e.dfu, e.exitStatus);
        }
        this.retries++;
        this.emit({ type: 'retry', phase, ...(ctx.address !== undefined ? { address: ctx.address } : {}), attempt: attempt + 1, error: e.message });
        try {
          await this.s.dfu.recoverToIdle({ ...ctx, operation: `${ctx.operation} (recovery)` });
        } catch {
          throw e;
        }
        await reset();
      }
    }
  }
}

/** Checks against the device's own layout string: a sector it marks not erasable or a range not writable is refused up front (§3 item 3). */
function checkLayout(s: DfuSession, plan: FlashPlan): void {
  const layout = s.info.alts.find((a) => a.alt === s.alt)?.layout;
  if (layout === undefined) return;
  const seg = (addr: number) => layout.segments.find((x) => addr >= x.start && addr < x.end);
  for (const sec of plan.erase.mode === 'sectors' ? plan.erase.sectors : []) {
    const x = seg(sec.start);
    if (x !== undefined && !x.erasable) {
      throw new DfuError('DFU_LAYOUT', `erase at ${hex32(sec.start)}: alt ${s.alt} "${layout.name}" marks ${formatRange(x.start, x.end)} as not erasable (type '${x.type}')`, { operation: 'erase', address: sec.start });
    }
  }
  for (const r of plan.runs) {
    const x = seg(r.start);
    if (x !== undefined && !x.writable) {
      throw new DfuError('DFU_LAYOUT', `write at ${hex32(r.start)}: alt ${s.alt} "${layout.name}" marks ${formatRange(x.start, x.end)} as not writable (type '${x.type}'): this address belongs to another alt or to a custom bootloader's protected area`, {
        operation: 'write',
        address: r.start,
      });
    }
  }
}

async function eraseSectorList(job: Job, sectors: readonly PlanSector[]): Promise<{ erased: number; recovered: PlanSector[] }> {
  const { dfuse } = job.s;
  const recovered: PlanSector[] = [];
  let done = 0;
  for (const sec of sectors) {
    const ctx = { operation: 'erase', address: sec.start };
    await job.checkAbort(ctx);
    const outcome = await job.retry('erase', ctx, () => dfuse.eraseSector(sec.start, sec.size));
    if (outcome === 'recovered-q1') {
      recovered.push(sec);
      job.recoveries.push(`erase ${hex32(sec.start)}: the device stayed in dfuDNBUSY past the deadline; cleared with CLRSTATUS ×2 (H7 rev V bank-2 erase, dfu-protocol.md §2.5 Q1) and checked by read-back`);
    }
    job.emit({ type: 'progress', phase: 'erase', done: ++done, total: sectors.length, address: sec.start });
  }
  return { erased: done, recovered };
}

/** After a Q1 recovery the erase is believed complete; read the sector back to be sure. */
async function checkErased(job: Job, sectors: readonly PlanSector[], erased: number): Promise<void> {
  for (const sec of sectors) {
    const bytes = await job.s.dfuse.read(sec.start, sec.size, 'erase check');
    const bad = bytes.findIndex((b) => b !== erased);
    if (bad >= 0) {
      throw new DfuError('DFU_STATE', `erase at ${hex32(sec.start)}: after the dfuDNBUSY recovery the sector is not erased (${hex32(sec.start + bad)} reads ${bytes[bad]!.toString(16).toUpperCase().padStart(2, '0')})`, {
        operation: 'erase',
        address: sec.start + bad,
      });
    }
  }
}

/** After a Q1 recovery following a write: the block must read back as sent. */
async function checkWritten(job: Job, addr: number, data: Uint8Array): Promise<void> {
  const have = await job.s.dfuse.read(addr, data.length, 'write check');
  await job.s.dfu.recoverToIdle({ operation: 'write check', address: addr });
  const bad = have.findIndex((b, i) => b !== data[i]);
  if (bad >= 0) {
    throw new DfuError(
      'DFU_STATE',
      `write at ${hex32(addr)}: after the dfuDNBUSY recovery the block does not read back as written (${hex32(addr + bad)} reads 0x${have[bad]!.toString(16).toUpperCase().padStart(2, '0')}, expected 0x${data[bad]!.toString(16).toUpperCase().padStart(2, '0')}); run the same command with --resume`,
      { operation: 'write', address: addr + bad },
    );
  }
}

/**
 * Where a failed block write can resume: reads the block back; undefined when it is all there already, else the
 * address of the first program unit that differs. A differing unit that is not erased cannot be programmed
 * without an erase: DFU_STATE, and `--resume` (which erases that sector) is the way on.
 */
async function retryPoint(job: Job, plan: FlashPlan, addr: number, data: Uint8Array): Promise<number | undefined> {
  const have = await job.s.dfuse.read(addr, data.length, 'write (retry check)');
  await job.s.dfu.recoverToIdle({ operation: 'write (retry check)', address: addr });
  const u = plan.programUnit;
  let first: number | undefined;
  for (let o = 0; o < data.length; o += u) {
    const n = Math.min(u, data.length - o);
    let same = true;
    let erased = true;
    for (let i = o; i < o + n; i++) {
      if (have[i] !== data[i]) same = false;
      if (have[i] !== plan.erasedValue) erased = false;
    }
    // Units before the first differing one are skipped; from there on every unit is sent again, so it must be erased.
    if (same && (first === undefined || erased)) continue;
    if (!erased) {
      throw new DfuError(
        'DFU_STATE',
        `write at ${hex32(addr + o)}: after the failed attempt the flash holds bytes that are neither the image nor erased; the sector must be erased again: run the same command with --resume`,
        { operation: 'write', address: addr + o },
      );
    }
    first ??= addr + o;
  }
  return first;
}

async function writeRuns(job: Job, plan: FlashPlan): Promise<{ written: number; skipped: number; bytes: number }> {
  const { dfuse } = job.s;
  const total = plan.runs.reduce((n, r) => n + r.blocks.reduce((m, b) => m + (b.skip === undefined ? b.size : 0), 0), 0);
  let written = 0;
  let skipped = 0;
  let bytes = 0;
  for (const run of plan.runs) {
    let needAddress = true;
    for (const b of run.blocks) {
      if (b.skip !== undefined) {
        skipped++;
        continue;
      }
      const ctx = { operation: 'write', address: b.addr, block: b.block };
      await job.checkAbort(ctx);
      const data = plan.image.read(b.addr, b.size, plan.erasedValue);
      // After a failed attempt the block may be partly programmed (errPROG stops at a flash word): the retry
      // reads it back and sends only the tail from the first unit still erased, from its own SET_ADDRESS.
      let from = b.addr;
      let done = false;
      await job.retry(
        'write',
        ctx,
        async () => {
          if (done) return;
          let outcome;
          if (from === b.addr) {
            if (needAddress) {
              await dfuse.setAddress(run.start, 'write');
              needAddress = false;
            }
            outcome = await dfuse.writeBlock(b.block, data, b.addr);
          } else {
            await dfuse.setAddress(from, 'write');
            needAddress = true;
            outcome = await dfuse.writeBlock(2, data.subarray(from - b.addr), from);
          }
          if (outcome === 'recovered-q1') {
            // §2.5 Q1 after a write: the ROM is back in dfuIDLE; the block must be there, and the next one needs its SET_ADDRESS.
            needAddress = true;
            await checkWritten(job, b.addr, data);
            job.recoveries.push(`write ${hex32(b.addr)}: the device stayed in dfuDNBUSY after the block; cleared with CLRSTATUS ×2 (H7 rev V bank 2, dfu-protocol.md §2.5 Q1) and the block checked by read-back`);
          }
        },
        async () => {
          needAddress = true;
          const tail = await retryPoint(job, plan, b.addr, data);
          if (tail === undefined) done = true;
          else from = tail;
        },
      );
      written++;
      bytes += b.size;
      job.emit({ type: 'progress', phase: 'write', done: bytes, total, address: b.addr });
    }
  }
  return { written, skipped, bytes };
}

/** Reads `ranges` (sorted, disjoint) into a MemoryImage, with progress in bytes for `phase`. */
async function readRanges(job: Job, ranges: readonly Range[], phase: FlashPhase, operation: string): Promise<MemoryImage> {
  const total = ranges.reduce((n, r) => n + (r.end - r.start), 0);
  const out = new MemoryImage();
  let base = 0;
  for (const r of ranges) {
    await job.checkAbort({ operation, address: r.start });
    const bytes = await job.retry(phase, { operation, address: r.start }, () =>
      job.s.dfuse.read(r.start, r.end - r.start, operation, (n) => job.emit({ type: 'progress', phase, done: base + n, total, address: r.start + n }), job.opts.signal),
    );
    await job.checkAbort({ operation, address: r.start });
    out.add(r.start, bytes);
    base += r.end - r.start;
  }
  return out;
}

function verifyMismatch(plan: FlashPlan, device: MemoryImage): DfuError | undefined {
  let first: number | undefined;
  let count = 0;
  const bad: Range[] = [];
  for (const r of plan.verify) {
    const want = plan.image.read(r.start, r.end - r.start, plan.erasedValue);
    const have = device.read(r.start, r.end - r.start, plan.erasedValue);
    for (let i = 0; i < want.length; i++) {
      if (want[i] === have[i]) continue;
      count++;
      first ??= r.start + i;
      const last = bad[bad.length - 1];
      const a = r.start + i;
      if (last !== undefined && last.end === a) bad[bad.length - 1] = { start: last.start, end: a + 1 };
      else bad.push({ start: a, end: a + 1 });
    }
  }
  if (first === undefined) return undefined;
  const w = plan.image.byteAt(first) ?? plan.erasedValue;
  const h = device.byteAt(first) ?? 0;
  const hx = (n: number): string => `0x${n.toString(16).toUpperCase().padStart(2, '0')}`;
  const list = unionRanges(bad)
    .slice(0, 4)
    .map((r) => formatRange(r.start, r.end))
    .join(', ');
  return new DfuError(
    'DFU_VERIFY_MISMATCH',
    `verify: ${count} byte(s) read back differ from the image in ${bad.length} range(s) (${list}${bad.length > 4 ? ', ...' : ''}); first at ${hex32(first)}: expected ${hx(w)}, read ${hx(h)}`,
    { operation: 'verify', address: first },
    1,
  );
}

/**
 * DFU_VERIFY_MISMATCH (exit 1) with the diff of the image and the read-back (plan/verify.ts: each differing range
 * classified, as `dfukit diff` and `dfukit verify --device` report it).
 */
export class VerifyMismatchError extends DfuError {
  readonly report: DiffReport;
  constructor(e: DfuError, report: DiffReport) {
    super('DFU_VERIFY_MISMATCH', e.message, e.dfu, 1);
    this.name = 'VerifyMismatchError';
    this.report = report;
  }
}

/** The fast byte compare; on a mismatch, the diff (loaded only then: equal read-backs never pay for it). */
async function checkReadBack(plan: FlashPlan, device: MemoryImage, profile: ChipProfile): Promise<void> {
  const bad = verifyMismatch(plan, device);
  if (bad === undefined) return;
  const { diffReadBack } = await import('../plan/verify.ts');
  throw new VerifyMismatchError(bad, diffReadBack(plan, device, profile, { expected: { name: 'image' }, actual: { name: 'device read-back', format: 'read-back' } }));
}

/**
 * Runs `plan` on the session's device. With `resume`, reads the device back first (sector by sector) and runs
 * only what differs (plan/resume.ts).
 */
export async function executePlan(s: DfuSession, plan: FlashPlan, opts: FlashOptions = {}): Promise<FlashResult> {
  const job = new Job(s, opts);
  if (plan.transferSize !== s.dfuse.transferSize || (s.dfuse.addressPerBlock && !plan.addressEveryBlock)) {
    throw new FwError(
      'PLAN_TRANSFER_SIZE',
      `the plan cuts blocks of ${plan.transferSize} bytes${plan.addressEveryBlock ? '' : ' addressed by wBlockNum'}, the session transfers ${s.dfuse.transferSize} with a device stride of ${s.dfuse.blockStride}: plan with the session's transfer size (and addressEveryBlock when they differ)`,
      {},
      EXIT_USAGE,
    );
  }
  checkLayout(s, plan);
  let run = plan;
  let resume: ResumeSector[] | undefined;
  if (opts.resume === true) {
    const sectors = plan.erase.mode === 'mass' ? plan.erase.sectors.filter((x) => plan.ranges.some((r) => r.start < x.end && x.start < r.end)) : plan.erase.sectors;
    const ranges = sectors.flatMap((x) => intersectRanges(plan.ranges, [x]));
    const device = await job.phase('check', ranges.reduce((n, r) => n + r.end - r.start, 0), 'bytes', () => readRanges(job, ranges, 'check', 'resume check'));
    const analysis = resumePlan(plan, device, s.profile);
    run = analysis.plan;
    resume = [...analysis.sectors];
    job.emit({ type: 'note', message: run.notes[run.notes.length - 1]! });
  }
  let erased = 0;
  if (run.erase.mode === 'mass') {
    await job.phase('erase', 1, 'sectors', async () => {
      await job.checkAbort({ operation: 'mass erase' });
      await job.retry('erase', { operation: 'mass erase' }, () => s.dfuse.massErase());
      job.emit({ type: 'progress', phase: 'erase', done: 1, total: 1 });
    });
    erased = run.erase.sectors.length;
  } else if (run.erase.sectors.length > 0) {
    const r = await job.phase('erase', run.erase.sectors.length, 'sectors', () => eraseSectorList(job, run.erase.sectors));
    erased = r.erased;
    if (r.recovered.length > 0) await checkErased(job, r.recovered, run.erasedValue);
  }
  const totalBytes = run.runs.reduce((n, r) => n + r.blocks.reduce((m, b) => m + (b.skip === undefined ? b.size : 0), 0), 0);
  const w = await job.phase('write', totalBytes, 'bytes', () => writeRuns(job, run));
  let verified = 0;
  if (run.verify.length > 0) {
    const total = run.verify.reduce((n, r) => n + r.end - r.start, 0);
    const device = await job.phase('verify', total, 'bytes', () => readRanges(job, run.verify, 'verify', 'verify'));
    await checkReadBack(run, device, s.profile);
    verified = total;
  } else if (w.written > 0) {
    // Leave the device in dfuIDLE, as dfu-util's abort-to-idle at the end of a download.
    await s.dfu.abort({ operation: 'write' });
  }
  let leave: FlashResult['leave'];
  if (run.leave !== undefined) {
    const l = run.leave;
    const outcome = await job.phase('leave', 1, 'requests', async () => {
      await job.checkAbort({ operation: 'leave', address: l.address });
      return s.dfuse.leave(l.address);
    });
    leave = { address: l.address, from: l.from, outcome };
  }
  return {
    executed: run,
    ...(resume !== undefined ? { resume } : {}),
    phases: job.phases,
    deviceMs: job.deviceMs,
    wallMs: job.wallMs,
    requests: { ...s.dfu.counts },
    requestCount: job.requests,
    sectorsErased: erased,
    blocksWritten: w.written,
    blocksSkipped: w.skipped,
    bytesWritten: w.bytes,
    bytesVerified: verified,
    retries: job.retries,
    recoveries: job.summary(),
    ...(leave !== undefined ? { leave } : {}),
  };
}

export interface ReadResult {
  readonly bytes: Uint8Array;
  readonly deviceMs: number;
  readonly wallMs: number;
  readonly requestCount: number;
}

/** `dfukit read`: `size` bytes from `start`, across segments and sectors. */
export async function readMemory(s: DfuSession, start: number, size: number, opts: RunOptions = {}): Promise<ReadResult> {
  const job = new Job(s, opts);
  const img = await job.phase('read', size, 'bytes', () => readRanges(job, [{ start, end: start + size }], 'read', 'read'));
  return { bytes: img.read(start, size), deviceMs: job.deviceMs, wallMs: job.wallMs, requestCount: job.requests };
}

export interface ReadBackResult {
  /** The bytes read, at their addresses. */
  readonly image: MemoryImage;
  readonly bytes: number;
  readonly deviceMs: number;
  readonly wallMs: number;
  readonly requestCount: number;
}

/** `dfukit verify --device`: reads `ranges` (sorted, disjoint) back as a flash's verify phase does (phase `verify`). */
export async function readBack(s: DfuSession, ranges: readonly Range[], opts: RunOptions = {}): Promise<ReadBackResult> {
  const job = new Job(s, opts);
  const bytes = ranges.reduce((n, r) => n + r.end - r.start, 0);
  const image = await job.phase('verify', bytes, 'bytes', () => readRanges(job, ranges, 'verify', 'verify'));
  return { image, bytes, deviceMs: job.deviceMs, wallMs: job.wallMs, requestCount: job.requests };
}

export interface EraseResult {
  readonly sectors: readonly PlanSector[];
  readonly mass: boolean;
  readonly deviceMs: number;
  readonly wallMs: number;
  readonly requestCount: number;
  readonly recoveries: readonly string[];
}

/** `dfukit erase`: the given sectors, or a mass erase. */
export async function eraseMemory(s: DfuSession, what: { sectors: readonly PlanSector[] } | { mass: true }, opts: RunOptions = {}): Promise<EraseResult> {
  const job = new Job(s, opts);
  if ('mass' in what) {
    await job.phase('erase', 1, 'sectors', async () => {
      await job.checkAbort({ operation: 'mass erase' });
      await job.retry('erase', { operation: 'mass erase' }, () => s.dfuse.massErase());
      job.emit({ type: 'progress', phase: 'erase', done: 1, total: 1 });
    });
    await s.dfu.abort({ operation: 'mass erase' });
    return { sectors: s.profile.sectors, mass: true, deviceMs: job.deviceMs, wallMs: job.wallMs, requestCount: job.requests, recoveries: job.summary() };
  }
  const r = await job.phase('erase', what.sectors.length, 'sectors', () => eraseSectorList(job, what.sectors));
  if (r.recovered.length > 0) await checkErased(job, r.recovered, s.profile.erasedValue);
  await s.dfu.abort({ operation: 'erase' });
  return { sectors: what.sectors, mass: false, deviceMs: job.deviceMs, wallMs: job.wallMs, requestCount: job.requests, recoveries: job.summary() };
}
