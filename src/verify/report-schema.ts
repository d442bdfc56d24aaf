/**
 * Shape of `dfukit diff --json` (and of `dfukit verify --device --json`, which runs the same diff on a read-back),
 * declared once with zod: the TypeScript type is inferred from it, tests validate real output against it, and
 * `npm run schemas:update` publishes it as `schemas/diff-report.schema.json`. Run-time code imports only the
 * types, so zod is not loaded.
 */
import { z } from 'zod';
import { NoteSchema } from '../formats/inspect-report.ts';
import { DIFF_CLASSES } from './classes.ts';

const u32 = z.number().int().min(0).max(0xffffffff);
const end32 = z.number().int().min(0).max(0x1_0000_0000).describe('one past the last byte (half-open)');
const count = z.number().int().min(0);
const byte = z.number().int().min(0).max(0xff);
const RangeSchema = z.object({ start: u32, end: end32 }).strict();

export const DiffClassSchema = z.enum(DIFF_CLASSES).describe(
  [
    'truncated: the actual image has no data there (it ends early, or has a hole);',
    'not-written: every differing byte reads the erased value;',
    'tail-lost: only the last partial program unit of an element differs (a write that dropped the unfilled flash word);',
    'shifted: the expected bytes are in the actual image at a constant offset (wrong base address, header added or stripped);',
    'bits-cleared: every differing byte has only bits cleared relative to the expected byte (actual & expected == actual): programmed over flash that was not erased;',
    'header-only: the differences lie inside an image header of a known layout;',
    'different-build: scattered differences over the image: another build of the firmware;',
    'other: none of the above.',
  ].join(' '),
);

const TruncatedEvidence = z
  .object({
    class: z.literal('truncated'),
    missingBytes: count,
    actualEndsAt: u32.nullable().describe('where the actual data below the range ends (null: none below)'),
    actualResumesAt: u32.nullable().describe('where the actual data resumes above the range (null: the actual image ends early)'),
    expectedErasedBytes: count.describe('missing bytes whose expected value is the erased value (they would read the same from erased flash)'),
  })
  .strict();

const NotWrittenEvidence = z
  .object({
    class: z.literal('not-written'),
    erasedValue: byte,
    wholeElement: z.boolean().describe('the range covers every byte of its element that should differ from erased flash'),
    erasedSectors: z
      .array(z.object({ name: z.string(), start: u32, end: end32 }).strict())
      .describe('with --chip: erase sectors the range covers whole that read entirely erased'),
    quirks: z.array(z.object({ id: z.string(), summary: z.string() }).strict()).describe('with --chip: known chip quirks about these addresses'),
    shiftedBy: z.number().int().optional().describe('the expected bytes of the range are in the actual image at this offset: the shifted copy of the element'),
  })
  .strict();

const TailLostEvidence = z
  .object({
    class: z.literal('tail-lost'),
    programUnit: count,
    unitStart: u32.describe('start of the last, partial program unit of the element'),
    elementEnd: end32,
    tailBytes: count.describe('bytes of the element in that unit'),
    erased: z.boolean().describe('the differing bytes read the erased value'),
  })
  .strict();

const ShiftedEvidence = z
  .object({
    class: z.literal('shifted'),
    offset: z.number().int().describe('the expected byte at address A is in the actual image at A + offset'),
    compared: count.describe('differing bytes of the range whose shifted counterpart the actual image holds'),
    matched: count.describe('of those, how many equal the expected byte'),
    elementCompared: count.describe('the same over every difference of the element'),
    elementMatched: count,
  })
  .strict();

const BitsClearedEvidence = z
  .object({
    class: z.literal('bits-cleared'),
    bytes: count,
    bitsCleared: count,
    strong: z
      .boolean()
      .describe('at least 16 bit-cleared bytes in the range, or in all the ranges no structural class explains, all bit-cleared: too many to fit by chance, so this outranks header-only and different-build'),
  })
  .strict();

const HeaderFieldDiff = z
  .object({
    name: z.string(),
    offset: count.describe('from the header start'),
    address: u32,
    size: count,
    expected: z.string(),
    actual: z.string(),
  })
  .strict();

const HeaderOnlyEvidence = z
  .object({
    class: z.literal('header-only'),
    layout: z.string(),
    headerAddress: u32,
    headerSize: count,
    fields: z.array(HeaderFieldDiff).describe('every field with a differing byte, decoded on both sides'),
    paddingBytes: count.describe('differing bytes in the header padding (no field)'),
    actualHeader: z.object({ valid: z.boolean(), reason: z.string().optional() }).strict().describe('the actual header verified as a bootloader would'),
  })
  .strict();

