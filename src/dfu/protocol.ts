/**
 * DFU 1.1 host side (USB Device Class Specification for Device Firmware Upgrade, Version 1.1): the class
 * requests of §3 Table 3.2 over a `DfuTransport`, the GETSTATUS answer of §6.1.2 decoded, polling that honours
 * bwPollTimeout, and the way back to dfuIDLE from any state of the §A.1 state diagram.
 *
 * Polling. A DfuSe ROM runs the flash operation only when the first GETSTATUS after a DNLOAD arrives (AN3156
 * §3; dfu-protocol.md §2.4) and answers dfuDNBUSY with bwPollTimeout = how long the host shall wait before the
 * next GETSTATUS (DFU 1.1 §6.1.2). We sleep exactly that long (no padding: every millisecond per block shows up
 * in the flash time), with three guards that the anchors lack:
 *  - a cap per sleep (`pollCapMs`), against a ROM that reports minutes;
 *  - an adaptive back-off when a busy device reports 0 ms (Black Magic Probe, mboot: dfu-protocol.md §2.5 Q7),
 *    instead of dfu-util's spin of up to 100 polls;
 *  - an overall deadline per operation (`deadlineMs`, measured on the injected clock), so a wedged dfuDNBUSY
 *    (H7 rev V bank 2: §2.5 Q1) ends in a named error or a recovery instead of a hang.
 * A STALLed GETSTATUS while busy is tolerated three times with the last poll timeout (STM32L4 ROMs STALL an
 * early poll, §2.5 Q2; dfu-util does the same).
 *
 * `sleep` and `now` are injected: real timers by default, the emulator's virtual clock in tests, so a
 * 30-second erase costs no wall time there.
 */
import { DFU_GETSTATUS_LENGTH, DFU_REQUEST, DFU_STATE, DFU_STATUS } from './constants.ts';
import { DfuError, describeContext, statusError, stallError, stateError, transportError, type DfuContext } from './errors.ts';
import { stateName, statusName } from './names.ts';
import type { DfuTransport, UsbControlTransferParameters } from './transport.ts';

/** DFU 1.1 §3 Table 3.2 bRequest codes and §6.1.2 bState/bStatus values, from the shared table (constants.ts). */
export const DFU_DETACH = DFU_REQUEST.DETACH;
export const DFU_DNLOAD = DFU_REQUEST.DNLOAD;
export const DFU_UPLOAD = DFU_REQUEST.UPLOAD;
export const DFU_GETSTATUS = DFU_REQUEST.GETSTATUS;
export const DFU_CLRSTATUS = DFU_REQUEST.CLRSTATUS;
export const DFU_GETSTATE = DFU_REQUEST.GETSTATE;
export const DFU_ABORT = DFU_REQUEST.ABORT;

export const { appIDLE, appDETACH, dfuIDLE, dfuDNLOAD_SYNC, dfuDNBUSY, dfuDNLOAD_IDLE, dfuMANIFEST_SYNC, dfuMANIFEST, dfuMANIFEST_WAIT_RESET, dfuUPLOAD_IDLE, dfuERROR } = DFU_STATE;
export const { OK, errUNKNOWN } = DFU_STATUS;

/** The six bytes of a GETSTATUS answer (DFU 1.1 §6.1.2), decoded. */
export interface DfuStatus {
  readonly status: number;
  /** bwPollTimeout: 24-bit little-endian, milliseconds the host waits before the next GETSTATUS. */
  readonly pollTimeout: number;
  readonly state: number;
  /** iString: index of a status description string (0: none). */
  readonly iString: number;
}

/** Decodes a GETSTATUS payload; fewer than 6 bytes is a protocol error. */
export function decodeStatus(data: DataView | undefined, ctx: DfuContext): DfuStatus {
  if (data === undefined || data.byteLength < DFU_GETSTATUS_LENGTH) {
    throw new DfuError('DFU_STATE', `${ctx.operation}: GETSTATUS returned ${data?.byteLength ?? 0} bytes, expected 6 (DFU 1.1 §6.1.2)`, {
      operation: ctx.operation,
      request: 'GETSTATUS',
      ...(ctx.address !== undefined ? { address: ctx.address } : {}),
    });
  }
  return {
    status: data.getUint8(0),
    pollTimeout: data.getUint8(1) | (data.getUint8(2) << 8) | (data.getUint8(3) << 16),
    state: data.getUint8(4),
    iString: data.getUint8(5),
  };
}

