/**
 * Shape of an A/B header layout file (`schemas/headers/<name>.yaml`), declared once with zod. The compile step
 * (`npm run headers:compile`) validates every YAML file against it and against the semantic checks in
 * `validate.ts` (references between fields and options, offsets inside the header, no overlaps...), then writes
 * `layouts.generated.ts`; `npm run schemas:update` publishes it as `schemas/header-layout.schema.json`.
 *
 * A field's value is exactly one of: a constant, an option, part of the image version, a computed quantity,
 * a CRC-32 or SHA-256 over a named range, reserved fill bytes, or bit fields made of constants and options.
 * One declaration drives inject, verify, select, `dfukit header describe` and the inspect dump.
 *
 * Only JSON-Schema-expressible rules live here (no refine/transform). Run-time code imports only the types.
 */
import { z } from 'zod';

const u8 = z.number().int().min(0).max(0xff);
const safeUint = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

const OptionName = z
  .string()
  .regex(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/)
  .describe('option name as typed on the command line (`--set NAME=VALUE`), kebab-case');
const FieldName = z.string().regex(/^[a-z_][a-z0-9_]*$/).describe('field name as in the C struct, snake_case');

export const FIELD_INT_TYPES = ['u8', 'u16', 'u32', 'u64'] as const;
export const FieldTypeSchema = z
  .union([z.enum(FIELD_INT_TYPES), z.string().regex(/^bytes\[[1-9][0-9]{0,3}\]$/)])
  .describe('u8, u16, u32, u64 (unsigned integers, byte order from `endian`) or bytes[N] (N raw bytes)');

export const COMPUTED = ['header-size', 'payload-size', 'image-size', 'load-address', 'entry-point', 'slot-size'] as const;
export const RANGES = ['payload', 'image', 'header-before'] as const;
export const CRC_VARIANTS = ['iso-hdlc', 'stm32'] as const;
export const VERSION_PARTS = ['major', 'minor', 'revision', 'build'] as const;

const Description = z.string().min(1);

export const ConstValueSchema = z
  .strictObject({
    const: z
      .union([safeUint, z.string().regex(/^([0-9a-f]{2})+$/)])
      .describe('integer constant, or lower-case hex bytes for a bytes[N] field'),
  })
  .describe('a constant, e.g. the magic number');

export const OptionValueSchema = z
  .strictObject({
    option: OptionName,
    map: z
      .record(z.string().min(1), safeUint)
      .optional()
      .describe('stored number of each choice of an enum option (absent: the option value itself is stored)'),
  })
  .describe('the value of a layout option (given with --set NAME=VALUE or its own flag, else its default)');

export const VersionValueSchema = z
  .strictObject({ version: z.enum(VERSION_PARTS).describe('part of option `version` (MAJ.MIN.REV+BUILD)') })
  .describe('one part of the image version');

export const ComputedValueSchema = z
  .strictObject({
    computed: z
      .enum(COMPUTED)
      .describe(
        'header-size: bytes from the header start to the payload; payload-size: bytes after the header to the end of the image; ' +
          'image-size: bytes before the header (if any) plus the payload; load-address: where the payload runs (its vector table); ' +
          'entry-point: the reset vector (word 1 of the vector table); slot-size: size of the slot that holds the header',
      ),
  })
  .describe('a quantity computed from the image and the slot');

export const Crc32ValueSchema = z
  .strictObject({
    crc32: z.strictObject({
      range: z
        .enum(RANGES)
        .describe('payload: the bytes after the header; image: the bytes before the header plus the payload; header-before: the header bytes before this field'),
      variant: z.enum(CRC_VARIANTS).optional().describe('iso-hdlc: zlib CRC-32; stm32: the STM32 CRC unit fed little-endian words'),
      variantOption: OptionName.optional().describe('take the variant from this enum option instead (its choices are variant names, or `none`)'),
    }),
  })
  .describe('CRC-32 over a named range; bytes the image does not cover count as the erased value');

export const Sha256ValueSchema = z
  .strictObject({ sha256: z.strictObject({ range: z.enum(RANGES) }) })
  .describe('SHA-256 over a named range (a bytes[32] field)');

export const FillValueSchema = z.strictObject({ fill: u8 }).describe('reserved: every byte has this value');

export const BitFieldSchema = z
  .strictObject({
    name: FieldName,
    shift: z.number().int().min(0).max(63).describe('lowest bit'),
    width: z.number().int().min(1).max(64),
    value: z.union([ConstValueSchema, OptionValueSchema]),
    description: Description,
  })
  .describe('a bit field of an integer field');

export const BitsValueSchema = z
  .strictObject({ bits: z.array(BitFieldSchema).min(1) })
  .describe('an integer made of bit fields; every bit should be declared (reserved bits as const 0)');

