/**
 * Shape of `dfukit inspect --json`, declared once with zod: the TypeScript type is inferred from it, the
 * tests validate real output against it, and `npm run schemas:update` publishes it as
 * `schemas/inspect-report.schema.json`. The CLI imports only the type (erased), so zod is not loaded at run time.
 */
import { z } from 'zod';

const u32 = z.number().int().min(0).max(0xffffffff);
const end32 = z.number().int().min(0).max(0x1_0000_0000).describe('one past the last byte (half-open)');
const count = z.number().int().min(0);

export const LocationSchema = z
  .object({ file: z.string(), offset: count, line: count, column: count, address: u32 })
  .partial()
  .strict();

export const NoteSchema = z
  .object({
    code: z.string().describe('stable code, same namespace as error codes'),
    severity: z.enum(['warning', 'info']),
    message: z.string(),
    location: LocationSchema,
    leniency: z.string().optional().describe('the leniency that let the reader accept this'),
  })
  .strict();

export const ElementSchema = z
  .object({
    index: count,
    address: u32,
    end: end32,
    size: count,
    crc32: u32.describe('CRC-32/ISO-HDLC (zlib) of the element bytes'),
    offset: count.optional().describe('file offset of the element data (DfuSe: after the 8-byte element header)'),
    source: z.string().optional(),
  })
  .strict();

export const VectorTableSchema = z
  .object({
    address: u32,
    initialSp: u32,
    resetHandler: u32,
    thumb: z.boolean().describe('reset handler has bit 0 set (Thumb state, required on Cortex-M)'),
    plausible: z.boolean().describe('looks like a Cortex-M vector table: SP word-aligned in an SRAM/CCM/DTCM region, Thumb reset handler'),
  })
  .strict();

export const TargetSchema = z
  .object({
    alt: count,
    name: z.string().optional(),
    size: count.describe('data bytes in this target'),
    elements: z.array(ElementSchema),
    vectorTables: z.array(VectorTableSchema),
  })
  .strict();

export const SuffixSchema = z
  .object({
    offset: count,
    bcdDevice: z.number().int().min(0).max(0xffff),
    idProduct: z.number().int().min(0).max(0xffff),
    idVendor: z.number().int().min(0).max(0xffff),
    bcdDFU: z.number().int().min(0).max(0xffff),
    bLength: z.number().int().min(0).max(0xff),
    crc: u32,
    crcComputed: u32,
    crcValid: z.boolean(),
  })
  .strict();

export const DfuseSchema = z
  .object({
    version: z.number().int(),
    imageSize: u32,
    imageSizeConvention: z.enum(['without-suffix', 'with-suffix', 'other']).describe(
      'without-suffix: file length minus the suffix (UM0391 as read by ST DfuFileMgr, fwupd); with-suffix: whole file (dfuse-pack since dfu-util 0.10)',
    ),
    targetCount: count,
  })
  .strict();

export const ElfSchema = z
  .object({
    class: z.union([z.literal(32), z.literal(64)]),
    endian: z.enum(['little', 'big']),
    machine: z.number().int(),
    type: z.number().int(),
    entry: z.number().int().min(0),
    sections: z.array(
      z
        .object({
          name: z.string(),
          type: z.number().int(),
          flags: z.number().int(),
          vma: z.number().int().min(0),
          lma: z.number().int().min(0).optional(),
          size: count,
          offset: count,
          loaded: z.boolean(),
        })
        .strict(),
    ),
    segments: z.array(
      z
        .object({
          type: z.number().int(),
          offset: count,
          vaddr: z.number().int().min(0),
          paddr: z.number().int().min(0),
          filesz: count,
          memsz: count,
          flags: z.number().int(),
        })
        .strict(),
    ),
    symbolCount: count,
  })
  .strict();

export const TextRecordsSchema = z
  .object({
    records: count,
    dataRecords: count,
    lines: count,
    header: z.string().optional(),
  })
  .strict();

