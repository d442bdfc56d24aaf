/**
 * A bare DFU host for the emulator tests: one method per request, over the DfuTransport interface the host
 * stack uses (open, claim, SET_INTERFACE, class requests to interface 0). No retries, no waits: the tests
 * decide every step.
 */
import { DFU_REQUEST, DFUSE_COMMAND, dfuStateName, dfuStatusName, type DfuStateName, type DfuStatusName } from '../../src/dfu/constants.ts';
import type { DfuTransport, UsbControlTransferParameters } from '../../src/dfu/transport.ts';
import { createRomEmulator, type RomEmulator, type RomEmulatorOptions } from '../../src/emulator/index.ts';

export interface StatusReply {
  status: DfuStatusName;
  pollMs: number;
  state: DfuStateName;
}

export type Reply<T> = T | 'stall';

const CLASS: Omit<UsbControlTransferParameters, 'request' | 'value'> = { requestType: 'class', recipient: 'interface', index: 0 };

export function le32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

export class Host {
  constructor(
    readonly emu: RomEmulator,
    public dev: DfuTransport = emu.device,
  ) {}

  async open(alt = 0): Promise<this> {
    await this.dev.open();
    await this.dev.claimInterface(0);
    if (alt !== 0) await this.dev.selectAlternateInterface(0, alt);
    return this;
  }

  /** After reconnect(): the new device instance, opened and claimed. */
  async reopen(alt = 0): Promise<this> {
    this.dev = this.emu.reconnect();
    return this.open(alt);
  }

  async out(request: number, value: number, data: Uint8Array = new Uint8Array(0)): Promise<Reply<'ok'>> {
    const r = await this.dev.controlTransferOut({ ...CLASS, request, value }, new Uint8Array(data));
    return r.status === 'ok' ? 'ok' : 'stall';
  }

  async in(request: number, value: number, length: number): Promise<Reply<Uint8Array>> {
    const r = await this.dev.controlTransferIn({ ...CLASS, request, value }, length);
    if (r.status !== 'ok') return 'stall';
    return new Uint8Array(r.data!.buffer, r.data!.byteOffset, r.data!.byteLength);
  }

  async getStatus(): Promise<Reply<StatusReply>> {
    const b = await this.in(DFU_REQUEST.GETSTATUS, 0, 6);
    if (b === 'stall') return 'stall';
    return { status: dfuStatusName(b[0]!)!, pollMs: b[1]! | (b[2]! << 8) | (b[3]! << 16), state: dfuStateName(b[4]!)! };
  }

  async getState(): Promise<Reply<DfuStateName>> {
    const b = await this.in(DFU_REQUEST.GETSTATE, 0, 1);
    return b === 'stall' ? 'stall' : dfuStateName(b[0]!)!;
  }

  dnload(block: number, data: Uint8Array | number[]): Promise<Reply<'ok'>> {
    return this.out(DFU_REQUEST.DNLOAD, block, data instanceof Uint8Array ? data : Uint8Array.from(data));
  }

  upload(block: number, length: number): Promise<Reply<Uint8Array>> {
    return this.in(DFU_REQUEST.UPLOAD, block, length);
  }

  clrStatus(): Promise<Reply<'ok'>> {
    return this.out(DFU_REQUEST.CLRSTATUS, 0);
  }

  abort(): Promise<Reply<'ok'>> {
    return this.out(DFU_REQUEST.ABORT, 0);
  }

  detach(): Promise<Reply<'ok'>> {
    return this.out(DFU_REQUEST.DETACH, 255);
  }

  /**
   * A DfuSe command or data block the way dfu-util does it: DNLOAD, GETSTATUS (must be dfuDNBUSY), sleep
   * bwPollTimeout on the virtual clock, GETSTATUS. Returns the final status reply.
   */
  async run(block: number, data: Uint8Array | number[]): Promise<StatusReply> {
    const d = await this.dnload(block, data);
    if (d !== 'ok') throw new Error(`DNLOAD ${block} stalled in ${this.emu.state}`);
    const busy = await this.getStatus();
    if (busy === 'stall' || busy.state !== 'dfuDNBUSY') throw new Error(`first GETSTATUS: ${JSON.stringify(busy)}`);
    // dfu-util (dfuse.c): a STALLed GETSTATUS (L4 ROMs) is retried up to 3 times after the last poll timeout.
    for (let stalls = 0; ; stalls++) {
      await this.emu.sleep(busy.pollMs);
      const done = await this.getStatus();
      if (done !== 'stall') return done;
      if (stalls === 3) throw new Error('GETSTATUS stalled 4 times');
    }
  }

  setAddress(addr: number): Promise<StatusReply> {
    return this.run(0, [DFUSE_COMMAND.SET_ADDRESS_POINTER, ...le32(addr)]);
  }

  erase(addr: number): Promise<StatusReply> {
    return this.run(0, [DFUSE_COMMAND.ERASE, ...le32(addr)]);
  }

  massErase(): Promise<StatusReply> {
    return this.run(0, [DFUSE_COMMAND.ERASE]);
  }

  write(block: number, data: Uint8Array): Promise<StatusReply> {
    return this.run(block, data);
  }

  /** CLRSTATUS if in dfuERROR, ABORT if in an idle state: back to dfuIDLE. */
  async toIdle(): Promise<void> {
    const s = await this.getStatus();
    if (s === 'stall') throw new Error('GETSTATUS stalled');
    if (s.state === 'dfuERROR') await this.clrStatus();
    else if (s.state !== 'dfuIDLE') await this.abort();
  }

  /** SET_ADDRESS, ABORT to idle, UPLOAD blocks from 2 (dfu-util -U). */
  async read(addr: number, length: number): Promise<Uint8Array> {
    const s = await this.setAddress(addr);
    if (s.status !== 'OK') throw new Error(`set address ${addr.toString(16)}: ${s.status}`);
    await this.abort();
    const ts = this.emu.chip.dfu.wTransferSize;
    const out = new Uint8Array(length);
    for (let off = 0, block = 2; off < length; off += ts, block++) {
      const b = await this.upload(block, Math.min(ts, length - off));
      if (b === 'stall') throw new Error(`UPLOAD ${block} stalled`);
      out.set(b, off);
    }
    await this.abort();
    return out;
  }
}

export async function openHost(opts: RomEmulatorOptions, alt = 0): Promise<Host> {
  return new Host(createRomEmulator(opts)).open(alt);
}

export function pattern(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
