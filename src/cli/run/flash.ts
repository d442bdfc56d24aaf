/**
 * `dfukit flash`: inputs (any format, `file.bin@ADDR`, or a recipe) → one MemoryImage through the convert
 * library's load/assemble; chip from the device; A/B header ranges from `--header-layout/--slot`; FlashPlan;
 * `--dry-run` prints it and stops, else connect, execute with progress on stderr, report on stdout.
 * Also the device plumbing `read` and `erase` share.
 */
import { dirname, join } from 'node:path';
import { EXIT_USAGE, FwError, isFwError } from '../../core/errors.ts';
import type { Note } from '../../core/notes.ts';
import { assembleTargets } from '../../convert/assemble.ts';
import { loadInput } from '../../convert/load.ts';
import { applySteps } from '../../convert/steps.ts';
import type { ConvertInput, ConvertOptions, HeaderStepReport, LoadedInput } from '../../convert/types.ts';
import type { Slot } from '../../header/slots.ts';
import { isDfuError } from '../../dfu/errors.ts';
import { connect, executePlan, VerifyMismatchError, type DfuSession, type FlashResult } from '../../dfu/operations.ts';
import { headerRanges } from '../../header/ranges.ts';
import type { MemoryImage } from '../../image/memory-image.ts';
import type { ChipProfile } from '../../layout/chip-types.ts';
import { resolveChip } from '../../layout/chips.ts';
import { openDevice, parseDeviceSpec, type DeviceSpec, type OpenedDevice } from '../../node/emulator-device.ts';
import { readInput } from '../../node/files.ts';
import { createFlashPlan } from '../../plan/plan.ts';
import type { FlashPlan } from '../../plan/types.ts';
import { parseRecipe } from '../../recipe/parse.ts';
import { recipeRequest } from '../../recipe/request.ts';
import { checkLeniencies } from '../leniency.ts';
import { flashJson, renderFlashResult, renderPlan, renderVerifyFailure } from '../render/flash.ts';
import { progressReporter } from '../render/progress.ts';
import { slotsFrom } from './header-common.ts';
import { displayPath } from './convert.ts';

export interface DeviceCliOptions {
  device?: string;
  chip?: string;
  flashSize?: number;
  bankMode?: 'single' | 'dual';
  json?: true;
}

export interface FlashCliOptions extends DeviceCliOptions {
  recipe?: string;
  massErase?: true;
  verify: boolean;
  leave?: boolean;
  leaveAddress?: number;
  headerLayout?: string;
  slot?: string[];
  dryRun?: true;
  resume?: true;
  retries?: number;
  transferSize?: number;
  sendErased?: true;
  overwrite?: true;
  lenient?: string[];
}

export interface LoadedFlashImage {
  image: MemoryImage;
  inputs: string[];
  recipeChip?: string;
  /** A/B headers the recipe's header steps put on inputs: their layouts with every slot the recipe names. */
  headers: { layout: string; slots: Slot[] }[];
}

/** The inputs as one image of internal-flash data (alt 0), decoded by the convert library (recipe header steps applied). */
export function loadFlashImage(specs: readonly string[], opts: { recipe?: string; overwrite?: true; lenient?: string[] }): LoadedFlashImage {
  checkLeniencies(opts.lenient);
  let inputs: ConvertInput[];
  let options: ConvertOptions = {
    ...(opts.overwrite === true ? { overwrite: true } : {}),
    ...(opts.lenient !== undefined ? { lenient: opts.lenient } : {}),
  };
  let recipeChip: string | undefined;
  let recipeSlots: Slot[] = [];
  if (opts.recipe !== undefined) {
    if (specs.length > 0) throw new FwError('FLASH_USAGE', 'give either input files or --recipe, not both', {}, EXIT_USAGE);
    const text = new TextDecoder('utf-8').decode(readInput(opts.recipe).bytes);
    const recipe = parseRecipe(text, displayPath(opts.recipe));
    const dir = dirname(opts.recipe);
    const req = recipeRequest(recipe, (p) => readInput(join(dir, p)).bytes);
    inputs = req.inputs;
    options = { ...req.options, ...options };
    recipeChip = recipe.chip;
    recipeSlots = recipe.slots;
  } else {
    if (specs.length === 0) throw new FwError('FLASH_USAGE', 'nothing to flash: give input files (app.elf, fw.hex, app.bin@0x08000000, fw.dfu) or --recipe', {}, EXIT_USAGE);
    inputs = specs.map((s) => {
      const f = readInput(s);
      const input: ConvertInput = { name: displayPath(f.path), bytes: f.bytes };
      if (f.address !== undefined) input.address = f.address;
      return input;
    });
  }
  const notes: Note[] = [];
  const reports: HeaderStepReport[] = [];
  const loaded: LoadedInput[] = inputs.map((i) => applySteps(loadInput(i, options, notes), i, options.chip, notes, reports));
  const { targets } = assembleTargets(loaded, { ...(options.overwrite === true ? { overwrite: true } : {}) });
  const other = targets.filter((t) => t.alt !== 0);
  if (other.length > 0) {
    throw new FwError(
      'FLASH_ALT',
      `flash writes the internal flash (alt 0); ${other.map((t) => `alt ${t.alt} (${t.contributions.map((c) => c.input).join(', ')})`).join(', ')} cannot be flashed yet`,
      {},
      EXIT_USAGE,
    );
  }
  const headers: { layout: string; slots: Slot[] }[] = [];
  for (const r of reports) {
    let h = headers.find((x) => x.layout === r.layout);
    if (h === undefined) headers.push((h = { layout: r.layout, slots: [...recipeSlots] }));
    for (const slot of [r.slot, r.runSlot]) if (!h.slots.some((x) => x.name === slot.name)) h.slots.push(slot);
  }
  return { image: targets[0]!.image, inputs: inputs.map((i) => i.name), headers, ...(recipeChip !== undefined ? { recipeChip } : {}) };
}

