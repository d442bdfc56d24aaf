/**
 * A USB/IP server (protocol: src/usbip/protocol.ts) for devices that only have endpoint 0: it answers
 * OP_REQ_DEVLIST and OP_REQ_IMPORT, then carries CMD_SUBMIT on ep0 to the device and RET_SUBMIT back, and
 * answers CMD_UNLINK. It is what the Linux kernel's usbip-host stub does for a real device, for an emulated one:
 * the same server serves `usbip attach` (vhci-hcd), our libusb replacement (test-peers/libusb-usbip) and
 * dfukit's own `--device usbip://` client.
 *
 * URBs are served one at a time, in arrival order, synchronously: a URB is complete before the next byte is
 * read, so a CMD_UNLINK always finds its URB done and gets RET_UNLINK status 0 ("already completed",
 * usbip_protocol.rst). A device that leaves the bus (DFU leave, reset into the application) has its reply sent,
 * then every connection importing it is closed, as unplugging does to a usbip-host export; a device that
 * vanishes in the middle of a request gets no reply at all.
 *
 * Loopback only: USB/IP has no authentication, and whoever reaches the port can rewrite the device's flash.
 */
import { createServer, isIP, type Server, type Socket } from 'node:net';
import { EXIT_USAGE, FwError } from '../core/errors.ts';
import {
  cmdLength,
  decodeCmdSubmit,
  decodeCmdUnlink,
  decodeOpHeader,
  decodeOpReqImport,
  encodeOpRepDevlist,
  encodeOpRepImport,
  encodeRetSubmit,
  encodeRetUnlink,
  OP_REQ_DEVLIST,
  OP_REQ_IMPORT,
  opRequestLength,
  PORT_RESET_SETUP,
  URB_STATUS,
  urbCommand,
  USBIP_CMD_SUBMIT,
  USBIP_DIR_IN,
  type UsbipDeviceRecord,
  type UsbSetup,
} from '../usbip/protocol.ts';

/** What a device answers to one URB. */
export type UrbOutcome =
  /** Served: `status` 0 or a negative errno (URB_STATUS.stall for a STALL); `data` for IN. `left`: the device leaves the bus after this reply. */
  | { readonly kind: 'reply'; readonly status: number; readonly data?: Uint8Array; readonly left?: boolean }
  /** The device is gone before it could answer: no reply, the connection closes. */
  | { readonly kind: 'gone' };

/** A device the server exports (one busid). */
export interface UsbipExportedDevice {
  readonly busid: string;
  /** Its DEVLIST/IMPORT record now; undefined while it is off the bus. `devnum` changes at every enumeration. */
  record(): UsbipDeviceRecord | undefined;
  /** One control transfer on ep0 (setup in USB order; `data` is the OUT stage, empty for IN). */
  control(setup: UsbSetup, data: Uint8Array): UrbOutcome;
  /** Port reset (SetPortFeature(PORT_RESET), the URB usbip-host takes as "reset the device"). */
  reset(): UrbOutcome;
  /** After the server closed the connections of a device that left the bus: let it enumerate again. */
  reenumerate?(): void;
}

export interface UsbipServerEvents {
  onImport?(busid: string, devnum: number, peer: string): void;
  onDetach?(busid: string, devnum: number): void;
  onConnectionError?(peer: string, error: Error): void;
}

export interface UsbipListenOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
}

export interface UsbipServerHandle {
  readonly host: string;
  readonly port: number;
  readonly server: Server;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

const LOOPBACK_NAMES = new Set(['localhost', 'ip6-localhost', 'ip6-loopback']);

/** True for 127.0.0.0/8, ::1 (and ::ffff:127.x) and the loopback host names. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (LOOPBACK_NAMES.has(h)) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(h);
  return false;
}

/** `127.0.0.1:3240`, `[::1]:3240`, `localhost:0` → host and port; usage errors for anything else. */
export function parseListenAddress(text: string, what = '--listen'): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text.trim());
  if (m === null) throw new FwError('USBIP_LISTEN', `${what} '${text}': expected HOST:PORT, e.g. 127.0.0.1:3240 or 127.0.0.1:0 for a free port`, {}, EXIT_USAGE);
  const host = m[1] ?? m[2]!;
  const port = Number(m[3]);
  if (port > 65535) throw new FwError('USBIP_LISTEN', `${what} '${text}': port ${port} is above 65535`, {}, EXIT_USAGE);
  return { host, port };
}

class Connection {
  private buf = new Uint8Array(0);
  private device: UsbipExportedDevice | undefined;
  private devnum = 0;
  private closed = false;

