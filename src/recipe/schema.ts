/**
 * A `dfukit build` recipe: a conversion declared in YAML for pipelines. Declared once with zod: `parse.ts`
 * validates with it, and `npm run schemas:update` publishes it as `schemas/recipe.schema.json`, so editors can
 * check a recipe as it is written (`# yaml-language-server: $schema=...`).
 *
 * Numbers may be YAML integers (`0x08000000`, `32`) or strings in the CLI's notation (`"0x0800_0000"`, `4K`);
 * `parse.ts` turns them into numbers. Only JSON-Schema-expressible rules live here (no refine/transform).
 *
 * The pipeline a recipe runs: inputs → each input's `header` step (an A/B image header for a slot, slots
 * given inline or by name from `slots`) → targets (by alt) → `steps` (reserved for steps over the combined
 * image; none exist yet, so the list must be empty) → alignment and merging → every output → the manifest.
 */
import { z } from 'zod';

const NUMBER_TEXT = /^\s*(0x[0-9a-fA-F_]+|0b[01_]+|[0-9_]+)\s*$/;
const SIZE_TEXT = /^\s*(0x[0-9a-fA-F_]+|0b[01_]+|[0-9_]+)\s*[kKmM]?\s*$/;

/** An integer up to `max`, or a string in CLI notation; every failure gives `message`. */
function numeric(max: number | undefined, text: RegExp, message: string) {
  const e = { error: message };
  const n = z.number(e).int(e).min(0, e);
  return z.union([max === undefined ? n : n.max(max, e), z.string(e).regex(text, e)], e);
}

const Address = numeric(0xffffffff, NUMBER_TEXT, 'expected an address: a number such as 0x08000000').describe('address: integer, or a string such as "0x0800_0000"');
const Size = numeric(undefined, SIZE_TEXT, 'expected a size: a number such as 32, 0x1000 or "4K"').describe('size in bytes: integer, or a string such as "4K", "0x1000"');
const Byte = numeric(0xff, NUMBER_TEXT, 'expected a byte value 0..0xFF').describe('byte value 0..0xFF');
const U16 = numeric(0xffff, NUMBER_TEXT, 'expected a 16-bit value 0..0xFFFF').describe('16-bit value 0..0xFFFF');
const Alt = z.number().int().min(0).max(255).describe('DFU alternate setting (0 = internal flash)');
const RelativePath = z
  .string()
  .min(1)
  .describe('file path relative to the recipe file; `/` separators; absolute paths are refused (they break reproducible builds)');

/** Slot names as on the command line (`--slot NAME=ADDRESS+SIZE`). */
export const SLOT_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;
/** `ADDRESS+SIZE`, e.g. `0x08020000+0x60000` or `0x08020000+384K`. */
export const SLOT_TEXT = /^\s*(0x[0-9a-fA-F_]+|0b[01_]+|[0-9_]+)\s*\+\s*(0x[0-9a-fA-F_]+|0b[01_]+|[0-9_]+)\s*[kKmM]?\s*$/;

const SLOT_ERROR = 'expected a slot: "ADDRESS+SIZE" such as "0x08020000+0x60000" or "0x08020000+384K", or { address, size }';

export const RecipeSlotSchema = z
  .union(
    [
      z.string({ error: SLOT_ERROR }).regex(SLOT_TEXT, { error: SLOT_ERROR }).describe('"ADDRESS+SIZE": "0x08020000+0x60000", "0x08020000+384K"'),
      z.strictObject({ address: Address, size: Size }, { error: SLOT_ERROR }),
    ],
    { error: SLOT_ERROR },
  )
  .describe('a flash area an A/B bootloader chooses between: start address and size');

const SLOT_REF_ERROR = `expected the name of a slot in \`slots\`, or ${SLOT_ERROR.replace(/^expected /, '')}`;

const SlotRef = z.union(
  [
    z.string({ error: SLOT_REF_ERROR }).regex(SLOT_NAME, { error: SLOT_REF_ERROR }).describe('name of a slot in `slots`'),
    RecipeSlotSchema,
  ],
  { error: SLOT_REF_ERROR },
);

const OptionValue = z.union([z.string(), z.number(), z.boolean()], { error: 'expected a string, number or true/false' });

