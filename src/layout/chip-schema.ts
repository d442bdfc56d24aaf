/**
 * Shape of a chip profile file (`schemas/chips/<family>.yaml`), declared once with zod. The compile step
 * (`npm run chips:compile`) validates every YAML file against it, runs the semantic checks in
 * `chip-validate.ts` (which JSON Schema cannot express: sectors tile banks, sizes add up, names unique...),
 * and writes `chips.generated.ts`. `npm run schemas:update` publishes it as `schemas/chip-profile.schema.json`
 * so editors can check the YAML while it is written.
 *
 * Format additions since the first three profiles: `bankModes` per variant with `flash.bankMode`, `otherLayouts`
 * per DFU alt, and quirk scopes `flashCodes`, `bankModes`, `alts`, `leniencies` (all optional); `timing`
 * (required: every profile carries datasheet flash timings). A `layout-string` quirk with `alts` is how a
 * profile documents a ROM string that does not describe its map; chip-validate.ts enforces it.
 *
 * Only JSON-Schema-expressible constraints live here (no `.refine`/`.transform`: they would vanish from the
 * published schema). Run-time code imports only the inferred types, so zod is not loaded at start-up.
 */
import { z } from 'zod';

const u8 = z.number().int().min(0).max(0xff);
const u16 = z.number().int().min(0).max(0xffff);
const u32 = z.number().int().min(0).max(0xffffffff);
const byteSize = z.number().int().min(1).max(0x1_0000_0000);

/** Lower-case ST part family name without package/flash letters: `stm32h743`. */
const PartName = z
  .string()
  .regex(/^stm32[a-z][0-9a-z]{2,5}$/)
  .describe('ST part name in lower case without package and flash-size letters, e.g. "stm32h743"');

/** Where a value comes from: free text naming a document section/table, a repository path, or a URL. */
const Sources = z.array(z.string().min(3)).min(1);

export const SectorRunSchema = z
  .strictObject({
    count: z.number().int().min(1).max(4096).describe('number of consecutive sectors of this size'),
    size: byteSize.describe('erase-sector size in bytes'),
  })
  .describe('run-length entry: `count` sectors of `size` bytes, following the previous run without a gap');

export const FlashBankSchema = z
  .strictObject({
    bank: z.number().int().min(1).max(8).describe('bank number as the reference manual counts them (1-based)'),
    start: u32.describe('address of the first byte of the bank (AXI/AHB address used by DFU)'),
    firstSector: z
      .number()
      .int()
      .min(0)
      .max(1023)
      .optional()
      .describe('number of the first sector of this bank as the reference manual numbers it (default 0)'),
    sectors: z.array(SectorRunSchema).min(1).describe('erase sectors in address order, run-length coded'),
  })
  .describe('one flash bank: sectors tile it from `start` without gaps');

export const BANK_MODES = ['single', 'dual'] as const;
const BankModeSchema = z.enum(BANK_MODES);

export const BankModeLayoutSchema = z
  .strictObject({
    mode: BankModeSchema.describe('the organisation this layout describes'),
    banks: z.array(FlashBankSchema).min(1),
    note: z.string().optional(),
  })
  .describe('the flash organisation of one variant in one option-byte-selected bank mode');

export const FlashVariantSchema = z
  .strictObject({
    code: z
      .string()
      .regex(/^[A-Z]$/)
      .describe('flash-size letter of the ST part number (STM32H743ZI: "I"), upper case'),
    size: byteSize.describe('total flash bytes of this variant (sum of its banks)'),
    banks: z
      .array(FlashBankSchema)
      .min(1)
      .optional()
      .describe('the fixed organisation; exactly one of `banks` and `bankModes` is given'),
    bankModes: z
      .array(BankModeLayoutSchema)
      .min(1)
      .optional()
      .describe('one organisation per bank mode an option bit selects (flash.bankMode says which bit and the factory default)'),
  })
  .describe('geometry of one flash-size variant');

export const BankModeOptionSchema = z
  .strictObject({
    default: BankModeSchema.describe('the mode of a part with factory option bytes'),
    selectedBy: z.string().min(1).describe('the option bit that selects the mode, its polarity and factory value'),
  })
  .describe('how variants with `bankModes` choose their organisation');

export const FlashSchema = z.strictObject({
  programUnit: z
    .literal([1, 2, 4, 8, 16, 32, 64, 128, 256])
    .describe('smallest unit a DfuSe element must be aligned and padded to, in bytes (flash word / line)'),
  bootloaderWriteAlignment: z
    .literal([1, 2, 4, 8, 16, 32])
    .describe('write-address alignment the ROM bootloader requires (AN2606 "Programming constraints")'),
  erasedValue: u8.describe('value every byte reads as after an erase'),
  defaultVariant: z.string().regex(/^[A-Z]$/).describe('variant used when neither a part-number letter nor --flash-size says'),
  bankMode: BankModeOptionSchema.optional().describe('required when a variant has `bankModes`'),
  variants: z.array(FlashVariantSchema).min(1),
});

