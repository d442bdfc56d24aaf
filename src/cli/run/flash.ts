/**
 * `dfukit flash`: inputs (any format, `file.bin@ADDR`, or a recipe) → one MemoryImage through the convert
 * library's load/assemble; chip from the device; A/B header ranges from `--header-layout/--slot`; FlashPlan;
 * `--dry-run` prints it and stops, else connect, execute with progress on stderr, report on stdout.
 * Also the device plumbing `read` and `erase` share.
 */
import { dirname, join } from 'node:path';
import { EXIT_DEVICE, EXIT_USAGE, FwError, isFwError } from '../../core/errors.ts';
import type { Note } from '../../core/notes.ts';
import { assembleTargets } from '../../convert/assemble.ts';
import { loadInput } from '../../convert/load.ts';
import { applySteps } from '../../convert/steps.ts';
import type { ConvertInput, ConvertOptions, HeaderStepReport, LoadedInput } from '../../convert/types.ts';
import type { Slot } from '../../header/slots.ts';
import { isDfuError } from '../../dfu/errors.ts';
import { executePlan, VerifyMismatchError, type DfuSession, type FlashEvent, type FlashResult } from '../../dfu/operations.ts';
import { prepareSession, type LayoutChoice, type PreparedDevice } from '../../dfu/quirks-identify.ts';
import { headerRanges } from '../../header/ranges.ts';
import type { MemoryImage } from '../../image/memory-image.ts';
import type { ChipProfile } from '../../layout/chip-types.ts';
import { resolveChip } from '../../layout/chips.ts';
import { selectDevices, selectOne, type DeviceHandle, type Selectors } from '../../node/device-select.ts';
import { parseDeviceSpec, type DeviceSpec } from '../../node/emulator-device.ts';
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
  sendErased?: true;
  all?: true;
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

export interface DeviceCliOptions {
  device?: string;
  serial?: string;
  path?: string;
  vid?: number;
  pid?: number;
  alt?: number;
  chip?: string;
  flashSize?: number;
  bankMode?: 'single' | 'dual';
  layout?: LayoutChoice;
  transferSize?: number;
  json?: true;
}

/** `--serial/--path/--vid/--pid` as selectors. */
export function selectorsFrom(opts: DeviceCliOptions): Selectors {
  return {
    ...(opts.serial !== undefined ? { serial: opts.serial } : {}),
    ...(opts.path !== undefined ? { path: opts.path } : {}),
    ...(opts.vid !== undefined ? { vid: opts.vid } : {}),
    ...(opts.pid !== undefined ? { pid: opts.pid } : {}),
  };
}

function chipOptions(opts: DeviceCliOptions): { flashSize?: number; bankMode?: 'single' | 'dual' } {
  return { ...(opts.flashSize !== undefined ? { flashSize: opts.flashSize } : {}), ...(opts.bankMode !== undefined ? { bankMode: opts.bankMode } : {}) };
}

/** The chip for a plan without a device (`--dry-run`): --chip, the recipe's chip, or the emulator's part. */
export function dryRunProfile(opts: DeviceCliOptions, recipeChip?: string): ChipProfile {
  const spec = opts.device !== undefined ? parseDeviceSpec(opts.device) : undefined;
  const chip = opts.chip ?? recipeChip ?? (spec?.kind === 'emulator' ? spec.part : undefined);
  if (chip === undefined) throw new FwError('DEVICE_MISSING', '--dry-run needs --chip (or --device emulator:PART) to know the flash layout', {}, EXIT_USAGE);
  return resolveChip(chip, chipOptions(opts));
}

