/** `dfukit header describe [LAYOUT]`. */
import { EXIT_USAGE, FwError } from '../../core/errors.ts';
import { describeCStruct, describeLayout } from '../../header/describe.ts';
import { listLayouts } from '../../header/layouts.ts';
import { renderDescribe, renderLayoutList } from '../render/header-describe.ts';

export function runHeaderDescribe(layout: string | undefined, opts: { json?: true; c?: true }): number {
  if (layout === undefined) {
    if (opts.c === true) throw new FwError('HEADER_LAYOUT_UNKNOWN', '--c needs a layout name', {}, EXIT_USAGE);
    process.stdout.write(opts.json === true ? JSON.stringify({ layouts: listLayouts().map((l) => describeLayout(l)) }, null, 2) + '\n' : renderLayoutList(listLayouts()));
    return 0;
  }
  const d = describeLayout(layout);
  if (opts.c === true) {
    const c = describeCStruct(layout);
    if (c === undefined) throw new FwError('HEADER_NO_C_STRUCT', `${d.name} places fields by option: no fixed C struct (use describe without --c)`, {}, EXIT_USAGE);
    process.stdout.write(c);
    return 0;
  }
  process.stdout.write(opts.json === true ? JSON.stringify(d, null, 2) + '\n' : renderDescribe(d));
  return 0;
}