export const RecipeHeaderSchema = z
  .strictObject({
    layout: z.string().min(1).describe('header layout: dfukit-ab-v1, mcuboot, simple-crc (`dfukit header describe` lists them)'),
    slot: SlotRef.describe('the slot the image is stored in: a name from `slots`, or inline'),
    runSlot: SlotRef.optional().describe(
      'staging copy (copy-to-A scheme): the slot the image is linked for and runs from, when `slot` only stores it; the image is moved from runSlot to slot, the header records runSlot',
    ),
    staging: z
      .boolean()
      .optional()
      .describe('staging copy, runSlot taken from `slots`: the slot that holds the image as linked (its first byte); `slot` is where the copy is stored'),
    version: z
      .string({ error: 'expected a version string such as "1.2.3+4" (quote it: YAML reads 1.2 as a number)' })
      .min(1)
      .optional()
      .describe('image version MAJ.MIN.REV+BUILD (layout option `version`); quote it'),
    options: z
      .record(z.string(), OptionValue)
      .optional()
      .describe('other layout options by name, e.g. { crc: stm32, sha256: true, core: cm4, hw-id: 0x450 } (`dfukit header describe LAYOUT`)'),
    headerSize: Size.optional().describe("header size; default: the layout's (dfukit-ab-v1: 0x400)"),
    headerOffset: Size.optional().describe('header this many bytes after the slot start, in space the firmware reserved (layouts with placement `anywhere`)'),
    padHeader: z.boolean().optional().describe('the header space must be added in front of the payload (imgtool --pad-header), never taken from reserved space'),
    programUnit: Size.optional().describe("flash program unit the header covers whole; default: the chip's, else 32"),
    vectorAlign: Size.optional().describe('VTOR alignment the payload\'s vector table needs; default 128'),
  })
  .describe("an image header for a slot, put on this input's image before it is combined with the others (`dfukit header inject`)");

export const RecipeInputSchema = z
  .strictObject({
    path: RelativePath,
    address: Address.optional().describe('load address of a raw binary or plain DFU payload'),
    alt: Alt.optional().describe('put this input into another target (option bytes, OTP, external memory); default 0'),
    header: RecipeHeaderSchema.optional(),
  })
  .describe('one input file; its format is detected from its content');

export const RecipeTargetSchema = z
  .strictObject({
    alt: Alt,
    name: z.string().min(1).max(254).describe('DfuSe szTargetName (default "ST...", or the name in a .dfu input)'),
  })
  .describe('name of the DfuSe target of one alt');

export const RecipeOutputSchema = z
  .strictObject({
    path: RelativePath,
    format: z.enum(['dfu', 'hex', 'srec', 'bin']).optional().describe('default: from the extension (.dfu .hex .srec .s19 .s37 .bin)'),
  })
  .describe('one output file; all outputs hold the same converted image');

export const RecipeSuffixSchema = z
  .strictObject({
    vid: U16.optional().describe('idVendor, default 0x0483 (ST)'),
    pid: U16.optional().describe('idProduct, default 0xDF11 (ST ROM bootloader); dfu-util refuses a file matching neither the device nor 0xFFFF'),
    bcdDevice: U16.optional().describe('default 0xFFFF: any device release'),
  })
  .describe('DFU suffix IDs of .dfu outputs');

export const RecipeSchema = z
  .strictObject({
    recipe: z.literal(1, { error: 'expected 1, the only recipe format version' }).describe('recipe format version'),
    description: z.string().optional(),
    chip: z.string().min(1).optional().describe('chip profile or ST part number (stm32h745, STM32H743ZI): program unit, erase sectors, internal flash'),
    flashSize: Size.optional().describe('flash size when the chip name has no flash-size letter'),
    bankMode: z.enum(['single', 'dual']).optional().describe('bank organisation for parts where an option bit selects it (default: the factory setting)'),
    align: Size.optional().describe('program unit override, a power of two (default: the chip\'s, else 8); 1 turns alignment off'),
    fill: Byte.optional().describe('pad byte (default: the erased value, 0xFF)'),
    mergeGap: Size.optional().describe('also merge internal-flash elements whose gap is at most this, across erase sectors'),
    overwrite: z.boolean().optional().describe('later inputs win where inputs overlap (each overlap is reported); default false: overlap is an error'),
    lenient: z.array(z.string().min(1)).optional().describe('reader leniencies by name, as `dfukit inspect --lenient`'),
    slots: z
      .record(z.string().regex(SLOT_NAME, { error: 'a slot name starts with a letter, then letters, digits, _ or -' }), RecipeSlotSchema)
      .optional()
      .describe('the slot map: name → "ADDRESS+SIZE" or { address, size }, in order (the first is slot A); header steps name their slots from it'),
    inputs: z.array(RecipeInputSchema).min(1),
    targets: z.array(RecipeTargetSchema).optional(),
    steps: z
      .array(z.never())
      .max(0)
      .optional()
      .describe('reserved for steps over the combined image, run before alignment; none exist in this version (headers are a per-input step: inputs[].header)'),
    suffix: RecipeSuffixSchema.optional(),
    outputs: z.array(RecipeOutputSchema).min(1),
    manifest: RelativePath.optional().describe('where to write the JSON manifest (schema: convert-manifest.schema.json)'),
  })
  .meta({ $id: 'https://dfukit.dev/schemas/recipe.schema.json', title: 'dfukit build recipe' });

export type RecipeSource = z.infer<typeof RecipeSchema>;
