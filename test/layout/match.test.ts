/**
 * matchProfiles on the layout strings real devices reported (shared/corpus/layout-strings.md; grades as
 * recorded there). Index i of each array is alt setting i, as dfu-util lists them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chipProfileSources } from '../../src/layout/chips.ts';
import { formatMatch, matchProfiles, type ProfileMatch } from '../../src/layout/match.ts';

/** WeAct STM32H750VB, apache/nuttx (A); same strings on the Daisy Seed (A). */
const H750 = ['@Internal Flash   /0x08000000/16*128Kg', '@Option Bytes   /0x5200201C/01*128 e'];
/** STM32F407VG Discovery, dfu-util device-logs/stm32f4discovery.lsusb, 2012 (A). */
const F4_DISCOVERY = [
  '@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg',
  '@Option Bytes  /0x1FFFC000/01*016 g',
  '@OTP Memory /0x1FFF7800/01*512 g,01*016 g',
  '@Device Feature/0xFFFF0000/01*004 g',
];
/** WeAct BlackPill F401CE/F411CE, zmk issue #1711 (A). */
const BLACKPILL = [
  '@Internal Flash  /0x08000000/04*016Kg,01*064Kg,03*128Kg',
  '@Option Bytes  /0x1FFFC000/01*016 e',
  '@OTP Memory /0x1FFF7800/01*512 e,01*016 e',
  '@Device Feature/0xFFFF0000/01*004 e',
];
/** NUCLEO-H7A3ZI-Q, community.st.com (A), posted joined by commas. */
const H7A3 = ['@Internal Flash   /0x08000000/256*02Kg', '@Option Bytes   /0x1FF8000/01*128 e', '@OTP Memory   /0x1FF7000/01*1024 e'];
/** STM32H7B3I-EVAL, community.st.com 2022 (A), two spaces. */
const H7B3 = ['@Internal Flash  /0x08000000/256*02Kg', '@Option Bytes  /0x1FF8000/01*128 e', '@OTP Memory  /0x1FF7000/01*1024 e'];
/** G4 ROM listing in a markdown guide (U); option bytes as Betaflight quotes for the G474 (B). */
const G4 = ['@Internal Flash   /0x08000000/256*02Kg', '@Option Bytes   /0x1FFF7800/01*048 e/0x1FFFF800/01*048 e', '@OTP Memory   /0x1FFF7000/01*1024 e'];
/** F72x, Betaflight comment (B) and a Betaflight flashing guide (U). */
const F72X = ['@Internal Flash  /0x08000000/04*016Kg,01*64Kg,03*128Kg', '@Option Bytes  /0x1FFF0000/01*048 e', '@OTP Memory /0x1FF07800/01*528e', '@Device Feature/0xFFFF0000/01*004 e'];
/** STM32L433 (Mobilinkd TNC3), mobilinkd/tnc3-firmware issue #12 (A): no profile for the L43x. */
const L433 = ['@Internal Flash  /0x08000000/0128*0002Kg', '@Option Bytes  /0x1FFF7800/01*040 e', '@OTP Memory /0x1FFF7000/01*0001Ke', '@Device Feature/0xFFFF0000/01*004 e'];
/** F76x alt 0 as dfu-protocol.md §2.6 records it (single-bank map, also in dual-bank mode). */
const F767 = ['@Internal Flash  /0x08000000/04*032Kg,01*128Kg,07*256Kg'];
/** GD32VF103 (Pinecil), Ralim/IronOS issue #1070 (A): not an ST part. */
const GD32 = ['@Internal Flash  /0x08000000/128*001Kg', '@Option Bytes  /0x1FFFF800/01*016Be'];
/** Maple bootloader names, not DfuSe layouts (A). */
const MAPLE = ['STM32duino bootloader v1.0  ERROR. Upload to RAM not supported.', 'STM32duino bootloader v1.0  Upload to Flash 0x8005000'];
/** Electrosmith Daisy bootloader, QSPI flash (A). */
const DAISY_QSPI = ['@Flash /0x90000000/64*4Kg/0x90040000/60*64Kg/0x90400000/60*64Kg'];

function names(ms: readonly ProfileMatch[], n = ms.length): string[] {
  return ms.slice(0, n).map((m) => `${m.profile.displayName}${m.profile.bankModes.length > 1 ? `/${m.profile.bankMode}` : ''}`);
}

