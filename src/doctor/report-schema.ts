/**
 * Shape of `dfukit doctor --json`, declared once with zod: the TypeScript types are inferred from it, tests
 * validate real output against it, and `npm run schemas:update` publishes it as `schemas/doctor-report.schema.json`.
 * Run-time code imports only the types, so zod is not loaded.
 */
import { z } from 'zod';

const u32 = z.number().int().min(0).max(0xffffffff);
const end32 = z.number().int().min(0).max(0x1_0000_0000).describe('one past the last byte (half-open)');
const count = z.number().int().min(0);

export const SeveritySchema = z.enum(['error', 'warning', 'info']);

export const FindingSchema = z
  .object({
    severity: SeveritySchema.describe('error: the file will not flash or not run as meant; warning: it fails with some tools or ROM versions; info: worth knowing'),
    code: z
      .string()
      .regex(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$/)
      .describe('stable code, same namespace as the readers\' error codes (DFUSE_, DFU_, ELF_, IHEX_, SREC_, BIN_, LAYOUT_, DOCTOR_)'),
    message: z.string().min(1).describe('what is wrong and what it does, in one or two sentences'),
    fix: z.string().min(1).describe('what to do about it'),
    fixable: z.boolean().describe('`dfukit doctor --fix` repairs it mechanically'),
    alt: count.max(255).optional().describe('DFU alternate setting of the target concerned'),
    offset: count.optional().describe('file offset of the first byte concerned'),
    line: z.number().int().min(1).optional().describe('line in a text format (Intel HEX, S-record)'),
    start: u32.optional().describe('first address concerned'),
    end: end32.optional(),
    subject: z.string().optional().describe('what in the file: "target 0 element 1", "section .data", "run 2"'),
    sector: z.string().optional().describe('erase sector named, e.g. "bank 1 sector 0"'),
    quirk: z.string().optional().describe('id of the chip-profile quirk behind the finding'),
    core: z.string().optional().describe('core the finding is about (dual-core parts)'),
    leniency: z.string().optional().describe('reader leniency the file needed (what the strict reader rejects)'),
  })
  .strict();

export const SummarySchema = z
  .object({
    errors: count,
    warnings: count,
    infos: count,
    fixable: count.describe('findings `--fix` repairs'),
  })
  .strict();

export const RepairSchema = z
  .object({
    code: z.string().describe('code of the finding the repair addresses'),
    action: z.enum(['pad', 'merge', 'split', 'sort', 'dedupe', 'drop', 'rewrite']),
    message: z.string().min(1),
    alt: count.max(255).optional(),
    start: u32.optional(),
    end: end32.optional(),
  })
  .strict();

export const ChipRefSchema = z
  .object({
    profile: z.string(),
    part: z.string().describe('resolved part with flash-size letter, e.g. STM32H743xI'),
    flashSize: count,
    programUnit: count,
    bankMode: z.enum(['single', 'dual']),
  })
  .strict();

export const FixResultSchema = z
  .object({
    output: z.string().describe('path written'),
    format: z.enum(['dfu', 'hex', 'srec', 'bin']),
    size: count,
    repairs: z.array(RepairSchema),
    unrepaired: z.array(z.string()).describe('codes of error and warning findings of the input that --fix cannot repair'),
    findings: z.array(FindingSchema).describe('the diagnosis of the written file'),
    summary: SummarySchema,
  })
  .strict();

export const DoctorReportSchema = z
  .object({
    file: z.string(),
    format: z.enum(['elf', 'ihex', 'srec', 'bin', 'dfuse', 'dfu']),
    detectedBy: z.string(),
    chip: ChipRefSchema.optional().describe('absent without --chip: only chip-independent checks ran'),
    dualCore: z.boolean().describe('both cores\' images were checked'),
    address: u32.optional().describe('load address used for a raw binary or plain DFU payload'),
    findings: z.array(FindingSchema).describe('errors first, then warnings, then info; by address within each'),
    summary: SummarySchema,
    fix: FixResultSchema.optional().describe('present with --fix'),
  })
  .strict()
  .meta({ title: 'dfukit doctor report', description: 'Every problem dfukit knows of in one firmware file for one chip, with file offsets, addresses and fixes.' });

export type Finding = z.infer<typeof FindingSchema>;
export type Summary = z.infer<typeof SummarySchema>;
export type Repair = z.infer<typeof RepairSchema>;
export type FixResult = z.infer<typeof FixResultSchema>;
export type DoctorReport = z.infer<typeof DoctorReportSchema>;
export type ChipRef = z.infer<typeof ChipRefSchema>;
