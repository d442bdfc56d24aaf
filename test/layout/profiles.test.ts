/**
 * The chip profiles as data: every ROM layout string recorded in a profile either describes the profile's map
 * exactly or the profile documents the difference; sectors tile every bank of every flash size and bank mode;
 * bank modes resolve; the geometry of each family matches its reference manual at the addresses an engineer
 * would check; timing covers every sector size.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FwError } from '../../src/core/errors.ts';
import { chipProfileSources, resolveChip, type ChipProfile } from '../../src/layout/chips.ts';
import {
  compareLayoutToSectors,
  describeComparison,
  effectiveBankMode,
  expandBankSectors,
  layoutQuirkFor,
  variantLayouts,
} from '../../src/layout/layout-compare.ts';
import { parseLayoutString } from '../../src/layout/layout-string.ts';
import { sectorAt } from '../../src/layout/sectors.ts';
import { compileEdited, lineOf } from './compile-helpers.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

function fwError(code: string): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof FwError, `expected FwError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  };
}

/** [profile, alt, string index (0 = layout, 1.. = otherLayouts), flash code | 'leniency', mode | leniency, relation, quirk] */
type Row = [string, number, number, string, string, string, string | undefined];

function nonExactRelations(): Row[] {
  const rows: Row[] = [];
  for (const p of chipProfileSources()) {
    for (const a of p.dfu.alts) {
      const strings = [a.layout, ...(a.otherLayouts ?? []).map((o) => o.layout)];
      strings.forEach((raw, si) => {
        const layout = parseLayoutString(raw);
        if (a.kind === 'flash') {
          for (const v of p.flash.variants) {
            for (const l of variantLayouts(v)) {
              const mode = effectiveBankMode(l);
              const cmp = compareLayoutToSectors(layout, expandBankSectors(l.banks));
              if (cmp.relation !== 'exact') rows.push([p.name, a.alt, si, v.code, mode, cmp.relation, layoutQuirkFor(p.quirks, { alt: a.alt, flashCode: v.code, bankMode: mode })?.id]);
            }
          }
        }
        for (const len of layout.leniencies) rows.push([p.name, a.alt, si, 'leniency', len, 'parsed', layoutQuirkFor(p.quirks, { alt: a.alt, leniency: len })?.id]);
      });
    }
  }
  return rows;
}

