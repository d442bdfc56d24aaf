/**
 * Every chip profile, every flash size: erase a sector (the last one, so bank-2 addressing is covered),
 * write one wTransferSize block at its start, read it back through UPLOAD.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listChips, resolveChip } from '../../src/layout/chips.ts';
import { Host, openHost, pattern } from './helpers.ts';

async function smoke(h: Host, seed: number): Promise<void> {
  const chip = h.emu.chip;
  const sector = chip.sectors[chip.sectors.length - 1]!;
  const ts = chip.dfu.wTransferSize;
  h.emu.writeMemory(sector.start, new Uint8Array(16)); // so the erase has something to do
  assert.equal((await h.erase(sector.start)).status, 'OK');
  assert.ok(h.emu.readMemory(sector.start, sector.size).every((b) => b === chip.erasedValue));
  assert.equal((await h.setAddress(sector.start)).status, 'OK');
  const data = pattern(ts, seed);
  assert.equal((await h.write(2, data)).status, 'OK');
  assert.deepEqual(await h.read(sector.start, ts), data);
  const erase = h.emu.log.find((e) => e.op?.kind === 'erase')!.op!;
  const want = chip.timing.sectorEraseMs.find((x) => x.size === sector.size && (x.bankMode === undefined || x.bankMode === chip.bankMode))!;
  assert.equal(erase.durationMs, Math.ceil(want.typ));
  assert.equal(erase.sector, sector.index);
}

for (const c of listChips()) {
  for (const v of c.flashSizes) {
    for (const bankMode of v.bankModes) {
      test(`${c.name} ${v.code} (${v.size / 1024} KiB, ${bankMode} bank): erase, write, read back`, async () => {
        const chip = resolveChip(c.name, { flashSize: v.size, ...(v.bankModes.length > 1 ? { bankMode } : {}) });
        const h = await openHost({ chip });
        await smoke(h, v.size + v.bankModes.indexOf(bankMode));
      });
    }
  }
}

test('every profile with its profile quirks and every bootloader version still flashes a block', async () => {
  for (const c of listChips()) {
    for (const bl of resolveChip(c.name).bootloader.versions) {
      const h = await openHost({ chip: c.name, bootloaderVersion: bl.id, quirks: 'profile' });
      const addr = h.emu.chip.sectors[0]!.start;
      assert.equal((await h.erase(addr)).status, 'OK', `${c.name} 0x${bl.id.toString(16)}`);
      await h.setAddress(addr);
      const data = pattern(h.emu.chip.dfu.wTransferSize, bl.id);
      assert.equal((await h.write(2, data)).status, 'OK');
      assert.deepEqual(await h.read(addr, data.length), data);
    }
  }
});
