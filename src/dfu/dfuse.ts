/**
 * ST's DfuSe extensions to DFU 1.1 (AN3156 "USB DFU protocol used in the STM32 bootloader" §3-§6; the same in
 * AN2662 §4.4-4.5 and ST's `usbd_dfu.c`): commands are DNLOAD with wBlockNum 0 whose first byte names them
 * (0x21 Set Address Pointer, 0x41 Erase, 0x92 Read Unprotect; UPLOAD block 0 = Get Commands), and data blocks
 * are DNLOAD/UPLOAD with wBlockNum ≥ 2 at address = pointer + (wBlockNum − 2) × wTransferSize.
 *
 * We send one SET_ADDRESS per contiguous run and then incrementing block numbers, as fwupd and ST's DfuSe Demo
 * do: three requests per block (DNLOAD, GETSTATUS dfuDNBUSY, GETSTATUS dfuDNLOAD-IDLE) where dfu-util spends
 * six (SET_ADDRESS + its two GETSTATUS before every block; dfu-protocol.md §1b, §4).
 *
 * ROM quirk recoveries live here (DESIGN.md): the H74x/H75x rev V bank-2 erase that never leaves dfuDNBUSY
 * (§2.5 Q1) is ended with the CLRSTATUS pair CubeProgrammer ≥ 2.2.1 and Betaflight use, and reported to the
 * caller so it can check the sector by read-back; the same wedge after a data block is recovered the same way
 * and reported for a read-back of the block. Both are switches in `DfuProtocol.recoveries` (quirks.ts).
 */
import { hex32 } from '../core/format.ts';
import { DFUSE_COMMAND, DFUSE_FIRST_DATA_BLOCK, dfuseBlockAddress } from './constants.ts';
import { DfuError, stateError, statusError, transportError, type DfuContext } from './errors.ts';
import { WEDGE_MIN_BUSY_POLLS } from './quirks.ts';
import {
  dfuDNBUSY,
  dfuDNLOAD_IDLE,
  dfuERROR,
  dfuIDLE,
  dfuMANIFEST,
  dfuMANIFEST_SYNC,
  dfuMANIFEST_WAIT_RESET,
  OK,
  type DfuProtocol,
  type DfuStatus,
  type PollOptions,
} from './protocol.ts';

/** DfuSe command bytes (AN3156 §4-§6), from the shared table (constants.ts). */
export const DFUSE_GET_COMMANDS = DFUSE_COMMAND.GET_COMMANDS;
export const DFUSE_SET_ADDRESS = DFUSE_COMMAND.SET_ADDRESS_POINTER;
export const DFUSE_ERASE = DFUSE_COMMAND.ERASE;
export const DFUSE_READ_UNPROTECT = DFUSE_COMMAND.READ_UNPROTECT;

/** wBlockNum of the first data block after SET_ADDRESS (0 = command, 1 = reserved: AN3156 §3). */
export const FIRST_DATA_BLOCK = DFUSE_FIRST_DATA_BLOCK;
export const MAX_BLOCK = 0xffff;

/** Address of data block `block` after SET_ADDRESS(`pointer`) (AN3156 §5.1, "Write memory"). */
export function blockAddress(pointer: number, block: number, transferSize: number): number {
  return dfuseBlockAddress(pointer, block, transferSize);
}

/** The block number that writes/reads `addr` after SET_ADDRESS(`pointer`); `addr − pointer` must be a multiple of wTransferSize. */
export function blockNumber(pointer: number, addr: number, transferSize: number): number {
  return FIRST_DATA_BLOCK + (addr - pointer) / transferSize;
}

/** Bytes one SET_ADDRESS can reach with incrementing wBlockNum (2..0xFFFF). */
export function reachOfPointer(transferSize: number): number {
  return (MAX_BLOCK - FIRST_DATA_BLOCK + 1) * transferSize;
}

function command(code: number, addr?: number): Uint8Array {
  if (addr === undefined) return new Uint8Array([code]);
  const b = new Uint8Array(5);
  b[0] = code;
  new DataView(b.buffer).setUint32(1, addr >>> 0, true);
  return b;
}

export interface DfuseTimeouts {
  /** Deadline for SET_ADDRESS and other quick commands. */
  readonly commandMs: number;
  /** Deadline for one data block. */
  readonly blockMs: number;
  /** Deadline for one sector erase of `size` bytes. */
  sectorEraseMs(size: number): number;
  readonly massEraseMs: number;
  /** Longest single sleep. */
  readonly pollCapMs: number;
}

