/**
 * Conformance table: every DFU class request in every state, as data. The clean ROM follows DFU 1.1
 * Appendix A (a request not valid in a state STALLs and moves to dfuERROR with errSTALLEDPKT; in dfuERROR the
 * first error status is kept) with the ST deviations rom.ts documents: a zero-length DNLOAD is accepted in
 * dfuIDLE; a request that arrives while an operation runs (dfuDNBUSY) is NAKed until it ends and is then
 * served as in dfuDNLOAD_SYNC; after the dfuMANIFEST reply the device has left the bus.
 *
 * Each row starts from a fresh STM32F405 emulator (alt 0, erased flash) and drives it into the state.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DFU_REQUEST, DFU_STATE, DFUSE_COMMAND, type DfuStateName, type DfuStatusName } from '../../src/dfu/constants.ts';
import { TransportError } from '../../src/dfu/transport.ts';
import { Host, le32, openHost } from './helpers.ts';

type Setup =
  | 'dfuIDLE'
  | 'dfuDNLOAD_SYNC'
  | 'dfuDNLOAD_SYNC (operation done)'
  | 'dfuDNBUSY'
  | 'dfuDNLOAD_IDLE'
  | 'dfuMANIFEST_SYNC'
  | 'dfuUPLOAD_IDLE'
  | 'dfuERROR'
  | 'dfuMANIFEST_WAIT_RESET';

type Req = 'DETACH' | 'DNLOAD data' | 'DNLOAD 0' | 'UPLOAD' | 'GETSTATUS' | 'CLRSTATUS' | 'GETSTATE' | 'ABORT';

interface Expect {
  /** `ok`, `stall`, or `gone` (the call throws TransportError 'disconnected'). */
  reply: 'ok' | 'stall' | 'gone';
  /** Device state afterwards (`emulator.state`). */
  state: DfuStateName;
  /** bStatus afterwards. */
  status: DfuStatusName;
  /** bState in the GETSTATUS reply / the GETSTATE byte. */
  value?: DfuStateName;
  /** The request waited for a running operation (NAK). */
  nak?: boolean;
}

const ok = (state: DfuStateName, value?: DfuStateName, extra: Partial<Expect> = {}): Expect => ({ reply: 'ok', state, status: 'OK', ...(value !== undefined ? { value } : {}), ...extra });
const stallErr: Expect = { reply: 'stall', state: 'dfuERROR', status: 'errSTALLEDPKT' };
const gone: Expect = { reply: 'gone', state: 'dfuMANIFEST_WAIT_RESET', status: 'OK' };

