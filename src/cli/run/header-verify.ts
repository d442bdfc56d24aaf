/**
 * `dfukit header verify FILE`: the headers to check are the given slots the file holds data at, or else the
 * layout's magic found at the starts of the file's data; each is verified field by field. Exit 1 when one
 * fails or none is found.
 */
import { EXIT_USAGE, FwError } from '../../core/errors.ts';
import { detectHeaders } from '../../header/detect.ts';
import { getLayout } from '../../header/layouts.ts';
import type { Slot } from '../../header/slots.ts';
import { verifyHeader, type VerifyResult } from '../../header/verify.ts';
import { renderVerify } from '../render/header-verify.ts';
import { checkErased, layoutOptionInput, loadImage, slotsFrom, type LayoutCliOptions } from './header-common.ts';

export interface VerifyCliOptions extends LayoutCliOptions {
  layout?: string;
  slot?: string[];
}

interface Target {
  layout: string;
  slot?: Slot;
  address: number;
}

export function runHeaderVerify(file: string, opts: VerifyCliOptions): number {
  const loaded = loadImage(file);
  const image = loaded.image;
  const slots = slotsFrom(opts.slot);
  const options = layoutOptionInput(opts);
  if (opts.layout === undefined && Object.keys(options).length > 0) {
    throw new FwError('HEADER_OPTION', 'layout options (--version, --set, --pad...) need --layout', {}, EXIT_USAGE);
  }
  const layouts = opts.layout !== undefined ? [getLayout(opts.layout)] : undefined;
  const offset = opts.headerOffset ?? 0;
  let targets: Target[];
  if (slots.length > 0) {
    const held = slots.filter((s) => image.byteAt(s.start + offset) !== undefined);
    targets =
      layouts !== undefined
        ? held.map((s) => ({ layout: layouts[0]!.name, slot: s, address: s.start + offset }))
        : detectHeaders(image, { slots: held }).map((d) => ({ layout: d.layout, slot: d.slot!, address: d.address }));
  } else {
    const found = detectHeaders(image, { ...(layouts !== undefined ? { layouts, options: { [layouts[0]!.name]: options } } : {}) });
    targets = found.map((d) => ({ layout: d.layout, address: d.address + offset }));
    // A layout was named but its magic is nowhere: verify at the image start, which reports the bad magic.
    if (targets.length === 0 && layouts !== undefined) targets = [{ layout: layouts[0]!.name, address: image.start! + offset }];
  }
  const results: VerifyResult[] = targets.map((t) =>
    verifyHeader(image, {
      layout: t.layout,
      ...(t.slot !== undefined ? { slot: t.slot, slots } : { headerAddress: t.address }),
      ...(opts.headerOffset !== undefined && t.slot !== undefined ? { headerOffset: opts.headerOffset } : {}),
      ...(opts.headerSize !== undefined ? { headerSize: opts.headerSize } : {}),
      ...(opts.layout !== undefined ? { options } : {}),
      erasedValue: checkErased(opts.erasedValue),
    }),
  );
  if (opts.json === true) process.stdout.write(JSON.stringify({ file: loaded.path, headers: results }, null, 2) + '\n');
  else if (results.length === 0) process.stdout.write(`${loaded.path}: no header found (no known magic at ${slots.length > 0 ? 'the slot starts' : 'the starts of its data'}; give --layout and --slot to check a place)\n`);
  else process.stdout.write(results.map((r) => renderVerify(loaded.path, r)).join('\n'));
  return results.length > 0 && results.every((r) => r.ok) ? 0 : 1;
}
