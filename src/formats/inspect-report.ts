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
    notes: z.array(NoteSchema),
  })
  .strict()
  .meta({ $id: 'https://dfukit.dev/schemas/inspect-report.schema.json', title: 'dfukit inspect --json report (one per file)' });

export const InspectOutputSchema = z.array(InspectReportSchema).meta({ title: 'dfukit inspect --json output' });

export type InspectReport = z.infer<typeof InspectReportSchema>;
export type TargetReport = z.infer<typeof TargetSchema>;
export type VectorTableReport = z.infer<typeof VectorTableSchema>;