const millis = z.number().min(0).max(3_600_000);
const micros = z.number().min(0).max(60_000_000);
const TimingConfidence = z
  .enum(['datasheet', 'secondary', 'unverified', 'estimate'])
  .describe('datasheet: read in the datasheet; secondary: a third party quoting the datasheet; unverified: datasheet value not re-read; estimate: no datasheet value found, derived as the note says');

export const EraseTimeSchema = z.strictObject({
  size: byteSize.describe('sector (page) size these figures are for'),
  bankMode: BankModeSchema.optional().describe('only for sectors of this size in this bank mode (absent: every mode)'),
  typ: millis.describe('typical erase time in ms'),
  max: millis.optional().describe('maximum erase time in ms'),
  confidence: TimingConfidence.optional().describe('overrides the block confidence for this entry'),
  note: z.string().optional(),
});

export const TimeFigureSchema = z.strictObject({
  typ: z.number().min(0),
  max: z.number().min(0).optional(),
  confidence: TimingConfidence.optional(),
  note: z.string().optional(),
});

export const TimingSchema = z
  .strictObject({
    parallelism: z
      .string()
      .min(1)
      .optional()
      .describe('program/erase parallelism the figures are for (the ROM\'s, where the flash has a PSIZE setting)'),
    sectorEraseMs: z.array(EraseTimeSchema).min(1).describe('erase time per sector size; every sector size of every variant and bank mode needs one'),
    programUs: TimeFigureSchema.extend({ typ: micros, max: micros.optional() }).describe('time to program one program unit (flash.programUnit bytes), in µs'),
    massEraseMs: TimeFigureSchema.extend({ typ: millis, max: millis.optional() }).optional().describe('mass erase of the whole flash, in ms'),
    confidence: TimingConfidence,
    sources: Sources,
  })
  .describe('datasheet flash timings, for an emulator and for host timeouts; ROMs may take longer (transfer, verify) or report other bwPollTimeout values');

export const RamRegionSchema = z.strictObject({
  name: z.string().min(1),
  start: u32,
  size: byteSize,
  cores: z.array(z.string().regex(/^[a-z][a-z0-9]*$/)).min(1).optional().describe('cores that see this region here (default: all)'),
});

export const MEMORY_KINDS = ['system-memory', 'option-bytes', 'otp', 'device-feature', 'flash-alias', 'other'] as const;

export const MemoryRegionSchema = z.strictObject({
  name: z.string().min(1),
  kind: z.enum(MEMORY_KINDS),
  start: u32,
  size: byteSize,
  aliasOf: u32.optional().describe('for kind "flash-alias": the flash address that `start` mirrors'),
});

export const CoreSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9]*$/).describe('short core name used in RAM regions and CLI output: "cm7"'),
  cpu: z.enum(['cortex-m0', 'cortex-m0+', 'cortex-m3', 'cortex-m4', 'cortex-m7', 'cortex-m33', 'cortex-m55']),
  bootAddress: u32.describe('address the core boots from with the factory option bytes and BOOT0 low'),
  bootOption: z.string().min(1).describe('option byte that holds the boot address, with its factory value'),
  imageBase: u32.describe('flash address (as DFU sees it) where this core\'s image and vector table go by default'),
});

export const DFU_ALT_KINDS = ['flash', 'option-bytes', 'otp', 'device-feature', 'other'] as const;

const Evidence = z
  .enum(['A', 'B', 'C', 'U', 'inferred'])
  .describe('A captured from a device, B quoted by a flashing tool, C defined by device firmware, U unattributed capture, inferred: not seen for this part');

export const OtherLayoutSchema = z.strictObject({
  layout: z.string().regex(/^@/).describe('another string this alt has been seen with or is documented to report'),
  evidence: Evidence,
  bootloaderIds: z.array(u8).optional().describe('bootloader versions that report it (absent: not tied to a version)'),
  note: z.string().min(1).describe('when and why the ROM reports this string instead of `layout`'),
});

export const DfuAltSchema = z.strictObject({
  alt: z.number().int().min(0).max(255),
  kind: z.enum(DFU_ALT_KINDS),
  layout: z.string().regex(/^@/).describe('the interface string (DfuSe memory layout) exactly as the ROM reports it'),
  evidence: Evidence,
  otherLayouts: z.array(OtherLayoutSchema).optional().describe('strings other bootloader versions or captures report for this alt'),
});

export const DfuSchema = z.strictObject({
  usbVid: u16,
  usbPid: u16,
  wTransferSize: z.number().int().min(64).max(4096).describe('DFU functional descriptor wTransferSize the ROM reports'),
  wTransferSizeEvidence: Evidence,
  alts: z.array(DfuAltSchema).min(1),
});

