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
 * early poll, §2.5 Q2; dfu-util does the same), and a GETSTATUS that times out while busy (a ROM NAKing EP0
 * through a 32-second mass erase behind a host with a control-transfer timeout, Q3) is polled again. Each of
 * these ROM recoveries is a switch (`recoveries`, quirks.ts): off, the stack behaves as a plain DfuSe host.
 *
 * `sleep` and `now` are injected: real timers by default, the emulator's virtual clock in tests, so a
 * 30-second erase costs no wall time there.
 */
import { DFU_GETSTATUS_LENGTH, DFU_REQUEST, DFU_STATE, DFU_STATUS } from './constants.ts';
import { DfuError, describeContext, statusError, stallError, stateError, transportError, type DfuContext } from './errors.ts';
import { stateName, statusName } from './names.ts';
import {
  MAX_POLL_STALLS,
  PLAIN_ZERO_POLL_LIMIT,
  ZERO_TIMEOUT_BACKOFF,
  resolveRecoveries,
  type RecoveryEvent,
  type RecoveryOption,
  type Recoveries,
} from './quirks.ts';
import { TransportError, type DfuTransport, type UsbControlTransferParameters } from './transport.ts';

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
  /** Busy answers (the first included) needed before the deadline may end the poll. Default 1. */
  readonly minBusyPolls?: number;
}

/** Counts of requests sent, by DFU request name, plus SET_INTERFACE/GET_DESCRIPTOR. */
export type RequestCounts = Record<string, number>;

