/**
 * The USB/IP codec (src/usbip/protocol.ts) against the field offsets of Linux Documentation/usb/usbip_protocol.rst:
 * exact bytes, round trips, framing of partial buffers, and refusals.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  cmdLength,
  decodeCmdSubmit,
  decodeCmdUnlink,
  decodeOpHeader,
  decodeOpRepDevlist,
  decodeOpRepImport,
  decodeOpReqImport,
  decodeRetSubmit,
  decodeRetUnlink,
  decodeSetup,
  devidOf,
  encodeCmdSubmit,
  encodeCmdUnlink,
  encodeOpRepDevlist,
  encodeOpRepImport,
  encodeOpReqDevlist,
  encodeOpReqImport,
  encodeRetSubmit,
  encodeRetUnlink,
  encodeSetup,
  opRepDevlistLength,
  opRepImportLength,
  opRequestLength,
  retLength,
  URB_STATUS,
  UsbipProtocolError,
  USBIP_NOT_ISO,
  type UsbipDeviceRecord,
} from '../../src/usbip/protocol.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const be32 = (b: Uint8Array, o: number): number => new DataView(b.buffer, b.byteOffset).getUint32(o);
const be16 = (b: Uint8Array, o: number): number => new DataView(b.buffer, b.byteOffset).getUint16(o);

const ROM: UsbipDeviceRecord = {
  path: '/dfukit/emulator/stm32h745/1-1',
  busid: '1-1',
  busnum: 1,
  devnum: 2,
  speed: 2,
  idVendor: 0x0483,
  idProduct: 0xdf11,
  bcdDevice: 0x0200,
  bDeviceClass: 0,
  bDeviceSubClass: 0,
  bDeviceProtocol: 0,
  bConfigurationValue: 1,
  bNumConfigurations: 1,
  interfaces: [{ bInterfaceClass: 0xfe, bInterfaceSubClass: 1, bInterfaceProtocol: 2 }],
};

describe('USB/IP operations (OP_REQ/OP_REP)', () => {
  test('OP_REQ_DEVLIST is version 0x0111, code 0x8005, status 0', () => {
    assert.equal(hex(encodeOpReqDevlist()), '0111800500000000');
    assert.equal(opRequestLength(encodeOpReqDevlist()), 8);
    assert.equal(opRequestLength(new Uint8Array(7)), undefined);
  });

  test('OP_REP_DEVLIST: the field offsets of usbip_protocol.rst (0x0C path ... 0x144 interfaces)', () => {
    const b = encodeOpRepDevlist([ROM]);
    assert.equal(b.length, 0x148);
    assert.equal(be16(b, 0), 0x0111);
    assert.equal(be16(b, 2), 0x0005);
    assert.equal(be32(b, 4), 0);
    assert.equal(be32(b, 8), 1);
    assert.equal(Buffer.from(b.subarray(0x0c, 0x0c + ROM.path.length)).toString(), ROM.path);
    assert.equal(b[0x0c + ROM.path.length], 0, 'path is NUL-padded');
    assert.equal(Buffer.from(b.subarray(0x10c, 0x10f)).toString(), '1-1');
    assert.equal(be32(b, 0x12c), 1);
    assert.equal(be32(b, 0x130), 2);
    assert.equal(be32(b, 0x134), 2, 'USB_SPEED_FULL');
    assert.equal(be16(b, 0x138), 0x0483);
    assert.equal(be16(b, 0x13a), 0xdf11);
    assert.equal(be16(b, 0x13c), 0x0200);
    assert.deepEqual([...b.subarray(0x13e, 0x148)], [0, 0, 0, 1, 1, 1, 0xfe, 1, 2, 0]);
    assert.equal(opRepDevlistLength(b), b.length);
    assert.equal(opRepDevlistLength(b.subarray(0, 0x140)), undefined);
    assert.deepEqual(decodeOpRepDevlist(b), [ROM]);
  });

  test('OP_REP_DEVLIST with no device and with two devices of different interface counts', () => {
    assert.equal(hex(encodeOpRepDevlist([])), '011100050000000000000000');
    assert.deepEqual(decodeOpRepDevlist(encodeOpRepDevlist([])), []);
    const two = { ...ROM, busid: '1-2', devnum: 3, interfaces: [...ROM.interfaces, { bInterfaceClass: 3, bInterfaceSubClass: 0, bInterfaceProtocol: 0 }] };
    const b = encodeOpRepDevlist([ROM, two]);
    assert.equal(b.length, 12 + 312 + 4 + 312 + 8);
    assert.equal(opRepDevlistLength(b), b.length);
    assert.deepEqual(decodeOpRepDevlist(b), [ROM, two]);
  });

  test('OP_REQ_IMPORT carries the busid in 32 bytes; OP_REP_IMPORT is 0x140 bytes with the record at 0x08', () => {
    const req = encodeOpReqImport('1-1');
    assert.equal(req.length, 40);
    assert.equal(hex(req.subarray(0, 11)), '0111800300000000312d31');
    assert.equal(opRequestLength(req.subarray(0, 8)), 40);
    assert.equal(decodeOpReqImport(req), '1-1');
    const rep = encodeOpRepImport(ROM);
    assert.equal(rep.length, 0x140);
    assert.equal(be16(rep, 2), 0x0003);
    assert.equal(Buffer.from(rep.subarray(0x108, 0x10b)).toString(), '1-1');
    assert.equal(be32(rep, 0x12c), 2, 'devnum at 0x12C');
    assert.equal(be16(rep, 0x134), 0x0483);
    assert.equal(rep[0x13f], 1, 'bNumInterfaces, no interface list');
    assert.equal(opRepImportLength(rep.subarray(0, 8)), 0x140);
    const back = decodeOpRepImport(rep)!;
    assert.equal(back.busid, '1-1');
    assert.equal(back.devnum, 2);
    assert.equal(back.interfaces.length, 1);
  });

  test('a refused import is the 8-byte header with status 1; decoding gives undefined', () => {
    const rep = encodeOpRepImport(undefined);
    assert.equal(hex(rep), '0111000300000001');
    assert.equal(opRepImportLength(rep), 8);
    assert.equal(decodeOpRepImport(rep), undefined);
    assert.deepEqual(decodeOpHeader(rep), { version: 0x0111, code: 3, status: 1 });
  });

  test('refusals: a busid of 32 bytes, a reply of the wrong kind, a truncated record', () => {
    assert.throws(() => encodeOpReqImport('x'.repeat(32)), UsbipProtocolError);
    assert.throws(() => decodeOpRepDevlist(encodeOpRepImport(ROM)), /expected OP_REP_DEVLIST/);
    assert.throws(() => decodeOpRepDevlist(encodeOpRepDevlist([ROM]).subarray(0, 100)), /device record/);
    assert.throws(() => decodeOpReqImport(encodeOpReqDevlist()), /expected OP_REQ_IMPORT/);
  });
});

describe('USB/IP URBs (CMD_/RET_)', () => {
  const getStatus = { bmRequestType: 0xa1, bRequest: 3, wValue: 0, wIndex: 0, wLength: 6 };

  test('setup packets keep USB byte order (little-endian) inside the big-endian header', () => {
    assert.equal(hex(encodeSetup({ bmRequestType: 0x80, bRequest: 6, wValue: 0x0302, wIndex: 0x0409, wLength: 255 })), '800602030904ff00');
    assert.deepEqual(decodeSetup(encodeSetup(getStatus)), getStatus);
  });

  test('CMD_SUBMIT IN: 48 bytes, fields at 0x00..0x28, no data; devid is busnum << 16 | devnum', () => {
    const b = encodeCmdSubmit({ seqnum: 7, devid: devidOf(1, 2), direction: 1, ep: 0, setup: getStatus, data: new Uint8Array(0) });
    assert.equal(
      hex(b),
      '00000001' + '00000007' + '00010002' + '00000001' + '00000000' + '00000000' + '00000006' + '00000000' + 'ffffffff' + '00000000' + 'a103000000000600',
    );
    assert.equal(cmdLength(b), 48);
    const c = decodeCmdSubmit(b);
    assert.equal(c.seqnum, 7);
    assert.equal(c.transferBufferLength, 6);
    assert.equal(c.numberOfPackets, USBIP_NOT_ISO);
    assert.deepEqual(c.setup, getStatus);
    assert.equal(c.data.length, 0);
  });

  test('CMD_SUBMIT OUT carries its data after the header; framing waits for all of it', () => {
    const data = Uint8Array.of(0x21, 0x00, 0x00, 0x00, 0x08);
    const b = encodeCmdSubmit({ seqnum: 9, devid: devidOf(1, 2), direction: 0, ep: 0, setup: { bmRequestType: 0x21, bRequest: 1, wValue: 0, wIndex: 0, wLength: 5 }, data });
    assert.equal(b.length, 53);
    assert.equal(be32(b, 0x18), 5);
    assert.equal(cmdLength(b.subarray(0, 48)), 53);
    assert.equal(cmdLength(b.subarray(0, 47)), undefined);
    assert.deepEqual(decodeCmdSubmit(b).data, data);
    assert.throws(() => decodeCmdSubmit(b.subarray(0, 50)), /2 of 5 OUT bytes/);
    assert.throws(() => encodeCmdSubmit({ seqnum: 1, devid: 0, direction: 0, ep: 0, setup: getStatus, data, transferBufferLength: 4 }), /5 data bytes for transfer_buffer_length 4/);
  });

  test('RET_SUBMIT: status at 0x14 (signed), actual_length at 0x18, IN data after; a STALL is -EPIPE', () => {
    const b = encodeRetSubmit({ seqnum: 7, status: 0, data: Uint8Array.of(0, 5, 0, 0, 4, 0) });
    assert.equal(hex(b.subarray(0, 0x28)), '00000003' + '00000007' + '00000000'.repeat(3) + '00000000' + '00000006' + '00000000' + 'ffffffff' + '00000000');
    assert.equal(hex(b.subarray(0x30)), '000500000400');
    assert.equal(retLength(b.subarray(0, 48), () => true), 54);
    assert.equal(retLength(b.subarray(0, 48), () => false), 48, 'an OUT URB gets no data back');
    assert.deepEqual(decodeRetSubmit(b, true).data, Uint8Array.of(0, 5, 0, 0, 4, 0));
    const stall = encodeRetSubmit({ seqnum: 8, status: URB_STATUS.stall });
    assert.equal(hex(stall.subarray(0x14, 0x18)), 'ffffffe0');
    assert.equal(decodeRetSubmit(stall, true).status, -32);
    assert.equal(decodeRetSubmit(stall, true).actualLength, 0);
  });

  test('CMD_UNLINK names the URB at 0x14; RET_UNLINK answers with a status (0: it had completed, -ECONNRESET: unlinked)', () => {
    const u = encodeCmdUnlink({ seqnum: 10, devid: devidOf(1, 2), direction: 1, ep: 0, unlinkSeqnum: 7 });
    assert.equal(u.length, 48);
    assert.equal(be32(u, 0), 2);
    assert.equal(be32(u, 0x14), 7);
    assert.equal(cmdLength(u), 48);
    assert.deepEqual(decodeCmdUnlink(u), { seqnum: 10, devid: 0x10002, direction: 1, ep: 0, unlinkSeqnum: 7 });
    const r = encodeRetUnlink({ seqnum: 10, status: URB_STATUS.unlinked });
    assert.equal(be32(r, 0), 4);
    assert.equal(retLength(r, () => true), 48);
    assert.deepEqual(decodeRetUnlink(r), { seqnum: 10, status: -104 });
  });

  test('ISO descriptors are framed (16 bytes each) though ep0 never uses them; unknown commands are refused', () => {
    const b = encodeCmdSubmit({ seqnum: 1, devid: 0, direction: 1, ep: 1, setup: getStatus, data: new Uint8Array(0), numberOfPackets: 2 });
    assert.equal(cmdLength(b), 48 + 32);
    const bad = new Uint8Array(48);
    bad[3] = 9;
    assert.throws(() => cmdLength(bad), /unknown USB\/IP command 0x00000009/);
    assert.throws(() => retLength(bad, () => true), /unknown USB\/IP reply/);
  });
});