test('H750 ROM strings: exact for the 2 MiB die (H743, then the inferred H745), the H750 itself with its documented difference', () => {
  const ms = matchProfiles(H750);
  assert.deepEqual(names(ms, 2), ['STM32H743xI', 'STM32H745xI']);
  assert.deepEqual([ms[0]!.exact, ms[0]!.evidence, ms[1]!.exact, ms[1]!.evidence], [true, 'A', true, 'inferred']);
  const h750 = ms.find((m) => m.profile.profile === 'stm32h750')!;
  assert.equal(h750.exact, false);
  assert.deepEqual(
    h750.differences.map((d) => [d.kind, d.alt, d.documented, d.quirk]),
    [['map-larger', 0, true, 'h750-rom-layout-reports-2m']],
  );
  assert.equal(h750.differences[0]!.message, 'STM32H750xB: the layout describes 2 MiB, the part has 128 KiB: 0x08020000..0x08200000 is not flash of this part');
  assert.equal(formatMatch(h750), 'STM32H750xB (stm32h750) 1 difference (1 documented), score 0.3');
  assert.equal(formatMatch(ms[0]!), 'STM32H743xI (stm32h743) exact');
  // No F4/F7/L4/G4 profile describes 16 sectors of 128 KiB at 0x08000000.
  assert.ok(ms.every((m) => m.profile.profile.startsWith('stm32h7')), names(ms).join(' '));
});

test('F4 Discovery (bootloader V3.0 typing) matches the F405/F407 profile through its recorded variants', () => {
  const ms = matchProfiles(F4_DISCOVERY);
  const best = ms[0]!;
  assert.equal(best.profile.displayName, 'STM32F405xG');
  assert.equal(best.exact, false);
  assert.deepEqual(best.differences.map((d) => [d.kind, d.alt, d.documented]), [
    ['layout-variant', 1, true],
    ['layout-variant', 2, true],
    ['layout-variant', 3, true],
  ]);
  assert.match(best.differences[0]!.message, /V3\.0 types the option bytes, OTP and Device Feature 'g'/);
  assert.equal(best.score, 0.3);
});

test('BlackPill (F411CE): exact for stm32f411xE; the 256 KiB variant and the 512 KiB F405 follow', () => {
  const ms = matchProfiles(BLACKPILL);
  assert.deepEqual(names(ms, 3), ['STM32F411xE', 'STM32F411xC', 'STM32F405xE']);
  assert.equal(ms[0]!.exact, true);
  assert.deepEqual(ms[1]!.differences.map((d) => [d.kind, d.quirk]), [['map-larger', 'f411-rom-layout-512k']]);
});

test('H7A3 / H7B3 ROM strings: no exact match; the H7A3 profile with its documented V9.0 difference', () => {
  for (const [strings, variant] of [
    [H7A3, false],
    [H7B3, true],
  ] as const) {
    const ms = matchProfiles(strings);
    assert.ok(ms.every((m) => !m.exact));
    assert.deepEqual(names(ms, 3), ['STM32H7A3xI', 'STM32H7A3xG', 'STM32H7B0xB']);
    const kinds = ms[0]!.differences.map((d) => [d.kind, d.alt, d.documented, d.quirk ?? '-']);
    assert.deepEqual(kinds, [
      ...(variant ? [['layout-variant', 0, true, '-']] : []),
      ['map-differs', 0, true, 'h7a3-bl90-flash-layout-wrong'],
      ...(variant
        ? [
            ['layout-variant', 1, true, '-'],
            ['layout-variant', 2, true, '-'],
          ]
        : []),
    ]);
    assert.match(ms[0]!.differences.find((d) => d.kind === 'map-differs')!.message, /the layout has a 2 KiB sector at 0x08000000, the part a 8 KiB one \(256 sectors differ\)/);
  }
});

test('G4 ROM listing: exact for the G474xE in its factory dual-bank mode; single-bank and trimmed parts documented', () => {
  const ms = matchProfiles(G4);
  assert.deepEqual(names(ms, 6), ['STM32G474xE/dual', 'STM32G474xC/dual', 'STM32G474xB/dual', 'STM32G474xE/single', 'STM32G474xC/single', 'STM32G474xB/single']);
  assert.equal(ms[0]!.exact, true);
  assert.deepEqual(ms[1]!.differences.map((d) => [d.kind, d.quirk]), [['map-larger', 'g47x-rom-layout-trimmed']]);
  assert.deepEqual(ms[3]!.differences.map((d) => [d.kind, d.quirk]), [['map-differs', 'g47x-rom-layout-single-bank']]);
});