/** The device spec and, for a plan without a device (`--dry-run --chip`), the chip. A `usbip://` device is asked which chip it is. */
export async function deviceAndChip(opts: DeviceCliOptions, needDevice: boolean, recipeChip?: string): Promise<{ spec?: DeviceSpec; profile: ChipProfile }> {
  const chipOpts = { ...(opts.flashSize !== undefined ? { flashSize: opts.flashSize } : {}), ...(opts.bankMode !== undefined ? { bankMode: opts.bankMode } : {}) };
  if (opts.device === undefined) {
    if (needDevice) throw new FwError('DEVICE_MISSING', 'name the device: --device emulator:PART (in-process emulator) or --device usb', {}, EXIT_USAGE);
    const chip = opts.chip ?? recipeChip;
    if (chip === undefined) throw new FwError('DEVICE_MISSING', '--dry-run needs --device or --chip to know the flash layout', {}, EXIT_USAGE);
    return { profile: resolveChip(chip, chipOpts) };
  }
  const spec = parseDeviceSpec(opts.device);
  if (spec.kind === 'usbip') {
    // The chip from the device's layout strings (or --chip, checked against them); opening connects again.
    const { identifyUsbipDevice } = await import('../../node/usbip-client.ts');
    const id = await identifyUsbipDevice(spec, { ...chipOpts, ...(opts.chip !== undefined ? { chip: opts.chip } : {}) });
    return { spec: { ...spec, profile: id.profile }, profile: id.profile };
  }
  if (spec.kind === 'usb') {
    // Opening fails with the "not available yet" device error; a chip is needed for the plan meanwhile.
    openDevice(spec);
  }
  const profile = resolveChip((spec as { part: string }).part, chipOpts);
  if (opts.chip !== undefined) {
    const named = resolveChip(opts.chip, chipOpts);
    if (named.profile !== profile.profile) {
      throw new FwError('DEVICE_CHIP_MISMATCH', `--chip ${opts.chip} (${named.displayName}) is not the device's chip (${profile.displayName})`, {}, EXIT_USAGE);
    }
  }
  return { spec, profile };
}

/** Runs `body` with a connected session; closes the emulator's flash file whatever happens; Ctrl-C aborts between requests. */
export async function withSession<T>(spec: DeviceSpec, opts: DeviceCliOptions & { transferSize?: number }, body: (s: DfuSession, d: OpenedDevice, signal: AbortSignal) => Promise<T>): Promise<T> {
  const d = openDevice(spec, { ...(opts.flashSize !== undefined ? { flashSize: opts.flashSize } : {}), ...(opts.bankMode !== undefined ? { bankMode: opts.bankMode } : {}) });
  const ac = new AbortController();
  const onSigint = (): void => ac.abort(new Error('interrupted (Ctrl-C)'));
  process.once('SIGINT', onSigint);
  try {
    const s = await connect(d.transport, d.profile, { clock: d.clock, ...(opts.transferSize !== undefined ? { transferSize: opts.transferSize } : {}) });
    return await body(s, d, ac.signal);
  } finally {
    process.removeListener('SIGINT', onSigint);
    d.close();
  }
}