export const DEFAULT_TIMEOUTS: DfuseTimeouts = {
  commandMs: 5000,
  blockMs: 5000,
  sectorEraseMs: () => 10_000,
  // dfu-util and fwupd allow a mass erase 35 s (F405 reports 100 ms: §2.5 Q3).
  massEraseMs: 35_000,
  pollCapMs: 5000,
};

export type EraseOutcome = 'erased' | 'recovered-q1';
export type WriteOutcome = 'written' | 'recovered-q1';

export type LeaveOutcome =
  /** GETSTATUS answered dfuMANIFEST / dfuMANIFEST-WAIT-RESET: the ROM is jumping. */
  | 'manifest'
  /** The device vanished after the leave request: it jumped (dfu-protocol.md §3 item 2: this is success). */
  | 'disconnected'
  /** The device answered dfuIDLE (manifestation tolerant) and stays. */
  | 'idle';

/** DfuSe commands and block transfers on one DFU interface (the alt already selected). */
export class DfuseDevice {
  readonly dfu: DfuProtocol;
  /** Largest DNLOAD/UPLOAD this host sends. */
  readonly transferSize: number;
  /**
   * The wTransferSize the device multiplies wBlockNum by: its descriptor value (ST's stack uses the constant,
   * not the request's wLength: dfu-protocol.md §2.3). When the host transfers less (dfu-util -t), incrementing
   * block numbers would land at the wrong addresses, so every block gets its own SET_ADDRESS and wBlockNum 2.
   */
  readonly blockStride: number;
  readonly timeouts: DfuseTimeouts;

  constructor(dfu: DfuProtocol, transferSize: number, timeouts: DfuseTimeouts = DEFAULT_TIMEOUTS, blockStride = transferSize) {
    this.dfu = dfu;
    this.transferSize = transferSize;
    this.timeouts = timeouts;
    this.blockStride = blockStride;
  }

  /** True when blocks cannot be addressed by incrementing wBlockNum (transfer size ≠ the device's stride). */
  get addressPerBlock(): boolean {
    return this.transferSize !== this.blockStride;
  }

  private poll(deadlineMs: number): PollOptions {
    return { deadlineMs, pollCapMs: this.timeouts.pollCapMs };
  }

  /** Set Address Pointer (0x21): where the next blocks and the leave jump go (AN3156 §6.1). */
  async setAddress(addr: number, operation = 'set address'): Promise<void> {
    await this.dfu.dnloadAndWait(0, command(DFUSE_SET_ADDRESS, addr), { operation, address: addr }, this.poll(this.timeouts.commandMs));
  }

  /**
   * Erase (0x41 + address): the sector containing `addr` (AN3156 §6.2). Returns `recovered-q1` when the ROM
   * stayed in dfuDNBUSY past the deadline and the CLRSTATUS pair brought it back (H7 rev V bank 2, §2.5 Q1):
   * the erase has completed on those parts, but the caller should check by read-back.
   */
  async eraseSector(addr: number, sectorSize: number): Promise<EraseOutcome> {
    const ctx: DfuContext = { operation: 'erase', address: addr };
    const rec = this.dfu.recoveries.wedgedBusyErase;
    try {
      await this.dfu.dnloadAndWait(0, command(DFUSE_ERASE, addr), ctx, { ...this.poll(this.timeouts.sectorEraseMs(sectorSize)), ...(rec ? { minBusyPolls: WEDGE_MIN_BUSY_POLLS } : {}) });
      return 'erased';
    } catch (e) {
      if (!rec || !(e instanceof DfuError) || e.code !== 'DFU_TIMEOUT' || this.dfu.lastStatus?.state !== dfuDNBUSY) throw e;
      await this.clearWedgedBusy(ctx, e);
      this.dfu.noteRecovery({ recovery: 'wedgedBusyErase', ref: 'Q1', operation: 'erase', address: addr, message: `dfuDNBUSY past the deadline; cleared with CLRSTATUS x2` });
      return 'recovered-q1';
    }
  }