test('F72x strings: exact for stm32f722xE, including the OTP string that needs a leniency', () => {
  const ms = matchProfiles(F72X);
  assert.deepEqual(names(ms, 2), ['STM32F722xE', 'STM32F722xC']);
  assert.equal(ms[0]!.exact, true);
  // A string that equals the recorded one is not reported again for its (documented) leniency; a new one is.
  const other = matchProfiles([F72X[0], F72X[1], '@OTP Memory  /0x1FF07800/01*528e', F72X[3]], { profiles: ['stm32f722'] })[0]!;
  assert.deepEqual(other.differences.map((d) => [d.kind, d.documented, d.quirk ?? '-']), [
    ['layout-text', false, '-'],
    ['leniency', true, 'f72x-otp-layout-no-multiplier'],
  ]);
});

test('F76x single-bank string: single-bank first, dual-bank candidates carry the documented difference', () => {
  const ms = matchProfiles(F767, { profiles: ['stm32f767'] });
  assert.deepEqual(names(ms), ['STM32F767xI/single', 'STM32F767xG/single', 'STM32F767xI/dual', 'STM32F767xG/dual']);
  const dual = ms[2]!;
  assert.deepEqual(
    dual.differences.filter((d) => d.kind.startsWith('map')).map((d) => [d.kind, d.documented, d.quirk]),
    [['map-differs', true, 'f76x-dual-bank-rom-reports-single-map']],
  );
  // Only alt 0 was given: the recorded (inferred) alts 1..3 are missing, cheaply.
  assert.deepEqual(ms[0]!.differences.map((d) => [d.kind, d.alt, d.penalty]), [
    ['alt-missing', 1, 0.5],
    ['alt-missing', 2, 0.5],
    ['alt-missing', 3, 0.5],
  ]);
});

test('an unprofiled L433 is not mistaken for an exact match; non-ST and non-DfuSe strings match nothing', () => {
  const l433 = matchProfiles(L433);
  assert.ok(l433.length > 0);
  assert.ok(l433.every((m) => !m.exact));
  // Its 256 KiB of 2 KiB pages is exactly the map of a 256 KiB L476 (the strings cannot tell); the difference
  // is against the (inferred) L476 string.
  assert.deepEqual(names(l433, 2), ['STM32L476xC/dual', 'STM32L476xC/single']);
  assert.deepEqual(l433[0]!.differences.map((d) => [d.kind, d.documented]), [['layout-differs', false]]);

  assert.deepEqual(matchProfiles(GD32), []);
  assert.deepEqual(matchProfiles(MAPLE), []);
  assert.deepEqual(matchProfiles(DAISY_QSPI), []);
  assert.deepEqual(matchProfiles([]), []);
  assert.deepEqual(matchProfiles([undefined, undefined]), []);
});

test('options: all keeps every candidate, profiles restricts; extra alts and unparsable strings are differences', () => {
  const total = chipProfileSources().reduce((n, p) => n + p.flash.variants.reduce((m, v) => m + (v.bankModes?.length ?? 1), 0), 0);
  const all = matchProfiles(H750, { all: true });
  assert.equal(all.length, total);
  assert.equal(all[0]!.profile.displayName, 'STM32H743xI');
  const f405 = all.find((m) => m.profile.displayName === 'STM32F405xG')!;
  assert.ok(f405.differences.some((d) => d.kind === 'map-differs' && !d.documented));

  const extra = matchProfiles([...H750, '@Extra /0x90000000/1*4Kg'], { profiles: ['stm32h743'] });
  assert.deepEqual(extra[0]!.differences.map((d) => [d.kind, d.alt]), [['alt-extra', 2]]);
  const broken = matchProfiles([H750[0], 'not a layout'], { profiles: ['stm32h743'] });
  assert.deepEqual(broken[0]!.differences.map((d) => [d.kind, d.alt]), [['unparsable', 1]]);
  assert.equal(broken[0]!.score, 5);
  const padded = matchProfiles(['@Internal Flash  /0x08000000/16*128Kg', H750[1]], { profiles: ['stm32h743'] });
  assert.deepEqual(padded[0]!.differences.map((d) => [d.kind, d.alt, d.penalty]), [['layout-text', 0, 0.2]]);
});