export const FieldValueSchema = z.union([
  ConstValueSchema,
  OptionValueSchema,
  VersionValueSchema,
  ComputedValueSchema,
  Crc32ValueSchema,
  Sha256ValueSchema,
  FillValueSchema,
  BitsValueSchema,
]);

export const ConditionSchema = z
  .strictObject({
    option: OptionName,
    equals: z.union([z.string(), z.number(), z.boolean()]).optional(),
    notEquals: z.union([z.string(), z.number(), z.boolean()]).optional(),
  })
  .describe('the field holds its value only when the option satisfies this (a flag: when it is set); otherwise it is filled with the erased value');

export const FieldSchema = z.strictObject({
  name: FieldName,
  offset: z
    .union([safeUint, z.strictObject({ option: OptionName })])
    .describe('byte offset from the header start, or the number option that gives it'),
  type: FieldTypeSchema,
  endian: z.enum(['little', 'big']).optional().describe('default: the layout\'s'),
  value: FieldValueSchema,
  when: ConditionSchema.optional(),
  description: Description,
});

export const OptionSchema = z
  .strictObject({
    name: OptionName,
    type: z.enum(['flag', 'number', 'enum', 'version']),
    default: z.union([z.boolean(), safeUint, z.string()]),
    choices: z.array(z.union([z.string().min(1), safeUint])).min(1).optional().describe('allowed values (enum; optional for number)'),
    min: safeUint.optional(),
    max: safeUint.optional(),
    implies: z.array(OptionName).optional().describe('flags this flag also sets (e.g. mcuboot confirm implies pad)'),
    description: Description,
  })
  .describe('a value the user chooses at inject time');

export const HeaderSizeSchema = z.strictObject({
  default: z.number().int().min(1).max(0x10000).describe('bytes reserved for the header at inject, unless --header-size says otherwise'),
  min: z.number().int().min(1).max(0x10000).describe('smallest header size that holds every field'),
  multipleOf: z.number().int().min(1).max(0x10000).describe('a stored header size must be a multiple of this to be valid'),
});

export const PaddingSchema = z.strictObject({
  added: u8.describe('value of header bytes no field covers when dfukit adds the header space in front of the payload'),
  reserved: z.array(u8).min(1).describe('values that space the firmware reserved for the header may hold (all bytes alike)'),
});

export const SELECTIONS = ['highest-version', 'first-valid', 'mcuboot-swap'] as const;

export const HeaderLayoutSourceSchema = z
  .strictObject({
    layoutFormat: z.literal(1),
    name: z.string().regex(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/).describe('layout name; also the YAML file name'),
    title: z.string().min(1),
    description: Description,
    docs: z.string().min(1).optional().describe('repository path of the prose documentation'),
    references: z.array(z.string().min(3)).min(1).describe('where the format comes from'),
    endian: z.enum(['little', 'big']).describe('byte order of integer fields unless a field says otherwise'),
    placement: z
      .enum(['slot-start', 'anywhere'])
      .describe('slot-start: the header is at the slot start and the payload follows it; anywhere: also in space the firmware reserved inside the slot'),
    headerSize: HeaderSizeSchema,
    padding: PaddingSchema,
    detect: FieldName.describe('the field that identifies the layout (its magic): a const, or an option with a default'),
    selection: z
      .enum(SELECTIONS)
      .describe('how a bootloader picks a slot: highest-version (valid slot with the highest version, ties to the earlier slot), first-valid, mcuboot-swap (MCUboot trailer swap table)'),
    extension: z.enum(['mcuboot']).optional().describe('code beyond the field declarations: mcuboot = TLV area after the payload and the slot trailer'),
    options: z.array(OptionSchema),
    fields: z.array(FieldSchema).min(1),
  })
  .meta({
    $id: 'https://dfukit.dev/schemas/header-layout.schema.json',
    title: 'dfukit A/B header layout',
    description: 'One image header format, field by field. Source of truth: schemas/headers/<name>.yaml.',
  });

export type HeaderLayoutSource = z.infer<typeof HeaderLayoutSourceSchema>;
export type FieldSource = z.infer<typeof FieldSchema>;
export type FieldValueSource = z.infer<typeof FieldValueSchema>;
export type BitFieldSource = z.infer<typeof BitFieldSchema>;
export type OptionSource = z.infer<typeof OptionSchema>;
export type ConditionSource = z.infer<typeof ConditionSchema>;
export type ComputedName = (typeof COMPUTED)[number];
export type RangeName = (typeof RANGES)[number];
export type CrcVariant = (typeof CRC_VARIANTS)[number];
export type VersionPart = (typeof VERSION_PARTS)[number];
export type Selection = (typeof SELECTIONS)[number];