  /**
   * §2.5 Q1: a ROM that answers (OK, dfuDNBUSY, 1000 ms) forever after a bank-2 erase. CLRSTATUS moves it to
   * (errUNKNOWN, dfuERROR), a second CLRSTATUS to (OK, dfuIDLE). Anything else rethrows the timeout.
   */
  private async clearWedgedBusy(ctx: DfuContext, timeout: DfuError): Promise<void> {
    const q1 = { ...ctx, operation: `${ctx.operation} (dfuDNBUSY recovery)` };
    for (let i = 0; i < 2; i++) {
      try {
        await this.dfu.clrStatus(q1);
      } catch {
        throw timeout;
      }
      const s = await this.dfu.getStatus(q1);
      if (s.state === dfuIDLE && s.status === OK) return;
      if (s.state !== dfuERROR) break;
    }
    throw timeout;
  }

  /** Mass erase (0x41 alone, AN3156 §6.2). The F405 ROM reports 100 ms for ~30 s of work (§2.5 Q3): the deadline is long. */
  async massErase(): Promise<void> {
    await this.dfu.dnloadAndWait(0, command(DFUSE_ERASE), { operation: 'mass erase' }, this.poll(this.timeouts.massEraseMs));
  }

  /**
   * Read Unprotect (0x92, AN3156 §6.3): the ROM answers dfuDNBUSY, mass-erases, clears RDP, resets and
   * disconnects; there is no second status. A disconnect is the expected outcome.
   */
  async readUnprotect(): Promise<'disconnected' | 'busy'> {
    const ctx = { operation: 'read unprotect' };
    await this.dfu.dnload(0, command(DFUSE_READ_UNPROTECT), ctx);
    try {
      const s = await this.dfu.getStatus(ctx);
      if (s.state === dfuERROR) throw statusError(ctx, 'DNLOAD 0x92', s.state, s.status);
      return 'busy';
    } catch (e) {
      if (e instanceof DfuError && e.code === 'DFU_DISCONNECTED') return 'disconnected';
      throw e;
    }
  }

  /**
   * Option-byte write (AN3156 §5.1 on the option-bytes alt; dfu-util `:will-reset`): SET_ADDRESS, one DNLOAD of
   * the whole image, GETSTATUS. The ROM answers dfuDNBUSY, programs the option bytes and resets (OBL_LAUNCH):
   * the device vanishing is the expected outcome (`reset`). A ROM that stays answers dfuDNLOAD-IDLE (`stayed`).
   */
  async writeOptionBytes(address: number, data: Uint8Array): Promise<'reset' | 'stayed'> {
    const ctx: DfuContext = { operation: 'option-byte write', address };
    await this.setAddress(address, 'option-byte write');
    await this.dfu.dnload(FIRST_DATA_BLOCK, data, { ...ctx, block: FIRST_DATA_BLOCK });
    try {
      for (let i = 0; i < 50; i++) {
        const s = await this.dfu.getStatus(ctx);
        if (s.state === dfuERROR || s.status !== OK) throw statusError(ctx, 'DNLOAD (option bytes)', s.state, s.status);
        if (s.state === dfuDNLOAD_IDLE || s.state === dfuIDLE) return 'stayed';
        await this.dfu.clock.sleep(Math.max(1, Math.min(s.pollTimeout, this.timeouts.pollCapMs)));
      }
      return 'stayed';
    } catch (e) {
      if (e instanceof DfuError && (e.code === 'DFU_DISCONNECTED' || e.code === 'DFU_TRANSPORT')) return 'reset';
      throw e;
    }
  }

  /** Get Commands (UPLOAD block 0 in dfuIDLE, AN3156 §4.1): the command bytes the ROM supports. */
  async getCommands(): Promise<number[]> {
    const ctx = { operation: 'get commands' };
    await this.dfu.recoverToIdle(ctx);
    const b = await this.dfu.upload(0, this.transferSize, ctx);
    await this.dfu.abort(ctx);
    return [...b];
  }

  /**
   * One data block (wBlockNum ≥ 2) at pointer + (block − 2) × wTransferSize. Returns `recovered-q1` when the ROM
   * stayed in dfuDNBUSY after it (the rev V wedge after a bank-2 write) and the CLRSTATUS pair brought it back to
   * dfuIDLE: the caller must read the block back, and send SET_ADDRESS again before the next block.
   */
  async writeBlock(block: number, data: Uint8Array, address: number): Promise<WriteOutcome> {
    const ctx: DfuContext = { operation: 'write', address, block };
    const rec = this.dfu.recoveries.wedgedBusyWrite;
    try {
      await this.dfu.dnloadAndWait(block, data, ctx, { ...this.poll(this.timeouts.blockMs), ...(rec ? { minBusyPolls: WEDGE_MIN_BUSY_POLLS } : {}) });
      return 'written';
    } catch (e) {
      if (!rec || !(e instanceof DfuError) || e.code !== 'DFU_TIMEOUT' || this.dfu.lastStatus?.state !== dfuDNBUSY) throw e;
      await this.clearWedgedBusy(ctx, e);
      this.dfu.noteRecovery({ recovery: 'wedgedBusyWrite', ref: 'Q1', operation: 'write', address, message: `dfuDNBUSY past the deadline after a write; cleared with CLRSTATUS x2` });
      return 'recovered-q1';
    }
  }

