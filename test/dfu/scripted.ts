/**
 * A scripted DfuTransport for protocol unit tests: every class request is answered by the next entry of a
 * script (or a handler), and every request is recorded. The real device model is the emulator; this is for
 * exact sequences (what the host sends in reply to which status).
 */
import { TransportError, type DfuTransport, type UsbControlTransferParameters, type UsbInTransferResult, type UsbOutTransferResult } from '../../src/dfu/transport.ts';
import { requestName } from '../../src/dfu/names.ts';

export interface Sent {
  readonly request: string;
  readonly value: number;
  readonly data?: number[];
  readonly length?: number;
}

export type Answer =
  | { status: 'stall' }
  | { status: 'ok'; data?: number[] }
  | { throws: 'disconnected' | 'timeout' };

/** GETSTATUS payload: bStatus, bwPollTimeout (24-bit), bState, iString. */
export function statusBytes(state: number, status = 0, pollMs = 0): number[] {
  return [status, pollMs & 0xff, (pollMs >> 8) & 0xff, (pollMs >> 16) & 0xff, state, 0];
}

export class ScriptedTransport implements DfuTransport {
  readonly vendorId = 0x0483;
  readonly productId = 0xdf11;
  readonly deviceVersionMajor = 2;
  readonly deviceVersionMinor = 0;
  readonly deviceVersionSubminor = 0;
  readonly configuration = {
    configurationValue: 1,
    interfaces: [{ interfaceNumber: 0, alternates: [{ alternateSetting: 0, interfaceClass: 0xfe, interfaceSubclass: 1, interfaceProtocol: 2, interfaceName: '@Internal Flash   /0x08000000/16*128Kg' }] }],
  };
  opened = true;
  readonly sent: Sent[] = [];
  private readonly script: Answer[];

  constructor(script: Answer[] = []) {
    this.script = [...script];
  }

  push(...a: Answer[]): void {
    this.script.push(...a);
  }

  get remaining(): number {
    return this.script.length;
  }

  private next(): Exclude<Answer, { throws: unknown }> {
    const a = this.script.shift();
    if (a === undefined) throw new Error(`script exhausted after ${this.sent.map((s) => s.request).join(', ')}`);
    if ('throws' in a) throw new TransportError(a.throws, `scripted ${a.throws}`);
    return a;
  }

  async open(): Promise<void> {}
  async close(): Promise<void> {}
  async selectConfiguration(): Promise<void> {}
  async claimInterface(): Promise<void> {}
  async releaseInterface(): Promise<void> {}
  async selectAlternateInterface(): Promise<void> {}
  async reset(): Promise<void> {}

  async controlTransferIn(setup: UsbControlTransferParameters, length: number): Promise<UsbInTransferResult> {
    this.sent.push({ request: setup.requestType === 'class' ? requestName(setup.request) : `STD_${setup.request}`, value: setup.value, length });
    const a = this.next();
    if (a.status === 'stall') return { status: 'stall' };
    const bytes = new Uint8Array('data' in a ? (a.data ?? []) : []);
    return { status: 'ok', data: new DataView(bytes.buffer) };
  }

  async controlTransferOut(setup: UsbControlTransferParameters, data?: BufferSource): Promise<UsbOutTransferResult> {
    const bytes = data === undefined ? [] : [...new Uint8Array(data instanceof ArrayBuffer ? data : data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength))];
    this.sent.push({ request: requestName(setup.request), value: setup.value, ...(bytes.length > 0 ? { data: bytes } : {}) });
    const a = this.next();
    if (a.status === 'stall') return { status: 'stall', bytesWritten: 0 };
    return { status: 'ok', bytesWritten: bytes.length };
  }
}

/** A clock whose sleep advances time at once, recording each sleep. */
export function virtualClock(): { now(): number; sleep(ms: number): Promise<void>; sleeps: number[] } {
  let t = 0;
  const sleeps: number[] = [];
  return {
    now: () => t,
    sleep: async (ms) => {
      sleeps.push(ms);
      t += ms;
    },
    sleeps,
  };
}