/** One field of a stored image header: what is stored, what it should be (the shape of `dfukit header verify --json`). */
export const HeaderFieldCheckSchema = z
  .object({
    name: z.string(),
    offset: count.describe('from the header start'),
    size: count,
    type: z.string().describe('u8, u16, u32, bytes[N]'),
    address: u32,
    stored: z.union([count, z.string()]).describe('integers as numbers; byte strings (digests) as lower-case hex'),
    storedDisplay: z.string(),
    expected: z.union([count, z.string()]).optional().describe('the value computed from the image, when it can be'),
    expectedDisplay: z.string().optional(),
    status: z.enum(['ok', 'mismatch', 'info', 'unchecked']).describe('ok: stored = computed; mismatch: differs (see code); info: stored value reported, nothing to compare; unchecked: not computable'),
    code: z.string().optional(),
    note: z.string().optional(),
  })
  .strict();

export const HeaderFindingSchema = z
  .object({
    code: z.string(),
    severity: z.enum(['error', 'warning', 'info']),
    message: z.string(),
    field: z.string().optional(),
    address: u32.optional(),
  })
  .strict();

export const InspectHeaderSchema = z
  .object({
    alt: count.describe('the target holding the header'),
    layout: z.string().describe('the header layout whose magic is at `address` (dfukit header describe LAYOUT)'),
    address: u32.describe('header start: the start of a segment / element'),
    valid: z.boolean().describe('every check a bootloader following the layout makes passes'),
    reason: HeaderFindingSchema.optional().describe('the first error in check order: why a bootloader rejects it'),
    slot: z
      .object({ name: z.string(), start: u32, size: count })
      .strict()
      .describe('inspect knows no slots: the slot the header implies (its slot_size field, else the data)'),
    geometry: z
      .object({ headerStart: u32, headerSize: count, payloadStart: u32, payloadSize: count, loadAddress: u32 })
      .strict()
      .optional()
      .describe('absent when the stored sizes are unusable'),
    version: z.string().optional().describe('image version MAJ.MIN.REV+BUILD, for layouts that store one'),
    options: z.record(z.string(), z.string()).describe('layout options as stored (or defaulted)'),
    fields: z.array(HeaderFieldCheckSchema),
    findings: z.array(HeaderFindingSchema).describe('in check order'),
    details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).describe('facts the layout adds (MCUboot: TLVs, trailer)'),
  })
  .strict()
  .describe('an A/B image header found at the start of a segment, every field stored vs computed');

export const InspectReportSchema = z
  .object({
    file: z.string(),
    format: z.enum(['elf', 'ihex', 'srec', 'bin', 'dfuse', 'dfu']),
    detectedBy: z.string().describe('"--format" or the content signature that decided the format'),
    fileSize: count,
    entry: z.number().int().min(0).optional(),
    size: count.describe('data bytes over all targets'),
    targets: z.array(TargetSchema),
    suffix: SuffixSchema.optional(),
    dfuse: DfuseSchema.optional(),
    elf: ElfSchema.optional(),
    text: TextRecordsSchema.optional(),
    leniencies: z.array(z.string()).describe('leniencies the reader applied (each also listed in notes)'),
    headers: z.array(InspectHeaderSchema).optional().describe('image headers of a known layout at segment starts (absent when there are none)'),
    notes: z.array(NoteSchema),
  })
  .strict()
  .meta({ $id: 'https://dfukit.dev/schemas/inspect-report.schema.json', title: 'dfukit inspect --json report (one per file)' });

export const InspectOutputSchema = z.array(InspectReportSchema).meta({ title: 'dfukit inspect --json output' });

export type InspectReport = z.infer<typeof InspectReportSchema>;
export type TargetReport = z.infer<typeof TargetSchema>;
export type VectorTableReport = z.infer<typeof VectorTableSchema>;
export type InspectHeaderReport = z.infer<typeof InspectHeaderSchema>;