/** Identifies the device behind a handle and connects on its flash alt (or --alt): --chip, else the emulator's part, else the device's strings. */
export async function prepareHandle(h: DeviceHandle, opts: DeviceCliOptions & { recipeChip?: string }): Promise<PreparedDevice> {
  if (opts.chip !== undefined && h.chip !== undefined) {
    const named = resolveChip(opts.chip, chipOptions(opts));
    const dev = resolveChip(h.chip, chipOptions(opts));
    if (named.profile !== dev.profile) {
      throw new FwError('DEVICE_CHIP_MISMATCH', `--chip ${opts.chip} (${named.displayName}) is not the device's chip (${dev.displayName})`, {}, EXIT_USAGE);
    }
  }
  const chip = opts.chip ?? h.chip ?? opts.recipeChip;
  return prepareSession(h.transport, {
    ...(chip !== undefined ? { chip } : {}),
    ...chipOptions(opts),
    ...(opts.layout !== undefined ? { layout: opts.layout } : {}),
    ...(opts.transferSize !== undefined ? { transferSize: opts.transferSize } : {}),
    ...(opts.alt !== undefined ? { alt: opts.alt } : {}),
    clock: h.clock,
  });
}

/** Runs `body` with one selected, identified and connected device; closes it whatever happens; Ctrl-C aborts between requests. */
export async function withDevice<T>(opts: DeviceCliOptions & { recipeChip?: string }, body: (p: PreparedDevice, h: DeviceHandle, signal: AbortSignal) => Promise<T>): Promise<T> {
  const h = await selectOne(opts.device ?? 'usb', selectorsFrom(opts), chipOptions(opts));
  const ac = new AbortController();
  const onSigint = (): void => ac.abort(new Error('interrupted (Ctrl-C)'));
  process.once('SIGINT', onSigint);
  try {
    const p = await prepareHandle(h, opts);
    return await body(p, h, ac.signal);
  } finally {
    process.removeListener('SIGINT', onSigint);
    h.close();
  }
}

/** What identification decided (chip from the device, bank mode from the option bytes, which map), for stderr. */
export function renderDeviceNotes(p: PreparedDevice): string {
  return p.notes.map((n) => `dfukit: note: ${n}\n`).join('');
}

export function deviceJson(p: PreparedDevice, h: DeviceHandle): Record<string, unknown> {
  return { source: h.source, serial: h.serial, ...(h.path !== undefined ? { path: h.path } : {}), chip: p.profile.displayName, profile: p.profile.profile, bankMode: p.profile.bankMode, chipFrom: p.chipFrom, layout: p.layout.source, notes: p.notes };
}

/**
 * The device spec and, for a plan without a device (`--dry-run --chip`), the chip. Kept for callers written
 * before device selection (`dfukit verify`): a real device (usb, usbip) is opened and identified here, and
 * again by `withSession`; new code should use `withDevice`.
 */
export async function deviceAndChip(opts: DeviceCliOptions, needDevice: boolean, recipeChip?: string): Promise<{ spec?: DeviceSpec; profile: ChipProfile }> {
  if (opts.device === undefined && !needDevice) return { profile: dryRunProfile(opts, recipeChip) };
  const spec = parseDeviceSpec(opts.device ?? 'usb');
  if (spec.kind === 'emulator' && spec.anonymous !== true) {
    const profile = resolveChip(spec.part, { ...chipOptions(opts), ...(spec.bank !== undefined ? { bankMode: spec.bank } : {}) });
    if (opts.chip !== undefined && resolveChip(opts.chip, chipOptions(opts)).profile !== profile.profile) {
      throw new FwError('DEVICE_CHIP_MISMATCH', `--chip ${opts.chip} (${resolveChip(opts.chip, chipOptions(opts)).displayName}) is not the device's chip (${profile.displayName})`, {}, EXIT_USAGE);
    }
    return { spec, profile };
  }
  const h = await selectOne(spec, selectorsFrom(opts), chipOptions(opts));
  try {
    const p = await prepareHandle(h, { ...opts, ...(recipeChip !== undefined ? { recipeChip } : {}) });
    return { spec, profile: p.profile };
  } finally {
    h.close();
  }
}

/** `withDevice` for a parsed spec (see `deviceAndChip`). */
export async function withSession<T>(spec: DeviceSpec, opts: DeviceCliOptions, body: (s: DfuSession, d: DeviceHandle, signal: AbortSignal) => Promise<T>): Promise<T> {
  const h = await selectOne(spec, selectorsFrom(opts), chipOptions(opts));
  const ac = new AbortController();
  const onSigint = (): void => ac.abort(new Error('interrupted (Ctrl-C)'));
  process.once('SIGINT', onSigint);
  try {
    const p = await prepareHandle(h, opts);
    return await body(p.session, h, ac.signal);
  } finally {
    process.removeListener('SIGINT', onSigint);
    h.close();
  }
}

