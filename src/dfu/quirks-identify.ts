/**
 * Which chip a DFU device is, which flash map to use, and its option bytes: the step between "a device is
 * connected" and `connect(transport, profile)`, shared by the CLI, the browser app and the tests.
 *
 *  1. Identification (`describeDevice`, `identify`): the alternate settings' layout strings ranked against
 *     every profile (layout/match.ts), narrowed by bcdDevice (the ROM generation: 0x0200 for the H7/G4 "DFU in
 *     FS Mode" ROMs, 0x2200/0x2100 for F4/F7/L4: emulator/descriptors.ts cites the captures) and, within one
 *     profile, by the flash size register. Layout strings cannot tell an H743 from an H745 or an H750: when
 *     several profiles fit, the caller must name the chip, and the error lists them.
 *  2. Bank mode (§2.5 Q6): on parts whose organisation an option bit selects (F42x DB1M, F76x nDBANK, L47x
 *     DUALBANK, G47x DBANK) the ROM reports one string for both modes; the option bytes say which is real.
 *  3. Layout reconciliation: the device's flash-alt string against the profile's map. They agree; or they
 *     differ where a `layout-string` quirk of the profile documents that string as wrong (the profile wins);
 *     or they differ without one, and dfukit stops with both maps until `layout: 'device' | 'profile'` decides.
 *
 * Platform-neutral: no node:* import.
 */
import { EXIT_USAGE, EXIT_DEVICE, FwError } from '../core/errors.ts';
import { formatRange, hex32 } from '../core/format.ts';
import type { BankMode } from '../layout/chip-schema.ts';
import type { ChipProfile, FlashBank, FlashSector } from '../layout/chip-types.ts';
import { resolveChip } from '../layout/chips.ts';
import { compareLayoutToSectors, describeComparison, layoutQuirkFor, sameGeometry } from '../layout/layout-compare.ts';
import { layoutSectors, parseLayoutString, type MemoryLayout } from '../layout/layout-string.ts';
import { matchProfiles, type ProfileMatch } from '../layout/match.ts';
import { decodeOptionBytes, optionByteRegions, type DecodedOptionBytes, type OptionByteRegion } from '../layout/option-bytes.ts';
import { USB_DESCRIPTOR_TYPE, USB_REQUEST } from './constants.ts';
import { readAltLayouts, readFunctionalDescriptor, type AltLayout, type DfuFunctionalDescriptor } from './descriptors.ts';
import { DfuError, transportError } from './errors.ts';
import { connect, type DfuSession } from './operations.ts';
import type { Clock } from './protocol.ts';
import { resolveRecoveries, type RecoveryOption } from './quirks.ts';
import type { DfuTransport } from './transport.ts';

/** bcdDevice of ST ROM generations (emulator/descriptors.ts cites the captures) → the profile families. */
const ROM_GENERATIONS: readonly { bcd: readonly number[]; profiles: RegExp; what: string }[] = [
  { bcd: [0x0200], profiles: /^stm32(h7|g4)/, what: 'H7/G4 ROM ("DFU in FS Mode")' },
  { bcd: [0x2200, 0x2100], profiles: /^stm32(f2|f4|f7|l4)/, what: 'F4/F7/L4 ROM ("STM32  BOOTLOADER")' },
];

export interface DeviceDescription {
  readonly vendorId: number;
  readonly productId: number;
  readonly serial?: string;
  readonly manufacturer?: string;
  readonly product?: string;
  /** From the device descriptor (GET_DESCRIPTOR), exact; undefined when the device does not answer. */
  readonly bcdDevice?: number;
  readonly functional?: DfuFunctionalDescriptor;
  readonly interfaceNumber: number;
  readonly alts: readonly AltLayout[];
  /** The first alt whose layout names internal flash (a writable, erasable segment). */
  readonly flashAlt?: number;
  /** Every plausible profile candidate, best first (layout/match.ts). */
  readonly matches: readonly ProfileMatch[];
  /** Profiles (names) that fit: exact or with documented differences only, and the ROM generation. */
  readonly profiles: readonly string[];
}