export async function runFlash(files: string[], opts: FlashCliOptions): Promise<number> {
  const { image, recipeChip, headers } = loadFlashImage(files, opts);
  if (opts.leaveAddress !== undefined && opts.leave === false) throw new FwError('FLASH_USAGE', '--leave-address with --no-leave: nothing would jump there', {}, EXIT_USAGE);
  if ((opts.headerLayout === undefined) !== (opts.slot === undefined)) {
    throw new FwError('FLASH_USAGE', '--header-layout and --slot go together: the layout says what a header is, the slots where they are', {}, EXIT_USAGE);
  }
  if (opts.resume === true && opts.massErase === true) throw new FwError('FLASH_USAGE', '--resume compares sector by sector; it does not combine with --mass-erase', {}, EXIT_USAGE);
  const { spec, profile } = await deviceAndChip(opts, opts.dryRun !== true, recipeChip);
  // Header ranges to write last: from --header-layout/--slot, else from the recipe's header steps.
  const layouts = opts.headerLayout !== undefined ? [{ layout: opts.headerLayout, slots: slotsFrom(opts.slot) }] : headers;
  const hr = layouts.flatMap((h) => headerRanges(image, h.layout, h.slots, { programUnit: profile.programUnit, erasedValue: profile.erasedValue }));
  if (opts.headerLayout !== undefined && hr.length === 0) {
    throw new FwError('FLASH_NO_HEADER', `--header-layout ${opts.headerLayout}: the image holds no ${opts.headerLayout} header in the slots given (inject one with \`dfukit header inject\`)`, {}, EXIT_USAGE);
  }
  const planFor = (transferSize: number, from: 'descriptor' | 'profile' | 'option', addressEveryBlock = false): FlashPlan =>
    createFlashPlan(image, profile, {
      transferSize,
      transferSizeFrom: from,
      ...(addressEveryBlock ? { addressEveryBlock } : {}),
      verify: opts.verify,
      ...(opts.massErase === true ? { massErase: true } : {}),
      ...(opts.leave === true || (opts.leave === undefined && opts.leaveAddress !== undefined) ? { leave: true } : {}),
      ...(opts.leaveAddress !== undefined ? { leaveAddress: opts.leaveAddress } : {}),
      ...(hr.length > 0 ? { headerRanges: hr } : {}),
      ...(opts.sendErased === true ? { sendErasedBlocks: true } : {}),
    });
  const json = opts.json === true;
  if (opts.dryRun === true || spec === undefined) {
    const t = opts.transferSize ?? profile.dfu.wTransferSize;
    const plan = planFor(t, opts.transferSize !== undefined ? 'option' : 'profile', t !== profile.dfu.wTransferSize);
    process.stdout.write(json ? JSON.stringify(flashJson(plan, undefined, opts.device, true), null, 2) + '\n' : renderPlan(plan, opts.device));
    return 0;
  }
  const progress = progressReporter({ quiet: json });
  let plan: FlashPlan | undefined;
  let result: FlashResult;
  let description = '';
  try {
    result = await withSession(spec, opts, async (s, d, signal) => {
      description = d.description;
      plan = planFor(s.dfuse.transferSize, opts.transferSize !== undefined ? 'option' : s.info.transferSizeFrom, s.dfuse.addressPerBlock);
      if (!json) process.stdout.write(renderPlan(plan, d.description));
      return executePlan(s, plan, {
        signal,
        onEvent: (e) => progress.onEvent(e),
        ...(opts.resume === true ? { resume: true } : {}),
        ...(opts.retries !== undefined ? { retries: opts.retries } : {}),
      });
    });
  } catch (e) {
    progress.stop();
    if (json && isFwError(e)) {
      process.stdout.write(
        JSON.stringify({ ok: false, error: e.toJSON(), ...(plan !== undefined ? { plan: flashJson(plan, undefined, opts.device, false).plan } : {}), ...(e instanceof VerifyMismatchError ? { diff: e.report } : {}) }, null, 2) + '\n',
      );
    }
    if (!json && e instanceof VerifyMismatchError) process.stdout.write(renderVerifyFailure(e.report));
    if (isDfuError(e) && e.code !== 'DFU_VERIFY_MISMATCH' && e.code !== 'DFU_NOT_AVAILABLE' && plan !== undefined && !json) {
      process.stderr.write('dfukit: the flash is incomplete; run the same command with --resume to finish it (only what differs is erased and written)\n');
    }
    throw e;
  }
  process.stdout.write(json ? JSON.stringify(flashJson(plan!, result, description, false), null, 2) + '\n' : renderFlashResult(result, description));
  return 0;
}