test('every recorded ROM layout string parses to the profile map, or the profile documents the difference', () => {
  const rows = nonExactRelations();
  for (const r of rows) assert.notEqual(r[6], undefined, `undocumented: ${JSON.stringify(r)}`);
  // The complete list, so that a new difference is a reviewed change. Everything not listed is exact.
  assert.deepEqual(rows, [
    ['stm32f405', 0, 0, 'E', 'single', 'covers', 'f40x-rom-layout-512k'],
    ['stm32f411', 0, 0, 'C', 'single', 'covers', 'f411-rom-layout-512k'],
    ['stm32f429', 0, 0, 'G', 'single', 'covers', 'f42x-rom-layout-reports-2m'],
    ['stm32f429', 0, 0, 'G', 'dual', 'differs', 'f42x-db1m-rom-layout'],
    ['stm32f429', 0, 0, 'E', 'single', 'covers', 'f42x-rom-layout-reports-2m'],
    ['stm32f722', 0, 0, 'C', 'single', 'covers', 'f72x-rom-layout-reports-512k'],
    ['stm32f722', 2, 0, 'leniency', 'type-in-multiplier', 'parsed', 'f72x-otp-layout-no-multiplier'],
    ['stm32f746', 0, 0, 'E', 'single', 'covers', 'f74x-rom-layout-1m'],
    ['stm32f767', 0, 0, 'I', 'dual', 'differs', 'f76x-dual-bank-rom-reports-single-map'],
    ['stm32f767', 0, 0, 'G', 'single', 'covers', 'f76x-rom-layout-2m'],
    ['stm32f767', 0, 0, 'G', 'dual', 'differs', 'f76x-dual-bank-rom-reports-single-map'],
    ['stm32g474', 0, 0, 'E', 'single', 'differs', 'g47x-rom-layout-single-bank'],
    ['stm32g474', 0, 0, 'C', 'dual', 'covers', 'g47x-rom-layout-trimmed'],
    ['stm32g474', 0, 0, 'C', 'single', 'differs', 'g47x-rom-layout-single-bank'],
    ['stm32g474', 0, 0, 'B', 'dual', 'covers', 'g47x-rom-layout-trimmed'],
    ['stm32g474', 0, 0, 'B', 'single', 'differs', 'g47x-rom-layout-single-bank'],
    ['stm32h743', 0, 0, 'G', 'dual', 'covers', 'h7-rom-layout-reports-die-size'],
    ['stm32h745', 0, 0, 'G', 'dual', 'covers', 'h7-rom-layout-reports-die-size'],
    ['stm32h750', 0, 0, 'B', 'single', 'covers', 'h750-rom-layout-reports-2m'],
    ['stm32h7a3', 0, 0, 'I', 'dual', 'differs', 'h7a3-bl90-flash-layout-wrong'],
    ['stm32h7a3', 0, 0, 'G', 'dual', 'differs', 'h7a3-bl90-flash-layout-wrong'],
    ['stm32h7a3', 0, 0, 'B', 'single', 'differs', 'h7a3-bl90-flash-layout-wrong'],
    ['stm32h7a3', 0, 1, 'I', 'dual', 'differs', 'h7a3-bl90-flash-layout-wrong'],
    ['stm32h7a3', 0, 1, 'G', 'dual', 'differs', 'h7a3-bl90-flash-layout-wrong'],
    ['stm32h7a3', 0, 1, 'B', 'single', 'differs', 'h7a3-bl90-flash-layout-wrong'],
    ['stm32h7a3', 1, 0, 'leniency', 'short-address', 'parsed', 'h7a3-rom-short-addresses'],
    ['stm32h7a3', 1, 1, 'leniency', 'short-address', 'parsed', 'h7a3-rom-short-addresses'],
    ['stm32h7a3', 2, 0, 'leniency', 'short-address', 'parsed', 'h7a3-rom-short-addresses'],
    ['stm32h7a3', 2, 1, 'leniency', 'short-address', 'parsed', 'h7a3-rom-short-addresses'],
    ['stm32l476', 0, 0, 'E', 'dual', 'covers', 'l476-rom-layout-1m'],
    ['stm32l476', 0, 0, 'E', 'single', 'covers', 'l476-rom-layout-1m'],
    ['stm32l476', 0, 0, 'C', 'dual', 'covers', 'l476-rom-layout-1m'],
    ['stm32l476', 0, 0, 'C', 'single', 'covers', 'l476-rom-layout-1m'],
  ]);
});

