/**
 * A/B image headers declared as data (schemas/headers/*.yaml): inject, verify, select and describe.
 * The library never prints; problems with a request are FwErrors, a bad stored header is a result value.
 */
export { injectHeader, type InjectRequest, type InjectResult, type InjectReport } from './inject.ts';
export { verifyHeader, type VerifyRequest, type VerifyResult } from './verify.ts';
export { selectSlot, type SelectRequest, type SelectResult, type SlotVerdict, type SelectAction } from './select.ts';
export { headerRanges, type HeaderRange, type HeaderRangeOptions } from './ranges.ts';
export { detectHeaders, hasMagic, type DetectedHeader, type DetectRequest } from './detect.ts';
export { describeLayout, describeCStruct, type LayoutDescription } from './describe.ts';
export { getLayout, listLayouts, layoutNames, type HeaderLayout } from './layouts.ts';
export { parseSlot, checkSlots, type Slot } from './slots.ts';
export { parseVersion, formatVersion, compareVersions, type ImageVersion } from './version.ts';
export { CHECK_ORDER, type Finding } from './findings.ts';
export { CRC_VARIANT_INFO, crcOf } from './digest.ts';
export { DEFAULT_PROGRAM_UNIT, DEFAULT_VECTOR_ALIGN } from './place.ts';
export type { FieldReport, FieldCheck } from './report.ts';
