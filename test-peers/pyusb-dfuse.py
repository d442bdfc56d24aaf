#!/usr/bin/python3
"""
A DfuSe host written against pyusb only, as an independent second flasher for dfukit's peer tests.

It shares no code with dfukit: it finds the device through pyusb's libusb1 backend (in the tests that is
test-peers/libusb-usbip, a libusb-1.0.so.0 speaking USB/IP to `dfukit emulate`), reads the DFU functional
descriptor from the configuration's extra descriptors, parses the DfuSe layout strings and a .dfu file itself,
and downloads it with DfuSe requests (AN3156: SET_ADDRESS 0x21 and ERASE 0x41 as DNLOAD block 0, data in
blocks 2, 3, ... at pointer + (block - 2) * wTransferSize), erasing every touched page once, then reads every
element back with UPLOAD and compares.

Run with Debian's interpreter (python3-usb):  /usr/bin/python3 test-peers/pyusb-dfuse.py [--download f.dfu]
Prints one JSON object on stdout; exit 0 on success, 1 on a failed check, 2 on a usage or device error.
"""
import argparse
import json
import struct
import sys
import time
import zlib

import usb.backend.libusb1
import usb.core
import usb.util

DFU_DNLOAD, DFU_UPLOAD, DFU_GETSTATUS, DFU_CLRSTATUS, DFU_GETSTATE, DFU_ABORT = 1, 2, 3, 4, 5, 6
ST_IDLE, ST_DNBUSY, ST_DNLOAD_IDLE, ST_UPLOAD_IDLE, ST_ERROR = 2, 4, 5, 9, 10
OUT_CLASS_INTF, IN_CLASS_INTF = 0x21, 0xA1
TIMEOUT_MS = 5000


class Failure(Exception):
    pass


def loaded_libusb():
    """The libusb the process actually mapped (proves LD_LIBRARY_PATH picked the USB/IP one)."""
    try:
        with open('/proc/self/maps') as f:
            for line in f:
                if 'libusb-1.0.so' in line:
                    return line.split()[-1]
    except OSError:
        pass
    return None


def parse_layout(name):
    """'@Internal Flash  /0x08000000/04*016Kg,01*064Kg' -> (name, [(start, size, mask)]) (UM0424 section 4.3.2)."""
    if not name.startswith('@'):
        raise Failure('not a DfuSe layout string: %r' % name)
    parts = name[1:].split('/')
    title, pages = parts[0].strip(), []
    for i in range(1, len(parts) - 1, 2):
        addr = int(parts[i], 16)
        for seg in parts[i + 1].split(','):
            seg = seg.strip()
            if not seg:
                continue
            count, rest = seg.split('*')
            digits = ''.join(c for c in rest if c.isdigit())
            tail = rest[len(digits):]
            unit = tail[0] if tail and tail[0] in ' KM' else ' '
            letter = tail[-1]
            size = int(digits) * {' ': 1, 'K': 1024, 'M': 1024 * 1024}[unit]
            for _ in range(int(count)):
                pages.append((addr, size, ord(letter) - ord('a') + 1))
                addr += size
    return title, pages


def parse_dfuse(data):
    """DfuSe file (UM0391): prefix, targets, elements, suffix; the CRC is checked."""
    if len(data) < 16 + 11 or data[-8:-5] != b'UFD' or data[-5] != 16:
        raise Failure('no DFU suffix')
    crc = struct.unpack('<I', data[-4:])[0]
    if crc != (~zlib.crc32(data[:-4])) & 0xFFFFFFFF:
        raise Failure('DFU suffix CRC mismatch')
    bcd_dfu = struct.unpack('<H', data[-10:-8])[0]
    if bcd_dfu != 0x011A:
        raise Failure('not a DfuSe file (bcdDFU 0x%04x)' % bcd_dfu)
    if data[0:5] != b'DfuSe' or data[5] != 1:
        raise Failure('no DfuSe prefix')
    targets = []
    off = 11
    for _ in range(data[10]):
        if data[off:off + 6] != b'Target':
            raise Failure('bad target signature at %d' % off)
        alt = data[off + 6]
        count = struct.unpack('<I', data[off + 270:off + 274])[0]
        off += 274
        elements = []
        for _ in range(count):
            addr, size = struct.unpack('<II', data[off:off + 8])
            elements.append((addr, bytes(data[off + 8:off + 8 + size])))
            off += 8 + size
        targets.append((alt, elements))
    return targets