test('the three differences the brief names: H750 reports 2 MiB, H7A3 7-digit addresses, F76x dual bank reports the single-bank map', () => {
  const h750 = resolveChip('STM32H750VBT6');
  const c750 = compareLayoutToSectors(parseLayoutString(h750.dfu.alts[0]!.layout), h750.sectors);
  assert.equal(c750.relation, 'covers');
  assert.deepEqual([c750.layoutBytes, c750.mapBytes, c750.extra], [2 * MiB, 128 * KiB, [{ start: 0x08020000, end: 0x08200000 }]]);
  assert.equal(describeComparison(c750), 'the layout describes 2 MiB, the part has 128 KiB: 0x08020000..0x08200000 is not flash of this part');
  assert.ok(h750.quirks.some((q) => q.id === 'h750-rom-layout-reports-2m' && q.confidence === 'documented'));

  const h7a3 = resolveChip('stm32h7a3zi');
  const ob = parseLayoutString(h7a3.dfu.alts[1]!.layout);
  const otp = parseLayoutString(h7a3.dfu.alts[2]!.layout);
  assert.deepEqual([ob.leniencies, ob.segments[0]!.start, otp.leniencies, otp.segments[0]!.start], [['short-address'], 0x01ff8000, ['short-address'], 0x01ff7000]);
  const flash = compareLayoutToSectors(parseLayoutString(h7a3.dfu.alts[0]!.layout), h7a3.sectors);
  assert.equal(flash.relation, 'differs');
  assert.equal(flash.mismatches.length, 256);
  assert.deepEqual(flash.mismatches[0], { start: 0x08000000, size: 8 * KiB, reported: { size: 2 * KiB, type: 'g' } });

  const single = resolveChip('stm32f767zi');
  const dual = resolveChip('stm32f767zi', { bankMode: 'dual' });
  const rom = parseLayoutString(single.dfu.alts[0]!.layout);
  assert.equal(compareLayoutToSectors(rom, single.sectors).relation, 'exact');
  assert.equal(compareLayoutToSectors(rom, dual.sectors).relation, 'differs');
  assert.ok(dual.quirks.some((q) => q.id === 'f76x-dual-bank-rom-reports-single-map'));
  assert.ok(!single.quirks.some((q) => q.id === 'f76x-dual-bank-rom-reports-single-map'), 'the quirk is scoped to dual-bank mode');
});

function runs(p: ChipProfile): string {
  return p.banks
    .map((b) => {
      const parts: string[] = [];
      let prev: { size: number; n: number; first: number } | undefined;
      for (const s of b.sectors) {
        if (prev !== undefined && prev.size === s.size) prev.n++;
        else {
          if (prev !== undefined) parts.push(`${prev.n}x${prev.size / KiB}K`);
          prev = { size: s.size, n: 1, first: s.sector };
        }
      }
      if (prev !== undefined) parts.push(`${prev.n}x${prev.size / KiB}K`);
      return `${b.bank}@${b.start.toString(16)}#${b.sectors[0]!.sector}:${parts.join(',')}`;
    })
    .join(' ');
}