/** Rows: states; columns: requests. */
const TABLE: Record<Setup, Record<Req, Expect>> = {
  dfuIDLE: {
    DETACH: stallErr, // DFU 1.1: DETACH is a run-time request; not valid in DFU mode
    'DNLOAD data': ok('dfuDNLOAD_SYNC'),
    'DNLOAD 0': ok('dfuMANIFEST_SYNC'), // ST stack accepts leave from dfuIDLE (dfu-util `-s :leave -D x.dfu`)
    UPLOAD: ok('dfuUPLOAD_IDLE'),
    GETSTATUS: ok('dfuIDLE', 'dfuIDLE'),
    CLRSTATUS: stallErr,
    GETSTATE: ok('dfuIDLE', 'dfuIDLE'),
    ABORT: ok('dfuIDLE'),
  },
  dfuDNLOAD_SYNC: {
    DETACH: stallErr,
    'DNLOAD data': stallErr,
    'DNLOAD 0': stallErr,
    UPLOAD: stallErr,
    GETSTATUS: ok('dfuDNBUSY', 'dfuDNBUSY'), // the command starts: first GETSTATUS answers dfuDNBUSY (AN3156)
    CLRSTATUS: stallErr,
    GETSTATE: ok('dfuDNLOAD_SYNC', 'dfuDNLOAD_SYNC'),
    ABORT: stallErr,
  },
  'dfuDNLOAD_SYNC (operation done)': {
    DETACH: stallErr,
    'DNLOAD data': stallErr,
    'DNLOAD 0': stallErr,
    UPLOAD: stallErr,
    GETSTATUS: ok('dfuDNLOAD_IDLE', 'dfuDNLOAD_IDLE'),
    CLRSTATUS: stallErr,
    GETSTATE: ok('dfuDNLOAD_SYNC', 'dfuDNLOAD_SYNC'),
    ABORT: stallErr,
  },
  dfuDNBUSY: {
    DETACH: { ...stallErr, nak: true },
    'DNLOAD data': { ...stallErr, nak: true },
    'DNLOAD 0': { ...stallErr, nak: true },
    UPLOAD: { ...stallErr, nak: true },
    GETSTATUS: ok('dfuDNLOAD_IDLE', 'dfuDNLOAD_IDLE', { nak: true }),
    CLRSTATUS: { ...stallErr, nak: true },
    GETSTATE: ok('dfuDNLOAD_SYNC', 'dfuDNLOAD_SYNC', { nak: true }),
    ABORT: { ...stallErr, nak: true },
  },
  dfuDNLOAD_IDLE: {
    DETACH: stallErr,
    'DNLOAD data': ok('dfuDNLOAD_SYNC'),
    'DNLOAD 0': ok('dfuMANIFEST_SYNC'),
    UPLOAD: stallErr,
    GETSTATUS: ok('dfuDNLOAD_IDLE', 'dfuDNLOAD_IDLE'),
    CLRSTATUS: stallErr,
    GETSTATE: ok('dfuDNLOAD_IDLE', 'dfuDNLOAD_IDLE'),
    ABORT: ok('dfuIDLE'),
  },
  dfuMANIFEST_SYNC: {
    DETACH: stallErr,
    'DNLOAD data': stallErr,
    'DNLOAD 0': stallErr,
    UPLOAD: stallErr,
    GETSTATUS: ok('dfuMANIFEST_WAIT_RESET', 'dfuMANIFEST'), // reply says dfuMANIFEST, then the device jumps and leaves the bus
    CLRSTATUS: stallErr,
    GETSTATE: ok('dfuMANIFEST_SYNC', 'dfuMANIFEST_SYNC'),
    ABORT: stallErr,
  },
  dfuUPLOAD_IDLE: {
    DETACH: stallErr,
    'DNLOAD data': stallErr,
    'DNLOAD 0': stallErr,
    UPLOAD: ok('dfuUPLOAD_IDLE'),
    GETSTATUS: ok('dfuUPLOAD_IDLE', 'dfuUPLOAD_IDLE'),
    CLRSTATUS: stallErr,
    GETSTATE: ok('dfuUPLOAD_IDLE', 'dfuUPLOAD_IDLE'),
    ABORT: ok('dfuIDLE'),
  },
  // Entered with a STALL (errSTALLEDPKT); further stalls keep that first status.
  dfuERROR: {
    DETACH: stallErr,
    'DNLOAD data': stallErr,
    'DNLOAD 0': stallErr,
    UPLOAD: stallErr,
    GETSTATUS: { reply: 'ok', state: 'dfuERROR', status: 'errSTALLEDPKT', value: 'dfuERROR' },
    CLRSTATUS: ok('dfuIDLE'),
    GETSTATE: { reply: 'ok', state: 'dfuERROR', status: 'errSTALLEDPKT', value: 'dfuERROR' },
    ABORT: stallErr,
  },
  dfuMANIFEST_WAIT_RESET: {
    DETACH: gone,
    'DNLOAD data': gone,
    'DNLOAD 0': gone,
    UPLOAD: gone,
    GETSTATUS: gone,
    CLRSTATUS: gone,
    GETSTATE: gone,
    ABORT: gone,
  },
};

/** Erase of sector 0 (16 KiB, 400 ms on the F405 profile): an operation that takes time. */
const ERASE_0 = [DFUSE_COMMAND.ERASE, ...le32(0x08000000)];