export interface Clock {
  /** Milliseconds on a monotonic clock (the emulator's virtual clock in tests). */
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** Real timers: `performance.now()` and `setTimeout`. */
export const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((done) => setTimeout(done, ms)),
};

export interface PollOptions {
  /** Give up (or recover) when the device is still busy this long after the request. */
  readonly deadlineMs: number;
  /** Longest single sleep, whatever bwPollTimeout says. Default 5000 ms (dfu-util's USB timeout). */
  readonly pollCapMs?: number;
}

/** Counts of requests sent, by DFU request name, plus SET_INTERFACE/GET_DESCRIPTOR. */
export type RequestCounts = Record<string, number>;

export interface ProtocolOptions {
  /** bInterfaceNumber of the DFU interface (wIndex of every class request). Default 0. */
  readonly interfaceNumber?: number;
  readonly clock?: Clock;
}

/** Polls 0 ms busy devices with these sleeps (then the last one on): fast for quick ops, bounded for slow ones. */
const ZERO_TIMEOUT_BACKOFF = [1, 2, 4, 8, 16, 32, 50];
/** STALLed GETSTATUS polls tolerated while busy (§2.5 Q2; dfu-util's limit). */
const MAX_POLL_STALLS = 3;

/**
 * One DFU interface of one device. Every request is counted (`counts`), and every failure is a `DfuError`
 * naming the context the caller gave.
 */
export class DfuProtocol {
  readonly transport: DfuTransport;
  readonly interfaceNumber: number;
  readonly clock: Clock;
  readonly counts: RequestCounts = {};
  /** The last GETSTATUS answer, for error messages. */
  lastStatus: DfuStatus | undefined;

  constructor(transport: DfuTransport, opts: ProtocolOptions = {}) {
    this.transport = transport;
    this.interfaceNumber = opts.interfaceNumber ?? 0;
    this.clock = opts.clock ?? realClock;
  }

  /** Total class requests sent. */
  get requestCount(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }

  private count(name: string): void {
    this.counts[name] = (this.counts[name] ?? 0) + 1;
  }

  private setup(request: number, value: number): UsbControlTransferParameters {
    return { requestType: 'class', recipient: 'interface', request, value, index: this.interfaceNumber };
  }

  /** Class request host→device. Returns false on STALL; throws DfuError on a transport failure. */
  private async out(name: string, request: number, value: number, data: Uint8Array | undefined, ctx: DfuContext): Promise<boolean> {
    this.count(name);
    let r;
    try {
      r = await this.transport.controlTransferOut(this.setup(request, value), data as Uint8Array<ArrayBuffer> | undefined); // BufferSource wants an ArrayBuffer-backed view; ours always are
    } catch (e) {
      throw transportError(ctx, name, e);
    }
    if (r.status === 'stall') return false;
    if (r.status !== 'ok') throw new DfuError('DFU_TRANSPORT', `${ctx.operation}: ${name} ended with ${r.status}`, { operation: ctx.operation, request: name });
    return true;
  }

  /** Class request device→host. Returns undefined on STALL. */
  private async in(name: string, request: number, value: number, length: number, ctx: DfuContext): Promise<DataView | undefined> {
    this.count(name);
    let r;
    try {
      r = await this.transport.controlTransferIn(this.setup(request, value), length);
    } catch (e) {
      throw transportError(ctx, name, e);
    }
    if (r.status === 'stall') return undefined;
    if (r.status !== 'ok') throw new DfuError('DFU_TRANSPORT', `${ctx.operation}: ${name} ended with ${r.status}`, { operation: ctx.operation, request: name });
    return r.data ?? new DataView(new ArrayBuffer(0));
  }

  /** DFU_DNLOAD (§6.1.1). wLength 0 is the end-of-download / DfuSe leave request. */
  async dnload(block: number, data: Uint8Array, ctx: DfuContext): Promise<void> {
    if (!(await this.out('DNLOAD', DFU_DNLOAD, block, data.length > 0 ? data : undefined, ctx))) throw stallError({ ...ctx, block }, 'DNLOAD', this.lastStatus?.state);
  }