/** Reads the 18-byte device descriptor; bcdDevice is bytes 12..13 (USB 2.0 §9.6.1). WebUSB's split version fields are not used: node-usb and Chromium split bcdDevice differently. */
export async function readBcdDevice(t: DfuTransport): Promise<number | undefined> {
  try {
    const r = await t.controlTransferIn({ requestType: 'standard', recipient: 'device', request: USB_REQUEST.GET_DESCRIPTOR, value: USB_DESCRIPTOR_TYPE.DEVICE << 8, index: 0 }, 18);
    if (r.status !== 'ok' || r.data === undefined || r.data.byteLength < 14) return undefined;
    return r.data.getUint16(12, true);
  } catch (e) {
    throw transportError({ operation: 'read descriptors' }, 'GET_DESCRIPTOR(DEVICE)', e);
  }
}

function isFlashLayout(l: MemoryLayout | undefined): boolean {
  return l !== undefined && l.segments.some((s) => s.erasable && s.writable) && /flash/i.test(l.name);
}

/** The profiles the matches leave: exact or documented-only differences, of the ROM generation bcdDevice says. */
export function plausibleProfiles(matches: readonly ProfileMatch[], bcdDevice: number | undefined): string[] {
  const fits = matches.filter((m) => m.exact || m.differences.every((d) => d.documented));
  const gen = bcdDevice === undefined ? undefined : ROM_GENERATIONS.find((g) => g.bcd.includes(bcdDevice));
  const byGen = gen === undefined ? fits : fits.filter((m) => gen.profiles.test(m.profile.profile));
  return [...new Set((byGen.length > 0 ? byGen : fits).map((m) => m.profile.profile))];
}

/** Opens the device and reads what it says about itself: identity, DFU descriptor, layout strings, matching profiles. */
export async function describeDevice(t: DfuTransport): Promise<DeviceDescription> {
  try {
    if (!t.opened) await t.open();
  } catch (e) {
    throw transportError({ operation: 'describe' }, 'open', e);
  }
  const found = readAltLayouts(t);
  if (found === undefined) throw new DfuError('DFU_DESCRIPTOR', 'describe: the device has no DFU interface (class 0xFE, subclass 0x01)', { operation: 'describe' });
  const bcdDevice = await readBcdDevice(t);
  const functional = await readFunctionalDescriptor(t);
  const strings: (string | undefined)[] = [];
  for (const a of found.alts) strings[a.alt] = a.name;
  const matches = matchProfiles(strings);
  const flashAlt = found.alts.find((a) => isFlashLayout(a.layout))?.alt;
  return {
    vendorId: t.vendorId,
    productId: t.productId,
    ...(t.serialNumber !== undefined && t.serialNumber !== null ? { serial: t.serialNumber } : {}),
    ...(t.manufacturerName !== undefined && t.manufacturerName !== null ? { manufacturer: t.manufacturerName } : {}),
    ...(t.productName !== undefined && t.productName !== null ? { product: t.productName } : {}),
    ...(bcdDevice !== undefined ? { bcdDevice } : {}),
    ...(functional !== undefined ? { functional } : {}),
    interfaceNumber: found.interfaceNumber,
    alts: found.alts,
    ...(flashAlt !== undefined ? { flashAlt } : {}),
    matches,
    profiles: plausibleProfiles(matches, bcdDevice),
  };
}

export type LayoutChoice = 'device' | 'profile';

export interface PrepareOptions {
  /** The chip as the user named it (`--chip`, the emulator's part): skips identification, still checked against the device. */
  readonly chip?: string;
  readonly flashSize?: number;
  /** `--bank-mode`: wins over the option bytes. */
  readonly bankMode?: BankMode;
  /** What to do when the device's layout string and the profile disagree without a documented reason. */
  readonly layout?: LayoutChoice;
  readonly clock?: Clock;
  readonly recoveries?: RecoveryOption;
  readonly transferSize?: number;
  /** Alternate setting for the session (default: the profile's flash alt). */
  readonly alt?: number;
}

export interface LayoutDecision {
  /** `agree`: same map; `profile-documented`: a quirk documents the string as wrong; `profile`/`device`: the caller's choice. */
  readonly source: 'agree' | 'profile-documented' | 'profile' | 'device' | 'no-string';
  readonly note?: string;
  readonly quirk?: string;
}

export interface PreparedDevice {
  readonly session: DfuSession;
  readonly profile: ChipProfile;
  readonly description: DeviceDescription;
  /** How the chip was found. */
  readonly chipFrom: 'named' | 'device';
  readonly layout: LayoutDecision;
  /** The option bytes, when they were read (for the bank mode). */
  readonly optionBytes?: DecodedOptionBytes;
  /** What dfukit decided and why, one line each (`bank mode dual from nDBANK = 0 (option bytes)`). */
  readonly notes: readonly string[];
}