export async function runFlash(files: string[], opts: FlashCliOptions): Promise<number> {
  const { image, recipeChip, headers } = loadFlashImage(files, opts);
  if (opts.leaveAddress !== undefined && opts.leave === false) throw new FwError('FLASH_USAGE', '--leave-address with --no-leave: nothing would jump there', {}, EXIT_USAGE);
  if ((opts.headerLayout === undefined) !== (opts.slot === undefined)) {
    throw new FwError('FLASH_USAGE', '--header-layout and --slot go together: the layout says what a header is, the slots where they are', {}, EXIT_USAGE);
  }
  if (opts.resume === true && opts.massErase === true) throw new FwError('FLASH_USAGE', '--resume compares sector by sector; it does not combine with --mass-erase', {}, EXIT_USAGE);
  if (opts.all === true && opts.dryRun === true) throw new FwError('FLASH_USAGE', '--all flashes devices; --dry-run prints one plan: use --dry-run --chip', {}, EXIT_USAGE);
  const layouts = opts.headerLayout !== undefined ? [{ layout: opts.headerLayout, slots: slotsFrom(opts.slot) }] : headers;
  const planFor = (profile: ChipProfile, transferSize: number, from: 'descriptor' | 'profile' | 'option', addressEveryBlock = false): FlashPlan => {
    // Header ranges to write last: from --header-layout/--slot, else from the recipe's header steps.
    const hr = layouts.flatMap((h) => headerRanges(image, h.layout, h.slots, { programUnit: profile.programUnit, erasedValue: profile.erasedValue }));
    if (opts.headerLayout !== undefined && hr.length === 0) {
      throw new FwError('FLASH_NO_HEADER', `--header-layout ${opts.headerLayout}: the image holds no ${opts.headerLayout} header in the slots given (inject one with \`dfukit header inject\`)`, {}, EXIT_USAGE);
    }
    return createFlashPlan(image, profile, {
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
  };
  const json = opts.json === true;
  if (opts.dryRun === true) {
    const profile = dryRunProfile(opts, recipeChip);
    const t = opts.transferSize ?? profile.dfu.wTransferSize;
    const plan = planFor(profile, t, opts.transferSize !== undefined ? 'option' : 'profile', t !== profile.dfu.wTransferSize);
    process.stdout.write(json ? JSON.stringify(flashJson(plan, undefined, opts.device, true), null, 2) + '\n' : renderPlan(plan, opts.device));
    return 0;
  }
  if (opts.all === true) return flashAll(opts, recipeChip, planFor);
  const progress = progressReporter({ quiet: json });
  let plan: FlashPlan | undefined;
  let result: FlashResult;
  let description = '';
  let device: Record<string, unknown> | undefined;
  let afterLeave: string | undefined;
  try {
    result = await withDevice({ ...opts, ...(recipeChip !== undefined ? { recipeChip } : {}) }, async (p, h, signal) => {
      description = h.description;
      device = deviceJson(p, h);
      const s = p.session;
      plan = planFor(p.profile, s.dfuse.transferSize, opts.transferSize !== undefined ? 'option' : s.info.transferSizeFrom, s.dfuse.addressPerBlock);
      if (!json) {
        process.stderr.write(renderDeviceNotes(p));
        process.stdout.write(renderPlan(plan, h.description));
      }
      const r = await executePlan(s, plan, {
        signal,
        onEvent: (e) => progress.onEvent(e),
        ...(opts.resume === true ? { resume: true } : {}),
        ...(opts.retries !== undefined ? { retries: opts.retries } : {}),
      });
      if (r.leave !== undefined) {
        afterLeave = await followLeave(h);
        if (!json) process.stderr.write(`dfukit: note: ${afterLeave}\n`);
      }
      return r;
    });
  } catch (e) {
    progress.stop();
    if (json && isFwError(e)) {
      process.stdout.write(
        JSON.stringify(
          { ok: false, error: e.toJSON(), ...(device !== undefined ? { device } : {}), ...(plan !== undefined ? { plan: flashJson(plan, undefined, opts.device, false).plan } : {}), ...(e instanceof VerifyMismatchError ? { diff: e.report } : {}) },
          null,
          2,
        ) + '\n',
      );
    }
    if (!json && e instanceof VerifyMismatchError) process.stdout.write(renderVerifyFailure(e.report));
    if (isDfuError(e) && e.code !== 'DFU_VERIFY_MISMATCH' && e.code !== 'DFU_NOT_AVAILABLE' && plan !== undefined && !json) {
      process.stderr.write('dfukit: the flash is incomplete; run the same command with --resume to finish it (only what differs is erased and written)\n');
    }
    throw e;
  }
  process.stdout.write(json ? JSON.stringify({ ...flashJson(plan!, result, description, false), device, ...(afterLeave !== undefined ? { afterLeave } : {}) }, null, 2) + '\n' : renderFlashResult(result, description));
  return 0;
}

/**
 * After leave, follows the device by its serial number: a ROM that finds no valid vector table (or BOOT0 still
 * high) resets and enumerates in DFU mode again, which means the application did not start.
 */
async function followLeave(h: DeviceHandle): Promise<string> {
  if (h.emulator !== undefined) {
    const l = h.emulator.lastLeave;
    if (l === undefined) return 'the device stayed in DFU mode';
    const hx = (n: number | undefined): string => (n === undefined ? '?' : `0x${n.toString(16).toUpperCase().padStart(8, '0')}`);
    return l.vectorValid
      ? `the device jumped to the application at ${hx(l.address)} (SP ${hx(l.sp)}, reset vector ${hx(l.pc)})`
      : `the vector table at ${hx(l.address)} is not valid (SP ${hx(l.sp)}, reset vector ${hx(l.pc)}): a real ROM resets and comes back in DFU mode`;
  }
  if (h.serial === '') return 'the device left DFU mode (it has no serial number to follow it by)';
  try {
    await h.reopen(2000);
    return `the device came back in DFU mode (serial ${h.serial}) after leave: the application did not start (BOOT0 still high, or no valid vector table)`;
  } catch {
    return `the device left DFU mode and did not come back within 2 s (serial ${h.serial}): the application is running`;
  }
}

type PlanFor = (profile: ChipProfile, transferSize: number, from: 'descriptor' | 'profile' | 'option', addressEveryBlock?: boolean) => FlashPlan;

interface BoardOutcome {
  readonly serial: string;
  readonly description: string;
  chip?: string;
  result?: FlashResult;
  error?: FwError | Error;
}

/** One log line per event, prefixed with the board's serial, for --all (bars would fight over the terminal). */
function boardLogger(serial: string, quiet: boolean): (e: FlashEvent) => void {
  const line = (s: string): void => {
    if (!quiet) process.stderr.write(`[${serial}] ${s}\n`);
  };
  return (e) => {
    if (e.type === 'phase' && e.phase !== 'leave') line(`${e.phase}: ${e.total} ${e.unit}`);
    else if (e.type === 'phase-end') line(`${e.phase} done, ${Math.round(e.deviceMs)} ms device time`);
    else if (e.type === 'retry') line(`retry ${e.attempt} of ${e.phase}${e.address !== undefined ? ` at 0x${e.address.toString(16).toUpperCase().padStart(8, '0')}` : ''}: ${e.error}`);
    else if (e.type === 'note') line(e.message);
  };
}

function cell(n: number): string {
  return n >= 1000 ? `${(n / 1000).toFixed(2)} s` : `${Math.round(n)} ms`;
}

/**
 * `flash --all`: every device the selectors match, in parallel, each with its own identification, plan and
 * session; a failing board does not stop the others. Log lines carry the serial; a summary table (or JSON) at
 * the end. Exit 0 when every board verified; 1 when the only failures are verify mismatches; 4 otherwise.
 */
async function flashAll(opts: FlashCliOptions, recipeChip: string | undefined, planFor: PlanFor): Promise<number> {
  const json = opts.json === true;
  const { handles } = await selectDevices(opts.device ?? 'usb', selectorsFrom(opts), chipOptions(opts));
  if (handles.length === 0) throw new FwError('DFU_NO_DEVICE', 'no DFU device found for --all: are the boards in DFU mode and connected?', {}, EXIT_DEVICE);
  const ac = new AbortController();
  const onSigint = (): void => ac.abort(new Error('interrupted (Ctrl-C)'));
  process.once('SIGINT', onSigint);
  const outcomes: BoardOutcome[] = handles.map((h) => ({ serial: h.serial || h.path || '?', description: h.description }));
  try {
    await Promise.all(
      handles.map(async (h, i) => {
        const o = outcomes[i]!;
        const log = boardLogger(o.serial, json);
        try {
          const p = await prepareHandle(h, { ...opts, ...(recipeChip !== undefined ? { recipeChip } : {}) });
          o.chip = p.profile.displayName;
          for (const n of p.notes) log({ type: 'note', message: n });
          const s = p.session;
          const plan = planFor(p.profile, s.dfuse.transferSize, opts.transferSize !== undefined ? 'option' : s.info.transferSizeFrom, s.dfuse.addressPerBlock);
          o.result = await executePlan(s, plan, {
            signal: ac.signal,
            onEvent: log,
            ...(opts.resume === true ? { resume: true } : {}),
            ...(opts.retries !== undefined ? { retries: opts.retries } : {}),
          });
          if (o.result.leave !== undefined) log({ type: 'note', message: await followLeave(h) });
          log({ type: 'note', message: `ok: ${o.result.bytesWritten} bytes written, ${o.result.bytesVerified} verified` });
        } catch (e) {
          o.error = e instanceof Error ? e : new Error(String(e));
          if (!json) process.stderr.write(`[${o.serial}] FAILED: ${isFwError(e) ? e.format() : o.error.message}\n`);
        } finally {
          h.close();
        }
      }),
    );
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
  const failed = outcomes.filter((o) => o.error !== undefined);
  if (json) {
    process.stdout.write(
      JSON.stringify(
        {
          ok: failed.length === 0,
          devices: outcomes.map((o) => ({
            serial: o.serial,
            device: o.description,
            ...(o.chip !== undefined ? { chip: o.chip } : {}),
            ok: o.error === undefined,
            ...(o.result !== undefined ? { result: { bytesWritten: o.result.bytesWritten, bytesVerified: o.result.bytesVerified, sectorsErased: o.result.sectorsErased, deviceMs: o.result.deviceMs, retries: o.result.retries, recoveries: o.result.recoveries, ...(o.result.leave !== undefined ? { leave: o.result.leave } : {}) } } : {}),
            ...(o.error !== undefined ? { error: isFwError(o.error) ? o.error.toJSON() : { code: 'INTERNAL', message: o.error.message } } : {}),
          })),
        },
        null,
        2,
      ) + '\n',
    );
  } else {
    const rows = [['SERIAL', 'CHIP', 'RESULT', 'WRITTEN', 'VERIFIED', 'DEVICE TIME', 'ERROR']];
    for (const o of outcomes) {
      const r = o.result;
      rows.push([o.serial, o.chip ?? '-', o.error === undefined ? 'ok' : 'FAILED', r !== undefined ? String(r.bytesWritten) : '-', r !== undefined ? String(r.bytesVerified) : '-', r !== undefined ? cell(r.deviceMs) : '-', o.error === undefined ? '' : isFwError(o.error) ? `${o.error.message} [${o.error.code}]` : o.error.message]);
    }
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
    process.stdout.write(`flashed ${outcomes.length - failed.length} of ${outcomes.length} device(s)\n` + rows.map((r) => r.map((x, c) => (c === r.length - 1 ? x : x.padEnd(widths[c]!))).join('  ').trimEnd()).join('\n') + '\n');
  }
  if (failed.length === 0) return 0;
  return failed.every((o) => isFwError(o.error) && o.error.exitStatus === 1) ? 1 : EXIT_DEVICE;
}