class Dfu:
    def __init__(self, dev, intf, transfer_size):
        self.dev, self.intf, self.xfer = dev, intf, transfer_size
        self.requests = {}

    def _count(self, name):
        self.requests[name] = self.requests.get(name, 0) + 1

    def out(self, name, req, value, data=None):
        self._count(name)
        return self.dev.ctrl_transfer(OUT_CLASS_INTF, req, value, self.intf, data, TIMEOUT_MS)

    def status(self):
        self._count('GETSTATUS')
        b = self.dev.ctrl_transfer(IN_CLASS_INTF, DFU_GETSTATUS, 0, self.intf, 6, TIMEOUT_MS)
        if len(b) != 6:
            raise Failure('GETSTATUS returned %d bytes' % len(b))
        return b[0], b[1] | b[2] << 8 | b[3] << 16, b[4]

    def to_idle(self):
        for _ in range(4):
            st, _poll, state = self.status()
            if state == ST_IDLE and st == 0:
                return
            if state == ST_ERROR:
                self.out('CLRSTATUS', DFU_CLRSTATUS, 0)
            else:
                self.out('ABORT', DFU_ABORT, 0)
        raise Failure('device does not return to dfuIDLE')

    def dnload_wait(self, block, data, what):
        self.out('DNLOAD', DFU_DNLOAD, block, data)
        st, poll, state = self.status()
        if state != ST_DNBUSY:
            raise Failure('%s: state %d after DNLOAD, expected dfuDNBUSY' % (what, state))
        while True:
            time.sleep(poll / 1000.0)
            st, poll, state = self.status()
            if state != ST_DNBUSY:
                break
        if st != 0 or state != ST_DNLOAD_IDLE:
            raise Failure('%s: status %d state %d' % (what, st, state))

    def set_address(self, addr):
        self.dnload_wait(0, struct.pack('<BI', 0x21, addr), 'set address 0x%08x' % addr)

    def erase(self, addr):
        self.dnload_wait(0, struct.pack('<BI', 0x41, addr), 'erase 0x%08x' % addr)

    def write(self, addr, data):
        """One SET_ADDRESS, then blocks 2, 3, ... of wTransferSize (as ST's DfuSe Demo)."""
        pos = 0
        while pos < len(data):
            self.set_address(addr + pos)
            block = 2
            while pos < len(data) and block <= 0xFFFF:
                chunk = data[pos:pos + self.xfer]
                self.dnload_wait(block, chunk, 'write 0x%08x' % (addr + pos))
                pos += len(chunk)
                block += 1

    def read(self, addr, size):
        out = bytearray()
        self.set_address(addr)
        self.out('ABORT', DFU_ABORT, 0)
        block = 2
        while len(out) < size:
            n = min(self.xfer, size - len(out))
            self._count('UPLOAD')
            b = self.dev.ctrl_transfer(IN_CLASS_INTF, DFU_UPLOAD, block, self.intf, n, TIMEOUT_MS)
            if len(b) != n:
                raise Failure('UPLOAD at 0x%08x returned %d of %d bytes' % (addr + len(out), len(b), n))
            out += bytes(b)
            block += 1
        self.out('ABORT', DFU_ABORT, 0)
        return bytes(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument('--vid', type=lambda s: int(s, 0), default=0x0483)
    ap.add_argument('--pid', type=lambda s: int(s, 0), default=0xDF11)
    ap.add_argument('--download', metavar='FILE.dfu')
    args = ap.parse_args()
    report = {'library': None}
    backend = usb.backend.libusb1.get_backend()
    report['library'] = loaded_libusb()
    if backend is None:
        raise Failure('pyusb found no libusb-1.0 backend')
    dev = usb.core.find(idVendor=args.vid, idProduct=args.pid, backend=backend)
    if dev is None:
        raise Failure('no %04x:%04x device' % (args.vid, args.pid))
    dev.set_configuration()
    cfg = dev.get_active_configuration()
    report['device'] = {
        'idVendor': dev.idVendor, 'idProduct': dev.idProduct, 'bcdDevice': dev.bcdDevice,
        'bus': dev.bus, 'address': dev.address, 'configuration': cfg.bConfigurationValue,
        'manufacturer': usb.util.get_string(dev, dev.iManufacturer),
        'product': usb.util.get_string(dev, dev.iProduct),
        'serial': usb.util.get_string(dev, dev.iSerialNumber),
    }
    alts, functional, intf_num = [], None, None
    extras = [bytes(cfg.extra_descriptors)]
    for intf in cfg:
        if intf.bInterfaceClass != 0xFE or intf.bInterfaceSubClass != 0x01:
            continue
        intf_num = intf.bInterfaceNumber
        alts.append({'alt': intf.bAlternateSetting, 'name': usb.util.get_string(dev, intf.iInterface)})
        extras.append(bytes(intf.extra_descriptors))
    for extra in extras:
        i = 0
        while i + 2 <= len(extra) and functional is None:
            if extra[i + 1] == 0x21 and extra[i] >= 7:
                d = extra[i:i + extra[i]]
                functional = {'raw': d.hex(), 'bmAttributes': d[2], 'wDetachTimeOut': d[3] | d[4] << 8,
                              'wTransferSize': d[5] | d[6] << 8, 'bcdDFUVersion': (d[7] | d[8] << 8) if len(d) >= 9 else 0x0100}
            i += max(extra[i], 1)
    if functional is None:
        raise Failure('no DFU functional descriptor in the configuration')
    report['functional'] = functional
    report['alts'] = alts
    if args.download is None:
        print(json.dumps(report))
        return 0
    with open(args.download, 'rb') as f:
        targets = parse_dfuse(f.read())
    usb.util.claim_interface(dev, intf_num)
    dfu = Dfu(dev, intf_num, functional['wTransferSize'])
    written, erased = [], []
    for alt, elements in targets:
        dev.set_interface_altsetting(interface=intf_num, alternate_setting=alt)
        dfu.to_idle()
        name = next(a['name'] for a in alts if a['alt'] == alt)
        _title, pages = parse_layout(name)
        done = set()
        for addr, data in elements:
            for start, size, mask in pages:
                if start < addr + len(data) and addr < start + size and mask & 2 and start not in done:
                    dfu.erase(start)
                    done.add(start)
                    erased.append(start)
            dfu.write(addr, data)
            written.append({'alt': alt, 'address': addr, 'size': len(data)})
        dfu.to_idle()
        for addr, data in elements:
            if dfu.read(addr, len(data)) != data:
                raise Failure('read-back of 0x%08x (+%d) differs' % (addr, len(data)))
    usb.util.release_interface(dev, intf_num)
    usb.util.dispose_resources(dev)
    report.update({'written': written, 'erased': erased, 'verified': True, 'requests': dfu.requests})
    print(json.dumps(report))
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except (Failure, usb.core.USBError) as e:
        print(json.dumps({'error': str(e), 'library': loaded_libusb()}))
        sys.exit(2)
