/**
 * `selectSlot`: which slot a bootloader following a layout boots from a flash dump, and why the others are
 * rejected. The policy is the layout's `selection`:
 *  - highest-version: the valid slot with the highest version (major, minor, revision, build); on a tie an
 *    image that executes in place beats a staging copy, then the earlier slot wins. A staging copy that wins is
 *    copied to the slot it is linked for, which then boots.
 *  - first-valid: the first valid slot in the order given.
 *  - mcuboot-swap: bootutil's swap table over both trailers (test, perm, revert, none); an upgrade whose image
 *    in the secondary slot is invalid is dropped (MCUboot erases it), and the primary boots when valid.
 */
import { EXIT_USAGE, FwError } from '../core/errors.ts';
import type { MemoryImage } from '../image/memory-image.ts';
import type { Finding } from './findings.ts';
import { layoutOf, type HeaderLayout } from './layouts.ts';
import { trailerParams } from './mcuboot/extension.ts';
import { readTrailer, swapType, type SwapType, type TrailerState } from './mcuboot/trailer.ts';
import { resolveOptions, type OptionInput } from './options.ts';
import type { Selection } from './schema.ts';
import { checkSlots, type Slot } from './slots.ts';
import { compareVersions, formatVersion } from './version.ts';
import { verifyHeader, type VerifyResult } from './verify.ts';

export interface SelectRequest {
  readonly layout: string | HeaderLayout;
  /** In order: A then B (MCUboot: primary then secondary). */
  readonly slots: readonly Slot[];
  readonly options?: OptionInput;
  readonly headerSize?: number;
  readonly headerOffset?: number;
  readonly erasedValue?: number;
}

export interface SlotVerdict {
  readonly slot: { readonly name: string; readonly start: number; readonly size: number };
  readonly valid: boolean;
  /** Why the bootloader rejects it (the first error in check order). */
  readonly reason?: Finding;
  readonly version?: string;
  /** The slot its payload runs from (another slot for a staging copy). */
  readonly runsFrom?: string;
  /** MCUboot: the trailer. */
  readonly trailer?: TrailerState;
  readonly verify: VerifyResult;
}

export type SelectAction = 'boot' | 'copy-then-boot' | 'swap-test' | 'swap-perm' | 'revert' | 'none';

export interface SelectResult {
  readonly layout: string;
  readonly selection: Selection;
  /** The slot whose image runs (after a copy or swap), or undefined when none can boot. */
  readonly boot?: string;
  readonly action: SelectAction;
  readonly copy?: { readonly from: string; readonly to: string };
  readonly swapType?: SwapType;
  /** One line each: the decision first, then why each other slot lost or was rejected. */
  readonly explanation: string[];
  readonly slots: SlotVerdict[];
}

function verdict(flash: MemoryImage, req: SelectRequest, slot: Slot): SlotVerdict {
  const v = verifyHeader(flash, {
    layout: req.layout,
    slot,
    slots: req.slots,
    ...(req.options !== undefined ? { options: req.options } : {}),
    ...(req.headerSize !== undefined ? { headerSize: req.headerSize } : {}),
    ...(req.headerOffset !== undefined ? { headerOffset: req.headerOffset } : {}),
    ...(req.erasedValue !== undefined ? { erasedValue: req.erasedValue } : {}),
  });
  const runsFrom = typeof v.details.runsFrom === 'string' ? v.details.runsFrom : v.geometry?.runSlot.name;
  return {
    slot: v.slot,
    valid: v.ok,
    ...(v.reason !== undefined ? { reason: v.reason } : {}),
    ...(v.version !== undefined ? { version: formatVersion(v.version) } : {}),
    ...(v.ok && runsFrom !== undefined ? { runsFrom } : {}),
    verify: v,
  };
}

function rejected(s: SlotVerdict): string {
  return `slot ${s.slot.name} rejected: ${s.reason?.message ?? 'invalid'} [${s.reason?.code ?? '?'}]`;
}

/** The valid slot with the highest version; ties: in place before staging, then the earlier slot. */
function byVersion(slots: readonly SlotVerdict[]): { pick?: SlotVerdict; lines: string[] } {
  const inPlace = (x: SlotVerdict): boolean => x.runsFrom === x.slot.name;
  let pick: SlotVerdict | undefined;
  for (const s of slots.filter((x) => x.valid)) {
    const d = pick === undefined ? 1 : compareVersions(s.verify.version!, pick.verify.version!);
    if (d > 0 || (d === 0 && inPlace(s) && !inPlace(pick!))) pick = s;
  }
  const lines = slots
    .filter((s) => s !== pick)
    .map((s) => {
      if (!s.valid) return rejected(s);
      const d = compareVersions(s.verify.version!, pick!.verify.version!);
      const why = d < 0 ? 'is older' : !inPlace(s) && inPlace(pick!) ? `equals slot ${pick!.slot.name}'s, which executes in place` : `equals slot ${pick!.slot.name}'s, which comes first`;
      return `slot ${s.slot.name} valid but not chosen: version ${s.version} ${why}`;
    });
  return pick !== undefined ? { pick, lines } : { lines };
}