function chipError(code: string, message: string): FwError {
  return new FwError(code, message, {}, EXIT_USAGE);
}

/** The profile for the device: the named chip, else the one profile its strings fit; flash size from the register when the name has no letter. */
async function resolveProfile(t: DfuTransport, desc: DeviceDescription, opts: PrepareOptions, notes: string[]): Promise<{ profile: ChipProfile; from: 'named' | 'device' }> {
  const base = { ...(opts.flashSize !== undefined ? { flashSize: opts.flashSize } : {}), ...(opts.bankMode !== undefined ? { bankMode: opts.bankMode } : {}) };
  let name = opts.chip;
  let from: 'named' | 'device' = 'named';
  if (name === undefined) {
    from = 'device';
    if (desc.profiles.length === 0) {
      const strings = desc.alts.map((a) => `alt ${a.alt} ${JSON.stringify(a.name)}`).join(', ');
      throw chipError('CHIP_UNKNOWN', `no chip profile fits this device (${strings}${desc.bcdDevice !== undefined ? `, bcdDevice 0x${desc.bcdDevice.toString(16).toUpperCase().padStart(4, '0')}` : ''}): name it with --chip (dfukit chips lists them)`);
    }
    if (desc.profiles.length > 1) {
      throw chipError('CHIP_AMBIGUOUS', `several chip profiles fit this device's layout strings: ${desc.profiles.join(', ')}; the DFU interface cannot tell them apart: name the chip with --chip (e.g. --chip ${desc.profiles[0]})`);
    }
    name = desc.profiles[0]!;
    notes.push(`chip ${name} identified from the device's layout strings${desc.bcdDevice !== undefined ? ` and bcdDevice 0x${desc.bcdDevice.toString(16).toUpperCase().padStart(4, '0')}` : ''}`);
  }
  let profile = resolveChip(name, base);
  if (from === 'named' && desc.profiles.length > 0 && !desc.profiles.includes(profile.profile)) {
    notes.push(`the device's layout strings fit ${desc.profiles.join(', ')}, not ${profile.profile}: checking the flash map against the device`);
  }
  // No flash-size letter in the name: the flash size register decides between the profile's variants.
  if (opts.flashSize === undefined && profile.flashSizeFrom === 'default' && profile.bootloader.flashSizeRegister !== undefined) {
    const kib = await readFlashSizeRegister(t, profile, opts);
    if (kib !== undefined) {
      try {
        const sized = resolveChip(name, { ...base, flashSize: kib * 1024 });
        if (sized.flashSize !== profile.flashSize) notes.push(`flash size ${kib} KiB from the flash size register at ${hex32(profile.bootloader.flashSizeRegister)}`);
        profile = sized;
      } catch {
        notes.push(`the flash size register says ${kib} KiB, which ${profile.profile} does not list; using ${profile.flashSize / 1024} KiB`);
      }
    }
  }
  return { profile, from };
}

async function readFlashSizeRegister(t: DfuTransport, profile: ChipProfile, opts: PrepareOptions): Promise<number | undefined> {
  const addr = profile.bootloader.flashSizeRegister!;
  try {
    const s = await connect(t, profile, { ...(opts.clock !== undefined ? { clock: opts.clock } : {}), ...(opts.recoveries !== undefined ? { recoveries: opts.recoveries } : {}) });
    const b = await s.dfuse.read(addr, 2, 'flash size register');
    const kib = b[0]! | (b[1]! << 8);
    return kib === 0 || kib === 0xffff ? undefined : kib;
  } catch (e) {
    // A ROM that refuses the read (RDP, an address it does not serve) leaves the default size.
    if (e instanceof DfuError && (e.code === 'DFU_STALL' || e.code === 'DFU_STATUS' || e.code === 'DFU_LAYOUT')) return undefined;
    throw e;
  }
}