export const BootloaderVersionSchema = z.strictObject({
  id: u8.describe('bootloader ID byte (AN2606 Table 3 / 226)'),
  version: z.string().regex(/^V[0-9]+\.[0-9]+$/),
  note: z.string().optional(),
});

export const BootloaderSchema = z.strictObject({
  pid: z.number().int().min(0).max(0xfff).describe('product ID = DBGMCU DEV_ID (AN2606 Table 226)'),
  idAddress: u32.describe('address of the bootloader ID byte in system memory'),
  flashSizeRegister: u32.optional().describe('address of the 16-bit flash size register (KiB)'),
  versions: z.array(BootloaderVersionSchema).min(1),
});

export const QUIRK_KINDS = [
  'erase',
  'write',
  'mass-erase',
  'leave',
  'option-bytes',
  'memory-access',
  'enumeration',
  'clock',
  'layout-string',
  'performance',
  'protocol',
  'timing',
] as const;

/** Bends of the layout-string grammar the parser accepts by name (layout-string.ts). */
export const LAYOUT_LENIENCIES = ['type-in-multiplier', 'short-address'] as const;

export const QuirkSchema = z.strictObject({
  id: z
    .string()
    .regex(/^[a-z0-9][a-zA-Z0-9]*(-[a-zA-Z0-9]+)*$/)
    .describe('stable kebab-case name later code refers to (case kept where it names a silicon revision: "revV")'),
  kind: z.enum(QUIRK_KINDS),
  confidence: z
    .enum(['documented', 'reported', 'inferred'])
    .describe('documented: ST says so; reported: field reports only; inferred: derived, not observed'),
  bootloaderIds: z.array(u8).optional().describe('bootloader IDs affected (absent: all versions)'),
  parts: z.array(PartName).optional().describe('parts affected (absent: every part of the profile)'),
  ranges: z
    .array(z.strictObject({ start: u32, size: byteSize }))
    .optional()
    .describe('address ranges the quirk is about (absent: not address-specific)'),
  flashCodes: z.array(z.string().regex(/^[A-Z]$/)).min(1).optional().describe('flash-size variants affected (absent: all)'),
  bankModes: z.array(BankModeSchema).min(1).optional().describe('bank modes affected (absent: all)'),
  alts: z.array(z.number().int().min(0).max(255)).min(1).optional().describe('DFU alternate settings the quirk is about (layout-string quirks; absent: all)'),
  leniencies: z
    .array(z.enum(LAYOUT_LENIENCIES))
    .min(1)
    .optional()
    .describe('layout-string parser leniencies the quirk documents (kind layout-string)'),
  summary: z.string().min(1),
  workaround: z.string().optional(),
  sources: Sources,
});

export const PartSchema = z.strictObject({
  name: PartName,
  flashCodes: z.array(z.string().regex(/^[A-Z]$/)).min(1).describe('flash-size letters ST sells this part with'),
  packages: z.array(z.string().regex(/^[A-Z]$/)).min(1).describe('package letters ST sells this part in'),
  ram: z.array(RamRegionSchema).min(1).optional().describe('replaces the profile RAM list for this part'),
  note: z.string().optional(),
});

/**
 * Option-byte field maps (`optionBytes`): where each field of the family's option bytes sits in the bytes the
 * ROM's option-bytes alt returns, so `dfukit option-bytes` decodes them (RDP level, write protection, boot
 * addresses, bank mode) and encodes a change. Fields name the little-endian word that holds them (`address`,
 * `size`), the bit range, and where the ROM image keeps a complement or a mirror that must change with them.
 */
export const OPTION_BYTE_FIELD_KINDS = ['rdp', 'flag', 'enum', 'number', 'boot-address', 'wrp-mask', 'wrp-start', 'wrp-end', 'bank-mode'] as const;

export const OptionByteValueSchema = z.strictObject({
  value: u32,
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/).describe('short name for output and for `--set FIELD=NAME`'),
  meaning: z.string().optional(),
});