export interface ProtocolOptions {
  /** bInterfaceNumber of the DFU interface (wIndex of every class request). Default 0. */
  readonly interfaceNumber?: number;
  readonly clock?: Clock;
  /** ROM quirk recoveries (quirks.ts); default all on, `false` for a plain DfuSe host. */
  readonly recoveries?: RecoveryOption;
}

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
  readonly recoveries: Recoveries;
  /** Every ROM recovery applied on this interface, in order. */
  readonly recoveryLog: RecoveryEvent[] = [];
  /** DfuErrors that wrap a transport timeout (the Q3 recovery tells them from other failures). */
  private readonly timeouts = new WeakSet<DfuError>();

  constructor(transport: DfuTransport, opts: ProtocolOptions = {}) {
    this.transport = transport;
    this.interfaceNumber = opts.interfaceNumber ?? 0;
    this.clock = opts.clock ?? realClock;
    this.recoveries = resolveRecoveries(opts.recoveries);
  }

  /** Records a recovery (quirks.ts) for the job's report. */
  noteRecovery(e: RecoveryEvent): void {
    this.recoveryLog.push(e);
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
      const err = transportError(ctx, name, e);
      if (e instanceof TransportError && e.kind === 'timeout') this.timeouts.add(err);
      throw err;
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
    const rec = this.recoveries;
    let stalls = 0;
    let zeroPolls = 0;
    let zeroTotal = 0;
    let busyPolls = 0;
    let timeouts = 0;
    let wait = 0;
    const at = ctx.address !== undefined ? { address: ctx.address } : {};
    for (;;) {
      let s: DfuStatus | undefined;
      let timedOut = false;
      try {
        s = await this.getStatusOrStall(ctx);
      } catch (e) {
        // §2.5 Q3: the ROM NAKs EP0 until a long operation ends; a host with a control-transfer timeout sees the
        // GETSTATUS time out. After a busy answer that only means "still busy".
        if (!(rec.busyTimeout && busyPolls > 0 && e instanceof DfuError && this.timeouts.has(e))) throw e;
        timedOut = true;
        timeouts++;
        busyPolls++;
        wait = 0;
      }
      if (timedOut) {
        // The timed-out request already took its time; poll again at once.
      } else if (s === undefined) {
        // §2.5 Q2: an early poll STALLed; wait the last timeout again.
        if (!rec.earlyPollStall) throw stallError(ctx, 'GETSTATUS', this.lastStatus?.state);
        if (++stalls > MAX_POLL_STALLS) throw stallError(ctx, 'GETSTATUS', this.lastStatus?.state);
      } else {
        const busy = s.state === dfuDNBUSY || s.state === dfuDNLOAD_SYNC || s.state === dfuMANIFEST_SYNC;
        if (!busy) {
          if (stalls > 0) {
            this.noteRecovery({ recovery: 'earlyPollStall', ref: 'Q2', operation: ctx.operation, ...at, message: `GETSTATUS STALLed ${stalls} time(s) while the device was busy; polled again after the last bwPollTimeout (${wait} ms)` });
          }
          if (timeouts > 0) {
            this.noteRecovery({ recovery: 'busyTimeout', ref: 'Q3', operation: ctx.operation, ...at, message: `GETSTATUS timed out ${timeouts} time(s) while the device was busy (${Math.round(this.clock.now() - start)} ms in all); polled again` });
          }
          // One busy answer with bwPollTimeout 0 is how ROMs answer quick commands; more is the Q7 symptom.
          if (zeroTotal > 1 && rec.zeroPollBackoff) {
            this.noteRecovery({ recovery: 'zeroPollBackoff', ref: 'Q7', operation: ctx.operation, ...at, message: `bwPollTimeout 0 in ${zeroTotal} busy answer(s); polled with back-off` });
          }
          return s;
        }
        busyPolls++;
        if (s.pollTimeout > 0) {
          wait = Math.min(s.pollTimeout, cap);
          zeroPolls = 0;
        } else {
          zeroTotal++;
          if (rec.zeroPollBackoff) wait = ZERO_TIMEOUT_BACKOFF[Math.min(zeroPolls++, ZERO_TIMEOUT_BACKOFF.length - 1)]!;
          else {
            // A plain host honours bwPollTimeout 0 literally and gives up after dfu-util's 100 polls.
            wait = 0;
            if (++zeroPolls >= PLAIN_ZERO_POLL_LIMIT) {
              throw new DfuError(
                'DFU_TIMEOUT',
                `${describeContext(ctx)}: the device answered dfuDNBUSY with bwPollTimeout 0 ${zeroPolls} times in a row (${Math.round(this.clock.now() - start)} ms)`,
                { operation: ctx.operation, request: 'GETSTATUS', state: stateName(s.state), status: statusName(s.status), ...at, ...(ctx.block !== undefined ? { block: ctx.block } : {}) },
              );
            }
          }
        }
      }
      const elapsed = this.clock.now() - start;
      if (elapsed >= opts.deadlineMs && busyPolls >= (opts.minBusyPolls ?? 1)) {
        const st = this.lastStatus;
        const zero = st !== undefined && st.pollTimeout === 0 && zeroTotal > 0 ? `; bwPollTimeout 0 in ${zeroTotal} busy answer(s): the device never said how long to wait` : '';
        const tmo = timeouts > 0 ? `; ${timeouts} GETSTATUS request(s) timed out` : '';
        throw new DfuError(
          'DFU_TIMEOUT',
          `${describeContext(ctx)}: the device is still in ${stateName(st?.state ?? dfuDNBUSY)} after ${Math.round(elapsed)} ms (deadline ${Math.round(opts.deadlineMs)} ms, last bwPollTimeout ${st?.pollTimeout ?? 0} ms${zero}${tmo})`,
          {
            operation: ctx.operation,
            request: 'GETSTATUS',
            state: stateName(st?.state ?? dfuDNBUSY),
            status: statusName(st?.status ?? OK),
            ...at,
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
    // A plain host clears the status first, whatever the state (pydfu's init); a ROM that STALLs CLRSTATUS
    // outside dfuERROR (§2.5 Q4) fails it.
    if (!this.recoveries.clrStatusByState) await this.clrStatus(ctx);
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
          if (!this.recoveries.wedgedBusyErase && !this.recoveries.wedgedBusyWrite) throw e;
          this.noteRecovery({ recovery: 'wedgedBusyErase', ref: 'Q1', operation: ctx.operation, message: 'the device was still in dfuDNBUSY on connect or recovery; sent CLRSTATUS' });
          await this.clrStatus(ctx);
          continue;
        }
      }
      switch (s.state) {
        case dfuIDLE:
          if (s.status === OK) return s;
          break;
        case dfuERROR:
          // By state, CLRSTATUS is the request dfuERROR allows; should a ROM STALL it anyway, look again.
          if (!(await this.out('CLRSTATUS', DFU_CLRSTATUS, 0, undefined, ctx)) && !this.recoveries.clrStatusByState) throw stallError(ctx, 'CLRSTATUS', s.state);
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