  /** DFU_UPLOAD (§6.2). A short answer means the end of the memory (DFU 1.1 §6.2.2). */
  async upload(block: number, length: number, ctx: DfuContext): Promise<Uint8Array> {
    const d = await this.in('UPLOAD', DFU_UPLOAD, block, length, ctx);
    if (d === undefined) throw stallError({ ...ctx, block }, 'UPLOAD', this.lastStatus?.state);
    return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  }

  /** DFU_GETSTATUS (§6.1.2). Returns undefined on STALL (the poll loop tolerates a few). */
  async getStatusOrStall(ctx: DfuContext): Promise<DfuStatus | undefined> {
    const d = await this.in('GETSTATUS', DFU_GETSTATUS, 0, 6, ctx);
    if (d === undefined) return undefined;
    const s = decodeStatus(d, ctx);
    this.lastStatus = s;
    return s;
  }

  async getStatus(ctx: DfuContext): Promise<DfuStatus> {
    const s = await this.getStatusOrStall(ctx);
    if (s === undefined) throw stallError(ctx, 'GETSTATUS', this.lastStatus?.state);
    return s;
  }

  /** DFU_CLRSTATUS (§6.1.3): valid in dfuERROR only (the STM32C5 ROM STALLs it elsewhere: §2.5 Q4). */
  async clrStatus(ctx: DfuContext): Promise<void> {
    if (!(await this.out('CLRSTATUS', DFU_CLRSTATUS, 0, undefined, ctx))) throw stallError(ctx, 'CLRSTATUS', this.lastStatus?.state);
  }

  /** DFU_GETSTATE (§6.1.5): bState without side effects. */
  async getState(ctx: DfuContext): Promise<number> {
    const d = await this.in('GETSTATE', DFU_GETSTATE, 0, 1, ctx);
    if (d === undefined || d.byteLength < 1) throw stallError(ctx, 'GETSTATE', this.lastStatus?.state);
    return d.getUint8(0);
  }

  /** DFU_ABORT (§6.1.4): back to dfuIDLE from dfuDNLOAD-IDLE, dfuUPLOAD-IDLE, the SYNC states and dfuIDLE. */
  async abort(ctx: DfuContext): Promise<void> {
    if (!(await this.out('ABORT', DFU_ABORT, 0, undefined, ctx))) throw stallError(ctx, 'ABORT', this.lastStatus?.state);
  }

  /** DFU_DETACH (§5.1): run-time mode only; wValue = wDetachTimeOut. */
  async detach(timeoutMs: number, ctx: DfuContext): Promise<void> {
    if (!(await this.out('DETACH', DFU_DETACH, timeoutMs, undefined, ctx))) throw stallError(ctx, 'DETACH');
  }

  /**
   * GETSTATUS until the device leaves dfuDNBUSY (and the SYNC states), sleeping bwPollTimeout between polls.
   * The first GETSTATUS is what starts a DfuSe operation, so it is sent at once. Returns the first status
   * that is not busy, whatever it is; the caller judges it. A busy device past `deadlineMs` throws DFU_TIMEOUT
   * (the caller may recover: operations.ts does the Q1 CLRSTATUS pair).
   */
  async poll(ctx: DfuContext, opts: PollOptions): Promise<DfuStatus> {
    const start = this.clock.now();
    const cap = opts.pollCapMs ?? 5000;
    let stalls = 0;
    let zeroPolls = 0;
    let wait = 0;
    for (;;) {
      const s = await this.getStatusOrStall(ctx);
      if (s === undefined) {
        // §2.5 Q2: an early poll STALLed; wait the last timeout again.
        if (++stalls > MAX_POLL_STALLS) throw stallError(ctx, 'GETSTATUS', this.lastStatus?.state);
      } else {
        const busy = s.state === dfuDNBUSY || s.state === dfuDNLOAD_SYNC || s.state === dfuMANIFEST_SYNC;
        if (!busy) return s;
        if (s.pollTimeout > 0) {
          wait = Math.min(s.pollTimeout, cap);
          zeroPolls = 0;
        } else wait = ZERO_TIMEOUT_BACKOFF[Math.min(zeroPolls++, ZERO_TIMEOUT_BACKOFF.length - 1)]!;
      }
      const elapsed = this.clock.now() - start;
      if (elapsed >= opts.deadlineMs) {
        const st = this.lastStatus;
        throw new DfuError(
          'DFU_TIMEOUT',
          `${describeContext(ctx)}: the device is still in ${stateName(st?.state ?? dfuDNBUSY)} after ${Math.round(elapsed)} ms (deadline ${Math.round(opts.deadlineMs)} ms, last bwPollTimeout ${st?.pollTimeout ?? 0} ms)`,
          {
            operation: ctx.operation,
            request: 'GETSTATUS',
            state: stateName(st?.state ?? dfuDNBUSY),
            status: statusName(st?.status ?? OK),
            ...(ctx.address !== undefined ? { address: ctx.address } : {}),
            ...(ctx.block !== undefined ? { block: ctx.block } : {}),
          },
        );
      }
      await this.clock.sleep(Math.min(wait, Math.max(1, opts.deadlineMs - elapsed)));
    }
  }

