/** FlashPlan: image × chip profile (× A/B header ranges) → what a flash job erases, writes, verifies and where it leaves. */
export type { FlashPlan, PlanBlock, PlanRun, PlanSector, PlanLeave, LeaveFrom, PlanEstimate } from './types.ts';
export { createFlashPlan, planToJson, chooseLeave, flashAlt, subtractRanges, intersectRanges, type PlanOptions, type HeaderRangeInput } from './plan.ts';
export { resumePlan, type ResumeAnalysis, type ResumeSector, type SectorState } from './resume.ts';