async function enter(setup: Setup): Promise<Host> {
  const h = await openHost({ chip: 'stm32f405' });
  switch (setup) {
    case 'dfuIDLE':
      break;
    case 'dfuDNLOAD_SYNC':
      assert.equal(await h.dnload(0, ERASE_0), 'ok');
      break;
    case 'dfuDNLOAD_SYNC (operation done)': {
      assert.equal(await h.dnload(0, ERASE_0), 'ok');
      const s = await h.getStatus();
      assert.ok(s !== 'stall');
      await h.emu.sleep(s.pollMs);
      break;
    }
    case 'dfuDNBUSY': {
      assert.equal(await h.dnload(0, ERASE_0), 'ok');
      const s = await h.getStatus();
      assert.ok(s !== 'stall' && s.state === 'dfuDNBUSY' && s.pollMs === 400);
      break;
    }
    case 'dfuDNLOAD_IDLE':
      assert.equal((await h.setAddress(0x08000000)).state, 'dfuDNLOAD_IDLE');
      break;
    case 'dfuMANIFEST_SYNC':
      assert.equal(await h.dnload(0, []), 'ok');
      break;
    case 'dfuUPLOAD_IDLE':
      assert.ok((await h.upload(2, 64)) !== 'stall');
      break;
    case 'dfuERROR':
      assert.equal(await h.clrStatus(), 'stall');
      break;
    case 'dfuMANIFEST_WAIT_RESET':
      assert.equal(await h.dnload(0, []), 'ok');
      assert.ok((await h.getStatus()) !== 'stall');
      assert.equal(h.emu.connected, false);
      break;
  }
  assert.equal(h.emu.state, setup.replace(' (operation done)', ''), `setup of ${setup}`);
  return h;
}

async function send(h: Host, req: Req): Promise<'ok' | 'stall' | Uint8Array> {
  switch (req) {
    case 'DETACH':
      return h.out(DFU_REQUEST.DETACH, 255);
    case 'DNLOAD data':
      return h.dnload(2, new Uint8Array(16));
    case 'DNLOAD 0':
      return h.dnload(0, []);
    case 'UPLOAD':
      return h.upload(2, 64);
    case 'GETSTATUS':
      return h.in(DFU_REQUEST.GETSTATUS, 0, 6);
    case 'CLRSTATUS':
      return h.out(DFU_REQUEST.CLRSTATUS, 0);
    case 'GETSTATE':
      return h.in(DFU_REQUEST.GETSTATE, 0, 1);
    case 'ABORT':
      return h.out(DFU_REQUEST.ABORT, 0);
  }
}

const STATES = Object.keys(TABLE) as Setup[];
const REQUESTS: Req[] = ['DETACH', 'DNLOAD data', 'DNLOAD 0', 'UPLOAD', 'GETSTATUS', 'CLRSTATUS', 'GETSTATE', 'ABORT'];

test('the table covers every DFU-mode state and every DFU request', () => {
  const dfuStates = Object.keys(DFU_STATE).filter((s) => s.startsWith('dfu'));
  const covered = new Set(STATES.map((s) => s.replace(' (operation done)', '')));
  // dfuMANIFEST is transient: the reply that reports it is the device's last word.
  assert.deepEqual(dfuStates.filter((s) => !covered.has(s)), ['dfuMANIFEST']);
  assert.deepEqual([...REQUESTS.map((r) => r.split(' ')[0]!)].filter((v, i, a) => a.indexOf(v) === i).sort(), Object.keys(DFU_REQUEST).sort());
  for (const s of STATES) assert.deepEqual(Object.keys(TABLE[s]).sort(), [...REQUESTS].sort(), s);
});

