/**
 * ROM quirks as switchable behaviours. Each name is a hook in the state machine (rom.ts); most are the
 * ids of the chip profiles' `quirks` entries, a few are emulator-only names for field behaviours no profile
 * lists yet (dfu-protocol.md §2.5). A clean ROM (the default) has none on.
 *
 * Besides the named hooks, any profile quirk of kind `memory-access` with `ranges` (the ROM's reserved RAM,
 * H7 SRAM1-3/ITCM, G4 CCM SRAM...) can be switched on by its id: those ranges then refuse DFU access.
 */
import { FwError, EXIT_USAGE } from '../core/errors.ts';
import type { Quirk } from '../layout/chip-schema.ts';
import type { ResolvedChip } from './types.ts';

export const EMULATOR_QUIRKS = {
  'h7-revV-bank2-erase-hang':
    'After a sector erase in bank 2 (the quirk ranges, else bank 2) the ROM answers GETSTATUS with (OK, dfuDNBUSY, 1000 ms) forever; the erase did complete. CLRSTATUS then gives (errUNKNOWN, dfuERROR), a second CLRSTATUS (OK, dfuIDLE); other requests STALL. (AN2606 Table 136 V9.1; dfu-protocol.md §2.5 Q1)',
  'h7-revV-bank2-write-hang':
    'Emulator-only variant of the rev V hang: the wedge follows a write (DNLOAD data) to bank 2 instead of an erase (dfu-protocol.md §7: field reports say "erase/write").',
  'h7-clrstatus-outside-dfuerror':
    'CLRSTATUS outside dfuERROR is not STALLed: it moves to (errUNKNOWN, dfuERROR), as in ST\'s USB device stack (DFU_ClearStatus).',
  'l4-getstatus-stall-early':
    'bwPollTimeout reports half the operation time; a GETSTATUS while the operation still runs is STALLed (state unchanged, the operation goes on). (dfu-protocol.md §2.5 Q2; dfu-util dfuse.c tolerates 3)',
  'f4-mass-erase-polltimeout':
    'Mass erase reports bwPollTimeout 100 ms but takes timing.massEraseMs.max (32 s on the F405); early polls wait (NAK) for it. (dfu-protocol.md §2.5 Q3)',
  'f74x-erase-polltimeout': 'Erase reports bwPollTimeout 100 ms and write/set-address 5 ms whatever they take. (fwupd #2696/#1944 F745 logs)',
  'f7-erase-polltimeout': 'As f74x-erase-polltimeout, for the other F7 ROMs (inferred).',
  'f42x-dfu-bank2-erase-broken': 'In dual-bank mode a bank-2 sector erase reports OK but erases nothing. (AN2606 Tables 90/92)',
  'f76x-bl93-bank2-erase-offset': 'Erasing bank-2 sector i erases bank-2 sector i+4 (nothing when that does not exist). (AN2606 Table 104)',
  'l47x-dfu-write-not-multiple-of-8':
    'A write longer than 256 bytes whose length is not a multiple of 8 loses its trailing partial double word. (AN2606 Tables 169/171; the exact corruption is not documented: modelled as tail loss)',
  'polltimeout-zero': 'bwPollTimeout is 0 in every reply; a GETSTATUS while busy answers dfuDNBUSY again. (dfu-protocol.md §2.5 Q7)',
  'leave-without-status': 'The device jumps on the zero-length DNLOAD itself: the GETSTATUS after it finds the device gone. (dfu-protocol.md §2.5 Q8)',
  'no-dfu-functional-get-descriptor': 'GET_DESCRIPTOR for the DFU functional descriptor (type 0x21) is STALLed; it is only in the configuration descriptor. (STM32C5 ROM, dfu-protocol.md §2.1)',
} as const;

export type EmulatorQuirkName = keyof typeof EMULATOR_QUIRKS;

export interface ActiveQuirks {
  readonly names: readonly string[];
  has(name: EmulatorQuirkName): boolean;
  /** Address ranges DFU may not touch (memory-access quirks). */
  readonly inaccessible: readonly { start: number; end: number; quirk: string }[];
  /** The profile quirk entry, when the name is one. */
  profileQuirk(name: string): Quirk | undefined;
}

function isHook(name: string): name is EmulatorQuirkName {
  return Object.hasOwn(EMULATOR_QUIRKS, name);
}

function isRangeQuirk(q: Quirk): boolean {
  return q.kind === 'memory-access' && q.ranges !== undefined && q.ranges.length > 0;
}

export function resolveQuirks(chip: ResolvedChip, requested: readonly string[] | 'profile' | undefined, bootloaderId: number): ActiveQuirks {
  let names: string[];
  if (requested === 'profile') {
    names = chip.quirks
      .filter((q) => q.bootloaderIds === undefined || q.bootloaderIds.includes(bootloaderId))
      .filter((q) => isHook(q.id) || isRangeQuirk(q))
      .map((q) => q.id);
  } else {
    names = [...new Set(requested ?? [])];
    for (const n of names) {
      if (isHook(n)) continue;
      const q = chip.quirks.find((x) => x.id === n);
      if (q !== undefined && isRangeQuirk(q)) continue;
      const rangeQuirks = chip.quirks.filter(isRangeQuirk).map((x) => x.id);
      throw new FwError(
        'EMULATOR_QUIRK_UNKNOWN',
        `the emulator has no hook for quirk '${n}' (hooks: ${Object.keys(EMULATOR_QUIRKS).join(', ')}${
          rangeQuirks.length > 0 ? `; memory-access quirks of ${chip.displayName}: ${rangeQuirks.join(', ')}` : ''
        })`,
        {},
        EXIT_USAGE,
      );
    }
  }
  const set = new Set(names);
  const inaccessible = chip.quirks
    .filter((q) => set.has(q.id) && isRangeQuirk(q))
    .flatMap((q) => q.ranges!.map((r) => ({ start: r.start, end: r.start + r.size, quirk: q.id })));
  return {
    names,
    has: (name) => set.has(name),
    inaccessible,
    profileQuirk: (name) => chip.quirks.find((q) => q.id === name),
  };
}