export const OptionByteFieldSchema = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/).describe('field name as the reference manual spells it (RDP, nDBANK, BOOT_ADD0)'),
    kind: z
      .enum(OPTION_BYTE_FIELD_KINDS)
      .describe('rdp: 0xAA level 0, 0xCC level 2, else 1; flag/enum/number: plain values; boot-address: value << addressShift; wrp-mask: one bit per sector; wrp-start/wrp-end: a protected page range; bank-mode: the bit that selects dual bank'),
    address: u32.describe('address of the little-endian word that holds the field'),
    size: z.literal([1, 2, 4]).describe('size of that word in bytes'),
    lsb: z.number().int().min(0).max(31),
    bits: z.number().int().min(1).max(32),
    complement: u32.optional().describe('address of the word that stores the bitwise complement of the word at `address` (F7, L4, G4 images); a write updates it'),
    mirrors: z.array(u32).min(1).optional().describe('other words that hold the same field (H7: the _PRG register of a _CUR one); a write sets them too'),
    readOnly: z.boolean().optional().describe('a status bit the ROM reports but does not take'),
    values: z.array(OptionByteValueSchema).min(1).optional().describe('named values (flag, enum, bank-mode)'),
    addressShift: z.number().int().min(0).max(31).optional().describe('boot-address: address = value << addressShift'),
    core: z.string().regex(/^[a-z][a-z0-9]*$/).optional().describe('the core (cores[].name) a boot address or per-core bit is for'),
    boot: z.string().optional().describe('boot-address: when the core boots from it, e.g. "BOOT0 = 0"'),
    bank: z.number().int().min(1).max(8).optional().describe('wrp-*: the bank whose sectors or pages the field protects'),
    firstSector: z.number().int().min(0).max(1023).optional().describe('wrp-mask: sector number (in `bank`) of bit 0; default 0'),
    activeLow: z.boolean().optional().describe('wrp-mask: a 0 bit protects its sector (nWRP)'),
    area: z.string().regex(/^[A-Za-z0-9_]+$/).optional().describe('wrp-start/wrp-end: the protection area the pair describes (WRP1A)'),
    dual: z.literal([0, 1]).optional().describe('bank-mode: the bit value that selects dual-bank mode'),
    summary: z.string().min(1),
  })
  .describe('one option-byte field');

export const OptionBytesSchema = z
  .strictObject({
    confidence: z.enum(['documented', 'reported', 'inferred']).describe('documented: bit positions read in the reference manual; reported: from third-party code; inferred: derived'),
    fields: z.array(OptionByteFieldSchema).min(1),
    note: z.string().optional(),
    sources: Sources,
  })
  .describe('how to decode the bytes the option-bytes alt returns');

export const ChipProfileSourceSchema = z
  .strictObject({
    profileFormat: z.literal(1),
    name: PartName.describe('profile name; also the YAML file name; must be one of `parts`'),
    title: z.string().min(1),
    referenceManual: z.string().regex(/^RM[0-9]{4}$/),
    parts: z.array(PartSchema).min(1).describe('every part name that resolves to this profile'),
    flash: FlashSchema,
    ram: z.array(RamRegionSchema).min(1).describe('RAM regions, for vector-table stack-pointer checks'),
    memories: z.array(MemoryRegionSchema).describe('non-flash, non-RAM areas a DFU address may name'),
    cores: z.array(CoreSchema).min(1),
    timing: TimingSchema,
    dfu: DfuSchema,
    bootloader: BootloaderSchema,
    quirks: z.array(QuirkSchema),
    optionBytes: OptionBytesSchema.optional().describe('option-byte field maps for `dfukit option-bytes` (absent: raw bytes only)'),
  })
  .meta({
    title: 'dfukit chip profile',
    description: 'One STM32 part family: flash geometry per flash-size variant, RAM, ROM DFU interface, bootloader versions and known quirks. Source of truth: schemas/chips/<name>.yaml.',
  });

export type ChipProfileSource = z.infer<typeof ChipProfileSourceSchema>;
export type FlashVariantSource = z.infer<typeof FlashVariantSchema>;
export type FlashBankSource = z.infer<typeof FlashBankSchema>;
export type BankModeLayoutSource = z.infer<typeof BankModeLayoutSchema>;
export type BankMode = (typeof BANK_MODES)[number];
export type LayoutLeniencyName = (typeof LAYOUT_LENIENCIES)[number];
export type Timing = z.infer<typeof TimingSchema>;
export type OtherLayout = z.infer<typeof OtherLayoutSchema>;
export type RamRegion = z.infer<typeof RamRegionSchema>;
export type MemoryRegion = z.infer<typeof MemoryRegionSchema>;
export type CoreInfo = z.infer<typeof CoreSchema>;
export type DfuAlt = z.infer<typeof DfuAltSchema>;
export type DfuInfo = z.infer<typeof DfuSchema>;
export type BootloaderInfo = z.infer<typeof BootloaderSchema>;
export type Quirk = z.infer<typeof QuirkSchema>;
export type PartInfo = z.infer<typeof PartSchema>;
export type MemoryKind = (typeof MEMORY_KINDS)[number];
export type DfuAltKind = (typeof DFU_ALT_KINDS)[number];
export type OptionByteField = z.infer<typeof OptionByteFieldSchema>;
export type OptionBytesInfo = z.infer<typeof OptionBytesSchema>;
export type OptionByteFieldKind = (typeof OPTION_BYTE_FIELD_KINDS)[number];
