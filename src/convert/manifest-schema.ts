/**
 * Shape of the manifest written by `--manifest` / recipe `manifest:`, published as
 * `schemas/convert-manifest.schema.json`. It describes the bytes that were written, so a release pipeline can
 * check them without dfukit: sha256 and size of every output and input, and every element as written
 * (after the pads and merges it lists). No timestamps, no host names, no absolute paths: the same inputs and
 * options give the same manifest on every machine. Paths are relative to the manifest's own folder, with `/`.
 */
import { z } from 'zod';
import { MANIFEST_VERSION } from './manifest.ts';
import { ElementSchema, MergeSchema, OutputFormatSchema, OverwriteSchema, PadSchema, Sha256Hex, SlotSchema, SuffixValuesSchema } from './report-schema.ts';

const count = z.number().int().min(0);

export { MANIFEST_VERSION };

export const ManifestSchema = z
  .object({
    manifestVersion: z.literal(MANIFEST_VERSION),
    generator: z.literal('dfukit'),
    outputs: z.array(
      z
        .object({
          path: z.string().describe('relative to the manifest folder'),
          format: OutputFormatSchema,
          size: count,
          sha256: Sha256Hex,
          start: count.optional().describe('.bin: address of the first byte'),
        })
        .strict(),
    ),
    inputs: z.array(
      z
        .object({
          path: z.string().describe('relative to the manifest folder'),
          format: z.enum(['elf', 'ihex', 'srec', 'bin', 'dfuse', 'dfu']),
          size: count,
          sha256: Sha256Hex,
          alt: count.optional(),
          address: count.optional(),
        })
        .strict(),
    ),
    chip: z.string().optional().describe('resolved part, e.g. STM32H745xI'),
    programUnit: count.describe('1: not aligned'),
    fill: count,
    erasedValue: count,
    suffix: SuffixValuesSchema.describe('DFU suffix IDs of .dfu outputs'),
    targets: z.array(
      z
        .object({
          target: count.describe('index of the DfuSe target'),
          alt: count,
          name: z.string().optional(),
          elements: z.array(ElementSchema),
        })
        .strict(),
    ),
    pads: z.array(PadSchema),
    merges: z.array(MergeSchema),
    overwrites: z.array(OverwriteSchema),
    headers: z
      .array(
        z
          .object({
            input: z.string().describe('relative to the manifest folder'),
            layout: z.string(),
            slot: SlotSchema,
            runSlot: SlotSchema,
            headerStart: count,
            headerSize: count,
            payloadStart: count,
            payloadSize: count,
            loadAddress: count,
            options: z.record(z.string(), z.string()).describe('every layout option with the value used (version, crc...)'),
            fields: z.record(z.string(), z.union([count, z.string()])).describe('every header field as written: integers as numbers, bytes as lower-case hex'),
          })
          .strict(),
      )
      .optional()
      .describe('image headers put on inputs by recipe header steps (absent when there are none)'),
  })
  .strict()
  .meta({ $id: 'https://dfukit.dev/schemas/convert-manifest.schema.json', title: 'dfukit conversion manifest (--manifest)' });

export type Manifest = z.infer<typeof ManifestSchema>;