const DifferentBuildEvidence = z
  .object({
    class: z.literal('different-build'),
    imageFraction: z.number().min(0).max(1).describe('differing bytes / compared bytes over the whole image'),
    contentRanges: count.describe('ranges of the image no structural class explains'),
    bitsSet: count,
    bitsCleared: count,
  })
  .strict();

const OtherEvidence = z
  .object({
    class: z.literal('other'),
    bitsSet: count.describe('bits the actual has set where the expected byte has them clear (programming cannot set bits)'),
    bitsCleared: count,
    uniformActual: byte.nullable().describe('the one value every differing actual byte holds, if they all hold the same'),
    outsideImage: z.boolean().describe('--whole: the expected image has no data here; erased flash was expected'),
  })
  .strict();

export const EvidenceSchema = z.discriminatedUnion('class', [
  TruncatedEvidence,
  NotWrittenEvidence,
  TailLostEvidence,
  ShiftedEvidence,
  BitsClearedEvidence,
  HeaderOnlyEvidence,
  DifferentBuildEvidence,
  OtherEvidence,
]);

const maybeByte = byte.nullable();

export const DiffRangeSchema = z
  .object({
    index: count.describe('1-based, address order'),
    start: u32.describe('first differing (or missing) byte'),
    end: end32.describe('one past the last differing (or missing) byte'),
    size: count,
    differing: count.describe('bytes in the range that differ or are missing (the range may hold equal bytes merged across, see settings.merge)'),
    class: DiffClassSchema,
    summary: z.string().describe('the evidence in one line'),
    element: RangeSchema.describe('the compared region (contiguous data) that holds the range'),
    first: z.object({ address: u32, expected: maybeByte, actual: maybeByte }).strict().describe('null: no data on that side'),
    sectors: z.array(z.string()).optional().describe('with --chip: erase sectors the range touches'),
    evidence: EvidenceSchema,
    context: z
      .object({ start: u32, expected: z.array(maybeByte), actual: z.array(maybeByte) })
      .strict()
      .describe('bytes around the range start on both sides (null: no data)'),
  })
  .strict();

const CrcPair = z.object({ isoHdlc: u32.describe('CRC-32/ISO-HDLC (zlib)'), stm32: u32.describe('STM32 CRC unit (CRC-32/MPEG-2 over little-endian words)') }).strict();

const SideSchema = z
  .object({
    name: z.string(),
    format: z.string().optional(),
    detectedBy: z.string().optional(),
    alt: count.optional().describe('DfuSe target used'),
    address: u32.optional().describe('load address of a raw binary (given, or assumed: see notes)'),
    ranges: z.array(RangeSchema).describe('where the image holds data'),
    size: count.describe('bytes of data'),
    crc: CrcPair.describe('over the compared ranges in address order; bytes this side lacks count as the erased value'),
    complete: z.boolean().describe('this side holds data at every compared address'),
  })
  .strict();

export const DiffReportSchema = z
  .object({
    equal: z.boolean(),
    expected: SideSchema,
    actual: SideSchema,
    settings: z
      .object({
        whole: z.boolean().describe('compared wherever either side has data (gaps of the expected image expected erased), not only where the expected image has data'),
        merge: count.describe('differing bytes separated by at most this many equal bytes form one range'),
        context: count,
        programUnit: count,
        programUnitFrom: z.enum(['align', 'chip', 'default']),
        erasedValue: byte,
        chip: z.string().optional(),
      })
      .strict(),
    compared: z.object({ ranges: z.array(RangeSchema), bytes: count }).strict(),
    differingBytes: count.describe('compared bytes that differ (missing bytes excluded)'),
    missingBytes: count.describe('compared bytes the actual image has no data for'),
    fraction: z.number().min(0).max(1).describe('(differing + missing) / compared'),
    firstDifference: z.object({ address: u32, expected: maybeByte, actual: maybeByte }).strict().optional(),
    actualOutside: count.describe('bytes of actual data outside the compared ranges (not compared; --whole compares them)'),
    causes: z
      .array(z.object({ class: DiffClassSchema, ranges: count, bytes: count }).strict())
      .describe('ranges and differing bytes per class, in priority order'),
    ranges: z.array(DiffRangeSchema),
    notes: z.array(NoteSchema),
  })
  .strict()
  .meta({ $id: 'https://dfukit.dev/schemas/diff-report.schema.json', title: 'dfukit diff --json report' });

export type DiffReport = z.infer<typeof DiffReportSchema>;
export type DiffRange = z.infer<typeof DiffRangeSchema>;
export type DiffClass = z.infer<typeof DiffClassSchema>;
export type Evidence = z.infer<typeof EvidenceSchema>;
export type DiffSide = z.infer<typeof SideSchema>;
export type HeaderFieldDiffReport = z.infer<typeof HeaderFieldDiff>;