  /**
   * DNLOAD then poll to dfuDNLOAD-IDLE: one DfuSe command or one data block (DFU 1.1 §6.1.1; AN3156 §3).
   * In the normal case this is exactly three requests: DNLOAD, GETSTATUS (dfuDNBUSY, bwPollTimeout), and after
   * the sleep GETSTATUS (dfuDNLOAD-IDLE). An error status throws DFU_STATUS with the device's names.
   */
  async dnloadAndWait(block: number, data: Uint8Array, ctx: DfuContext, opts: PollOptions): Promise<DfuStatus> {
    await this.dnload(block, data, ctx);
    const s = await this.poll(ctx, opts);
    if (s.state === dfuERROR || s.status !== OK) throw statusError(ctx, 'DNLOAD', s.state, s.status);
    if (s.state !== dfuDNLOAD_IDLE) throw stateError(ctx, 'DNLOAD', s.state, s.status, 'dfuDNLOAD-IDLE');
    return s;
  }

  /**
   * Back to dfuIDLE by the state the device reports (DFU 1.1 §A.1): CLRSTATUS in dfuERROR, ABORT in
   * dfuDNLOAD-IDLE / dfuUPLOAD-IDLE / the SYNC states, a poll while dfuDNBUSY, nothing in dfuIDLE. Only the
   * request the state allows is sent (the C5 ROM STALLs CLRSTATUS outside dfuERROR: §2.5 Q4). Returns the final
   * status; throws DFU_STATE when the device is in run-time mode or will not come back.
   */
  async recoverToIdle(ctx: DfuContext, opts: PollOptions = { deadlineMs: 5000 }): Promise<DfuStatus> {
    for (let attempt = 0; attempt < 4; attempt++) {
      let s = await this.getStatusOrStall(ctx);
      if (s === undefined) {
        // A STALL moves a DFU device to dfuERROR/errSTALLEDPKT (§6.1.2); clear it and look again.
        await this.out('CLRSTATUS', DFU_CLRSTATUS, 0, undefined, ctx);
        continue;
      }
      if (s.state === dfuDNBUSY || s.state === dfuDNLOAD_SYNC || s.state === dfuMANIFEST_SYNC) {
        try {
          s = await this.poll(ctx, opts);
        } catch (e) {
          // A dfuDNBUSY that never ends (H7 rev V after a bank-2 erase, dfu-protocol.md §2.5 Q1, perhaps left by
          // an earlier process): CLRSTATUS moves those ROMs to dfuERROR, and the next round clears that.
          if (!(e instanceof DfuError) || e.code !== 'DFU_TIMEOUT') throw e;
          await this.clrStatus(ctx);
          continue;
        }
      }
      switch (s.state) {
        case dfuIDLE:
          if (s.status === OK) return s;
          break;
        case dfuERROR:
          await this.clrStatus(ctx);
          continue;
        case dfuDNLOAD_IDLE:
        case dfuUPLOAD_IDLE:
        case dfuDNLOAD_SYNC:
        case dfuMANIFEST_SYNC:
          await this.abort(ctx);
          continue;
        case appIDLE:
        case appDETACH:
          throw stateError(ctx, 'GETSTATUS', s.state, s.status, 'DFU mode (the device runs its application: DETACH or a reset into the bootloader is needed)');
        default:
          throw stateError(ctx, 'GETSTATUS', s.state, s.status, 'dfuIDLE');
      }
    }
    const s = this.lastStatus;
    throw stateError(ctx, 'GETSTATUS', s?.state ?? dfuERROR, s?.status ?? errUNKNOWN, 'dfuIDLE after CLRSTATUS/ABORT');
  }
}
