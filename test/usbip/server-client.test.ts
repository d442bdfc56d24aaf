/**
 * The USB/IP server with the emulator behind it (node/usbip-server.ts, node/usbip-emulator.ts) and dfukit's
 * USB/IP transport (node/usbip-client.ts), in one process over loopback TCP: enumeration, a whole flash through
 * the DFU host stack, STALLs, leave and re-enumeration, write-through and the log, unlink on timeout, refusals.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { connect, executePlan } from '../../src/dfu/operations.ts';
import { realClock } from '../../src/dfu/protocol.ts';
import { TransportError } from '../../src/dfu/transport.ts';
import { MemoryImage } from '../../src/image/memory-image.ts';
import { EmulatorExport, romRevision } from '../../src/node/usbip-emulator.ts';
import { formatUsbipUrl, listUsbipDevices, parseUsbipUrl, UsbipTransport } from '../../src/node/usbip-client.ts';
import { isLoopbackHost, parseListenAddress, UsbipServer, type UsbipServerHandle } from '../../src/node/usbip-server.ts';
import { createFlashPlan } from '../../src/plan/plan.ts';
import { resolveChip } from '../../src/layout/chips.ts';
import {
  decodeRetUnlink,
  decodeOpRepImport,
  encodeCmdUnlink,
  encodeOpRepImport,
  encodeOpReqImport,
  opRepImportLength,
  USBIP_CMD_UNLINK,
  type UsbipDeviceRecord,
} from '../../src/usbip/protocol.ts';

const dir = mkdtempSync(join(tmpdir(), 'dfukit-usbip-'));
const closers: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of closers.reverse()) await c();
  rmSync(dir, { recursive: true, force: true });
});

async function serve(opts: ConstructorParameters<typeof EmulatorExport>[0]): Promise<{ exp: EmulatorExport; handle: UsbipServerHandle; spec: { host: string; port: number } }> {
  const exp = new EmulatorExport(opts);
  const handle = await new UsbipServer([exp]).listen({ host: '127.0.0.1', port: 0 });
  closers.push(async () => {
    await handle.close();
    exp.close();
  });
  return { exp, handle, spec: { host: '127.0.0.1', port: handle.port } };
}

function bytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

describe('USB/IP server + client', () => {
  test('DEVLIST shows the ROM; the transport enumerates it through ep0 as WebUSB would show it', async () => {
    const { exp, spec } = await serve({ chip: 'stm32h745' });
    const devs = await listUsbipDevices(spec);
    assert.equal(devs.length, 1);
    assert.deepEqual(
      { ...devs[0]!, interfaces: devs[0]!.interfaces.length },
      { path: '/dfukit/emulator/stm32h745/1-1', busid: '1-1', busnum: 1, devnum: 2, speed: 2, idVendor: 0x0483, idProduct: 0xdf11, bcdDevice: 0x0200, bDeviceClass: 0, bDeviceSubClass: 0, bDeviceProtocol: 0, bConfigurationValue: 1, bNumConfigurations: 1, interfaces: 1 },
    );
    const t = new UsbipTransport(spec);
    await t.open();
    closers.push(() => t.disconnect());
    const d = exp.emulator.descriptors;
    assert.equal(t.url, `usbip://127.0.0.1:${spec.port}/1-1`);
    assert.deepEqual([t.vendorId, t.productId, t.deviceVersionMajor, t.deviceVersionMinor], [0x0483, 0xdf11, 2, 0]);
    assert.equal(t.serialNumber, d.strings[3]);
    assert.equal(t.productName, 'DFU in FS Mode');
    assert.deepEqual(t.configDescriptor, d.configuration);
    assert.deepEqual(
      t.configuration!.interfaces[0]!.alternates.map((a) => a.interfaceName),
      d.strings.slice(4),
    );
    // GET_DESCRIPTOR(DEVICE), CONFIGURATION (9, then all), LANGIDs, manufacturer, product, serial, one per alt.
    assert.equal(exp.emulator.counters.byRequest.GET_DESCRIPTOR, 3 + 1 + 3 + d.strings.length - 4);
  });

  test('a flash through the DFU host stack over USB/IP: verified; --flash-out written through; one log line per request', async () => {
    const flashOut = join(dir, 'h743.bin');
    const logFile = join(dir, 'h743.jsonl');
    const { exp, spec } = await serve({ chip: 'stm32h743', flashOut, logFile, pollTimeoutScale: 0 });
    const profile = resolveChip('stm32h743');
    const t = new UsbipTransport(spec);
    closers.push(() => t.disconnect());
    const s = await connect(t, profile, { clock: realClock });
    assert.equal(s.info.transferSize, profile.dfu.wTransferSize);
    const image = new MemoryImage();
    image.add(0x08000000, bytes(5000, 1));
    image.add(0x08100000, bytes(3000, 2));
    const plan = createFlashPlan(image, profile, { transferSize: s.dfuse.transferSize, verify: true });
    const r = await executePlan(s, plan);
    assert.equal(r.sectorsErased, 2);
    assert.equal(r.bytesVerified, plan.verify.reduce((n, v) => n + (v.end - v.start), 0));
    const file = readFileSync(flashOut);
    assert.equal(file.length, profile.flashSize);
    assert.deepEqual(file, Buffer.from(exp.emulator.readFlash()));
    assert.deepEqual(new Uint8Array(file.subarray(0x100000, 0x100000 + 3000)), bytes(3000, 2));
    const lines = readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { seq: number; request: string; device: number; op?: { kind: string } });
    assert.equal(lines.length, exp.emulator.counters.requests);
    assert.deepEqual(lines.map((l) => l.seq), lines.map((_, i) => i + 1));
    assert.ok(lines.every((l) => l.device === 1));
    assert.equal(lines.filter((l) => l.op?.kind === 'erase').length, 2);
  });

  test('a STALL comes back as status "stall", not an exception; the device then reports dfuERROR', async () => {
    const { spec } = await serve({ chip: 'stm32f405' });
    const t = new UsbipTransport(spec);
    closers.push(() => t.disconnect());
    await t.open();
    await t.claimInterface(0);
    const up = { requestType: 'class', recipient: 'interface', request: 2 /* UPLOAD */, value: 2, index: 0 } as const;
    // UPLOAD of block 2 in dfuIDLE with a pointer at 0x08000000 works; DNLOAD longer than wTransferSize STALLs.
    const ok = await t.controlTransferIn(up, 16);
    assert.equal(ok.status, 'ok');
    assert.equal(ok.data!.byteLength, 16);
    const big = await t.controlTransferOut({ requestType: 'class', recipient: 'interface', request: 1, value: 2, index: 0 }, new Uint8Array(4096));
    assert.deepEqual(big, { status: 'stall', bytesWritten: 0 });
    const st = await t.controlTransferIn({ requestType: 'class', recipient: 'interface', request: 3, value: 0, index: 0 }, 6);
    assert.deepEqual([st.data!.getUint8(0), st.data!.getUint8(4)], [0x0f /* errSTALLEDPKT */, 10 /* dfuERROR */]);
    await assert.rejects(t.selectAlternateInterface(0, 9), /SET_INTERFACE 0\/9 was STALLed/);
  });

  test('leave: the reply arrives, then the connection closes; the ROM enumerates again with the next device number', async () => {
    const logFile = join(dir, 'leave.jsonl');
    const { exp, spec } = await serve({ chip: 'stm32f722', logFile, pollTimeoutScale: 0 });
    const profile = resolveChip('stm32f722');
    const t = new UsbipTransport(spec);
    closers.push(() => t.disconnect());
    const s = await connect(t, profile, { clock: realClock });
    assert.equal(await s.dfuse.leave(0x08000000), 'manifest');
    for (let i = 0; i < 200 && !t.disconnected; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(t.disconnected, true);
    await assert.rejects(t.controlTransferIn({ requestType: 'class', recipient: 'interface', request: 3, value: 0, index: 0 }, 6), (e: unknown) => e instanceof TransportError && e.kind === 'disconnected');
    const devs = await listUsbipDevices(spec);
    assert.equal(devs[0]!.devnum, 3);
    assert.equal(exp.enumeration, 2);
    assert.deepEqual(exp.leaves, [{ enumeration: 1, address: 0x08000000, vectorValid: false }]);
    const jump = readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { jump?: string; device: number }).filter((l) => l.jump !== undefined);
    assert.deepEqual(jump.map((l) => [l.jump, l.device]), [['0x08000000', 1]]);
    const again = new UsbipTransport(spec);
    closers.push(() => again.disconnect());
    await again.open();
    assert.equal(again.record!.devnum, 3);
  });

  test('port reset (SetPortFeature PORT_RESET) resets the ROM: dfuIDLE, alt 0', async () => {
    const { exp, spec } = await serve({ chip: 'stm32f405' });
    const t = new UsbipTransport(spec);
    closers.push(() => t.disconnect());
    await t.open();
    await t.claimInterface(0);
    await t.selectAlternateInterface(0, 1);
    assert.equal(exp.emulator.alt, 1);
    await t.reset();
    assert.equal(exp.emulator.alt, 0);
    assert.equal(exp.emulator.log.at(-1)!.request, 'USB_RESET');
  });

  test('rev V: bootloader V9.0 with the bank-2 erase hang; rev Y: V13.2; other parts refuse --rom-rev', () => {
    const v = romRevision(resolveChip('stm32h743'), 'V');
    assert.equal(v.bootloaderId, 0x90);
    assert.match(v.note, /h7-revV-bank2-erase-hang/);
    assert.equal(romRevision(resolveChip('stm32h745'), 'y').bootloaderId, 0xd2);
    assert.throws(() => romRevision(resolveChip('stm32f405'), 'V'), /no ROM that depends on the silicon revision/);
    assert.throws(() => romRevision(resolveChip('stm32h743'), 'X'), /revisions known: V/);
    const exp = new EmulatorExport({ chip: 'stm32h743', romRev: 'V' });
    assert.ok(exp.emulator.quirks.includes('h7-revV-bank2-erase-hang'));
    assert.equal(exp.emulator.bootloaderVersion, 0x90);
  });

  test('an unknown busid is refused; a server that never answers a URB gets CMD_UNLINK and a timeout', async () => {
    const { spec } = await serve({ chip: 'stm32f405' });
    const t = new UsbipTransport({ ...spec, busid: '9-9' });
    await assert.rejects(t.open(), /refused to import busid 9-9/);

    // A server that imports but never answers a URB, and records what it receives.
    const received: Buffer[] = [];
    const record: UsbipDeviceRecord = { ...decodeOpRepImport(encodeOpRepImport({ path: 'p', busid: '1-1', busnum: 1, devnum: 2, speed: 2, idVendor: 0x0483, idProduct: 0xdf11, bcdDevice: 0x2200, bDeviceClass: 0, bDeviceSubClass: 0, bDeviceProtocol: 0, bConfigurationValue: 1, bNumConfigurations: 1, interfaces: [] }))! };
    const mute: Server = createServer((sock: Socket) => {
      let imported = false;
      sock.on('data', (b: Buffer) => {
        if (!imported) {
          imported = true;
          sock.write(encodeOpRepImport(record));
        } else received.push(b);
      });
    });
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', () => r()));
    closers.push(() => new Promise<void>((r) => mute.close(() => r())));
    const port = (mute.address() as { port: number }).port;
    const slow = new UsbipTransport({ host: '127.0.0.1', port, busid: '1-1' }, { timeoutMs: 200 });
    closers.push(() => slow.disconnect());
    await assert.rejects(slow.open(), (e: unknown) => e instanceof TransportError && e.kind === 'timeout' && /URB unlinked/.test(e.message));
    for (let i = 0; i < 100 && Buffer.concat(received).length < 96; i++) await new Promise((r) => setTimeout(r, 10));
    const all = Buffer.concat(received);
    assert.equal(all.length, 96, 'CMD_SUBMIT (GET_DESCRIPTOR, IN) then CMD_UNLINK');
    assert.equal(all.readUInt32BE(48), USBIP_CMD_UNLINK);
    assert.equal(all.readUInt32BE(48 + 0x14), all.readUInt32BE(4), 'the unlink names the submitted seqnum');
  });

  test('the server answers CMD_UNLINK with RET_UNLINK status 0: every URB completes before the next is read', async () => {
    const { spec } = await serve({ chip: 'stm32f405' });
    const sock = netConnect(spec.port, '127.0.0.1');
    closers.push(() => void sock.destroy());
    let buf = Buffer.alloc(0);
    sock.on('data', (b: Buffer) => (buf = Buffer.concat([buf, b])));
    await new Promise<void>((r) => sock.once('connect', () => r()));
    sock.write(encodeOpReqImport('1-1'));
    const until = async (n: number): Promise<void> => {
      for (let i = 0; i < 100 && buf.length < n; i++) await new Promise((r) => setTimeout(r, 10));
    };
    await until(0x140);
    assert.equal(opRepImportLength(buf), 0x140);
    buf = buf.subarray(0x140);
    sock.write(encodeCmdUnlink({ seqnum: 5, devid: 0x10002, direction: 0, ep: 0, unlinkSeqnum: 4 }));
    await until(48);
    assert.deepEqual(decodeRetUnlink(buf.subarray(0, 48)), { seqnum: 5, status: 0 });
  });

  test('listening is loopback only; --listen and usbip:// parsing', async () => {
    assert.equal(isLoopbackHost('127.0.0.1'), true);
    assert.equal(isLoopbackHost('127.1.2.3'), true);
    assert.equal(isLoopbackHost('::1'), true);
    assert.equal(isLoopbackHost('[::1]'), true);
    assert.equal(isLoopbackHost('localhost'), true);
    assert.equal(isLoopbackHost('0.0.0.0'), false);
    assert.equal(isLoopbackHost('192.168.1.5'), false);
    await assert.rejects(new UsbipServer([]).listen({ host: '0.0.0.0', port: 0 }), /loopback addresses only/);
    assert.deepEqual(parseListenAddress('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
    assert.deepEqual(parseListenAddress('[::1]:3240'), { host: '::1', port: 3240 });
    assert.throws(() => parseListenAddress('3240'), /expected HOST:PORT/);
    assert.deepEqual(parseUsbipUrl('usbip://127.0.0.1:4000/1-1'), { host: '127.0.0.1', port: 4000, busid: '1-1' });
    assert.deepEqual(parseUsbipUrl('usbip://localhost'), { host: 'localhost', port: 3240 });
    assert.deepEqual(parseUsbipUrl('usbip://[::1]:5/'), { host: '::1', port: 5 });
    assert.equal(formatUsbipUrl({ host: '::1', port: 5 }, '1-1'), 'usbip://[::1]:5/1-1');
    assert.throws(() => parseUsbipUrl('usbip://h:99999'), /port 99999/);
    assert.throws(() => parseUsbipUrl('usbip:/h'), /expected usbip:\/\/HOST:PORT/);
    const t = new UsbipTransport({ host: '127.0.0.1', port: 1 });
    await assert.rejects(t.open(), (e: unknown) => e instanceof TransportError && /cannot reach a USB\/IP server at 127\.0\.0\.1:1 \(ECONNREFUSED\)/.test(e.message));
  });
});
