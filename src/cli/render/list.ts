/**
 * `dfukit list --json`: the report's zod schema, published as schemas/list-report.schema.json
 * (scripts/schema-registry.ts). One entry per DFU device: USB identity, DFU functional descriptor, every
 * alternate setting with its layout string parsed into segments, the flash map, and the chip profiles that
 * fit. Run-time code imports the types only (run/list.ts builds and prints the report), so zod is not loaded.
 */
import { z } from 'zod';

const int = z.number().int();

const SegmentSchema = z.strictObject({
  start: int.min(0),
  end: int.min(0).describe('one past the last byte'),
  sectorCount: int.min(1),
  sectorSize: int.min(1),
  type: z.string().describe('the type letter as reported (a..g: bit 0 readable, 1 erasable, 2 writable)'),
  readable: z.boolean(),
  erasable: z.boolean(),
  writable: z.boolean(),
});

const LayoutSchema = z.strictObject({
  name: z.string().describe('the memory name, padding trimmed'),
  segments: z.array(SegmentSchema),
  leniencies: z.array(z.string()).describe('grammar bends the parser had to accept (short-address, type-in-multiplier)'),
});

const AltSchema = z.strictObject({
  alt: int.min(0).max(255),
  name: z.string().describe('the interface string exactly as the device reports it'),
  kind: z.enum(['flash', 'option-bytes', 'otp', 'device-feature', 'other']),
  layout: LayoutSchema.optional(),
  error: z.string().optional().describe('why the string does not parse as a DfuSe layout'),
});

const DifferenceSchema = z.strictObject({
  kind: z.string(),
  alt: int,
  message: z.string(),
  documented: z.boolean(),
  quirk: z.string().optional(),
});

const MatchSchema = z.strictObject({
  profile: z.string(),
  chip: z.string().describe('resolved part, e.g. STM32H743xI'),
  flashSize: int,
  bankMode: z.enum(['single', 'dual']),
  exact: z.boolean(),
  score: z.number(),
  differences: z.array(DifferenceSchema),
});

const DfuSchema = z.strictObject({
  version: z.string().describe('bcdDFUVersion, e.g. 0x011A'),
  dfuse: z.boolean().describe('bcdDFUVersion 0x011A: ST DfuSe'),
  transferSize: int,
  detachTimeoutMs: int,
  canDownload: z.boolean(),
  canUpload: z.boolean(),
  manifestationTolerant: z.boolean(),
  willDetach: z.boolean(),
});

export const ListDeviceSchema = z.strictObject({
  source: z.enum(['usb', 'emulator', 'usbip']),
  path: z.string().optional().describe('USB port path (bus-port.port)'),
  serial: z.string().nullable(),
  vendorId: z.string().regex(/^[0-9a-f]{4}$/),
  productId: z.string().regex(/^[0-9a-f]{4}$/),
  manufacturer: z.string().nullable(),
  product: z.string().nullable(),
  bcdDevice: z.string().nullable().describe('from the device descriptor, e.g. 0x2200'),
  dfu: DfuSchema.nullable().describe('the DFU functional descriptor (null: the device does not report one)'),
  interfaceNumber: int.optional(),
  alts: z.array(AltSchema),
  flash: z
    .strictObject({ alt: int, bytes: int, segments: z.array(SegmentSchema) })
    .nullable()
    .describe('the internal-flash alt as the device describes it'),
  chips: z.strictObject({
    identified: z.string().nullable().describe('the one profile that fits (null: none or several)'),
    candidates: z.array(z.string()).describe('profiles that fit: exact, or with differences their quirks document'),
    matches: z.array(MatchSchema).describe('those candidates per flash size and bank mode, best first'),
  }),
  error: z.string().optional().describe('why the device could not be read'),
});

export const ListReportSchema = z
  .strictObject({
    devices: z.array(ListDeviceSchema),
    unopenable: z
      .array(z.strictObject({ path: z.string(), vendorId: z.string(), productId: z.string(), error: z.string(), hint: z.string() }))
      .describe('DFU devices seen on the bus that could not be opened'),
  })
  .meta({ title: 'dfukit list report', description: 'Output of `dfukit list --json`: every DFU device with its identity, DFU descriptor, alternate settings, flash map and matching chip profiles.' });

export type ListReport = z.infer<typeof ListReportSchema>;
export type ListDevice = z.infer<typeof ListDeviceSchema>;

