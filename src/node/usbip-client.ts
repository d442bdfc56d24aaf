/**
 * `--device usbip://HOST:PORT[/BUSID]`: a `DfuTransport` over a USB/IP connection (protocol:
 * src/usbip/protocol.ts), for a device another process exports: `dfukit emulate`, or the Linux usbip-host
 * stub (`usbipd`) exporting a real board.
 *
 * It does what vhci-hcd and libusb do between them, for endpoint 0 only:
 *  - without a BUSID, OP_REQ_DEVLIST on a first connection picks the device (the only one, else the first
 *    0483:DF11; several are an error naming them);
 *  - OP_REQ_IMPORT on a second connection, which then carries the URBs;
 *  - enumeration through ep0: device and configuration descriptors and the strings (LANGID list first, then
 *    manufacturer, product, serial and every interface string with the first LANGID), from which `configuration`
 *    (with the DfuSe layout strings as `interfaceName`) is built, as WebUSB's USBDevice shows it;
 *  - every control transfer is one CMD_SUBMIT; a reply with -EPIPE is a STALL (`status: 'stall'`); no reply
 *    within `timeoutMs` sends CMD_UNLINK and fails with TransportError 'timeout';
 *  - `reset()` is SetPortFeature(PORT_RESET), which usbip-host turns into a device reset;
 *  - the server closing the connection (the device left the bus, the emulator process died) fails the
 *    pending and every later request with TransportError 'disconnected'.
 * open, claim and release stay on this side, as libusb keeps them in the host.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { EXIT_USAGE, FwError } from '../core/errors.ts';
import {
  TransportError,
  type DfuTransport,
  type UsbAlternateInterface,
  type UsbConfiguration,
  type UsbControlTransferParameters,
  type UsbInterface,
  type UsbInTransferResult,
  type UsbOutTransferResult,
} from '../dfu/transport.ts';
import {
  decodeOpRepDevlist,
  decodeOpRepImport,
  decodeRetSubmit,
  devidOf,
  encodeCmdSubmit,
  encodeCmdUnlink,
  encodeOpReqDevlist,
  encodeOpReqImport,
  opRepDevlistLength,
  opRepImportLength,
  PORT_RESET_SETUP,
  retLength,
  URB_STATUS,
  urbCommand,
  USBIP_DEFAULT_PORT,
  USBIP_DIR_IN,
  USBIP_DIR_OUT,
  USBIP_RET_SUBMIT,
  type UsbipDeviceRecord,
  type UsbSetup,
} from '../usbip/protocol.ts';

export interface UsbipSpec {
  readonly host: string;
  readonly port: number;
  readonly busid?: string;
}

/** `usbip://127.0.0.1:3240/1-1` (port default 3240, BUSID optional; IPv6 as `[::1]`). */
export function parseUsbipUrl(text: string): UsbipSpec {
  const m = /^usbip:\/\/(?:\[([^\]]+)\]|([^:/[\]]+))(?::(\d{1,5}))?(?:\/([^/\s]*))?$/i.exec(text.trim());
  if (m === null) throw new FwError('DEVICE_SPEC', `--device '${text}': expected usbip://HOST:PORT[/BUSID], e.g. usbip://127.0.0.1:3240 or usbip://127.0.0.1:3240/1-1`, {}, EXIT_USAGE);
  const port = m[3] !== undefined ? Number(m[3]) : USBIP_DEFAULT_PORT;
  if (port < 1 || port > 65535) throw new FwError('DEVICE_SPEC', `--device '${text}': port ${port} is not 1..65535`, {}, EXIT_USAGE);
  const busid = m[4] !== undefined && m[4] !== '' ? m[4] : undefined;
  return { host: m[1] ?? m[2]!, port, ...(busid !== undefined ? { busid } : {}) };
}

