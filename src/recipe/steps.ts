/**
 * A recipe's header step (`inputs[].header`) as an image step of the conversion: `injectHeader` on the
 * input's image, with the chip's program unit and erased value unless the step says otherwise. The layout and
 * its options are checked when the request is built, before any input is read; every error points at the
 * recipe line of the step (or of the key at fault).
 */
import { hex32 } from '../core/format.ts';
import { FwError } from '../core/errors.ts';
import type { HeaderStepReport, ImageStep } from '../convert/types.ts';
import { injectHeader } from '../header/inject.ts';
import { getLayout } from '../header/layouts.ts';
import { resolveOptions } from '../header/options.ts';
import { inSlot, showSlot, type Slot } from '../header/slots.ts';
import type { MemoryImage } from '../image/memory-image.ts';
import { atRecipe, type Recipe, type RecipeHeaderStep } from './parse.ts';

/** The slot a staging copy is linked for: the slot of the map that holds the image's first byte. */
function linkedSlot(recipe: Recipe, image: MemoryImage, stored: Slot): Slot {
  const start = image.start ?? 0;
  const linked = recipe.slots.find((s) => inSlot(s, start));
  if (linked === undefined) {
    throw new FwError('HEADER_OUTSIDE_SLOT', `staging: the image starts at ${hex32(start)}, in none of the slots (${recipe.slots.map(showSlot).join(', ')}); it must be linked for one of them`, {
      address: start,
    });
  }
  if (linked.start === stored.start) {
    throw new FwError('HEADER_SLOT_UNKNOWN', `staging: the image is linked for slot ${linked.name}, which is also where it is to be stored; a staging copy goes into another slot`, {});
  }
  return linked;
}

export function headerStep(recipe: Recipe, index: number, h: RecipeHeaderStep): ImageStep {
  const at = ['inputs', index, 'header'];
  const what = `inputs[${index}].header`;
  let layout;
  try {
    layout = getLayout(h.layout);
  } catch (e) {
    throw atRecipe(recipe, [...at, 'layout'], e, `${what}.layout`);
  }
  const options = { ...(h.version !== undefined ? { version: h.version } : {}), ...h.options };
  try {
    resolveOptions(layout, options);
  } catch (e) {
    // The key at fault: `version`, or the option the message names (`option NAME:`, `no option 'NAME'`).
    const text = e instanceof FwError ? e.message : '';
    const named = Object.keys(h.options).find((k) => text.includes(`option ${k}:`) || text.includes(`option '${k}'`));
    const path = h.version !== undefined && e instanceof FwError && e.code === 'HEADER_VERSION' ? [...at, 'version'] : named !== undefined ? [...at, 'options', named] : at;
    throw atRecipe(recipe, path, e, what);
  }
  return {
    kind: 'header',
    apply(image, ctx): { image: MemoryImage; header: HeaderStepReport } {
      try {
        const runSlot = h.staging === true ? linkedSlot(recipe, image, h.slot) : h.runSlot;
        const r = injectHeader(image, {
          layout,
          slot: h.slot,
          ...(runSlot !== undefined ? { runSlot } : {}),
          options,
          ...(h.headerSize !== undefined ? { headerSize: h.headerSize } : {}),
          ...(h.headerOffset !== undefined ? { headerOffset: h.headerOffset } : {}),
          ...(h.padHeader === true ? { padHeader: true } : {}),
          ...(h.programUnit !== undefined ? { programUnit: h.programUnit } : ctx.chip !== undefined ? { programUnit: ctx.chip.programUnit } : {}),
          ...(h.vectorAlign !== undefined ? { vectorAlign: h.vectorAlign } : {}),
          erasedValue: ctx.chip?.erasedValue ?? 0xff,
        });
        const g = r.report.geometry;
        return {
          image: r.image,
          header: {
            input: ctx.input,
            alt: ctx.alt,
            layout: r.report.layout,
            slot: { ...g.slot },
            runSlot: { ...g.runSlot },
            headerStart: g.headerStart,
            headerSize: g.headerSize,
            headerSpace: r.report.headerSpace,
            payloadStart: g.payloadStart,
            payloadSize: g.payloadSize,
            loadAddress: g.loadAddress,
            options: { ...r.report.options },
            fields: r.fields.map((f) => ({ name: f.name, offset: f.offset, size: f.size, type: f.type, address: f.address, value: f.value, display: f.display })),
            written: r.report.written.map((w) => ({ start: w.start, end: w.end, what: w.what })),
            notes: [...r.report.notes],
          },
        };
      } catch (e) {
        // Placement errors are about the image and its slot: point at the slot.
        throw atRecipe(recipe, [...at, 'slot'], e, `${what} (${h.layout}, slot ${h.slot.name})`);
      }
    },
  };
}
