/**
 * The STM32 ROM bootloader's DFU/DfuSe state machine on a virtual clock.
 *
 * Sources: DFU 1.1 §6 (requests) and Appendix A (state transitions); ST AN3156 §3 (DfuSe commands in
 * DNLOAD/UPLOAD block 0, block-number addressing, "the command is executed on the first DFU_GETSTATUS");
 * ST's USB device stack `usbd_dfu.c` (the ROM's closed code behaves like it: the operation runs after the
 * DNBUSY reply, EP0 NAKs meanwhile); dfu-protocol.md §2.2–§2.5 (exchanges, ROM quirks).
 *
 * Request flow (one control transfer):
 *   1. injected faults for this request number (disconnect / timeout / stall);
 *   2. if a flash operation still runs: NAK until it ends (virtual wait), or the quirk's early-poll answer;
 *   3. the transfer takes `transferMs` of virtual time; the request is served at its end;
 *   4. an operation started by this request (the first GETSTATUS after a DNLOAD) runs from then for its
 *      modelled duration; its bytes change at once (a power cut mid-erase is not modelled).
 *
 * Decisions where no source says what the ROM does (also listed in the report):
 *   - A GETSTATUS sent before the operation ends (bwPollTimeout not yet elapsed) is NAKed until it ends and
 *     then answered dfuDNLOAD_IDLE, not STALLed as DFU 1.1 A.2.5 prescribes for dfuDNBUSY: ST's stack runs
 *     the flash operation in the EP0 TX-complete handler after the DNBUSY reply, so EP0 cannot answer;
 *     pydfu's poll-without-sleep works on real ROMs only because of this, and fwupd raised its USB timeout to
 *     5 s for 0483:DF11 because of it (dfu-protocol.md §2.4). Other requests wait the same way. The L4 STALL
 *     and the zero-timeout "dfuDNBUSY again" answers are quirks (`earlyPoll`).
 *   - Requests not valid in a state STALL and move to (errSTALLEDPKT, dfuERROR) as DFU 1.1 Appendix A says;
 *     in dfuERROR the first error status is kept. ST's stack only STALLs without changing state.
 *   - Zero-length DNLOAD is accepted in dfuIDLE as well as dfuDNLOAD_IDLE (ST's stack does; DFU 1.1 would
 *     STALL in dfuIDLE): dfu-util's `-s :leave -D file.dfu` relies on it.
 *   - DETACH in DFU mode STALLs (DFU 1.1: only valid in appIDLE); ST's stack would re-enumerate.
 *   - Every DfuSe command answers its first GETSTATUS with dfuDNBUSY (dfu-util requires it); errors (bad
 *     address, unknown command byte, RDP) show on the second GETSTATUS as (status, dfuERROR).
 *   - Status codes: Set Address Pointer or Erase outside the memory the alt serves → errTARGET (AN3156);
 *     a write outside it → errADDRESS (DFU 1.1 Table 6.2 wording); write to read-only system memory → errWRITE;
 *     a read outside → STALL with errADDRESS; with RDP ≥ 1 erase/write/read of anything but the option bytes →
 *     errVENDOR (AN3156; reads STALL); write-protected sector: erase skipped silently (AN2662), write errWRITE.
 *   - A write address not aligned to the ROM's `bootloaderWriteAlignment` (AN2606 Table 7) → errADDRESS.
 *   - UPLOAD returning fewer bytes than wLength (end of the readable memory) ends the upload: dfuIDLE.
 *   - Option-byte writes and Read Unprotect: the first GETSTATUS answers dfuDNBUSY, then the device resets
 *     (leaves the bus); a read-unprotect or RDP regression takes the mass-erase time before it re-enumerates.
 *   - Leave jumps to the address pointer (AN3156); `leaveTarget: 'last-write'` models AN2662's "the Address
 *     Pointer can also be set through the last Write Memory operation". The vector there is recorded.
 *   - USB reset: the ROM stays in DFU, back to dfuIDLE / alt 0 / pointer 0x08000000 (ST stack: class
 *     DeInit/Init), after any running operation; it also clears the rev V wedge.
 */
import { FwError, EXIT_USAGE } from '../core/errors.ts';
import { hex32 } from '../core/format.ts';
import {
  DFU_GETSTATUS_LENGTH,
  DFU_IN_REQUESTS,
  DFU_REQUEST,
  DFU_STATE,
  DFU_STATUS,
  DFUSE_COMMAND,
  DFUSE_DEFAULT_ADDRESS,
  DFUSE_FIRST_DATA_BLOCK,
  DFUSE_RESERVED_BLOCK,
  USB_DESCRIPTOR_TYPE,
  USB_REQUEST,
  dfuRequestName,
  dfuStateName,
  dfuStatusName,
  dfuseBlockAddress,
  type DfuStateName,
  type DfuStatusName,
} from '../dfu/constants.ts';
import { TransportError } from '../dfu/transport.ts';
import type { FlashSector } from '../layout/chips.ts';
import { sectorAt } from '../layout/sectors.ts';
import { buildDescriptors, type BuiltDescriptors } from './descriptors.ts';
import { MemoryMap, programNor, type RegionKind } from './memory.ts';
import type { RdpLevel } from './option-bytes.ts';
import { resolveQuirks, type ActiveQuirks } from './quirks.ts';
import type {
  Counters,
  EarlyPollMode,
  Fault,
  LeaveRecord,
  LogEntry,
  OperationRecord,
  PartialUnitMode,
  ProgramOverProgrammed,
  RequestResult,
  ResolvedChip,
  RomEmulatorOptions,
  VirtualClock,
} from './types.ts';

/** USB 2.0 §7.1.7.5: reset signalling lasts at least 10 ms. */
export const USB_RESET_MS = 10;
/** bwPollTimeout of the dfuMANIFEST reply (ST's stack: 1 ms). */
export const MANIFEST_POLL_MS = 1;
/** bwPollTimeout the H7 rev V ROM repeats while wedged (dfu-util ticket #88). */
export const WEDGED_POLL_MS = 1000;
/** The DfuSe commands the ROM lists for UPLOAD block 0 (AN3156 §3 "Get command"). */
export const ROM_COMMANDS = Uint8Array.of(DFUSE_COMMAND.GET_COMMANDS, DFUSE_COMMAND.SET_ADDRESS_POINTER, DFUSE_COMMAND.ERASE, DFUSE_COMMAND.READ_UNPROTECT);

const S = DFU_STATE;

export class Clock implements VirtualClock {
  private ms = 0;
  get nowMs(): number {
    return this.ms;
  }
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new FwError('EMULATOR_CLOCK', `cannot advance the virtual clock by ${ms} ms`);
    this.ms += ms;
  }
}