test('geometry of every new family, as the reference manuals lay it out', () => {
  const cases: [string, { bankMode?: 'single' | 'dual' }, string][] = [
    ['stm32f405rg', {}, '1@8000000#0:4x16K,1x64K,7x128K'],
    ['stm32f407ve', {}, '1@8000000#0:4x16K,1x64K,3x128K'],
    ['stm32f411ce', {}, '1@8000000#0:4x16K,1x64K,3x128K'],
    ['stm32f411cc', {}, '1@8000000#0:4x16K,1x64K,1x128K'],
    ['stm32f429zi', {}, '1@8000000#0:4x16K,1x64K,7x128K 2@8100000#12:4x16K,1x64K,7x128K'],
    ['stm32f429zg', {}, '1@8000000#0:4x16K,1x64K,7x128K'],
    ['stm32f429zg', { bankMode: 'dual' }, '1@8000000#0:4x16K,1x64K,3x128K 2@8080000#12:4x16K,1x64K,3x128K'],
    ['stm32f429ze', {}, '1@8000000#0:4x16K,1x64K,3x128K'],
    ['stm32f746zg', {}, '1@8000000#0:4x32K,1x128K,3x256K'],
    ['stm32f746ze', {}, '1@8000000#0:4x32K,1x128K,1x256K'],
    ['stm32f767zi', {}, '1@8000000#0:4x32K,1x128K,7x256K'],
    ['stm32f767zi', { bankMode: 'dual' }, '1@8000000#0:4x16K,1x64K,7x128K 2@8100000#12:4x16K,1x64K,7x128K'],
    ['stm32f767zg', {}, '1@8000000#0:4x32K,1x128K,3x256K'],
    ['stm32f767zg', { bankMode: 'dual' }, '1@8000000#0:4x16K,1x64K,3x128K 2@8080000#12:4x16K,1x64K,3x128K'],
    ['stm32h750vb', {}, '1@8000000#0:1x128K'],
    ['stm32h7a3zi', {}, '1@8000000#0:128x8K 2@8100000#0:128x8K'],
    ['stm32h7a3zg', {}, '1@8000000#0:64x8K 2@8100000#0:64x8K'],
    ['stm32h7b0vb', {}, '1@8000000#0:16x8K'],
    ['stm32l476rg', {}, '1@8000000#0:256x2K 2@8080000#0:256x2K'],
    ['stm32l476re', {}, '1@8000000#0:128x2K 2@8040000#0:128x2K'],
    ['stm32l476re', { bankMode: 'single' }, '1@8000000#0:256x2K'],
    ['stm32l476rc', {}, '1@8000000#0:64x2K 2@8020000#0:64x2K'],
    ['stm32g474re', {}, '1@8000000#0:128x2K 2@8040000#0:128x2K'],
    ['stm32g474re', { bankMode: 'single' }, '1@8000000#0:128x4K'],
    ['stm32g474rc', {}, '1@8000000#0:64x2K 2@8040000#0:64x2K'],
    ['stm32g474rb', {}, '1@8000000#0:32x2K 2@8040000#0:32x2K'],
    ['stm32g474rb', { bankMode: 'single' }, '1@8000000#0:32x4K'],
  ];
  for (const [name, opts, want] of cases) assert.equal(runs(resolveChip(name, opts)), want, `${name} ${opts.bankMode ?? ''}`);

  // Addresses an engineer checks against the manuals.
  assert.deepEqual(sectorAt(resolveChip('stm32f405rg'), 0x080e0000), { index: 11, bank: 1, sector: 11, start: 0x080e0000, end: 0x08100000, size: 128 * KiB });
  assert.deepEqual(sectorAt(resolveChip('stm32f429zi'), 0x0810c000), { index: 15, bank: 2, sector: 15, start: 0x0810c000, end: 0x08110000, size: 16 * KiB });
  assert.deepEqual(sectorAt(resolveChip('stm32f429zg', { bankMode: 'dual' }), 0x08080000), { index: 8, bank: 2, sector: 12, start: 0x08080000, end: 0x08084000, size: 16 * KiB });
  assert.equal(sectorAt(resolveChip('stm32f429zg'), 0x08080000)!.sector, 8, 'single-bank 1 MiB: sector 8 is 128 KiB at 0x08080000');
  assert.deepEqual(sectorAt(resolveChip('stm32f767zg', { bankMode: 'dual' }), 0x08080000), { index: 8, bank: 2, sector: 12, start: 0x08080000, end: 0x08084000, size: 16 * KiB });
  assert.deepEqual(sectorAt(resolveChip('stm32f746zg'), 0x080c0000), { index: 7, bank: 1, sector: 7, start: 0x080c0000, end: 0x08100000, size: 256 * KiB });
  assert.equal(sectorAt(resolveChip('stm32h7a3vg'), 0x08080000), undefined, 'the 512 KiB hole between the banks of a 1 MiB H7A3');
  assert.deepEqual(sectorAt(resolveChip('stm32h7a3vg'), 0x08102000), { index: 65, bank: 2, sector: 1, start: 0x08102000, end: 0x08104000, size: 8 * KiB });
  assert.deepEqual(sectorAt(resolveChip('stm32l476rg'), 0x08080800), { index: 257, bank: 2, sector: 1, start: 0x08080800, end: 0x08081000, size: 2 * KiB });
  assert.equal(sectorAt(resolveChip('stm32g474rc'), 0x08020000), undefined, 'the hole of a trimmed G47x in dual-bank mode');
  assert.equal(sectorAt(resolveChip('stm32g474rc'), 0x08040000)!.bank, 2);
  assert.equal(sectorAt(resolveChip('stm32g474rc', { bankMode: 'single' }), 0x08040000), undefined);
});