function ordinary(layout: HeaderLayout, slots: SlotVerdict[]): SelectResult {
  const first = slots.find((s) => s.valid);
  const ranked =
    layout.selection === 'highest-version'
      ? byVersion(slots)
      : { ...(first !== undefined ? { pick: first } : {}), lines: slots.filter((s) => s !== first).map((s) => (s.valid ? `slot ${s.slot.name} valid but not chosen: slot ${first!.slot.name} comes first` : rejected(s))) };
  const { pick, lines: others } = ranked;
  const base = { layout: layout.name, selection: layout.selection, slots };
  if (pick === undefined) return { ...base, action: 'none', explanation: ['no slot holds a valid image: the bootloader has nothing to boot', ...others] };
  const ver = pick.version !== undefined ? `, version ${pick.version}` : '';
  if (pick.runsFrom !== undefined && pick.runsFrom !== pick.slot.name) {
    return {
      ...base,
      boot: pick.runsFrom,
      action: 'copy-then-boot',
      copy: { from: pick.slot.name, to: pick.runsFrom },
      explanation: [`copies slot ${pick.slot.name} (valid staging copy${ver}) to slot ${pick.runsFrom}, then boots slot ${pick.runsFrom}`, ...others],
    };
  }
  return { ...base, boot: pick.slot.name, action: 'boot', explanation: [`boots slot ${pick.slot.name} (valid${ver})`, ...others] };
}

function mcuboot(layout: HeaderLayout, flash: MemoryImage, req: SelectRequest, slots: SlotVerdict[]): SelectResult {
  const [primary, secondary] = slots as [SlotVerdict, SlotVerdict];
  const options = resolveOptions(layout, req.options ?? {});
  const p = trailerParams(options);
  const erased = req.erasedValue ?? 0xff;
  const pt = readTrailer(flash, primary.slot.start, primary.slot.size, p, erased);
  const st = readTrailer(flash, secondary.slot.start, secondary.slot.size, p, erased);
  const withTrailers: SlotVerdict[] = [
    { ...primary, trailer: pt },
    { ...secondary, trailer: st },
  ];
  const base = { layout: layout.name, selection: layout.selection, slots: withTrailers };
  const state = (t: TrailerState): string => `magic ${t.magic}, image_ok ${t.imageOk}, copy_done ${t.copyDone}`;
  const trailers = [`trailer of slot ${primary.slot.name} (primary): ${state(pt)}`, `trailer of slot ${secondary.slot.name} (secondary): ${state(st)}`];
  let type = swapType(pt, st);
  const lines: string[] = [];
  if (type !== 'none') {
    if (secondary.valid) {
      const what =
        type === 'test'
          ? `swaps in slot ${secondary.slot.name}'s image for a test run (pending, not confirmed: it reverts at the next reset unless the new image sets image_ok)`
          : type === 'perm'
            ? `swaps in slot ${secondary.slot.name}'s image for good (pending and confirmed)`
            : `reverts: slot ${primary.slot.name}'s image ran as a test and was not confirmed; the previous image in slot ${secondary.slot.name} is swapped back`;
      const action: SelectAction = type === 'test' ? 'swap-test' : type === 'perm' ? 'swap-perm' : 'revert';
      return { ...base, boot: secondary.slot.name, action, swapType: type, explanation: [what + ` (version ${secondary.version ?? '?'}) and boots it from slot ${primary.slot.name}`, ...trailers] };
    }
    lines.push(`the ${type} upgrade from slot ${secondary.slot.name} is dropped (MCUboot erases the slot): ${rejected(secondary)}`);
    type = 'none';
  }
  if (primary.valid) {
    const also = lines.length === 0 && !secondary.valid ? [rejected(secondary)] : [];
    return { ...base, boot: primary.slot.name, action: 'boot', swapType: 'none', explanation: [`boots slot ${primary.slot.name} (primary, version ${primary.version ?? '?'}): no upgrade pending`, ...lines, ...also, ...trailers] };
  }
  return { ...base, action: 'none', swapType: 'none', explanation: ['no bootable image: the primary slot is not valid and no valid upgrade is pending', rejected(primary), ...lines, ...trailers] };
}

export function selectSlot(flash: MemoryImage, req: SelectRequest): SelectResult {
  const layout = layoutOf(req.layout);
  const slots = checkSlots(req.slots);
  const verdicts = slots.map((s) => verdict(flash, req, s));
  if (layout.selection === 'mcuboot-swap') {
    if (slots.length !== 2) {
      throw new FwError('HEADER_SLOT_COUNT', `mcuboot selects between two slots (primary, secondary); ${slots.length} given`, {}, EXIT_USAGE);
    }
    return mcuboot(layout, flash, req, verdicts);
  }
  return ordinary(layout, verdicts);
}