for (const setup of STATES) {
  for (const req of REQUESTS) {
    const want = TABLE[setup][req];
    test(`${setup} × ${req} → ${want.reply}${want.reply !== 'gone' ? `, ${want.state} / ${want.status}` : ''}`, async () => {
      const h = await enter(setup);
      const before = h.emu.log.length;
      if (want.reply === 'gone') {
        await assert.rejects(send(h, req), (e: unknown) => e instanceof TransportError && e.kind === 'disconnected');
        assert.equal(h.emu.state, want.state);
        return;
      }
      const r = await send(h, req);
      assert.equal(r === 'stall' ? 'stall' : 'ok', want.reply);
      assert.equal(h.emu.state, want.state);
      assert.equal(h.emu.status, want.status);
      if (want.value !== undefined) {
        assert.ok(r instanceof Uint8Array);
        const bState = req === 'GETSTATUS' ? r[4] : r[0];
        assert.equal(bState, DFU_STATE[want.value]);
      }
      const entry = h.emu.log[before]!;
      assert.equal(entry.request, req.split(' ')[0]);
      assert.equal(entry.stateBefore, setup === 'dfuDNLOAD_SYNC (operation done)' ? 'dfuDNLOAD_SYNC' : setup);
      assert.equal(entry.stateAfter, want.state);
      assert.equal((entry.nakMs ?? 0) > 0, want.nak === true, `nak: ${entry.nakMs}`);
      if (setup === 'dfuMANIFEST_SYNC' && req === 'GETSTATUS') assert.equal(h.emu.connected, false);
    });
  }
}

// Variants that differ from the clean table by quirk.

test('quirk h7-clrstatus-outside-dfuerror: CLRSTATUS outside dfuERROR → (errUNKNOWN, dfuERROR) without a STALL', async () => {
  for (const setup of ['dfuIDLE', 'dfuDNLOAD_IDLE', 'dfuUPLOAD_IDLE'] as const) {
    const h = await openHost({ chip: 'stm32h743', quirks: ['h7-clrstatus-outside-dfuerror'] });
    if (setup === 'dfuDNLOAD_IDLE') await h.setAddress(0x08000000);
    if (setup === 'dfuUPLOAD_IDLE') await h.upload(2, 64);
    assert.equal(h.emu.state, setup);
    assert.equal(await h.clrStatus(), 'ok');
    assert.deepEqual([h.emu.state, h.emu.status], ['dfuERROR', 'errUNKNOWN']);
    assert.equal(await h.clrStatus(), 'ok');
    assert.deepEqual([h.emu.state, h.emu.status], ['dfuIDLE', 'OK']);
  }
});

test('quirk l4-getstatus-stall-early: in dfuDNBUSY GETSTATUS STALLs and the state stays', async () => {
  const h = await openHost({ chip: 'stm32l476', quirks: ['l4-getstatus-stall-early'] });
  assert.equal(await h.dnload(0, [DFUSE_COMMAND.ERASE, ...le32(0x08000000)]), 'ok');
  const busy = await h.getStatus();
  assert.ok(busy !== 'stall');
  assert.deepEqual([busy.state, busy.pollMs], ['dfuDNBUSY', 11]); // erase 23 ms, reported half
  assert.equal(await h.getStatus(), 'stall');
  assert.equal(h.emu.state, 'dfuDNBUSY');
});

test('requests to another interface, vendor requests and unknown class requests', async () => {
  const h = await openHost({ chip: 'stm32f405' });
  // wIndex 1: not the DFU interface → plain STALL, state unchanged
  const r = await h.emu.raw.control({ bmRequestType: 0xa1, bRequest: DFU_REQUEST.GETSTATUS, wValue: 0, wIndex: 1, wLength: 6 });
  assert.equal(r.status, 'stall');
  assert.equal(h.emu.state, 'dfuIDLE');
  // vendor request → STALL, state unchanged
  const v = await h.dev.controlTransferIn({ requestType: 'vendor', recipient: 'device', request: 1, value: 0, index: 0 }, 4);
  assert.equal(v.status, 'stall');
  assert.equal(h.emu.state, 'dfuIDLE');
  // class request 7 (not DFU) → STALL, dfuERROR
  assert.equal(await h.out(7, 0), 'stall');
  assert.deepEqual([h.emu.state, h.emu.status], ['dfuERROR', 'errSTALLEDPKT']);
  await h.clrStatus();
  // GETSTATUS sent as OUT (wrong direction) → STALL, dfuERROR
  assert.equal(await h.out(DFU_REQUEST.GETSTATUS, 0), 'stall');
  assert.equal(h.emu.state, 'dfuERROR');
});