  constructor(
    readonly socket: Socket,
    private readonly server: UsbipServer,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e) => {
      // A client that vanished (ECONNRESET) is routine; anything else is reported.
      if ((e as NodeJS.ErrnoException).code !== 'ECONNRESET' && (e as NodeJS.ErrnoException).code !== 'EPIPE') this.server.events.onConnectionError?.(this.peer, e);
      this.close();
    });
    socket.on('close', () => this.close());
  }

  get peer(): string {
    return `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? '?'}`;
  }

  /** The device and enumeration this connection imported. */
  imports(device: UsbipExportedDevice, devnum: number): boolean {
    return this.device === device && this.devnum === devnum;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.server.forget(this);
    this.socket.destroy();
  }

  private send(bytes: Uint8Array): void {
    if (!this.closed) this.socket.write(bytes);
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    const joined = new Uint8Array(this.buf.length + chunk.length);
    joined.set(this.buf);
    joined.set(chunk, this.buf.length);
    this.buf = joined;
    try {
      for (;;) {
        const n = this.device === undefined ? opRequestLength(this.buf) : cmdLength(this.buf);
        if (n === undefined || this.buf.length < n) break;
        const msg = this.buf.subarray(0, n);
        this.buf = this.buf.slice(n);
        if (this.device === undefined) this.onOp(msg);
        else this.onUrb(msg);
        if (this.closed) return;
      }
    } catch (e) {
      this.server.events.onConnectionError?.(this.peer, e instanceof Error ? e : new Error(String(e)));
      this.close();
    }
  }

  private onOp(msg: Uint8Array): void {
    const h = decodeOpHeader(msg);
    if (h.code === OP_REQ_DEVLIST) {
      this.send(encodeOpRepDevlist(this.server.records()));
      this.socket.end();
      this.closed = true;
      this.server.forget(this);
      return;
    }
    if (h.code === OP_REQ_IMPORT) {
      const busid = decodeOpReqImport(msg);
      const dev = this.server.device(busid);
      const rec = dev?.record();
      this.send(encodeOpRepImport(rec));
      if (dev === undefined || rec === undefined) {
        this.socket.end();
        this.closed = true;
        this.server.forget(this);
        return;
      }
      this.device = dev;
      this.devnum = rec.devnum;
      this.server.events.onImport?.(busid, rec.devnum, this.peer);
      return;
    }
    throw new Error(`unknown USB/IP operation 0x${h.code.toString(16).padStart(4, '0')}`);
  }

  private onUrb(msg: Uint8Array): void {
    const dev = this.device!;
    const rec = dev.record();
    if (rec === undefined || rec.devnum !== this.devnum) {
      // The device this connection imported has left the bus (a newer enumeration may be there).
      this.close();
      return;
    }
    if (urbCommand(msg) !== USBIP_CMD_SUBMIT) {
      const u = decodeCmdUnlink(msg);
      this.send(encodeRetUnlink({ seqnum: u.seqnum, status: 0 })); // URBs complete before the next message is read
      return;
    }
    const c = decodeCmdSubmit(msg);
    const dirIn = c.direction === USBIP_DIR_IN;
    let out: UrbOutcome;
    if (c.ep !== 0) out = { kind: 'reply', status: URB_STATUS.stall };
    else if (c.setup.bmRequestType === PORT_RESET_SETUP.bmRequestType && c.setup.bRequest === PORT_RESET_SETUP.bRequest && c.setup.wValue === PORT_RESET_SETUP.wValue) out = dev.reset();
    else out = dev.control(c.setup, dirIn ? new Uint8Array(0) : c.data);
    if (out.kind === 'gone') {
      this.server.detached(dev, this.devnum);
      return;
    }
    const data = dirIn && out.status === 0 ? (out.data ?? new Uint8Array(0)).subarray(0, c.transferBufferLength) : new Uint8Array(0);
    const actualLength = dirIn ? data.length : out.status === 0 ? c.transferBufferLength : 0;
    this.send(encodeRetSubmit({ seqnum: c.seqnum, status: out.status, actualLength, data }));
    if (out.left === true) this.server.detached(dev, this.devnum);
  }
}

export class UsbipServer {
  private readonly connections = new Set<Connection>();
  readonly events: UsbipServerEvents;

  constructor(
    private readonly devices: readonly UsbipExportedDevice[],
    events: UsbipServerEvents = {},
  ) {
    this.events = events;
  }

  records(): UsbipDeviceRecord[] {
    return this.devices.map((d) => d.record()).filter((r): r is UsbipDeviceRecord => r !== undefined);
  }

  device(busid: string): UsbipExportedDevice | undefined {
    return this.devices.find((d) => d.busid === busid);
  }

  forget(c: Connection): void {
    this.connections.delete(c);
  }

  /** The device left the bus: close every connection that imported this enumeration, then let it come back. */
  detached(dev: UsbipExportedDevice, devnum: number): void {
    for (const c of [...this.connections]) if (c.imports(dev, devnum)) c.close();
    this.events.onDetach?.(dev.busid, devnum);
    dev.reenumerate?.();
  }

  /** Serves one accepted socket (also usable without `listen`, e.g. over a socket pair in tests). */
  accept(socket: Socket): void {
    this.connections.add(new Connection(socket, this));
  }

  /** Listens on a loopback address only. Resolves once listening, with the port actually bound. */
  listen(opts: UsbipListenOptions): Promise<UsbipServerHandle> {
    if (!isLoopbackHost(opts.host)) {
      return Promise.reject(
        new FwError('USBIP_LISTEN', `refusing to listen on ${opts.host}: USB/IP has no authentication, so the emulator listens on loopback addresses only (127.0.0.1, ::1, localhost)`, {}, EXIT_USAGE),
      );
    }
    const server = createServer((s) => this.accept(s));
    return new Promise((resolve, reject) => {
      server.once('error', (e) => reject(new FwError('USBIP_LISTEN', `cannot listen on ${opts.host}:${opts.port}: ${e.message}`, {}, EXIT_USAGE)));
      server.listen({ host: opts.host.replace(/^\[|\]$/g, ''), port: opts.port }, () => {
        const addr = server.address();
        const port = typeof addr === 'object' && addr !== null ? addr.port : opts.port;
        const host = typeof addr === 'object' && addr !== null ? addr.address : opts.host;
        resolve({
          host,
          port,
          server,
          close: () =>
            new Promise<void>((done) => {
              for (const c of [...this.connections]) c.close();
              server.close(() => done());
            }),
        });
      });
    });
  }
}