export interface ControlSetup {
  bmRequestType: number;
  bRequest: number;
  wValue: number;
  wIndex: number;
  wLength: number;
}

export interface ControlReply {
  status: 'ok' | 'stall';
  data: Uint8Array;
}

interface Pending {
  block: number;
  data: Uint8Array;
}

type After = 'sync' | 'wedge' | 'disconnect';

interface Exec {
  op: OperationRecord;
  after: After;
}

/** What the log entry under construction collects while a request is served. */
interface Draft {
  command?: string;
  op?: OperationRecord;
  leave?: LeaveRecord;
  pollTimeoutMs?: number;
  nakMs?: number;
  fault?: string;
  quirk?: string;
  note?: string;
}

const STALL: ControlReply = { status: 'stall', data: new Uint8Array(0) };
const OK_EMPTY: ControlReply = { status: 'ok', data: new Uint8Array(0) };

function le32(b: Uint8Array, off: number): number {
  return (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0;
}

function resolveBootloaderId(chip: ResolvedChip, v: number | string | undefined): number {
  const versions = chip.bootloader.versions;
  if (v === undefined) return versions[versions.length - 1]!.id;
  const found = typeof v === 'number' ? versions.find((x) => x.id === v) : versions.find((x) => x.version.toLowerCase() === v.trim().toLowerCase());
  if (found === undefined) {
    throw new FwError(
      'EMULATOR_BOOTLOADER_VERSION',
      `${chip.displayName} has no bootloader ${typeof v === 'number' ? `0x${v.toString(16).toUpperCase()}` : v} (known: ${versions
        .map((x) => `0x${x.id.toString(16).toUpperCase()} ${x.version}`)
        .join(', ')})`,
      {},
      EXIT_USAGE,
    );
  }
  return found.id;
}

function defaultPartialUnit(chip: ResolvedChip): PartialUnitMode {
  return /^stm32f[247]/.test(chip.profile) ? 'keep' : 'drop';
}

export class RomCore {
  readonly clock = new Clock();
  readonly memory: MemoryMap;
  readonly descriptors: BuiltDescriptors;
  readonly quirks: ActiveQuirks;
  readonly bootloaderId: number;
  readonly log: LogEntry[] = [];
  readonly counters: Counters = { requests: 0, byRequest: {}, stalls: 0, sectorErases: 0, massErases: 0, bytesWritten: 0, bytesRead: 0, disconnects: 0 };
  readonly transferSize: number;
  lastLeave: LeaveRecord | undefined;

  // Connection
  connected = true;
  generation = 0;
  // DFU state (DFU 1.1 §6.1.2)
  state: number = S.dfuIDLE;
  status: number = DFU_STATUS.OK;
  alt = 0;
  configuration = 1;
  // DfuSe
  pointer = DFUSE_DEFAULT_ADDRESS;
  lastWriteAddress = DFUSE_DEFAULT_ADDRESS;
  private pending: Pending | undefined;
  /** Result of the finished operation, reported by the next GETSTATUS in dfuDNLOAD_SYNC. */
  private syncResult: DfuStatusName | undefined;
  private busyUntil: number | undefined;
  private busyResult: DfuStatusName = 'OK';
  private busyAfter: After = 'sync';
  private wedged = false;
  private disconnectAfterReply: 'leave' | 'reset' | undefined;
  private lastData: { dir: 'in' | 'out'; block: number; length: number } | undefined;
  private armedStatus: { status: DfuStatusName; fault: Fault } | undefined;

  private readonly faults: Fault[];
  private readonly faultUses = new Map<Fault, number>();
  private readonly earlyPoll: EarlyPollMode;
  private readonly partial: PartialUnitMode;
  private readonly over: ProgramOverProgrammed;
  private readonly transferMs: number;
  private readonly pollScale: number;
  private readonly eraseMsBySize = new Map<number, number>();

  constructor(
    readonly chip: ResolvedChip,
    private readonly opts: RomEmulatorOptions,
  ) {
    this.bootloaderId = resolveBootloaderId(chip, opts.bootloaderVersion);
    this.quirks = resolveQuirks(chip, opts.quirks, this.bootloaderId);
    this.memory = new MemoryMap(chip, { flash: opts.flash, bootloaderId: this.bootloaderId });
    this.descriptors = buildDescriptors(chip, this.bootloaderId, { serial: opts.serialNumber, bcdDevice: opts.bcdDevice, productName: opts.productName });
    this.transferSize = chip.dfu.wTransferSize;
    this.faults = [...(opts.faults ?? [])];
    this.earlyPoll = opts.earlyPoll ?? (this.quirks.has('l4-getstatus-stall-early') ? 'stall' : this.quirks.has('polltimeout-zero') ? 'busy' : 'nak');
    this.partial = opts.partialUnit ?? defaultPartialUnit(chip);
    this.over = opts.programOverProgrammed ?? 'error';
    this.transferMs = opts.transferMs ?? 1;
    this.pollScale = opts.pollTimeoutScale ?? 1;
    for (const s of chip.sectors) {
      if (this.eraseMsBySize.has(s.size)) continue;
      const e =
        chip.timing.sectorEraseMs.find((x) => x.size === s.size && (x.bankMode === undefined || x.bankMode === chip.bankMode)) ??
        chip.timing.sectorEraseMs.find((x) => x.size === s.size);
      if (e === undefined) throw new FwError('EMULATOR_TIMING', `${chip.displayName}: no erase time for ${s.size}-byte sectors in the profile's timing`);
      this.eraseMsBySize.set(s.size, Math.ceil(e.typ));
    }
    if (opts.readProtection !== undefined && opts.readProtection !== 0) this.memory.setRdpLevel(opts.readProtection);
  }

  // ---------------------------------------------------------------------------------------------------
  // State helpers

  stateName(): DfuStateName {
    this.settle();
    return dfuStateName(this.state)!;
  }

  statusName(): DfuStatusName {
    return dfuStatusName(this.status)!;
  }

  /** The operation's end, if its time has come: dfuDNBUSY → dfuDNLOAD_SYNC (or the rev V wedge). */
  private settle(): void {
    if (this.busyUntil === undefined || this.clock.nowMs < this.busyUntil) return;
    this.busyUntil = undefined;
    if (this.busyAfter === 'wedge' && this.busyResult === 'OK') {
      this.wedged = true; // stays in dfuDNBUSY
    } else {
      this.state = S.dfuDNLOAD_SYNC;
      this.syncResult = this.busyResult;
    }
  }

  private isBusy(): boolean {
    return this.busyUntil !== undefined && this.clock.nowMs < this.busyUntil;
  }

  /** Finish any running operation (the device cannot do anything else until it ends). */
  finishOperation(): void {
    if (this.busyUntil !== undefined && this.clock.nowMs < this.busyUntil) this.clock.advance(this.busyUntil - this.clock.nowMs);
    this.settle();
  }

  private stallToError(): ControlReply {
    if (this.state !== S.dfuERROR) {
      this.state = S.dfuERROR;
      this.status = DFU_STATUS.errSTALLEDPKT;
    }
    this.pending = undefined;
    this.syncResult = undefined;
    return STALL;
  }

  private reported(kind: OperationRecord['kind'], durationMs: number): number {
    let ms = durationMs;
    if (this.quirks.has('f74x-erase-polltimeout') || this.quirks.has('f7-erase-polltimeout')) {
      if (kind === 'erase' || kind === 'mass-erase') ms = 100;
      else if (kind === 'write' || kind === 'set-address') ms = 5;
    }
    if (kind === 'mass-erase' && this.quirks.has('f4-mass-erase-polltimeout')) ms = 100;
    if (this.quirks.has('l4-getstatus-stall-early') && (kind === 'erase' || kind === 'mass-erase' || kind === 'write')) ms = Math.floor(durationMs / 2);
    if (this.quirks.has('polltimeout-zero')) ms = 0;
    return Math.max(0, Math.min(0xffffff, Math.round(ms * this.pollScale)));
  }

  private statusReply(status: number, pollMs: number, state: number, length: number, d: Draft): ControlReply {
    d.pollTimeoutMs = pollMs;
    const b = Uint8Array.of(status, pollMs & 0xff, (pollMs >> 8) & 0xff, (pollMs >> 16) & 0xff, state, 0);
    return { status: 'ok', data: b.subarray(0, Math.min(length, DFU_GETSTATUS_LENGTH)) };
  }

  private faultUsable(f: Fault & { times?: number }): boolean {
    const used = this.faultUses.get(f) ?? 0;
    return f.times === undefined || used < f.times;
  }

  private useFault(f: Fault): void {
    this.faultUses.set(f, (this.faultUses.get(f) ?? 0) + 1);
  }

  // ---------------------------------------------------------------------------------------------------
  // Entry points

  /** One control transfer, raw USB semantics. Throws TransportError when the device is gone or a fault says so. */
  control(setup: ControlSetup, out: Uint8Array | undefined): ControlReply {
    const dirIn = (setup.bmRequestType & 0x80) !== 0;
    const type = (setup.bmRequestType >> 5) & 3;
    const recipient = setup.bmRequestType & 0x1f;
    const typeName = (['standard', 'class', 'vendor', 'reserved'] as const)[type]!;
    const name = this.requestName(type, setup.bRequest);
    const wLength = dirIn ? setup.wLength : (out?.length ?? 0);
    return this.transact(name, typeName, dirIn ? 'in' : 'out', setup.wValue, setup.wIndex, wLength, (d) => {
      if (type === 0) return this.standard(dirIn, recipient, setup, out, d);
      if (type === 1) return this.classRequest(dirIn, recipient, setup, out ?? new Uint8Array(0), d);
      return STALL; // vendor/reserved: the ROM defines none
    });
  }

  /** USB bus reset (WebUSB `reset()`, USB/IP port reset). */
  busReset(): void {
    this.transact('USB_RESET', 'bus', 'out', 0, 0, 0, () => {
      // ST's stack: USB reset → class DeInit/Init → dfuIDLE, status OK, pointer back to its default.
      this.state = S.dfuIDLE;
      this.status = DFU_STATUS.OK;
      this.alt = 0;
      this.pointer = DFUSE_DEFAULT_ADDRESS;
      this.pending = undefined;
      this.syncResult = undefined;
      this.wedged = false;
      this.armedStatus = undefined;
      this.lastData = undefined;
      return OK_EMPTY;
    });
  }

  /** Power-cycle into the ROM: a fresh enumeration with the same memories. */
  reconnect(): void {
    this.finishOperation();
    this.disconnect('unplug');
    this.generation++;
    this.connected = true;
    this.state = S.dfuIDLE;
    this.status = DFU_STATUS.OK;
    this.alt = 0;
    this.configuration = 1;
    this.pointer = DFUSE_DEFAULT_ADDRESS;
    this.lastWriteAddress = DFUSE_DEFAULT_ADDRESS;
    this.pending = undefined;
    this.syncResult = undefined;
    this.busyUntil = undefined;
    this.wedged = false;
    this.disconnectAfterReply = undefined;
    this.lastData = undefined;
    this.armedStatus = undefined;
  }

  private requestName(type: number, bRequest: number): string {
    const hex = `0x${bRequest.toString(16).toUpperCase().padStart(2, '0')}`;
    if (type === 1) return dfuRequestName(bRequest) ?? `CLASS_${hex}`;
    if (type === 0) {
      const e = Object.entries(USB_REQUEST).find(([, v]) => v === bRequest);
      return e?.[0] ?? `STANDARD_${hex}`;
    }
    return `${type === 2 ? 'VENDOR' : 'RESERVED'}_${hex}`;
  }

  private transact(
    request: string,
    requestType: LogEntry['requestType'],
    direction: 'in' | 'out',
    wValue: number,
    wIndex: number,
    wLength: number,
    serve: (d: Draft) => ControlReply,
  ): ControlReply {
    const seq = ++this.counters.requests;
    this.counters.byRequest[request] = (this.counters.byRequest[request] ?? 0) + 1;
    const atMs = this.clock.nowMs;
    const stateBefore = this.stateName();
    const d: Draft = {};
    const finish = (result: RequestResult, bytes: number): void => {
      if (result === 'stall') this.counters.stalls++;
      const e: LogEntry = {
        seq,
        atMs,
        request,
        requestType,
        direction,
        wValue,
        wIndex,
        wLength,
        alt: this.alt,
        stateBefore,
        stateAfter: dfuStateName(this.state)!,
        status: this.statusName(),
        result,
        bytes,
        ...(d.pollTimeoutMs !== undefined ? { pollTimeoutMs: d.pollTimeoutMs } : {}),
        ...(d.command !== undefined ? { command: d.command } : {}),
        ...(d.op !== undefined ? { op: d.op } : {}),
        ...(d.leave !== undefined ? { leave: d.leave } : {}),
        ...(d.nakMs !== undefined ? { nakMs: d.nakMs } : {}),
        ...(d.fault !== undefined ? { fault: d.fault } : {}),
        ...(d.quirk !== undefined ? { quirk: d.quirk } : {}),
        ...(d.note !== undefined ? { note: d.note } : {}),
      };
      this.log.push(e);
      const limit = this.opts.logLimit;
      if (limit !== undefined && this.log.length > limit) this.log.splice(0, this.log.length - limit);
    };
    const gone = (why: string): never => {
      finish('disconnected', 0);
      throw new TransportError('disconnected', `device disconnected (${why}); call reconnect() for a new device instance`);
    };
    if (!this.connected) gone('it left, reset or was unplugged');

    // 1. Faults that replace the request.
    const isReset = request === 'USB_RESET';
    for (const f of this.faults) {
      if (!('atRequest' in f) || f.atRequest !== seq) continue;
      if (f.kind === 'disconnect' && (f.phase ?? 'before') === 'before') {
        d.fault = 'disconnect before request';
        this.disconnect('fault');
        gone(`fault at request ${seq}`);
      }
      if (f.kind === 'timeout') {
        d.fault = 'timeout';
        finish('timeout', 0);
        throw new TransportError('timeout', `request ${seq} (${request}) timed out (injected fault)`);
      }
      if (f.kind === 'stall' && !isReset) {
        d.fault = 'stall';
        this.clock.advance(this.transferMs);
        if (f.keepState !== true) this.stallToError();
        finish('stall', 0);
        return STALL;
      }
      if (f.kind === 'status') this.armedStatus = { status: f.status, fault: f };
    }

    // 2. A flash operation still running.
    let early: ControlReply | undefined;
    if (this.isBusy()) {
      const isGetStatus = requestType === 'class' && request === 'GETSTATUS';
      const isGetState = requestType === 'class' && request === 'GETSTATE';
      if (isGetStatus && this.earlyPoll === 'stall') {
        if (this.quirks.has('l4-getstatus-stall-early')) d.quirk = 'l4-getstatus-stall-early';
        d.note = 'GETSTATUS while the operation runs: STALL, operation continues';
        early = STALL;
      } else if ((isGetStatus || isGetState) && this.earlyPoll === 'busy') {
        if (this.quirks.has('polltimeout-zero')) d.quirk = 'polltimeout-zero';
        d.note = 'request while the operation runs: answered dfuDNBUSY';
        early = isGetStatus
          ? this.statusReply(DFU_STATUS.OK, 0, S.dfuDNBUSY, wLength, d)
          : { status: 'ok', data: Uint8Array.of(S.dfuDNBUSY).subarray(0, Math.min(wLength, 1)) };
      } else {
        const wait = this.busyUntil! - this.clock.nowMs;
        const limit = this.opts.nakTimeoutMs;
        if (limit !== undefined && wait > limit) {
          this.clock.advance(limit);
          d.nakMs = limit;
          d.note = `NAKed for ${limit} ms while the operation runs (${wait} ms left): host timeout`;
          finish('timeout', 0);
          throw new TransportError('timeout', `request ${seq} (${request}) NAKed for ${limit} ms: the device is busy for ${wait} ms more`);
        }
        this.clock.advance(wait);
        d.nakMs = wait;
      }
    }

    // 3. The transfer itself.
    this.clock.advance(isReset ? USB_RESET_MS : this.transferMs);
    if (early === undefined) this.settle();
    const reply = early ?? serve(d);

    // 4. After: faults that lose the reply, and device resets/leaves triggered by this request.
    for (const f of this.faults) {
      if (f.kind === 'disconnect' && f.atRequest === seq && f.phase === 'after') {
        d.fault = 'disconnect after request (reply lost)';
        this.disconnect('fault');
        gone(`fault at request ${seq}`);
      }
    }
    const bytes = reply.status === 'ok' ? (direction === 'in' ? reply.data.length : wLength) : 0;
    finish(reply.status, bytes);
    if (this.disconnectAfterReply !== undefined) {
      const why = this.disconnectAfterReply;
      this.disconnectAfterReply = undefined;
      this.disconnect(why);
    }
    return reply;
  }

  private disconnect(reason: 'leave' | 'reset' | 'fault' | 'unplug'): void {
    if (!this.connected) return;
    this.connected = false;
    this.counters.disconnects++;
    this.opts.onDisconnect?.(reason);
  }

  // ---------------------------------------------------------------------------------------------------
  // Standard requests (USB 2.0 §9.4)

  private standard(dirIn: boolean, recipient: number, setup: ControlSetup, out: Uint8Array | undefined, d: Draft): ControlReply {
    const reply = (b: Uint8Array): ControlReply => ({ status: 'ok', data: b.subarray(0, Math.min(setup.wLength, b.length)) });
    const R = USB_REQUEST;
    if (dirIn) {
      switch (setup.bRequest) {
        case R.GET_DESCRIPTOR: {
          const type = setup.wValue >> 8;
          const index = setup.wValue & 0xff;
          const desc = this.descriptors;
          if (type === USB_DESCRIPTOR_TYPE.DEVICE) return reply(desc.device);
          if (type === USB_DESCRIPTOR_TYPE.CONFIGURATION && index === 0) return reply(desc.configuration);
          if (type === USB_DESCRIPTOR_TYPE.STRING) {
            const s = desc.stringDescriptors[index];
            return s === undefined ? STALL : reply(s);
          }
          if (type === USB_DESCRIPTOR_TYPE.DFU_FUNCTIONAL) {
            if (this.quirks.has('no-dfu-functional-get-descriptor')) {
              d.quirk = 'no-dfu-functional-get-descriptor';
              return STALL;
            }
            return reply(desc.functional);
          }
          return STALL; // device qualifier etc.: a full-speed-only device has none (USB 2.0 §9.6.2)
        }
        case R.GET_STATUS:
          return reply(recipient === 0 ? Uint8Array.of(0x01, 0x00) : Uint8Array.of(0x00, 0x00)); // self powered
        case R.GET_CONFIGURATION:
          return reply(Uint8Array.of(this.configuration));
        case R.GET_INTERFACE:
          return setup.wIndex === 0 ? reply(Uint8Array.of(this.alt)) : STALL;
        default:
          return STALL;
      }
    }
    void out;
    switch (setup.bRequest) {
      case R.SET_CONFIGURATION:
        if (setup.wValue !== 0 && setup.wValue !== 1) return STALL;
        this.configuration = setup.wValue;
        return OK_EMPTY;
      case R.SET_INTERFACE:
        if (setup.wIndex !== 0 || !this.descriptors.altLayouts.some((a) => a.alt === setup.wValue)) return STALL;
        this.alt = setup.wValue;
        return OK_EMPTY;
      case R.SET_ADDRESS:
      case R.CLEAR_FEATURE:
      case R.SET_FEATURE:
        return OK_EMPTY;
      default:
        return STALL;
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // DFU class requests (DFU 1.1 §6, Appendix A; AN3156 §3)

  private classRequest(dirIn: boolean, recipient: number, setup: ControlSetup, out: Uint8Array, d: Draft): ControlReply {
    // Addressed to another interface or to the device: not ours, plain STALL.
    if (recipient !== 1 || setup.wIndex !== 0) return STALL;
    const req = setup.bRequest;
    const expectIn = DFU_IN_REQUESTS.has(req);
    if (dfuRequestName(req) === undefined || expectIn !== dirIn) return this.stallToError();

    if (this.wedged) return this.wedgedRequest(req, setup.wLength, d);

    switch (req) {
      case DFU_REQUEST.DNLOAD:
        return this.dnload(setup.wValue, out, d);
      case DFU_REQUEST.UPLOAD:
        return this.upload(setup.wValue, setup.wLength, d);
      case DFU_REQUEST.GETSTATUS:
        return this.getStatus(setup.wLength, d);
      case DFU_REQUEST.CLRSTATUS:
        if (this.state === S.dfuERROR) {
          this.state = S.dfuIDLE;
          this.status = DFU_STATUS.OK;
          return OK_EMPTY;
        }
        if (this.quirks.has('h7-clrstatus-outside-dfuerror')) {
          d.quirk = 'h7-clrstatus-outside-dfuerror';
          this.state = S.dfuERROR;
          this.status = DFU_STATUS.errUNKNOWN;
          this.pending = undefined;
          this.syncResult = undefined;
          return OK_EMPTY;
        }
        return this.stallToError();
      case DFU_REQUEST.GETSTATE:
        return { status: 'ok', data: Uint8Array.of(this.state).subarray(0, Math.min(setup.wLength, 1)) };
      case DFU_REQUEST.ABORT:
        if (this.state === S.dfuIDLE || this.state === S.dfuDNLOAD_IDLE || this.state === S.dfuUPLOAD_IDLE) {
          this.state = S.dfuIDLE;
          this.status = DFU_STATUS.OK;
          return OK_EMPTY;
        }
        return this.stallToError();
      case DFU_REQUEST.DETACH:
      default:
        return this.stallToError();
    }
  }

  /** H7 rev V after a bank-2 erase: GETSTATUS says busy forever; the CLRSTATUS pair recovers (dfu-protocol.md Q1). */
  private wedgedRequest(req: number, wLength: number, d: Draft): ControlReply {
    d.quirk = this.quirks.has('h7-revV-bank2-erase-hang') ? 'h7-revV-bank2-erase-hang' : 'h7-revV-bank2-write-hang';
    switch (req) {
      case DFU_REQUEST.GETSTATUS:
        return this.statusReply(DFU_STATUS.OK, this.reportedRaw(WEDGED_POLL_MS), S.dfuDNBUSY, wLength, d);
      case DFU_REQUEST.GETSTATE:
        return { status: 'ok', data: Uint8Array.of(S.dfuDNBUSY).subarray(0, Math.min(wLength, 1)) };
      case DFU_REQUEST.CLRSTATUS:
        this.wedged = false;
        this.state = S.dfuERROR;
        this.status = DFU_STATUS.errUNKNOWN;
        return OK_EMPTY;
      default:
        return STALL; // the ROM stays wedged
    }
  }

  private reportedRaw(ms: number): number {
    return this.quirks.has('polltimeout-zero') ? 0 : Math.max(0, Math.min(0xffffff, Math.round(ms * this.pollScale)));
  }

  private blockNote(dir: 'in' | 'out', block: number, length: number, d: Draft): void {
    const prev = this.lastData;
    if (block > DFUSE_FIRST_DATA_BLOCK && prev !== undefined && prev.dir === dir && prev.block === block - 1 && prev.length !== this.transferSize) {
      d.note = `block ${block} follows a ${prev.length}-byte block ${prev.block}: its address assumes ${this.transferSize}-byte blocks (wTransferSize; dfu-protocol.md §2.3)`;
    }
    this.lastData = { dir, block, length };
  }

  private dnload(block: number, data: Uint8Array, d: Draft): ControlReply {
    if (this.state !== S.dfuIDLE && this.state !== S.dfuDNLOAD_IDLE) return this.stallToError();
    if (data.length === 0) {
      // Leave DFU (AN3156 §3 "Leave DFU mode"): manifestation starts on the next GETSTATUS.
      d.command = 'LEAVE';
      this.state = S.dfuMANIFEST_SYNC;
      if (this.quirks.has('leave-without-status')) {
        d.quirk = 'leave-without-status';
        this.leave(d);
      }
      return OK_EMPTY;
    }
    if (data.length > this.transferSize) {
      d.note = `wLength ${data.length} > wTransferSize ${this.transferSize}`;
      return this.stallToError();
    }
    if (block === DFUSE_RESERVED_BLOCK) {
      d.note = 'wBlockNum 1 is reserved by DfuSe';
      return this.stallToError();
    }
    d.command = this.describeDnload(block, data);
    if (block >= DFUSE_FIRST_DATA_BLOCK) this.blockNote('out', block, data.length, d);
    this.pending = { block, data: data.slice() };
    this.syncResult = undefined;
    this.state = S.dfuDNLOAD_SYNC;
    return OK_EMPTY;
  }

  private describeDnload(block: number, data: Uint8Array): string {
    if (block >= DFUSE_FIRST_DATA_BLOCK) return `WRITE ${hex32(dfuseBlockAddress(this.pointer, block, this.transferSize))} +${data.length}`;
    const c = data[0]!;
    if (c === DFUSE_COMMAND.GET_COMMANDS && data.length === 1) return 'GET_COMMANDS';
    if (c === DFUSE_COMMAND.SET_ADDRESS_POINTER && data.length === 5) return `SET_ADDRESS_POINTER ${hex32(le32(data, 1))}`;
    if (c === DFUSE_COMMAND.ERASE && data.length === 5) return `ERASE ${hex32(le32(data, 1))}`;
    if (c === DFUSE_COMMAND.ERASE && data.length === 1) return 'MASS_ERASE';
    if (c === DFUSE_COMMAND.READ_UNPROTECT && data.length === 1) return 'READ_UNPROTECT';
    return `UNKNOWN_COMMAND 0x${c.toString(16).toUpperCase().padStart(2, '0')} (${data.length} bytes)`;
  }

  private upload(block: number, wLength: number, d: Draft): ControlReply {
    if (this.state !== S.dfuIDLE && this.state !== S.dfuUPLOAD_IDLE) return this.stallToError();
    if (wLength > this.transferSize) {
      d.note = `wLength ${wLength} > wTransferSize ${this.transferSize}`;
      return this.stallToError();
    }
    if (wLength === 0) {
      this.state = S.dfuIDLE;
      return OK_EMPTY;
    }
    if (block === 0) {
      d.command = 'GET_COMMANDS';
      const data = ROM_COMMANDS.slice(0, wLength);
      this.state = data.length < wLength ? S.dfuIDLE : S.dfuUPLOAD_IDLE;
      return { status: 'ok', data };
    }
    if (block === DFUSE_RESERVED_BLOCK) {
      d.note = 'wBlockNum 1 is reserved by DfuSe';
      return this.stallToError();
    }
    const addr = dfuseBlockAddress(this.pointer, block, this.transferSize);
    d.command = `READ ${hex32(addr)} +${wLength}`;
    this.blockNote('in', block, wLength, d);
    const r = this.readForUpload(addr, wLength);
    if (typeof r === 'string') {
      d.note = `read at ${hex32(addr)}: ${r}`;
      this.state = S.dfuERROR;
      this.status = DFU_STATUS[r];
      return STALL;
    }
    this.counters.bytesRead += r.length;
    this.state = r.length < wLength ? S.dfuIDLE : S.dfuUPLOAD_IDLE;
    return { status: 'ok', data: r };
  }

  // ---------------------------------------------------------------------------------------------------
  // Memory access rules per alt

  private altKind(): string {
    return this.chip.dfu.alts.find((a) => a.alt === this.alt)?.kind ?? 'other';
  }

  /** Region kinds the current alt reads (alt 0 reads anything memory-mapped) and writes. */
  private altKinds(write: boolean): ReadonlySet<RegionKind> | undefined {
    switch (this.altKind()) {
      case 'flash':
        return write ? new Set<RegionKind>(['flash', 'ram']) : undefined;
      case 'option-bytes':
        return new Set<RegionKind>(['option-bytes']);
      case 'otp':
        return new Set<RegionKind>(['otp']);
      case 'device-feature':
        return new Set<RegionKind>(['device-feature']);
      default:
        return new Set<RegionKind>(['other']);
    }
  }

  private inaccessibleQuirk(start: number, end: number): string | undefined {
    return this.quirks.inaccessible.find((r) => r.start < end && start < r.end)?.quirk;
  }

  private readForUpload(addr: number, length: number): Uint8Array | 'errADDRESS' | 'errVENDOR' {
    const pieces = this.memory.pieces(addr, length, this.altKinds(false));
    if (pieces.length === 0) return 'errADDRESS';
    const end = pieces[pieces.length - 1]!.end;
    if (this.inaccessibleQuirk(addr, end) !== undefined) return 'errADDRESS';
    if (this.memory.rdpLevel > 0 && pieces.some((p) => p.region.kind !== 'option-bytes' && p.region.kind !== 'device-info')) return 'errVENDOR';
    const out = new Uint8Array(end - addr);
    for (const p of pieces) out.set(p.region.data.subarray(p.start - p.region.start, p.end - p.region.start), p.start - addr);
    return out;
  }

  // ---------------------------------------------------------------------------------------------------
  // GETSTATUS: where DfuSe operations run (AN3156 §3)

  private getStatus(wLength: number, d: Draft): ControlReply {
    if (this.armedStatus !== undefined) {
      const { status } = this.armedStatus;
      this.faults.splice(this.faults.indexOf(this.armedStatus.fault), 1);
      this.armedStatus = undefined;
      d.fault = `status ${status}`;
      this.pending = undefined;
      this.syncResult = undefined;
      this.state = S.dfuERROR;
      this.status = DFU_STATUS[status];
      return this.statusReply(this.status, 0, this.state, wLength, d);
    }
    if (this.state === S.dfuDNLOAD_SYNC) {
      if (this.pending !== undefined) {
        const p = this.pending;
        this.pending = undefined;
        const ex = this.execute(p);
        d.op = ex.op;
        this.state = S.dfuDNBUSY;
        this.busyUntil = this.clock.nowMs + ex.op.durationMs;
        this.busyResult = ex.op.status;
        this.busyAfter = ex.after;
        if (ex.after === 'disconnect') this.disconnectAfterReply = 'reset';
        return this.statusReply(DFU_STATUS.OK, ex.op.reportedPollMs, S.dfuDNBUSY, wLength, d);
      }
      const result = this.syncResult ?? 'OK';
      this.syncResult = undefined;
      if (result === 'OK') {
        this.state = S.dfuDNLOAD_IDLE;
        this.status = DFU_STATUS.OK;
      } else {
        this.state = S.dfuERROR;
        this.status = DFU_STATUS[result];
      }
      return this.statusReply(this.status, 0, this.state, wLength, d);
    }
    if (this.state === S.dfuMANIFEST_SYNC) {
      // Manifestation-intolerant device (bmAttributes bit 2 clear): dfuMANIFEST, then it leaves (DFU 1.1 A.2.7-A.2.9).
      this.state = S.dfuMANIFEST;
      const reply = this.statusReply(DFU_STATUS.OK, this.reportedRaw(MANIFEST_POLL_MS), S.dfuMANIFEST, wLength, d);
      this.leave(d);
      return reply;
    }
    return this.statusReply(this.status, 0, this.state, wLength, d);
  }

  /** Jump to the application: record where and with which vector, then vanish from the bus. */
  private leave(d: Draft): void {
    const address = this.opts.leaveTarget === 'last-write' ? this.lastWriteAddress : this.pointer;
    const word = (a: number): number | undefined => {
      try {
        return le32(this.memory.read(a, 4), 0);
      } catch {
        return undefined;
      }
    };
    const sp = word(address);
    const pc = word(address + 4);
    const inRam = (a: number, top: boolean): boolean => this.chip.ram.some((r) => (top ? a > r.start && a <= r.start + r.size : a >= r.start && a < r.start + r.size));
    const vectorValid =
      sp !== undefined && pc !== undefined && inRam(sp, true) && (pc & 1) === 1 && (sectorAt(this.chip, (pc & ~1) >>> 0) !== undefined || inRam((pc & ~1) >>> 0, false));
    const rec: LeaveRecord = { address, sp, pc, vectorValid, atMs: this.clock.nowMs };
    this.lastLeave = rec;
    d.leave = rec;
    this.state = S.dfuMANIFEST_WAIT_RESET;
    this.disconnectAfterReply = 'leave';
  }

  // ---------------------------------------------------------------------------------------------------
  // DfuSe operations

  private execute(p: Pending): Exec {
    const op = (kind: OperationRecord['kind'], status: DfuStatusName, durationMs: number, extra: Partial<OperationRecord> = {}, after: After = 'sync'): Exec => ({
      op: { kind, status, durationMs, reportedPollMs: this.reported(kind, durationMs), ...extra },
      after,
    });
    if (p.block >= DFUSE_FIRST_DATA_BLOCK) return this.write(dfuseBlockAddress(this.pointer, p.block, this.transferSize), p.data);
    const c = p.data[0]!;
    const n = p.data.length;
    if (c === DFUSE_COMMAND.GET_COMMANDS && n === 1) return op('get-commands', 'OK', 0);
    if (c === DFUSE_COMMAND.SET_ADDRESS_POINTER && n === 5) {
      const addr = le32(p.data, 1);
      const r = this.memory.smallest(addr, this.altKinds(false));
      if (r === undefined || this.inaccessibleQuirk(addr, addr + 1) !== undefined) {
        return op('set-address', 'errTARGET', 0, { address: addr, note: `${hex32(addr)} is not memory alt ${this.alt} serves` });
      }
      this.pointer = addr;
      this.lastWriteAddress = addr;
      return op('set-address', 'OK', 0, { address: addr });
    }
    if (c === DFUSE_COMMAND.ERASE && n === 5) return this.eraseSector(le32(p.data, 1));
    if (c === DFUSE_COMMAND.ERASE && n === 1) return this.massErase();
    if (c === DFUSE_COMMAND.READ_UNPROTECT && n === 1) return this.readUnprotect();
    return op('invalid-command', 'errSTALLEDPKT', 0, { note: `unsupported DfuSe command 0x${c.toString(16).toUpperCase().padStart(2, '0')} with ${n} bytes (AN2662 Fig. 55)` });
  }

  private eraseMs(sector: FlashSector): number {
    return this.eraseMsBySize.get(sector.size)!;
  }

  private writeProtected(addr: number): boolean {
    return this.faults.some((f) => f.kind === 'write-protected' && sectorAt(this.chip, f.address) === sectorAt(this.chip, addr) && sectorAt(this.chip, addr) !== undefined);
  }

  private programDropped(addr: number): boolean {
    const sector = sectorAt(this.chip, addr);
    return sector !== undefined && this.faults.some((f) => f.kind === 'program-drop' && sectorAt(this.chip, f.address) === sector);
  }

  private eraseFault(sector: FlashSector): Fault | undefined {
    return this.faults.find((f) => f.kind === 'erase-fail' && sectorAt(this.chip, f.address) === sector && this.faultUsable(f));
  }

  private doErase(sector: FlashSector): void {
    this.memory.eraseSector(sector);
    this.counters.sectorErases++;
    this.opts.onErase?.(sector);
  }

  private hangRange(quirk: 'h7-revV-bank2-erase-hang' | 'h7-revV-bank2-write-hang', start: number, end: number): boolean {
    if (!this.quirks.has(quirk)) return false;
    const ranges = this.quirks.profileQuirk('h7-revV-bank2-erase-hang')?.ranges?.map((r) => ({ start: r.start, end: r.start + r.size })) ??
      this.chip.banks.filter((b) => b.bank >= 2).map((b) => ({ start: b.start, end: b.end }));
    return ranges.some((r) => r.start < end && start < r.end);
  }

  private eraseSector(addr: number): Exec {
    const mk = (status: DfuStatusName, durationMs: number, extra: Partial<OperationRecord> = {}, after: After = 'sync'): Exec => ({
      op: { kind: 'erase', status, durationMs, reportedPollMs: this.reported('erase', durationMs), address: addr, ...extra },
      after,
    });
    if (this.altKind() !== 'flash') return mk('errTARGET', 0, { note: `alt ${this.alt} is not the flash alt` });
    const sector = sectorAt(this.chip, addr);
    if (sector === undefined) return mk('errTARGET', 0, { note: `${hex32(addr)} is not in flash` });
    if (this.memory.rdpLevel > 0) return mk('errVENDOR', 0, { sector: sector.index, note: 'read protection active' });
    const duration = this.eraseMs(sector);
    let target: FlashSector | undefined = sector;
    let note: string | undefined;
    if (this.quirks.has('f42x-dfu-bank2-erase-broken') && this.chip.bankMode === 'dual' && sector.bank >= 2) {
      target = undefined;
      note = 'f42x-dfu-bank2-erase-broken: nothing erased';
    } else if (this.quirks.has('f76x-bl93-bank2-erase-offset') && sector.bank >= 2) {
      target = this.chip.sectors.find((s) => s.bank === sector.bank && s.sector === sector.sector + 4);
      note = `f76x-bl93-bank2-erase-offset: ${target === undefined ? 'nothing' : `bank ${target.bank} sector ${target.sector}`} erased`;
    }
    if (target !== undefined) {
      const f = this.eraseFault(target);
      if (f !== undefined) {
        this.useFault(f);
        return mk('errERASE', duration, { sector: target.index, note: 'injected erase failure' });
      }
      if (this.writeProtected(target.start)) note = 'write-protected: erase skipped without error (AN2662)';
      else this.doErase(target);
    }
    const after: After = this.hangRange('h7-revV-bank2-erase-hang', sector.start, sector.end) ? 'wedge' : 'sync';
    return mk('OK', duration, { sector: sector.index, ...(note !== undefined ? { note } : {}) }, after);
  }

  private massEraseDuration(): number {
    const m = this.chip.timing.massEraseMs;
    if (this.quirks.has('f4-mass-erase-polltimeout')) return Math.ceil(m?.max ?? 32000);
    if (m !== undefined) return Math.ceil(m.typ);
    return this.chip.sectors.reduce((n, s) => n + this.eraseMs(s), 0);
  }

  private massErase(): Exec {
    const duration = this.massEraseDuration();
    const mk = (status: DfuStatusName, durationMs: number, note?: string): Exec => ({
      op: { kind: 'mass-erase', status, durationMs, reportedPollMs: this.reported('mass-erase', durationMs), ...(note !== undefined ? { note } : {}) },
      after: 'sync',
    });
    if (this.altKind() !== 'flash') return mk('errTARGET', 0, `alt ${this.alt} is not the flash alt`);
    if (this.memory.rdpLevel > 0) return mk('errVENDOR', 0, 'read protection active');
    for (const s of this.chip.sectors) {
      const f = this.eraseFault(s);
      if (f !== undefined) {
        this.useFault(f);
        return mk('errERASE', duration, `injected erase failure in sector ${s.index}`);
      }
    }
    let skipped = 0;
    for (const s of this.chip.sectors) {
      if (this.writeProtected(s.start)) skipped++;
      else this.doErase(s);
    }
    this.counters.massErases++;
    return mk('OK', duration, skipped > 0 ? `${skipped} write-protected sectors skipped` : undefined);
  }

  /** AN3156 §3 "Read unprotect": mass erase, option bytes back to RDP level 0, then a system reset (the device disconnects). */
  private readUnprotect(): Exec {
    const duration = this.massEraseDuration();
    for (const s of this.chip.sectors) this.doErase(s);
    this.counters.massErases++;
    this.memory.resetOptionBytes();
    return { op: { kind: 'read-unprotect', status: 'OK', durationMs: duration, reportedPollMs: this.reported('mass-erase', duration) }, after: 'disconnect' };
  }

  private write(addr: number, data0: Uint8Array): Exec {
    let data = data0;
    let note: string | undefined;
    let quirk: string | undefined;
    const mk = (status: DfuStatusName, durationMs: number, after: After = 'sync', kind: OperationRecord['kind'] = 'write'): Exec => ({
      op: {
        kind,
        status,
        durationMs,
        reportedPollMs: this.reported(kind, durationMs),
        address: addr,
        length: data0.length,
        ...(note !== undefined || quirk !== undefined ? { note: [quirk, note].filter((x) => x !== undefined).join(': ') } : {}),
      },
      after,
    });
    this.lastWriteAddress = addr;
    const kinds = this.altKinds(true)!;
    const pieces = this.memory.pieces(addr, data.length, kinds);
    const covered = pieces.length === 0 ? 0 : pieces[pieces.length - 1]!.end - addr;
    if (covered < data.length) {
      const bad = addr + covered;
      const any = this.memory.smallest(bad, undefined);
      note = `${hex32(bad)}: ${any === undefined ? 'no memory' : `${any.name} is not writable through alt ${this.alt}`}`;
      return mk(any !== undefined && (any.kind === 'system-memory' || any.kind === 'device-info') ? 'errWRITE' : 'errADDRESS', 0);
    }
    const blocked = this.inaccessibleQuirk(addr, addr + data.length);
    if (blocked !== undefined) {
      quirk = blocked;
      note = 'range reserved by the ROM';
      return mk('errADDRESS', 0);
    }
    const isOb = pieces.every((p) => p.region.kind === 'option-bytes');
    const rdp = this.memory.rdpLevel;
    if (isOb) {
      if (rdp === 2) {
        note = 'RDP level 2: option bytes are frozen';
        return mk('errVENDOR', 0, 'sync', 'option-bytes-write');
      }
      for (const p of pieces) p.region.data.set(data.subarray(p.start - addr, p.end - addr), p.start - p.region.start);
      this.counters.bytesWritten += data.length;
      let duration = 0;
      if (rdp > 0 && this.memory.rdpLevel === 0) {
        // RDP regression to level 0 mass-erases the flash (reference manuals, "Read protection").
        for (const s of this.chip.sectors) this.doErase(s);
        this.counters.massErases++;
        duration = this.massEraseDuration();
        note = 'RDP regression: flash mass-erased';
      }
      // The ROM applies option bytes with OBL_LAUNCH: a system reset (dfu-util `:will-reset`).
      return mk('OK', duration, 'disconnect', 'option-bytes-write');
    }
    if (rdp > 0) {
      note = 'read protection active';
      return mk('errVENDOR', 0);
    }
    const nor = pieces.some((p) => p.region.kind === 'flash' || p.region.kind === 'otp');
    if (nor && addr % this.chip.bootloaderWriteAlignment !== 0) {
      note = `write address not ${this.chip.bootloaderWriteAlignment}-byte aligned (AN2606 Table 7)`;
      return mk('errADDRESS', 0);
    }
    if (nor && this.quirks.has('l47x-dfu-write-not-multiple-of-8') && data.length > 256 && data.length % 8 !== 0) {
      quirk = 'l47x-dfu-write-not-multiple-of-8';
      note = `last ${data.length % 8} bytes lost`;
      data = data.subarray(0, data.length - (data.length % 8));
    }
    const fault = this.faults.find(
      (f): f is Extract<Fault, { kind: 'program-fail' }> => f.kind === 'program-fail' && f.address >= addr && f.address < addr + data.length && this.faultUsable(f),
    );
    let units = 0;
    let status: DfuStatusName = 'OK';
    for (const p of pieces) {
      if (p.start >= addr + data.length) break;
      const pieceData = data.subarray(p.start - addr, Math.min(p.end, addr + data.length) - addr);
      if (pieceData.length === 0) continue;
      if (p.region.kind === 'flash' || p.region.kind === 'otp') {
        const res = programNor(p.region, p.start, pieceData, {
          unit: this.chip.programUnit,
          partial: this.partial,
          over: this.over,
          erased: this.memory.erased,
          failAt: fault !== undefined ? { address: fault.address, status: fault.status ?? 'errPROG' } : undefined,
          isProtected: p.region.kind === 'flash' ? (a) => this.writeProtected(a) : undefined,
          isDropped: p.region.kind === 'flash' ? (a) => this.programDropped(a) : undefined,
        });
        units += res.units;
        for (const r of res.runs) {
          this.counters.bytesWritten += r.end - r.start;
          if (p.region.kind === 'flash') this.opts.onFlashWrite?.(r.start, p.region.data.slice(r.start - p.region.start, r.end - p.region.start));
        }
        if (res.lostBytes > 0) note = `${res.lostBytes} bytes of partial program units not programmed`;
        if (res.status !== 'OK') {
          status = res.status;
          if (res.stoppedAt !== undefined) note = `stopped at ${hex32(res.stoppedAt)}${note !== undefined ? `; ${note}` : ''}`;
          if (status !== 'errVERIFY') break;
        }
      } else {
        p.region.data.set(pieceData, p.start - p.region.start);
        this.counters.bytesWritten += pieceData.length;
      }
    }
    if (fault !== undefined && status !== 'OK') this.useFault(fault);
    if (this.programDropped(addr)) note = `injected program drop: acknowledged, nothing stored${note !== undefined ? `; ${note}` : ''}`;
    const duration = Math.ceil((units * this.chip.timing.programUs.typ) / 1000);
    const wedge = status === 'OK' && this.hangRange('h7-revV-bank2-write-hang', addr, addr + data.length);
    return mk(status, duration, wedge ? 'wedge' : 'sync');
  }

  // ---------------------------------------------------------------------------------------------------
  // Backdoors

  rdpLevel(): RdpLevel {
    return this.memory.rdpLevel;
  }
}
