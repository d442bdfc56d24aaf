/** `dfukit header select FLASHDUMP@ADDR`: the slot a bootloader following the layout boots. Exit 1 when none. */
import { selectSlot } from '../../header/select.ts';
import { renderSelect } from '../render/header-select.ts';
import { checkErased, layoutOptionInput, loadImage, slotsFrom, type LayoutCliOptions } from './header-common.ts';

export interface SelectCliOptions extends LayoutCliOptions {
  layout: string;
  slot: string[];
}

export function runHeaderSelect(file: string, opts: SelectCliOptions): number {
  const loaded = loadImage(file);
  const result = selectSlot(loaded.image, {
    layout: opts.layout,
    slots: slotsFrom(opts.slot),
    options: layoutOptionInput(opts),
    ...(opts.headerSize !== undefined ? { headerSize: opts.headerSize } : {}),
    ...(opts.headerOffset !== undefined ? { headerOffset: opts.headerOffset } : {}),
    erasedValue: checkErased(opts.erasedValue),
  });
  if (opts.json === true) process.stdout.write(JSON.stringify({ file: loaded.path, ...result }, null, 2) + '\n');
  else process.stdout.write(renderSelect(loaded.path, result));
  return result.boot !== undefined ? 0 : 1;
}