test('sectors tile every bank of every flash size and bank mode, numbered without gaps', () => {
  let layouts = 0;
  for (const p of chipProfileSources()) {
    for (const v of p.flash.variants) {
      for (const l of variantLayouts(v)) {
        layouts++;
        const what = `${p.name} x${v.code} ${effectiveBankMode(l)}`;
        const total = l.banks.reduce((n, b) => n + b.sectors.reduce((m, r) => m + r.count * r.size, 0), 0);
        assert.equal(total, v.size, what);
        const spans = expandBankSectors(l.banks);
        for (let i = 1; i < spans.length; i++) assert.ok(spans[i]!.start >= spans[i - 1]!.start + spans[i - 1]!.size, `${what}: overlap at ${spans[i]!.start.toString(16)}`);
        const mode = effectiveBankMode(l);
        const resolved = resolveChip(`${(p.parts.find((x) => x.flashCodes.includes(v.code)) ?? p.parts[0]!).name}x${v.code}`, v.bankModes !== undefined ? { bankMode: mode } : {});
        assert.equal(resolved.bankMode, mode, what);
        for (const b of resolved.banks) {
          let addr = b.start;
          b.sectors.forEach((s, k) => {
            assert.equal(s.start, addr, `${what}: bank ${b.bank} gap before ${addr.toString(16)}`);
            assert.equal(s.start % s.size, 0, `${what}: sector at ${s.start.toString(16)} not aligned to its size`);
            assert.equal(s.size % p.flash.programUnit, 0, what);
            assert.equal(s.sector, b.sectors[0]!.sector + k, `${what}: sector numbers`);
            addr = s.end;
          });
          assert.equal(addr, b.end, what);
        }
        assert.equal(resolved.flashSize, v.size, what);
      }
    }
  }
  assert.equal(layouts, 35);
});

