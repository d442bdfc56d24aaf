/** `dfukit header inject`: read the input, pick the slots, call `injectHeader`, write the output, print the report. */
import { EXIT_USAGE, FwError } from '../../core/errors.ts';
import { hex32 } from '../../core/format.ts';
import { injectHeader } from '../../header/inject.ts';
import { findSlot, inSlot, showSlot, type Slot } from '../../header/slots.ts';
import { resolveChip } from '../../layout/chips.ts';
import { writeOutputAtomic } from '../../node/files.ts';
import { renderInject } from '../render/header-inject.ts';
import { checkErased, layoutOptionInput, loadImage, slotsFrom, type LayoutCliOptions, type LoadedImage } from './header-common.ts';
import { encodeHeaderOutput } from './header-output.ts';

export interface InjectCliOptions extends LayoutCliOptions {
  layout: string;
  slot: string[];
  output: string;
  into?: string;
  staging?: true;
  headerSymbol?: string;
  padHeader?: true;
  chip?: string;
  programUnit?: number;
  vectorAlign?: number;
}

function usage(code: string, message: string): FwError {
  return new FwError(code, message, {}, EXIT_USAGE);
}

/** The slot the image is stored in and the slot it runs from. */
function chooseSlots(slots: readonly Slot[], image: LoadedImage['image'], opts: InjectCliOptions): { slot: Slot; runSlot: Slot } {
  const start = image.start!;
  const linked = slots.find((s) => inSlot(s, start));
  if (opts.staging !== true) {
    const slot = opts.into !== undefined ? findSlot(slots, opts.into) : (linked ?? (slots.length === 1 ? slots[0]! : undefined));
    if (slot === undefined) throw new FwError('HEADER_OUTSIDE_SLOT', `the image starts at ${hex32(start)}, in none of the slots ${slots.map(showSlot).join(', ')}`, { address: start });
    return { slot, runSlot: slot };
  }
  if (linked === undefined) {
    throw new FwError('HEADER_OUTSIDE_SLOT', `--staging: the image starts at ${hex32(start)}, in none of the slots; it must be linked for one of them`, { address: start });
  }
  const others = slots.filter((s) => s !== linked);
  const slot = opts.into !== undefined ? findSlot(slots, opts.into) : others.length === 1 ? others[0]! : undefined;
  if (slot === undefined) throw usage('HEADER_SLOT_UNKNOWN', `--staging: give --into NAME, the slot to store the copy in (slots: ${slots.map((s) => s.name).join(', ')})`);
  if (slot === linked) throw usage('HEADER_SLOT_UNKNOWN', `--staging: the image is linked for slot ${linked.name}; store it in another slot`);
  return { slot, runSlot: linked };
}

function headerOffsetOf(loaded: LoadedImage, opts: InjectCliOptions, runSlot: Slot): number | undefined {
  if (opts.headerSymbol === undefined) return opts.headerOffset;
  if (opts.headerOffset !== undefined) throw usage('HEADER_OPTION', 'give --header-offset or --header-symbol, not both');
  if (loaded.decoded.format !== 'elf') throw usage('HEADER_SYMBOL', `--header-symbol needs an ELF input; ${loaded.path} is ${loaded.decoded.format}`);
  const sym = loaded.decoded.elf.findSymbol(opts.headerSymbol);
  if (sym === undefined) throw new FwError('HEADER_SYMBOL', `${loaded.path} has no symbol ${opts.headerSymbol}`, { file: loaded.path });
  if (!inSlot(runSlot, sym.value)) {
    throw new FwError('HEADER_SYMBOL', `symbol ${opts.headerSymbol} is at ${hex32(sym.value)}, outside ${showSlot(runSlot)}`, { file: loaded.path, address: sym.value });
  }
  return sym.value - runSlot.start;
}

export function runHeaderInject(input: string, opts: InjectCliOptions): number {
  const slots = slotsFrom(opts.slot);
  const loaded = loadImage(input);
  const { slot, runSlot } = chooseSlots(slots, loaded.image, opts);
  const chip = opts.chip !== undefined ? resolveChip(opts.chip) : undefined;
  const erased = opts.erasedValue !== undefined ? checkErased(opts.erasedValue) : (chip?.erasedValue ?? 0xff);
  const headerOffset = headerOffsetOf(loaded, opts, runSlot);
  const result = injectHeader(loaded.image, {
    layout: opts.layout,
    slot,
    runSlot,
    options: layoutOptionInput(opts),
    ...(opts.headerSize !== undefined ? { headerSize: opts.headerSize } : {}),
    ...(headerOffset !== undefined ? { headerOffset } : {}),
    ...(opts.padHeader === true ? { padHeader: true } : {}),
    ...(opts.programUnit !== undefined ? { programUnit: opts.programUnit } : chip !== undefined ? { programUnit: chip.programUnit } : {}),
    ...(opts.vectorAlign !== undefined ? { vectorAlign: opts.vectorAlign } : {}),
    erasedValue: erased,
  });
  writeOutputAtomic(opts.output, encodeHeaderOutput(result.image, opts.output, erased), [loaded.path]);
  if (opts.json === true) {
    process.stdout.write(JSON.stringify({ input: loaded.path, output: opts.output, layout: result.report.layout, fields: result.fields, report: result.report }, null, 2) + '\n');
  } else process.stdout.write(renderInject(loaded.path, opts.output, result));
  return 0;
}
