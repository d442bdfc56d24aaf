/** `dfukit chips`, `dfukit chips PART`, `dfukit chips show PART`, in process. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command, CommanderError } from '@commander-js/extra-typings';
import { registerChips, renderChipDetail, renderChipList } from '../../src/cli/commands/chips.ts';
import { FwError } from '../../src/core/errors.ts';
import { listChips, resolveChip } from '../../src/layout/chips.ts';

async function run(args: string[]): Promise<{ stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const program = new Command().exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  registerChips(program, { out: (s) => (stdout += s), err: (s) => (stderr += s) });
  await program.parseAsync(args, { from: 'user' });
  return { stdout, stderr };
}

test('chips lists the profiles; chips PART and chips show PART print the same detail', async () => {
  assert.equal((await run(['chips'])).stdout, renderChipList(listChips()));
  const a = await run(['chips', 'stm32f722rc']);
  const b = await run(['chips', 'show', 'stm32f722rc']);
  assert.equal(a.stdout, b.stdout);
  const detail = b.stdout;
  assert.match(detail, /^STM32F722RC {2}STM32F722\/F723\/F732\/F733 .*; profile stm32f722, RM0431\n/);
  assert.match(detail, /\nflash +256 KiB \(xC, from the part number\); program unit 8 B; ROM write alignment 8 B; erased 0xFF\n/);
  assert.match(detail, /\nbank mode +single \(fixed\)\n/);
  assert.match(detail, /\nbank 1 +0x08000000\.\.0x08040000 {2}4 x 16 KiB \(sectors 0-3\), 1 x 64 KiB \(sector 4\), 1 x 128 KiB \(sector 5\)\n/);
  // Sector runs with their address ranges.
  assert.match(detail, /\n +0x08000000\.\.0x08010000 {2}4 x 16 KiB {2}sectors 0-3\n +0x08010000\.\.0x08020000 {2}1 x 64 KiB {2}sector 4\n +0x08020000\.\.0x08040000 {2}1 x 128 KiB {2}sector 5\n/);
  assert.match(detail, /\nram +ITCM RAM 0x00000000 16 KiB; DTCM 0x20000000 64 KiB; SRAM1 0x20010000 176 KiB; SRAM2 0x2003C000 16 KiB; Backup SRAM 0x40024000 4 KiB\n/);
  assert.match(detail, /\ntiming +erase 16 KiB 400 ms \(max 800 ms\), 64 KiB 1\.2 s \(max 2\.4 s\), 128 KiB 2 s \(max 4 s\); program 8 B 128 us \(max 800 us\); mass erase 16 s \(max 32 s\); unverified; x8/);
  assert.match(detail, /\nalt 0 +"@Internal Flash {2}\/0x08000000\/04\*016Kg,01\*64Kg,03\*128Kg" {2}flash \[B\]\n +the layout describes 512 KiB, the part has 256 KiB: 0x08040000\.\.0x08080000 is not flash of this part \(documented: quirk f72x-rom-layout-reports-512k\)\n/);
  assert.match(detail, /\nalt 2 +"@OTP Memory \/0x1FF07800\/01\*528e" {2}otp \[U\]\n +parsed with the leniency 'type-in-multiplier' \(quirk f72x-otp-layout-no-multiplier\)\n/);
  assert.match(detail, /\nquirk +f7-dfu-needs-hse \(clock, documented\)\n +The ROM runs USB DFU from the HSE/);
  assert.equal(detail, renderChipDetail(resolveChip('stm32f722rc'), { layoutNotes: (await import('../../src/layout/chip-report.ts')).layoutNotes(resolveChip('stm32f722rc')) }));
});

test('chips show with --bank-mode and --flash-size, before or after the part', async () => {
  const dual = (await run(['chips', 'show', 'stm32f767zg', '--bank-mode', 'dual'])).stdout;
  assert.match(dual, /\nbank mode +dual \(from --bank-mode\); selectable: single, dual by nDBANK \(FLASH_OPTCR bit 29\): 1 = single bank \(factory\), 0 = dual bank\n/);
  assert.match(dual, /\nbank 2 +0x08080000\.\.0x08100000 {2}4 x 16 KiB \(sectors 12-15\), 1 x 64 KiB \(sector 16\), 3 x 128 KiB \(sectors 17-19\)\n/);
  assert.match(dual, /\n +the layout has a 32 KiB sector at 0x08000000, the part a 16 KiB one \(15 sectors differ\) \(documented: quirk f76x-dual-bank-rom-reports-single-map\)\n/);
  assert.match(dual, /\nquirk +f76x-bl93-bank2-erase-offset \[bootloader 0x93\] \(erase, documented\)\n/);
  assert.equal((await run(['chips', '--bank-mode', 'dual', 'show', 'stm32f767zg'])).stdout, dual);
  assert.equal((await run(['chips', 'stm32f767zg', '--bank-mode', 'dual'])).stdout, dual);
  const g = (await run(['chips', 'show', 'stm32f767', '--flash-size', '1M'])).stdout;
  assert.match(g, /^STM32F767xG /);
  assert.match(g, /\nbank mode +single \(factory default\); selectable: single, dual/);

  const h7a3 = (await run(['chips', 'show', 'h7a3'])).stdout;
  assert.match(h7a3, /\nalt 1 +"@Option Bytes {3}\/0x1FF8000\/01\*128 e" {2}option-bytes \[A\]\n +parsed with the leniency 'short-address' \(quirk h7a3-rom-short-addresses\)\n +also "@Option Bytes {2}\/0x1FF8000\/01\*128 e" \[A\]\n/);
  assert.match(h7a3, /\ntiming +erase 8 KiB 2 ms \(max 20 ms\); program 16 B 50 us \(max 100 us\); estimate\n/);
});

test('chips show --json prints the resolved profile; usage errors', async () => {
  const json = JSON.parse((await run(['chips', 'show', 'stm32h750vb', '--json'])).stdout) as { flashSize: number; bankMode: string; sectors: unknown[]; timing: { confidence: string } };
  assert.deepEqual([json.flashSize, json.bankMode, json.sectors.length, json.timing.confidence], [128 * 1024, 'single', 1, 'secondary']);
  const warned = await run(['chips', 'show', 'stm32h753xg', '--json']);
  assert.match(warned.stderr, /^dfukit: warning: ST does not sell STM32H753 with 1048576/);

  await assert.rejects(run(['chips', 'show', 'stm32h743', '--bank-mode', 'single']), (e: unknown) => e instanceof FwError && e.code === 'CHIP_BANK_MODE_UNSUPPORTED' && e.exitStatus === 2);
  await assert.rejects(run(['chips', 'show', 'stm32f767', '--bank-mode', 'triple']), (e: unknown) => e instanceof CommanderError && /expected single or dual, got 'triple'/.test(e.message));
  await assert.rejects(run(['chips', 'show']), (e: unknown) => e instanceof CommanderError && e.code === 'commander.missingArgument');
  await assert.rejects(run(['chips', 'show', 'stm32x999']), (e: unknown) => e instanceof FwError && e.code === 'CHIP_UNKNOWN');
});
