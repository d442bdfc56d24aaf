/**
 * Shape of `dfukit convert --json` and `dfukit build --json`, declared once with zod: the TypeScript type is
 * inferred from it, tests validate real output against it, and `npm run schemas:update` publishes it as
 * `schemas/convert-report.schema.json`. Run-time code imports only the types, so zod is not loaded.
 */
import { z } from 'zod';
import { NoteSchema } from '../formats/inspect-report.ts';

const u32 = z.number().int().min(0).max(0xffffffff);
const end32 = z.number().int().min(0).max(0x1_0000_0000).describe('one past the last byte (half-open)');
const count = z.number().int().min(0);
const byte = z.number().int().min(0).max(0xff);
const u16 = z.number().int().min(0).max(0xffff);
export const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/).describe('SHA-256, lower-case hex');
const RangeSchema = z.object({ start: u32, end: end32 }).strict();

export const PadSchema = z
  .object({
    alt: count,
    start: u32,
    end: end32,
    size: count,
    fill: byte,
    reason: z.enum(['align-start', 'align-end', 'gap']).describe(
      'align-start/align-end: an element extended down/up to the program unit; gap: bytes between two runs that share a program unit',
    ),
  })
  .strict();

export const MergeSchema = z
  .object({
    alt: count,
    start: u32.describe('end of the lower element'),
    end: end32.describe('start of the upper element'),
    size: count.describe('bytes of the gap, written as `fill`'),
    fill: byte.describe('the erased value'),
    reason: z.enum(['same-sector', 'merge-gap']).describe('same-sector: both elements lie in one erase sector; merge-gap: the gap is within --merge-gap'),
    sector: z.string().optional().describe('the shared erase sector, e.g. "bank 1 sector 0"'),
  })
  .strict();

export const OverwriteSchema = z
  .object({ alt: count, start: u32, end: end32, size: count, previous: z.string(), by: z.string() })
  .strict()
  .describe('data of an earlier input replaced by a later one (--overwrite)');

export const ElementSchema = z
  .object({
    index: count,
    address: u32,
    end: end32,
    size: count,
    crc32: u32.describe('CRC-32/ISO-HDLC (zlib) of the element bytes'),
    sha256: Sha256Hex,
  })
  .strict();

export const SlotSchema = z.object({ name: z.string(), start: u32, size: count }).strict();

export const HeaderFieldSchema = z
  .object({
    name: z.string(),
    offset: count.describe('from the header start'),
    size: count,
    type: z.string().describe('u8, u16, u32, bytes[N]'),
    address: u32,
    value: z.union([count, z.string()]).describe('integers as numbers; byte strings (digests) as lower-case hex'),
    display: z.string().describe('the value as a human reads it'),
  })
  .strict();

export const HeaderStepSchema = z
  .object({
    input: z.string().describe('the input the header was put on, as named in the report'),
    alt: count,
    layout: z.string(),
    slot: SlotSchema.describe('the slot the image is stored in'),
    runSlot: SlotSchema.describe('the slot the image runs from: the same slot, or slot A for a staging copy'),
    headerStart: u32,
    headerSize: count,
    headerSpace: z.enum(['added', 'reserved']).describe('added: in front of the payload; reserved: in space the image held for it'),
    payloadStart: u32,
    payloadSize: count,
    loadAddress: u32.describe("run address of the payload's vector table"),
    options: z.record(z.string(), z.string()).describe('every layout option with the value used'),
    fields: z.array(HeaderFieldSchema).describe('every header field as written'),
    written: z.array(z.object({ start: u32, end: end32, what: z.string() }).strict()).describe('what the step wrote besides the payload'),
    notes: z.array(z.string()),
  })
  .strict()
  .describe("an image header put on an input's image (recipe inputs[].header)");

export const OutputFormatSchema = z.enum(['dfu', 'hex', 'srec', 'bin']);

export const SuffixValuesSchema = z.object({ vid: u16, pid: u16, bcdDevice: u16 }).strict();

export const ConvertReportSchema = z
  .object({
    recipe: z.string().optional().describe('dfukit build: the recipe file, as given'),
    inputs: z.array(
      z
        .object({
          name: z.string().describe('the path as given (recipe inputs: relative to the recipe)'),
          format: z.enum(['elf', 'ihex', 'srec', 'bin', 'dfuse', 'dfu']),
          detectedBy: z.string(),
          fileSize: count,
          alt: count.optional().describe('given with --alt / recipe `alt`'),
          address: u32.optional().describe('load address given for a raw binary'),
          entry: u32.optional(),
          size: count.describe('data bytes'),
          targets: z.array(z.object({ alt: count, name: z.string().optional(), ranges: z.array(RangeSchema) }).strict()),
        })
        .strict(),
    ),
    chip: z
      .object({
        requested: z.string(),
        part: z.string().describe('resolved part with flash-size letter, e.g. STM32H745xI'),
        profile: z.string(),
        flashSize: count,
        bankMode: z.enum(['single', 'dual']),
      })
      .strict()
      .optional(),
    alignment: z
      .object({
        programUnit: count.describe('1: no alignment'),
        from: z.enum(['chip', 'option', 'default', 'none']).describe('none: a re-encode of DfuSe inputs, elements kept as they are'),
        fill: byte,
        erasedValue: byte,
        mergeGap: count.optional(),
        sectorMerge: z.boolean(),
        flash: z.array(RangeSchema).describe('address ranges treated as internal flash'),
        flashFrom: z.enum(['chip', 'stm32-default']).describe('stm32-default: 0x08000000..0x10000000 in alt 0, no chip given'),
      })
      .strict(),
    targets: z.array(
      z
        .object({
          index: count,
          alt: count,
          name: z.string().optional().describe('absent: unnamed target (bTargetNamed 0)'),
          kind: z.enum(['internal-flash', 'other']),
          aligned: z.boolean(),
          size: count,
          elements: z.array(ElementSchema.extend({ inputs: z.array(z.string()).describe('inputs whose data lie in this element') }).strict()),
        })
        .strict(),
    ),
    pads: z.array(PadSchema),
    merges: z.array(MergeSchema),
    overwrites: z.array(OverwriteSchema),
    suffix: SuffixValuesSchema.extend({ from: z.enum(['options', 'input', 'default']) }).strict(),
    entry: u32.optional(),
    headers: z.array(HeaderStepSchema).optional().describe('headers put on inputs by recipe header steps (absent when there are none)'),
    notes: z.array(NoteSchema),
    outputs: z.array(
      z
        .object({
          path: z.string().describe('as given (build: relative to the recipe)'),
          format: OutputFormatSchema,
          size: count,
          sha256: Sha256Hex,
          start: u32.optional().describe('.bin: address of the first byte'),
        })
        .strict(),
    ),
    manifest: z.string().optional().describe('path of the manifest written, as given (build: relative to the recipe)'),
  })
  .strict()
  .meta({ $id: 'https://dfukit.dev/schemas/convert-report.schema.json', title: 'dfukit convert --json / build --json report' });

export type ConvertReport = z.infer<typeof ConvertReportSchema>;
export type ElementReport = ConvertReport['targets'][number]['elements'][number];
export type OutputReport = ConvertReport['outputs'][number];
export type HeaderStepReport = z.infer<typeof HeaderStepSchema>;
