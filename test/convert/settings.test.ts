import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Note } from '../../src/core/notes.ts';
import { flashMap } from '../../src/convert/flash-map.ts';
import { alignmentSettings } from '../../src/convert/settings.ts';
import type { ConvertOptions, LoadedInput } from '../../src/convert/types.ts';
import { resolveChip } from '../../src/layout/chips.ts';

const hex = { format: 'ihex' } as LoadedInput;
const dfuse = { format: 'dfuse' } as LoadedInput;

function settings(opts: ConvertOptions, inputs: LoadedInput[] = [hex]): { s: ReturnType<typeof alignmentSettings>; notes: Note[] } {
  const notes: Note[] = [];
  return { s: alignmentSettings(opts, inputs, flashMap(opts.chip), notes), notes };
}

test('program unit: the chip\'s, else --align, else 8 bytes', () => {
  assert.deepEqual([settings({ chip: resolveChip('stm32h745') }).s.unit, settings({ chip: resolveChip('stm32h745') }).s.unitFrom], [32, 'chip']);
  assert.deepEqual([settings({ chip: resolveChip('stm32f722') }).s.unit, settings({}).s.unit, settings({}).s.unitFrom], [8, 8, 'default']);
  assert.deepEqual([settings({ align: 16 }).s.unit, settings({ align: 16 }).s.unitFrom], [16, 'option']);
});

test('--align below the chip\'s unit is allowed with a warning', () => {
  const { s, notes } = settings({ chip: resolveChip('stm32h743'), align: 8 });
  assert.equal(s.unit, 8);
  assert.equal(notes[0]!.code, 'CONVERT_ALIGN_BELOW_UNIT');
  assert.match(notes[0]!.message, /below the 32-byte program unit of STM32H743xI/);
});

test('DfuSe inputs alone re-encode (no alignment) unless a chip, --align or --merge-gap says otherwise', () => {
  assert.equal(settings({}, [dfuse, dfuse]).s.unitFrom, 'none');
  assert.equal(settings({}, [dfuse, dfuse]).s.unit, 1);
  assert.equal(settings({}, [dfuse, hex]).s.unitFrom, 'default');
  assert.equal(settings({ mergeGap: 0 }, [dfuse]).s.unitFrom, 'default');
  assert.equal(settings({ align: 1 }, [dfuse]).s.unitFrom, 'option');
});

test('fill defaults to the erased value; another fill is reported', () => {
  assert.equal(settings({}).s.fill, 0xff);
  const { s, notes } = settings({ fill: 0 });
  assert.equal(s.fill, 0);
  assert.equal(notes[0]!.code, 'CONVERT_FILL_NOT_ERASED');
});

test('bad values are usage errors (exit 2)', () => {
  for (const [opts, code, msg] of [
    [{ align: 24 }, 'CONVERT_ALIGN', /power of two from 1 to 1048576 bytes, got 24/],
    [{ align: 0x200000 }, 'CONVERT_ALIGN', /got 2097152/],
    [{ fill: 256 }, 'CONVERT_OPTION', /--fill must be a byte value 0\.\.0xFF, got 256/],
    [{ mergeGap: -1 }, 'CONVERT_OPTION', /--merge-gap/],
  ] as const) {
    assert.throws(() => settings(opts), (e: { code: string; exitStatus: number; message: string }) => e.code === code && e.exitStatus === 2 && msg.test(e.message));
  }
});

test('an --align that does not divide the flash bounds is refused', () => {
  // STM32H745xG bank 1 ends at 0x08080000, not a multiple of 1 MiB.
  assert.throws(() => settings({ chip: resolveChip('stm32h745xg'), align: 0x100000 }), /does not divide the internal flash bounds 0x08000000\.\.0x08080000/);
});