export function formatUsbipUrl(s: UsbipSpec, busid = s.busid): string {
  const host = s.host.includes(':') ? `[${s.host}]` : s.host;
  return `usbip://${host}:${s.port}${busid !== undefined ? `/${busid}` : ''}`;
}

const DEFAULT_TIMEOUT_MS = 10_000;

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}

/** A TCP connection that hands out whole messages as they complete. */
class Wire {
  private buf = new Uint8Array(0);
  private waiter: (() => void) | undefined;
  private ended: Error | undefined;
  onFrame: ((msg: Uint8Array) => void) | undefined;
  frameLength: ((b: Uint8Array) => number | undefined) | undefined;
  onClose: ((why: Error) => void) | undefined;

  private constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      const joined = new Uint8Array(this.buf.length + chunk.length);
      joined.set(this.buf);
      joined.set(chunk, this.buf.length);
      this.buf = joined;
      this.pump();
    });
    const end = (why: Error): void => {
      if (this.ended !== undefined) return;
      this.ended = why;
      this.waiter?.();
      this.onClose?.(why);
    };
    socket.on('error', (e) => end(e));
    socket.on('close', () => end(new Error('the server closed the connection')));
  }

  static open(spec: UsbipSpec, timeoutMs: number): Promise<Wire> {
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host: spec.host, port: spec.port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new TransportError('io', `no answer from a USB/IP server at ${spec.host}:${spec.port} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new Wire(socket));
      });
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(new TransportError('io', `cannot reach a USB/IP server at ${spec.host}:${spec.port} (${(e as NodeJS.ErrnoException).code ?? e.message}): is \`dfukit emulate\` or usbipd running there?`));
      });
    });
  }

  private pump(): void {
    if (this.frameLength === undefined || this.onFrame === undefined) {
      this.waiter?.();
      return;
    }
    for (;;) {
      const n = this.frameLength(this.buf);
      if (n === undefined || this.buf.length < n) return;
      const msg = this.buf.slice(0, n);
      this.buf = this.buf.slice(n);
      this.onFrame(msg);
    }
  }

  /** The next message whose length `length` tells (before URB mode). */
  read(length: (b: Uint8Array) => number | undefined, timeoutMs: number, what: string): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new TransportError('timeout', `${what}: no complete answer within ${timeoutMs} ms`));
      }, timeoutMs);
      const check = (): void => {
        const n = length(this.buf);
        if (n !== undefined && this.buf.length >= n) {
          clearTimeout(timer);
          this.waiter = undefined;
          const msg = this.buf.slice(0, n);
          this.buf = this.buf.slice(n);
          resolve(msg);
        } else if (this.ended !== undefined) {
          clearTimeout(timer);
          this.waiter = undefined;
          reject(new TransportError('disconnected', `${what}: ${this.ended.message}`));
        }
      };
      this.waiter = check;
      check();
    });
  }

  /** Switch to URB mode: every complete message goes to `onFrame`. */
  stream(frameLength: (b: Uint8Array) => number | undefined, onFrame: (msg: Uint8Array) => void, onClose: (why: Error) => void): void {
    this.frameLength = frameLength;
    this.onFrame = onFrame;
    this.onClose = onClose;
    if (this.ended !== undefined) onClose(this.ended);
    else this.pump();
  }

  write(b: Uint8Array): void {
    this.socket.write(b);
  }

  get closed(): boolean {
    return this.ended !== undefined;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** The devices a USB/IP server exports (OP_REQ_DEVLIST). */
export async function listUsbipDevices(spec: UsbipSpec, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<UsbipDeviceRecord[]> {
  const w = await Wire.open(spec, timeoutMs);
  try {
    w.write(encodeOpReqDevlist());
    return decodeOpRepDevlist(await w.read(opRepDevlistLength, timeoutMs, `${formatUsbipUrl(spec)}: OP_REQ_DEVLIST`));
  } finally {
    w.destroy();
  }
}

interface Pending {
  readonly dirIn: boolean;
  settle?: ((r: { status: number; data: Uint8Array }) => void) | undefined;
  fail?: ((e: Error) => void) | undefined;
  timer?: ReturnType<typeof setTimeout>;
}

const TYPE_BITS = { standard: 0, class: 1, vendor: 2 } as const;
const RECIPIENT_BITS = { device: 0, interface: 1, endpoint: 2, other: 3 } as const;

function toBytes(data: BufferSource | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  if (data instanceof ArrayBuffer) return new Uint8Array(data.slice(0));
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
}

function utf16le(b: Uint8Array): string {
  let s = '';
  for (let i = 2; i + 1 < b.length && i + 1 < b[0]!; i += 2) s += String.fromCharCode(b[i]! | (b[i + 1]! << 8));
  return s;
}

export interface UsbipTransportOptions {
  /** Per control transfer and per connection step. Default 10 s (the emulator answers at once; a real device behind usbipd may NAK for seconds). */
  timeoutMs?: number;
}

export class UsbipTransport implements DfuTransport {
  readonly spec: UsbipSpec;
  private readonly timeoutMs: number;
  private wire: Wire | undefined;
  private gone: Error | undefined;
  private attaching: Promise<void> | undefined;
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  private isOpen = false;
  private readonly claimed = new Set<number>();
  /** Set by the import. */
  record: UsbipDeviceRecord | undefined;
  deviceDescriptor: Uint8Array | undefined;
  configDescriptor: Uint8Array | undefined;
  /** String descriptors by index, decoded. */
  readonly strings = new Map<number, string>();
  configuration: UsbConfiguration | null = null;
  serialNumber: string | undefined;
  productName: string | undefined;
  manufacturerName: string | undefined;

  constructor(spec: UsbipSpec, opts: UsbipTransportOptions = {}) {
    this.spec = spec;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  get url(): string {
    return formatUsbipUrl(this.spec, this.record?.busid ?? this.spec.busid);
  }

  get vendorId(): number {
    return this.record?.idVendor ?? 0;
  }
  get productId(): number {
    return this.record?.idProduct ?? 0;
  }
  get deviceVersionMajor(): number {
    return (this.record?.bcdDevice ?? 0) >> 8;
  }
  get deviceVersionMinor(): number {
    return ((this.record?.bcdDevice ?? 0) >> 4) & 0xf;
  }
  get deviceVersionSubminor(): number {
    return (this.record?.bcdDevice ?? 0) & 0xf;
  }
  get opened(): boolean {
    return this.isOpen && this.wire !== undefined && this.gone === undefined;
  }
  /** True once the import connection has closed (the device left the bus, the server went away). */
  get disconnected(): boolean {
    return this.gone !== undefined;
  }

  /** DEVLIST (without a BUSID) and IMPORT, then the descriptors and strings. Called by `open()`; idempotent. */
  attach(): Promise<void> {
    this.attaching ??= this.doAttach();
    return this.attaching;
  }

  private async doAttach(): Promise<void> {
    let busid = this.spec.busid;
    if (busid === undefined) {
      const devs = await listUsbipDevices(this.spec, this.timeoutMs);
      if (devs.length === 0) throw new TransportError('io', `${formatUsbipUrl(this.spec)} exports no device (is the emulated device between enumerations, or not attached?)`);
      const dfu = devs.filter((d) => d.idVendor === 0x0483 && d.idProduct === 0xdf11);
      const pick = devs.length === 1 ? devs : dfu;
      if (pick.length !== 1) {
        throw new TransportError('io', `${formatUsbipUrl(this.spec)} exports ${devs.length} devices (${devs.map((d) => `${d.busid} ${hex4(d.idVendor)}:${hex4(d.idProduct)}`).join(', ')}): name one as usbip://HOST:PORT/BUSID`);
      }
      busid = pick[0]!.busid;
    }
    const w = await Wire.open(this.spec, this.timeoutMs);
    try {
      w.write(encodeOpReqImport(busid));
      const rec = decodeOpRepImport(await w.read(opRepImportLength, this.timeoutMs, `${formatUsbipUrl(this.spec, busid)}: OP_REQ_IMPORT`));
      if (rec === undefined) throw new TransportError('io', `${formatUsbipUrl(this.spec, busid)}: the server refused to import busid ${busid} (no such device, or it is between enumerations)`);
      this.record = rec;
    } catch (e) {
      w.destroy();
      throw e;
    }
    this.wire = w;
    w.stream(
      (b) => retLength(b, (seq) => this.pending.get(seq)?.dirIn ?? false),
      (msg) => this.onReply(msg),
      (why) => this.onGone(why),
    );
    await this.enumerate();
  }

  private onGone(why: Error): void {
    if (this.gone !== undefined) return;
    this.gone = new TransportError('disconnected', `${this.url}: the USB/IP connection closed (${why.message}): the device left the bus or its server stopped`);
    for (const [seq, p] of this.pending) {
      if (p.timer !== undefined) clearTimeout(p.timer);
      p.fail?.(this.gone);
      this.pending.delete(seq);
    }
  }

  private onReply(msg: Uint8Array): void {
    if (urbCommand(msg) !== USBIP_RET_SUBMIT) return; // RET_UNLINK: the URB was settled by its timeout already
    const seq = new DataView(msg.buffer, msg.byteOffset).getUint32(4);
    const p = this.pending.get(seq);
    if (p === undefined) return;
    this.pending.delete(seq);
    if (p.timer !== undefined) clearTimeout(p.timer);
    const r = decodeRetSubmit(msg, p.dirIn);
    p.settle?.({ status: r.status, data: r.data });
  }

  /** One URB on ep0. Resolves with the URB status and IN data; rejects with TransportError. */
  submit(setup: UsbSetup, out?: Uint8Array): Promise<{ status: number; data: Uint8Array }> {
    if (this.gone !== undefined) return Promise.reject(this.gone);
    const w = this.wire;
    if (w === undefined) return Promise.reject(new TransportError('io', `${this.url}: not connected (call open() first)`));
    const dirIn = (setup.bmRequestType & 0x80) !== 0;
    const seqnum = (this.seq = (this.seq + 1) >>> 0 || 1);
    const devid = devidOf(this.record!.busnum, this.record!.devnum);
    return new Promise((resolve, reject) => {
      const p: Pending = { dirIn };
      p.settle = resolve;
      p.fail = reject;
      p.timer = setTimeout(() => {
        // No reply: cancel the URB. A late RET_SUBMIT still needs its direction to be framed, so the entry stays
        // (without callbacks) until it or the RET_UNLINK arrives.
        p.settle = undefined;
        p.fail = undefined;
        const unlink = (this.seq = (this.seq + 1) >>> 0 || 1);
        if (!w.closed) w.write(encodeCmdUnlink({ seqnum: unlink, devid, direction: dirIn ? USBIP_DIR_IN : USBIP_DIR_OUT, ep: 0, unlinkSeqnum: seqnum }));
        reject(new TransportError('timeout', `${this.url}: no reply to request 0x${setup.bRequest.toString(16).padStart(2, '0')} within ${this.timeoutMs} ms (URB unlinked)`));
      }, this.timeoutMs);
      this.pending.set(seqnum, p);
      w.write(encodeCmdSubmit({ seqnum, devid, direction: dirIn ? USBIP_DIR_IN : USBIP_DIR_OUT, ep: 0, setup, data: dirIn ? new Uint8Array(0) : (out ?? new Uint8Array(0)) }));
    });
  }

  private async getDescriptor(type: number, index: number, langid: number, length: number): Promise<Uint8Array | undefined> {
    const r = await this.submit({ bmRequestType: 0x80, bRequest: 0x06, wValue: (type << 8) | index, wIndex: langid, wLength: length });
    return r.status === 0 ? r.data : undefined;
  }

  private async enumerate(): Promise<void> {
    const dev = await this.getDescriptor(1, 0, 0, 18);
    if (dev === undefined || dev.length < 18) throw new TransportError('io', `${this.url}: the device STALLed or cut short GET_DESCRIPTOR(DEVICE)`);
    this.deviceDescriptor = dev;
    const head = await this.getDescriptor(2, 0, 0, 9);
    if (head === undefined || head.length < 4) throw new TransportError('io', `${this.url}: the device STALLed GET_DESCRIPTOR(CONFIGURATION)`);
    const total = head[2]! | (head[3]! << 8);
    const cfg = total > head.length ? await this.getDescriptor(2, 0, 0, total) : head;
    if (cfg === undefined) throw new TransportError('io', `${this.url}: the device STALLed GET_DESCRIPTOR(CONFIGURATION, ${total} bytes)`);
    this.configDescriptor = cfg;
    const langids = await this.getDescriptor(3, 0, 0, 255);
    const langid = langids !== undefined && langids.length >= 4 ? langids[2]! | (langids[3]! << 8) : 0x0409;
    const str = async (i: number): Promise<string | undefined> => {
      if (i === 0) return undefined;
      if (this.strings.has(i)) return this.strings.get(i);
      const d = await this.getDescriptor(3, i, langid, 255);
      const s = d === undefined ? undefined : utf16le(d);
      if (s !== undefined) this.strings.set(i, s);
      return s;
    };
    this.manufacturerName = await str(dev[14]!);
    this.productName = await str(dev[15]!);
    this.serialNumber = await str(dev[16]!);
    // Interfaces and their alternate settings, in descriptor order (USB 2.0 §9.6.5).
    const interfaces: { interfaceNumber: number; alternates: UsbAlternateInterface[] }[] = [];
    for (let o = cfg[0]!; o + 2 <= cfg.length; ) {
      const len = cfg[o]!;
      if (len < 2 || o + len > cfg.length) break;
      if (cfg[o + 1] === 4 && len >= 9) {
        const number = cfg[o + 2]!;
        let intf = interfaces.find((i) => i.interfaceNumber === number);
        if (intf === undefined) interfaces.push((intf = { interfaceNumber: number, alternates: [] }));
        intf.alternates.push({
          alternateSetting: cfg[o + 3]!,
          interfaceClass: cfg[o + 5]!,
          interfaceSubclass: cfg[o + 6]!,
          interfaceProtocol: cfg[o + 7]!,
          interfaceName: (await str(cfg[o + 8]!)) ?? null,
        });
      }
      o += len;
    }
    this.configuration = { configurationValue: cfg[5]!, interfaces: interfaces as UsbInterface[] };
  }

  async open(): Promise<void> {
    await this.attach();
    if (this.gone !== undefined) throw this.gone;
    this.isOpen = true;
  }

  async close(): Promise<void> {
    this.isOpen = false;
    this.claimed.clear();
  }

  /** Closes the connection (the server sees the import end, as with a `usbip detach`). */
  disconnect(): void {
    this.isOpen = false;
    this.wire?.destroy();
  }

  private assertOpen(): void {
    if (this.gone !== undefined) throw this.gone;
    if (!this.isOpen) throw new TransportError('io', `${this.url}: device is not open (call open() first)`);
  }

  private hasInterface(n: number): boolean {
    return this.configuration?.interfaces.some((i) => i.interfaceNumber === n) === true;
  }

  async selectConfiguration(configurationValue: number): Promise<void> {
    this.assertOpen();
    const r = await this.submit({ bmRequestType: 0x00, bRequest: 0x09, wValue: configurationValue, wIndex: 0, wLength: 0 });
    if (r.status !== 0) throw new TransportError('io', `${this.url}: SET_CONFIGURATION ${configurationValue} failed (URB status ${r.status})`);
  }

  async claimInterface(interfaceNumber: number): Promise<void> {
    this.assertOpen();
    if (!this.hasInterface(interfaceNumber)) throw new TransportError('io', `${this.url}: the device has no interface ${interfaceNumber}`);
    this.claimed.add(interfaceNumber);
  }

  async releaseInterface(interfaceNumber: number): Promise<void> {
    this.assertOpen();
    this.claimed.delete(interfaceNumber);
  }

  async selectAlternateInterface(interfaceNumber: number, alternateSetting: number): Promise<void> {
    this.assertOpen();
    if (!this.claimed.has(interfaceNumber)) throw new TransportError('io', `${this.url}: interface ${interfaceNumber} is not claimed (call claimInterface(${interfaceNumber}) first)`);
    const r = await this.submit({ bmRequestType: 0x01, bRequest: 0x0b, wValue: alternateSetting, wIndex: interfaceNumber, wLength: 0 });
    if (r.status !== 0) throw new TransportError('io', `${this.url}: SET_INTERFACE ${interfaceNumber}/${alternateSetting} was ${r.status === URB_STATUS.stall ? 'STALLed' : `refused (URB status ${r.status})`}`);
  }

  private setup(p: UsbControlTransferParameters, dirIn: boolean, wLength: number): UsbSetup {
    this.assertOpen();
    if (p.recipient === 'interface' && !this.claimed.has(p.index & 0xff)) throw new TransportError('io', `${this.url}: interface ${p.index & 0xff} is not claimed`);
    return { bmRequestType: (dirIn ? 0x80 : 0) | (TYPE_BITS[p.requestType] << 5) | RECIPIENT_BITS[p.recipient], bRequest: p.request & 0xff, wValue: p.value & 0xffff, wIndex: p.index & 0xffff, wLength };
  }

  private check(status: number, what: string): 'ok' | 'stall' {
    if (status === 0) return 'ok';
    if (status === URB_STATUS.stall) return 'stall';
    if (status === URB_STATUS.timeout) throw new TransportError('timeout', `${this.url}: ${what} timed out in the device (URB status ${status})`);
    if (status === URB_STATUS.noDevice || status === URB_STATUS.shutdown) throw new TransportError('disconnected', `${this.url}: ${what}: the device is gone (URB status ${status})`);
    throw new TransportError('io', `${this.url}: ${what} failed with URB status ${status}`);
  }

  async controlTransferIn(setup: UsbControlTransferParameters, length: number): Promise<UsbInTransferResult> {
    if (!Number.isInteger(length) || length < 0 || length > 0xffff) throw new TransportError('io', `bad IN transfer length ${length}`);
    const r = await this.submit(this.setup(setup, true, length));
    const status = this.check(r.status, `request 0x${setup.request.toString(16).padStart(2, '0')}`);
    if (status !== 'ok') return { status };
    const buf = new ArrayBuffer(r.data.length);
    new Uint8Array(buf).set(r.data);
    return { status: 'ok', data: new DataView(buf) };
  }

  async controlTransferOut(setup: UsbControlTransferParameters, data?: BufferSource): Promise<UsbOutTransferResult> {
    const bytes = toBytes(data);
    if (bytes.length > 0xffff) throw new TransportError('io', `OUT transfer of ${bytes.length} bytes exceeds wLength`);
    const r = await this.submit(this.setup(setup, false, bytes.length), bytes);
    const status = this.check(r.status, `request 0x${setup.request.toString(16).padStart(2, '0')}`);
    return { status, bytesWritten: status === 'ok' ? bytes.length : 0 };
  }

  async reset(): Promise<void> {
    this.assertOpen();
    const r = await this.submit(PORT_RESET_SETUP);
    if (r.status !== 0) throw new TransportError('io', `${this.url}: port reset failed (URB status ${r.status})`);
  }
}