/** Reads every address group of the option-bytes alt. Leaves the session on that alt. */
export async function readOptionBytes(t: DfuTransport, profile: ChipProfile, opts: Pick<PrepareOptions, 'clock' | 'recoveries'> = {}): Promise<{ session: DfuSession; regions: OptionByteRegion[] }> {
  const where = optionByteRegions(profile);
  if (where === undefined) throw new DfuError('DFU_DESCRIPTOR', `${profile.displayName}: the profile lists no option-bytes alt`, { operation: 'option bytes' });
  const session = await connect(t, profile, { alt: where.alt, ...(opts.clock !== undefined ? { clock: opts.clock } : {}), ...(opts.recoveries !== undefined ? { recoveries: opts.recoveries } : {}) });
  const regions: OptionByteRegion[] = [];
  for (const g of where.regions) regions.push({ start: g.start, bytes: await session.dfuse.read(g.start, g.size, 'option bytes') });
  await session.dfu.recoverToIdle({ operation: 'option bytes' });
  return { session, regions };
}

/** §2.5 Q6: the bank mode the option bytes select, for a profile whose variant has more than one. */
async function bankModeFromDevice(t: DfuTransport, profile: ChipProfile, opts: PrepareOptions, notes: string[]): Promise<{ profile: ChipProfile; optionBytes?: DecodedOptionBytes }> {
  if (profile.bankModes.length < 2 || opts.bankMode !== undefined) return { profile };
  if (!resolveRecoveries(opts.recoveries).bankModeFromOptionBytes) {
    notes.push(`bank mode ${profile.bankMode} (factory default; the option bytes were not read)`);
    return { profile };
  }
  if (profile.optionBytes?.fields.some((f) => f.kind === 'bank-mode') !== true) {
    notes.push(`bank mode ${profile.bankMode} (factory default): the profile has no option-byte map to read ${profile.bankModeSelectedBy ?? 'the bank-mode bit'}`);
    return { profile };
  }
  const { regions } = await readOptionBytes(t, profile, opts);
  const decoded = decodeOptionBytes(profile, regions);
  const bm = decoded.bankMode;
  if (bm === undefined) return { profile, optionBytes: decoded };
  const q = profile.quirks.find((x) => x.kind === 'layout-string' && x.bankModes !== undefined);
  notes.push(`bank mode ${bm.mode} from ${bm.field} = ${bm.raw} in the option bytes${bm.mode !== profile.bankMode ? ` (not the factory ${profile.bankMode})` : ''}${q !== undefined && bm.mode !== profile.bankMode ? `; the ROM's layout string shows the ${profile.bankMode}-bank map in both modes (${q.id})` : ''}`);
  if (bm.mode === profile.bankMode) return { profile, optionBytes: decoded };
  const name = `${profile.part}x${profile.flashCode}`;
  return { profile: resolveChip(name, { bankMode: bm.mode }), optionBytes: decoded };
}

/** One line per segment: `0x08000000..0x08020000  4 x 32 KiB g`. */
export function describeMap(sectors: readonly { start: number; size: number }[]): string[] {
  const out: string[] = [];
  let run: { start: number; size: number; count: number } | undefined;
  const flush = (): void => {
    if (run !== undefined) out.push(`${formatRange(run.start, run.start + run.count * run.size)}  ${run.count} x ${run.size % 1024 === 0 ? `${run.size / 1024} KiB` : `${run.size} B`}`);
  };
  for (const s of sectors) {
    if (run !== undefined && run.size === s.size && run.start + run.count * run.size === s.start) run.count++;
    else {
      flush();
      run = { start: s.start, size: s.size, count: 1 };
    }
  }
  flush();
  return out;
}

/** The profile with its flash map replaced by the device's layout string (`--layout device`). */
export function profileFromLayout(profile: ChipProfile, layout: MemoryLayout): ChipProfile {
  const laid = layoutSectors(layout).filter((s) => s.segment.erasable && s.segment.writable);
  const bankFor = (addr: number): number => profile.banks.find((b) => addr >= b.start && addr < b.end)?.bank ?? 1;
  const counters = new Map<number, number>();
  const sectors: FlashSector[] = laid.map((s, index) => {
    const bank = bankFor(s.start);
    const n = counters.get(bank) ?? 0;
    counters.set(bank, n + 1);
    return { index, bank, sector: n, start: s.start, end: s.start + s.size, size: s.size };
  });
  const banks: FlashBank[] = [...new Set(sectors.map((s) => s.bank))].map((bank) => {
    const ss = sectors.filter((s) => s.bank === bank);
    return { bank, start: ss[0]!.start, end: ss[ss.length - 1]!.end, size: ss.reduce((n, s) => n + s.size, 0), sectors: ss };
  });
  return {
    ...profile,
    banks,
    sectors,
    flashSize: sectors.reduce((n, s) => n + s.size, 0),
    warnings: [...profile.warnings, `flash map taken from the device's layout string ${JSON.stringify(layout.raw)} (--layout device)`],
  };
}

/** Compares the device's flash-alt string with the profile's map and decides which map to use. */
export function reconcileLayout(profile: ChipProfile, alts: readonly AltLayout[], choice: LayoutChoice | undefined): { profile: ChipProfile; decision: LayoutDecision } {
  const flashAlt = profile.dfu.alts.find((a) => a.kind === 'flash');
  const device = alts.find((a) => a.alt === (flashAlt?.alt ?? 0));
  if (flashAlt === undefined || device?.layout === undefined) {
    return { profile, decision: { source: 'no-string', note: `the device reports no parsable layout string for alt ${flashAlt?.alt ?? 0}; using the profile's map` } };
  }
  const cmp = compareLayoutToSectors(device.layout, profile.sectors);
  if (cmp.relation === 'exact') return { profile, decision: { source: 'agree' } };
  const recorded = [flashAlt.layout, ...(flashAlt.otherLayouts ?? []).map((o) => o.layout)];
  const likeRecorded = recorded.some((r) => r === device.name || sameGeometry(parseLayoutString(r), device.layout!));
  const quirk = likeRecorded ? layoutQuirkFor(profile.quirks, { alt: flashAlt.alt, flashCode: profile.flashCode, bankMode: profile.bankMode }) : undefined;
  if (quirk !== undefined && choice !== 'device') {
    return { profile, decision: { source: 'profile-documented', quirk: quirk.id, note: `the device's layout string ${JSON.stringify(device.name.trim())} is not ${profile.displayName}'s map (${describeComparison(cmp)}); the profile documents that ROM string as wrong (${quirk.id}): using the profile's map` } };
  }
  if (choice === 'profile') return { profile, decision: { source: 'profile', note: `--layout profile: using ${profile.displayName}'s map, not the device's string (${describeComparison(cmp)})` } };
  if (choice === 'device') return { profile: profileFromLayout(profile, device.layout), decision: { source: 'device', note: `--layout device: using the device's layout string ${JSON.stringify(device.name.trim())}, not ${profile.displayName}'s map (${describeComparison(cmp)})` } };
  const both = [
    `device alt ${device.alt} ${JSON.stringify(device.name)}:`,
    ...describeMap(layoutSectors(device.layout).filter((s) => s.segment.erasable && s.segment.writable)).map((l) => `  ${l}`),
    `profile ${profile.displayName} (${profile.profile}${profile.bankModes.length > 1 ? `, ${profile.bankMode}-bank` : ''}):`,
    ...describeMap(profile.sectors).map((l) => `  ${l}`),
  ];
  throw new FwError(
    'LAYOUT_MISMATCH',
    `the device's flash layout and the ${profile.displayName} profile disagree (${describeComparison(cmp)}), and the profile does not document that ROM string:\n${both.join('\n')}\nchoose with --layout device (trust the device's string) or --layout profile (trust the profile), or name another chip with --chip`,
    {},
    EXIT_DEVICE,
  );
}

/**
 * Everything before a flash job: describe the device, find its chip, read its bank mode, reconcile the flash
 * map, and connect on the flash alt. The returned session is ready for executePlan/readMemory/eraseMemory.
 */
export async function prepareSession(t: DfuTransport, opts: PrepareOptions = {}): Promise<PreparedDevice> {
  const notes: string[] = [];
  const description = await describeDevice(t);
  const resolved = await resolveProfile(t, description, opts, notes);
  const banked = await bankModeFromDevice(t, resolved.profile, opts, notes);
  const { profile, decision } = reconcileLayout(banked.profile, description.alts, opts.layout);
  if (decision.note !== undefined) notes.push(decision.note);
  const session = await connect(t, profile, {
    ...(opts.clock !== undefined ? { clock: opts.clock } : {}),
    ...(opts.recoveries !== undefined ? { recoveries: opts.recoveries } : {}),
    ...(opts.transferSize !== undefined ? { transferSize: opts.transferSize } : {}),
    ...(opts.alt !== undefined ? { alt: opts.alt } : {}),
  });
  return { session, profile, description, chipFrom: resolved.from, layout: decision, ...(banked.optionBytes !== undefined ? { optionBytes: banked.optionBytes } : {}), notes };
}