test('bank modes: factory default, --bank-mode, fixed organisations, and quirks scoped by mode and size', () => {
  const f767 = resolveChip('stm32f767zi');
  assert.deepEqual([f767.bankMode, f767.bankModeFrom, f767.bankModes, f767.banks.length], ['single', 'default', ['single', 'dual'], 1]);
  assert.match(f767.bankModeSelectedBy!, /^nDBANK \(FLASH_OPTCR bit 29\): 1 = single bank \(factory\), 0 = dual bank$/);
  const f767d = resolveChip('stm32f767zi', { bankMode: 'dual' });
  assert.deepEqual([f767d.bankMode, f767d.bankModeFrom, f767d.banks.length, f767d.sectors.length], ['dual', 'option', 2, 24]);
  assert.deepEqual(resolveChip('stm32f767zi', { bankMode: 'single' }).bankModeFrom, 'option');
  assert.deepEqual([resolveChip('stm32g474re').bankMode, resolveChip('stm32l476re').bankMode, resolveChip('stm32f429zg').bankMode], ['dual', 'dual', 'single']);

  const h743 = resolveChip('stm32h743');
  assert.deepEqual([h743.bankMode, h743.bankModeFrom, h743.bankModes, h743.bankModeSelectedBy], ['dual', 'fixed', ['dual'], undefined]);
  assert.equal(resolveChip('stm32h743', { bankMode: 'dual' }).bankModeFrom, 'fixed', 'naming the fixed mode is accepted');
  assert.equal(resolveChip('stm32f405', { bankMode: 'single' }).bankMode, 'single');
  assert.throws(() => resolveChip('stm32h743', { bankMode: 'single' }), (e: unknown) => {
    assert.ok(e instanceof FwError && e.code === 'CHIP_BANK_MODE_UNSUPPORTED' && e.exitStatus === 2);
    assert.equal(e.message, 'STM32H743xI has a fixed dual-bank organisation; --bank-mode single does not apply');
    return true;
  });
  assert.throws(() => resolveChip('stm32f429zi', { bankMode: 'single' }), (e: unknown) => {
    assert.ok(e instanceof FwError && e.code === 'CHIP_BANK_MODE_UNSUPPORTED');
    assert.match(e.message, /^STM32F429xI has a fixed dual-bank organisation; --bank-mode single does not apply \(selectable on xG: DB1M \(FLASH_OPTCR bit 30\)/);
    return true;
  });
  assert.throws(() => resolveChip('stm32l476rg', { bankMode: 'single' }), fwError('CHIP_BANK_MODE_UNSUPPORTED'));

  // Quirks follow the resolved size and mode.
  const ids = (p: ChipProfile): string[] => p.quirks.map((q) => q.id);
  assert.ok(ids(f767d).includes('f76x-bl93-bank2-erase-offset') && !ids(f767).includes('f76x-bl93-bank2-erase-offset'));
  assert.ok(ids(resolveChip('stm32f411cc')).includes('f411-rom-layout-512k') && !ids(resolveChip('stm32f411ce')).includes('f411-rom-layout-512k'));
  assert.ok(ids(resolveChip('stm32f429zi')).includes('f42x-dfu-bank2-erase-broken'), 'the 2 MiB part is always dual bank');
  assert.ok(ids(resolveChip('stm32f429zg', { bankMode: 'dual' })).includes('f42x-dfu-bank2-erase-broken'));
  assert.ok(!ids(resolveChip('stm32f429zg')).includes('f42x-dfu-bank2-erase-broken'));
});

test('program units, ROM alignment, erased value and transfer sizes per family', () => {
  const rows = ['stm32f405', 'stm32f411', 'stm32f429', 'stm32f722', 'stm32f746', 'stm32f767', 'stm32g474', 'stm32h743', 'stm32h745', 'stm32h750', 'stm32h7a3', 'stm32l476'].map((n) => {
    const p = resolveChip(n);
    return [n, p.programUnit, p.bootloaderWriteAlignment, p.erasedValue, p.dfu.wTransferSize, p.dfu.wTransferSizeEvidence];
  });
  assert.deepEqual(rows, [
    ['stm32f405', 4, 4, 0xff, 2048, 'inferred'],
    ['stm32f411', 4, 4, 0xff, 2048, 'A'],
    ['stm32f429', 4, 4, 0xff, 2048, 'inferred'],
    ['stm32f722', 8, 8, 0xff, 2048, 'inferred'],
    ['stm32f746', 8, 8, 0xff, 2048, 'inferred'],
    ['stm32f767', 8, 8, 0xff, 2048, 'A'],
    ['stm32g474', 8, 8, 0xff, 1024, 'inferred'],
    ['stm32h743', 32, 8, 0xff, 1024, 'A'],
    ['stm32h745', 32, 8, 0xff, 1024, 'inferred'],
    ['stm32h750', 32, 8, 0xff, 1024, 'A'],
    ['stm32h7a3', 16, 8, 0xff, 1024, 'inferred'],
    ['stm32l476', 8, 8, 0xff, 2048, 'inferred'],
  ]);
});

test('timing: an erase time for every sector size of every size and mode, max >= typ, the confidence stated', () => {
  for (const p of chipProfileSources()) {
    const t = p.timing;
    assert.ok(t.sources.length > 0, p.name);
    for (const v of p.flash.variants) {
      for (const l of variantLayouts(v)) {
        const mode = effectiveBankMode(l);
        for (const s of expandBankSectors(l.banks)) {
          const e = t.sectorEraseMs.find((x) => x.size === s.size && (x.bankMode === undefined || x.bankMode === mode));
          assert.ok(e !== undefined, `${p.name} x${v.code} ${mode}: no erase time for ${s.size}`);
          assert.ok(e.max === undefined || e.max >= e.typ, p.name);
        }
      }
    }
    assert.ok(t.programUs.max === undefined || t.programUs.max >= t.programUs.typ, p.name);
  }
  const conf = Object.fromEntries(chipProfileSources().map((p) => [p.name, p.timing.confidence]));
  assert.deepEqual(conf, {
    stm32f405: 'unverified',
    stm32f411: 'unverified',
    stm32f429: 'unverified',
    stm32f722: 'unverified',
    stm32f746: 'unverified',
    stm32f767: 'unverified',
    stm32g474: 'unverified',
    stm32h743: 'secondary',
    stm32h745: 'secondary',
    stm32h750: 'secondary',
    stm32h7a3: 'estimate',
    stm32l476: 'unverified',
  });
  // Figures the quirks rely on: the F405 mass erase the ROM under-reports, the H7 128 KiB sector erase.
  assert.deepEqual(resolveChip('stm32f405').timing.massEraseMs, { typ: 16000, max: 32000, note: resolveChip('stm32f405').timing.massEraseMs!.note });
  assert.deepEqual(
    resolveChip('stm32h743').timing.sectorEraseMs.map((e) => [e.size, e.typ, e.max]),
    [[128 * KiB, 1000, 2000]],
  );
});

test('the quirks the brief names are recorded as data', () => {
  const has = (chip: string, id: string, opts: { bankMode?: 'single' | 'dual' } = {}): void => {
    assert.ok(resolveChip(chip, opts).quirks.some((q) => q.id === id), `${chip}: ${id}`);
  };
  has('stm32h743', 'h7-revV-bank2-erase-hang');
  has('stm32h745', 'h7-revV-bank2-erase-hang');
  has('stm32f767', 'f76x-dual-bank-rom-reports-single-map', { bankMode: 'dual' });
  has('stm32l476', 'l4-getstatus-stall-early');
  has('stm32f405', 'f4-mass-erase-polltimeout');
  has('stm32h743', 'h7-clrstatus-outside-dfuerror');
  has('stm32h7a3', 'h7a3-rom-short-addresses');
  const q = resolveChip('stm32f405').quirks.find((x) => x.id === 'f4-mass-erase-polltimeout')!;
  assert.deepEqual([q.kind, q.confidence], ['timing', 'reported']);
  assert.match(q.summary, /bwPollTimeout 100 ms but takes up\s+to 32 s/);
  // Every quirk cites at least one source and names bootloader IDs the profile lists.
  for (const p of chipProfileSources()) {
    const ids = new Set(p.bootloader.versions.map((v) => v.id));
    for (const k of p.quirks) {
      assert.ok(k.sources.length > 0, `${p.name} ${k.id}`);
      for (const id of k.bootloaderIds ?? []) assert.ok(ids.has(id), `${p.name} ${k.id} 0x${id.toString(16)}`);
    }
  }
});

// --- the compile-time checks that keep profiles honest ------------------------------------------------------

test('compile: removing the quirk that documents a ROM string difference is CHIP_LAYOUT_MISMATCH / CHIP_LAYOUT_UNDOCUMENTED', () => {
  const h7a3 = compileEdited('stm32h7a3.yaml', (t) => t.replace('    bootloaderIds: [0x90]\n    alts: [0]\n', '    bootloaderIds: [0x90]\n    alts: [1]\n'));
  const codes = h7a3.errors.map((e) => e.code);
  assert.deepEqual([...new Set(codes)], ['CHIP_LAYOUT_MISMATCH']);
  assert.equal(codes.length, 6, 'three variants, two recorded strings');
  assert.match(h7a3.errors[0]!.message, /DFU alt 0 layout does not describe the 8192 \(0x2000\) sector at 0x08000000 of variant 'I' bank 1 \(it reports 2048 \(0x800\) there\); if the ROM really reports it, add a layout-string quirk with alts: \[0\] covering flash code I/);
  assert.equal(h7a3.errors[0]!.location.line, lineOf(h7a3.text, 'layout: "@Internal Flash   /0x08000000/256*02Kg"'));

  const h750 = compileEdited('stm32h750.yaml', (t) => t.replace('  - id: h750-rom-layout-reports-2m\n    kind: layout-string\n    confidence: documented\n    alts: [0]\n', '  - id: h750-rom-layout-reports-2m\n    kind: write\n    confidence: documented\n'));
  assert.deepEqual(h750.errors.map((e) => e.code), ['CHIP_LAYOUT_UNDOCUMENTED']);
  assert.match(h750.errors[0]!.message, /the layout describes 2 MiB, the part has 128 KiB: 0x08020000\.\.0x08200000 is not flash of this part/);

  const f767 = compileEdited('stm32f767.yaml', (t) => t.replace('    bankModes: [dual]\n    alts: [0]\n    summary: >-\n      With nDBANK', '    bankModes: [single]\n    alts: [0]\n    summary: >-\n      With nDBANK'));
  assert.deepEqual(f767.errors.map((e) => e.code), ['CHIP_LAYOUT_MISMATCH', 'CHIP_LAYOUT_MISMATCH']);
  assert.match(f767.errors[0]!.message, /of variant 'I' in dual-bank mode bank 1 \(it reports 32768 \(0x8000\) there\)/);
});

test('compile: a leniency without its quirk, a layout quirk without alts, bank-mode and timing mistakes', () => {
  const len = compileEdited('stm32h7a3.yaml', (t) => t.replace('    alts: [1, 2]\n    leniencies: [short-address]\n', '    alts: [1, 2]\n'));
  assert.deepEqual(len.errors.map((e) => e.code), ['CHIP_LAYOUT_LENIENCY', 'CHIP_LAYOUT_LENIENCY', 'CHIP_LAYOUT_LENIENCY', 'CHIP_LAYOUT_LENIENCY']);
  assert.match(len.errors[0]!.message, /DFU alt 1 needs the parser leniency 'short-address'; document it with a layout-string quirk listing alt 1 and leniencies: \[short-address\]/);

  const noAlts = compileEdited('stm32f411.yaml', (t) => t.replace('    flashCodes: [C]\n    alts: [0]\n', '    flashCodes: [C]\n'));
  assert.deepEqual(noAlts.errors.map((e) => e.code).sort(), ['CHIP_LAYOUT_UNDOCUMENTED', 'CHIP_QUIRK_ALT']);

  const both = compileEdited('stm32f767.yaml', (t) => t.replace("    - code: G                   # 1 MiB\n      size: 0x100000\n      bankModes:", "    - code: G                   # 1 MiB\n      size: 0x100000\n      banks: [{ bank: 1, start: 0x08000000, sectors: [{ count: 8, size: 0x20000 }] }]\n      bankModes:"));
  assert.deepEqual(both.errors.map((e) => e.code), ['CHIP_BANK_MODES']);
  assert.match(both.errors[0]!.message, /variant 'G': give either 'banks' \(one fixed organisation\) or 'bankModes' \(one per bank mode\), not both/);

  const noDefault = compileEdited('stm32g474.yaml', (t) => t.replace('    default: dual\n', '    default: single\n').replace(/        - mode: single\n          banks:\n            - bank: 1\n              start: 0x08000000\n              sectors:\n                - \{ count: 32, size: 0x1000 \}\n/, ''));
  assert.ok(noDefault.errors.some((e) => e.code === 'CHIP_BANK_MODES' && /variant 'B' has no layout for the default bank mode 'single'/.test(e.message)), noDefault.errors.map((e) => e.format()).join('\n'));

  const timing = compileEdited('stm32f767.yaml', (t) => t.replace(/    - \{ size: 0x10000, bankMode: dual,[^\n]*\n/, ''));
  assert.deepEqual(timing.errors.map((e) => e.code), ['CHIP_TIMING', 'CHIP_TIMING']);
  assert.equal(timing.errors[0]!.message, "timing.sectorEraseMs: timing.sectorEraseMs has no erase time for 64 KiB sectors (variant 'I', dual-bank)");

  const badMax = compileEdited('stm32l476.yaml', (t) => t.replace('typ: 22.02, max: 24.47', 'typ: 22.02, max: 2.4'));
  assert.deepEqual(badMax.errors.map((e) => [e.code, e.message]), [['CHIP_TIMING', 'timing.sectorEraseMs.0.max: sectorEraseMs 0: max 2.4 ms is below typ 22.02 ms']]);
});
