/**
 * DFU 1.1 host requests against scripted answers: GETSTATUS decode, polling that sleeps exactly bwPollTimeout,
 * the cap, the zero-timeout back-off, the deadline, STALL tolerance, recovery by state, and the DfuSe command
 * bytes and leave outcomes.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeFunctionalDescriptor, findFunctionalDescriptor } from '../../src/dfu/descriptors.ts';
import { blockAddress, blockNumber, DfuseDevice, reachOfPointer } from '../../src/dfu/dfuse.ts';
import { DfuError } from '../../src/dfu/errors.ts';
import { stateName, statusName } from '../../src/dfu/names.ts';
import { decodeStatus, DfuProtocol, dfuDNBUSY, dfuDNLOAD_IDLE, dfuERROR, dfuIDLE, dfuMANIFEST, dfuUPLOAD_IDLE, appIDLE } from '../../src/dfu/protocol.ts';
import { ScriptedTransport, statusBytes, virtualClock } from './scripted.ts';

const ok = (data?: number[]) => (data === undefined ? { status: 'ok' as const } : { status: 'ok' as const, data });
const st = (state: number, status = 0, poll = 0) => ok(statusBytes(state, status, poll));

function dfuError(code: string, check?: (e: DfuError) => void): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof DfuError, `expected DfuError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    check?.(e);
    return true;
  };
}

describe('names and decoding', () => {
  test('states and statuses are named as DFU 1.1 spells them', () => {
    assert.equal(stateName(5), 'dfuDNLOAD-IDLE');
    assert.equal(stateName(8), 'dfuMANIFEST-WAIT-RESET');
    assert.equal(statusName(5), 'errCHECK_ERASED');
    assert.equal(statusName(0x0c), 'errUSBR');
    assert.equal(statusName(0x42), 'bStatus 0x42 (undefined in DFU 1.1)');
  });

  test('GETSTATUS: 24-bit little-endian bwPollTimeout', () => {
    const s = decodeStatus(new DataView(new Uint8Array([0x06, 0x10, 0x27, 0x01, 10, 0]).buffer), { operation: 't' });
    assert.deepEqual(s, { status: 6, pollTimeout: 0x012710, state: 10, iString: 0 });
    assert.throws(() => decodeStatus(new DataView(new ArrayBuffer(4)), { operation: 't' }), dfuError('DFU_STATE'));
  });

  test('functional descriptor from a configuration descriptor', () => {
    const config = [9, 2, 36, 0, 1, 1, 4, 0xc0, 50, 9, 4, 0, 0, 0, 0xfe, 1, 2, 5, 9, 4, 0, 1, 0, 0xfe, 1, 2, 6, 9, 0x21, 0x0b, 255, 0, 0x00, 0x04, 0x1a, 0x01];
    const f = findFunctionalDescriptor(new Uint8Array(config))!;
    assert.deepEqual([f.wTransferSize, f.bcdDFUVersion, f.canDownload, f.canUpload, f.manifestationTolerant, f.willDetach, f.wDetachTimeOut], [1024, 0x011a, true, true, false, true, 255]);
    assert.equal(decodeFunctionalDescriptor(new Uint8Array([7, 0x21, 3, 0, 0, 0, 8]))!.bcdDFUVersion, 0x0100);
  });

  test('DfuSe block math: pointer + (wBlockNum - 2) x wTransferSize', () => {
    assert.equal(blockAddress(0x08000000, 2, 1024), 0x08000000);
    assert.equal(blockAddress(0x08000000, 5, 2048), 0x08001800);
    assert.equal(blockNumber(0x08000000, 0x08001800, 2048), 5);
    assert.equal(reachOfPointer(2048), 65534 * 2048);
  });
});

describe('polling', () => {
  test('a block is DNLOAD + GETSTATUS(dfuDNBUSY) + sleep bwPollTimeout + GETSTATUS(dfuDNLOAD-IDLE): 3 requests', async () => {
    const t = new ScriptedTransport([ok(), st(dfuDNBUSY, 0, 7), st(dfuDNLOAD_IDLE)]);
    const clock = virtualClock();
    const p = new DfuProtocol(t, { clock });
    await p.dnloadAndWait(2, new Uint8Array([1, 2, 3]), { operation: 'write', address: 0x08000000, block: 2 }, { deadlineMs: 1000 });
    assert.deepEqual(t.sent.map((s) => s.request), ['DNLOAD', 'GETSTATUS', 'GETSTATUS']);
    assert.deepEqual(clock.sleeps, [7], 'sleeps exactly bwPollTimeout');
    assert.equal(p.requestCount, 3);
  });

  test('the cap bounds a huge bwPollTimeout; zero timeouts poll at once twice, then back off 1, 2, 4 ms', async () => {
    const zero = (): ReturnType<typeof st> => st(dfuDNBUSY, 0, 0);
    const t = new ScriptedTransport([st(dfuDNBUSY, 0, 0xffffff), zero(), zero(), zero(), zero(), zero(), st(dfuDNLOAD_IDLE)]);
    const clock = virtualClock();
    await new DfuProtocol(t, { clock }).poll({ operation: 'erase' }, { deadlineMs: 100_000, pollCapMs: 500 });
    assert.deepEqual(clock.sleeps.filter((ms) => ms > 0), [500, 1, 2, 4]);
    assert.equal(clock.sleeps.length - clock.sleeps.filter((ms) => ms > 0).length <= 2, true, 'at most the two immediate polls');
  });

  test('a device busy past the deadline is DFU_TIMEOUT naming the state and the last bwPollTimeout', async () => {
    const t = new ScriptedTransport(Array.from({ length: 10 }, () => st(dfuDNBUSY, 0, 1000)));
    await assert.rejects(
      new DfuProtocol(t, { clock: virtualClock() }).poll({ operation: 'erase', address: 0x08100000 }, { deadlineMs: 3000 }),
      dfuError('DFU_TIMEOUT', (e) => {
        assert.match(e.message, /^erase at 0x08100000: the device is still in dfuDNBUSY after 3000 ms \(deadline 3000 ms, last bwPollTimeout 1000 ms\)/);
        assert.deepEqual(e.dfu, { operation: 'erase', request: 'GETSTATUS', state: 'dfuDNBUSY', status: 'OK', address: 0x08100000 });
      }),
    );
  });

  test('up to three STALLed polls are tolerated (L4 ROM, Q2); the fourth is an error', async () => {
    const t = new ScriptedTransport([st(dfuDNBUSY, 0, 5), { status: 'stall' }, { status: 'stall' }, st(dfuDNLOAD_IDLE)]);
    const clock = virtualClock();
    await new DfuProtocol(t, { clock }).poll({ operation: 'write' }, { deadlineMs: 1000 });
    assert.deepEqual(clock.sleeps, [5, 5, 5], 'a STALL waits the last timeout again');
    const t2 = new ScriptedTransport([{ status: 'stall' }, { status: 'stall' }, { status: 'stall' }, { status: 'stall' }]);
    await assert.rejects(new DfuProtocol(t2, { clock: virtualClock() }).poll({ operation: 'write' }, { deadlineMs: 1000 }), dfuError('DFU_STALL'));
  });

  test('an error status after DNLOAD names the operation, address, block, state and status', async () => {
    const t = new ScriptedTransport([ok(), st(dfuDNBUSY, 0, 3), st(dfuERROR, 0x06)]);
    await assert.rejects(
      new DfuProtocol(t, { clock: virtualClock() }).dnloadAndWait(7, new Uint8Array(4), { operation: 'write', address: 0x08001400, block: 7 }, { deadlineMs: 1000 }),
      dfuError('DFU_STATUS', (e) => {
        assert.equal(e.message, 'write at 0x08001400 (wBlockNum 7): the device reports errPROG in dfuERROR after DNLOAD');
        assert.equal(e.exitStatus, 4);
        assert.deepEqual(e.toJSON().dfu, { operation: 'write', address: 0x08001400, block: 7, request: 'DNLOAD', state: 'dfuERROR', status: 'errPROG' });
      }),
    );
  });

  test('a disconnect is DFU_DISCONNECTED naming the request', async () => {
    const t = new ScriptedTransport([{ throws: 'disconnected' }]);
    await assert.rejects(new DfuProtocol(t).getStatus({ operation: 'verify', address: 0x08000000 }), dfuError('DFU_DISCONNECTED', (e) => assert.match(e.message, /^verify at 0x08000000: the device disconnected during GETSTATUS/)));
  });
});

describe('recovery to dfuIDLE by state', () => {
  const cases: [string, number, string[]][] = [
    ['dfuIDLE: nothing', dfuIDLE, ['GETSTATUS']],
    ['dfuERROR: CLRSTATUS', dfuERROR, ['GETSTATUS', 'CLRSTATUS', 'GETSTATUS']],
    ['dfuDNLOAD-IDLE: ABORT', dfuDNLOAD_IDLE, ['GETSTATUS', 'ABORT', 'GETSTATUS']],
    ['dfuUPLOAD-IDLE: ABORT', dfuUPLOAD_IDLE, ['GETSTATUS', 'ABORT', 'GETSTATUS']],
  ];
  for (const [name, state, expected] of cases) {
    test(name, async () => {
      const t = new ScriptedTransport(state === dfuIDLE ? [st(dfuIDLE)] : [st(state, state === dfuERROR ? 0x0e : 0), ok(), st(dfuIDLE)]);
      await new DfuProtocol(t).recoverToIdle({ operation: 'connect' });
      assert.deepEqual(t.sent.map((s) => s.request), expected);
    });
  }

  test('dfuDNBUSY: polls until the operation ends, then ABORTs', async () => {
    const t = new ScriptedTransport([st(dfuDNBUSY, 0, 20), st(dfuDNLOAD_IDLE), ok(), st(dfuIDLE)]);
    await new DfuProtocol(t, { clock: virtualClock() }).recoverToIdle({ operation: 'connect' });
    assert.deepEqual(t.sent.map((s) => s.request), ['GETSTATUS', 'GETSTATUS', 'ABORT', 'GETSTATUS']);
  });

  test('a device running its application is named as such', async () => {
    const t = new ScriptedTransport([st(appIDLE)]);
    await assert.rejects(new DfuProtocol(t).recoverToIdle({ operation: 'connect' }), dfuError('DFU_STATE', (e) => assert.match(e.message, /appIDLE.*DFU mode/)));
  });
});

describe('DfuSe commands', () => {
  test('SET_ADDRESS, ERASE, mass erase and read unprotect bytes (AN3156)', async () => {
    const t = new ScriptedTransport([ok(), st(dfuDNBUSY, 0, 1), st(dfuDNLOAD_IDLE), ok(), st(dfuDNBUSY, 0, 1), st(dfuDNLOAD_IDLE), ok(), st(dfuDNBUSY, 0, 1), st(dfuDNLOAD_IDLE), ok(), { throws: 'disconnected' }]);
    const d = new DfuseDevice(new DfuProtocol(t, { clock: virtualClock() }), 1024);
    await d.setAddress(0x08100000);
    await d.eraseSector(0x08020000, 0x20000);
    await d.massErase();
    assert.equal(await d.readUnprotect(), 'disconnected');
    const dn = t.sent.filter((s) => s.request === 'DNLOAD');
    assert.deepEqual(dn.map((s) => [s.value, s.data]), [
      [0, [0x21, 0x00, 0x00, 0x10, 0x08]],
      [0, [0x41, 0x00, 0x00, 0x02, 0x08]],
      [0, [0x41]],
      [0, [0x92]],
    ]);
  });

  test('H7 rev V bank-2 erase stuck in dfuDNBUSY: CLRSTATUS pair, reported as recovered (Q1)', async () => {
    const busy = Array.from({ length: 5 }, () => st(dfuDNBUSY, 0, 1000));
    const t = new ScriptedTransport([ok(), ...busy, ok(), st(dfuERROR, 0x0e), ok(), st(dfuIDLE)]);
    const d = new DfuseDevice(new DfuProtocol(t, { clock: virtualClock() }), 1024, { commandMs: 5000, blockMs: 5000, sectorEraseMs: () => 4000, massEraseMs: 35000, pollCapMs: 5000 });
    assert.equal(await d.eraseSector(0x08100000, 0x20000), 'recovered-q1');
    assert.deepEqual(t.sent.slice(-4).map((s) => s.request), ['CLRSTATUS', 'GETSTATUS', 'CLRSTATUS', 'GETSTATUS']);
  });

  test('leave: SET_ADDRESS(vector table) then zero-length DNLOAD; dfuMANIFEST or a vanished device are success', async () => {
    const answers = [ok(), st(dfuDNBUSY, 0, 1), st(dfuDNLOAD_IDLE), ok()];
    const t1 = new ScriptedTransport([...answers, st(dfuMANIFEST, 0, 1)]);
    assert.equal(await new DfuseDevice(new DfuProtocol(t1, { clock: virtualClock() }), 1024).leave(0x08000000), 'manifest');
    assert.deepEqual(t1.sent.map((s) => [s.request, s.value, s.data?.length ?? 0]), [
      ['DNLOAD', 0, 5],
      ['GETSTATUS', 0, 0],
      ['GETSTATUS', 0, 0],
      ['DNLOAD', 2, 0],
      ['GETSTATUS', 0, 0],
    ]);
    const t2 = new ScriptedTransport([...answers, { throws: 'disconnected' }]);
    assert.equal(await new DfuseDevice(new DfuProtocol(t2, { clock: virtualClock() }), 1024).leave(0x08000000), 'disconnected');
    const t3 = new ScriptedTransport([...answers, st(dfuERROR, 0x01)]);
    await assert.rejects(new DfuseDevice(new DfuProtocol(t3, { clock: virtualClock() }), 1024).leave(0x08000000), dfuError('DFU_STATUS', (e) => assert.match(e.message, /errTARGET in dfuERROR/)));
  });

  test('read: SET_ADDRESS, ABORT, UPLOAD blocks from 2, ABORT; a short block is an error', async () => {
    const t = new ScriptedTransport([ok(), st(dfuDNBUSY, 0, 1), st(dfuDNLOAD_IDLE), ok(), ok([1, 2, 3, 4]), ok([5, 6]), ok()]);
    const d = new DfuseDevice(new DfuProtocol(t, { clock: virtualClock() }), 4);
    assert.deepEqual([...(await d.read(0x08000000, 6))], [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(t.sent.map((s) => `${s.request}${s.request === 'UPLOAD' ? `(${s.value},${s.length})` : ''}`), ['DNLOAD', 'GETSTATUS', 'GETSTATUS', 'ABORT', 'UPLOAD(2,4)', 'UPLOAD(3,2)', 'ABORT']);
    const t2 = new ScriptedTransport([ok(), st(dfuDNLOAD_IDLE), ok(), ok([1, 2])]);
    await assert.rejects(new DfuseDevice(new DfuProtocol(t2, { clock: virtualClock() }), 4).read(0x08000000, 4), dfuError('DFU_LAYOUT'));
  });
});