  /**
   * Reads `size` bytes from `start` (AN3156 §5.2): SET_ADDRESS, ABORT to dfuIDLE (UPLOAD is valid in dfuIDLE
   * and dfuUPLOAD-IDLE only), UPLOAD blocks 2, 3, …, ABORT. One SET_ADDRESS reaches 65534 blocks; beyond that
   * a new one (and one per block when `addressPerBlock`). Spans layout segments and sectors (unlike dfu-util's `-U`, which stops at the end of one
   * segment: §3 item 8). `onBlock` gets the running byte count.
   */
  async read(start: number, size: number, operation = 'read', onBlock?: (done: number) => void, signal?: AbortSignal): Promise<Uint8Array> {
    const out = new Uint8Array(size);
    const xfer = this.transferSize;
    let pos = 0;
    while (pos < size) {
      const pointer = start + pos;
      await this.setAddress(pointer, operation);
      await this.dfu.abort({ operation, address: pointer });
      const lastBlock = this.addressPerBlock ? FIRST_DATA_BLOCK : MAX_BLOCK;
      for (let block = FIRST_DATA_BLOCK; pos < size && block <= lastBlock; block++) {
        if (signal?.aborted === true) break;
        const n = Math.min(xfer, size - pos);
        const addr = blockAddress(pointer, block, xfer);
        const data = await this.dfu.upload(block, n, { operation, address: addr, block });
        if (data.length < n) {
          throw new DfuError('DFU_LAYOUT', `${operation} at ${hex32(addr)}: the device returned ${data.length} of ${n} bytes (a short UPLOAD ends the memory: DFU 1.1 §6.2.2)`, {
            operation,
            address: addr,
            block,
            request: 'UPLOAD',
          });
        }
        out.set(data.subarray(0, n), pos);
        pos += n;
        onBlock?.(pos);
      }
      await this.dfu.abort({ operation, address: pointer });
      if (signal?.aborted === true) break;
    }
    return out;
  }

  /**
   * Leave DFU (AN3156 §6.1 / §5.1 note): SET_ADDRESS(`address`), then a zero-length DNLOAD (wBlockNum 2, as
   * dfu-util and fwupd send), then GETSTATUS. The ROM answers dfuMANIFEST and jumps to the vector table at the
   * address pointer, so the device vanishing at any point after the DNLOAD is success, not dfu-util's exit 74
   * (§3 item 2). The address is always set: without it the ROM jumps to the last written block (§3 item 14).
   */
  async leave(address: number): Promise<LeaveOutcome> {
    const ctx = { operation: 'leave', address };
    await this.setAddress(address, 'leave');
    try {
      await this.dfu.dnload(FIRST_DATA_BLOCK, new Uint8Array(0), ctx);
    } catch (e) {
      if (e instanceof DfuError && e.code === 'DFU_DISCONNECTED') return 'disconnected';
      throw e;
    }
    let s: DfuStatus | undefined;
    try {
      s = await this.dfu.getStatusOrStall(ctx);
    } catch (e) {
      if (e instanceof DfuError && (e.code === 'DFU_DISCONNECTED' || e.code === 'DFU_TRANSPORT')) return 'disconnected';
      throw transportError(ctx, 'GETSTATUS', e);
    }
    // A device that resets while answering may STALL the status stage: it has gone to the application.
    if (s === undefined) return 'disconnected';
    if (s.state === dfuMANIFEST || s.state === dfuMANIFEST_WAIT_RESET || s.state === dfuMANIFEST_SYNC) return 'manifest';
    if (s.state === dfuERROR || s.status !== OK) throw statusError(ctx, 'DNLOAD (leave)', s.state, s.status);
    if (s.state === dfuIDLE || s.state === dfuDNLOAD_IDLE) return 'idle';
    throw stateError(ctx, 'DNLOAD (leave)', s.state, s.status, 'dfuMANIFEST');
  }
}
