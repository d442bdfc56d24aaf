/**
 * `FlashPlan`: everything a flash job will do, computed from the image and the chip profile before the first
 * request, printed by `--dry-run` and executed as is by dfu/operations.ts. Plain data apart from `image`
 * (`planToJson` drops it), so the plan can be shown, compared and tested without a device.
 */
import type { Range } from '../core/range.ts';
import type { MemoryImage, Pad } from '../image/memory-image.ts';

export interface PlanSector {
  /** Position in the profile's sector list (the planner's handle; `dfukit erase --sectors` takes it). */
  readonly index: number;
  readonly bank: number;
  /** Sector number as the reference manual counts it (restarts at 0 in each H7 bank). */
  readonly sector: number;
  readonly start: number;
  readonly end: number;
  readonly size: number;
}

export interface PlanBlock {
  /** First byte the block writes. */
  readonly addr: number;
  readonly size: number;
  /** wBlockNum after the run's SET_ADDRESS: 2 + (addr − run.start) / wTransferSize. */
  readonly block: number;
  /** Not sent: every byte is the erased value and the sector is erased first (DfuSe Demo's "don't send 0xFF transfers"). */
  readonly skip?: 'erased';
}

export interface PlanRun {
  /** SET_ADDRESS target. */
  readonly start: number;
  readonly end: number;
  /** `body` runs go first; `header` runs (A/B header ranges) after every body run. */
  readonly phase: 'body' | 'header';
  /** For header runs: which slot and what (`slot B dfukit-ab-v1 header`). */
  readonly what?: string;
  readonly blocks: readonly PlanBlock[];
}

export type LeaveFrom =
  /** `--leave-address`. */
  | 'option'
  /** A plausible Cortex-M vector table in the image at this address (the boot core's image base first). */
  | 'vector-table'
  /** The image has no vector table to jump to (an A/B slot image): the boot core's boot address, as a reset would run. */
  | 'boot-address';

export interface PlanLeave {
  readonly address: number;
  readonly from: LeaveFrom;
}

export interface PlanEstimate {
  /** Typical erase time of the sectors (or the mass erase), from the profile's datasheet figures. */
  readonly eraseMs: number;
  /** Typical program time of the program units written. */
  readonly programMs: number;
  /** eraseMs + programMs + 3 ms per block sent (one USB frame per request of the 3 per block). */
  readonly floorMs: number;
  /** Requests the job should take without retries: commands × 3, blocks × 3, read-back, leave. */
  readonly requests: number;
}

export interface FlashPlan {
  readonly chip: { readonly profile: string; readonly part: string; readonly displayName: string };
  /** DFU alternate setting of the internal flash. */
  readonly alt: number;
  readonly transferSize: number;
  readonly transferSizeFrom: 'descriptor' | 'profile' | 'option';
  /**
   * Every block is its own run (SET_ADDRESS + wBlockNum 2): needed when the transfer size differs from the
   * device's descriptor wTransferSize, which the ROM multiplies wBlockNum by (dfu-protocol.md §2.3).
   */
  readonly addressEveryBlock: boolean;
  readonly programUnit: number;
  readonly erasedValue: number;
  /** The bytes the device will hold in the written ranges: the input image padded to the program unit. Not in JSON. */
  readonly image: MemoryImage;
  /** Ranges of `image`. */
  readonly ranges: readonly Range[];
  /** Bytes added to fill partial program units with the erased value. */
  readonly pads: readonly Pad[];
  readonly erase: { readonly mode: 'sectors' | 'mass' | 'none'; readonly sectors: readonly PlanSector[]; readonly bytes: number };
  /** In execution order: body runs by address, then header runs. */
  readonly runs: readonly PlanRun[];
  /** Header ranges written last (A/B headers), empty without a header layout. */
  readonly headerRanges: readonly (Range & { readonly slot: string; readonly what: string })[];
  /** Read-back ranges (the image's), empty with --no-verify. */
  readonly verify: readonly Range[];
  readonly leave?: PlanLeave;
  readonly counts: {
    readonly bytes: number;
    readonly blocks: number;
    readonly blocksToSend: number;
    readonly blocksSkipped: number;
    readonly runs: number;
  };
  readonly estimate: PlanEstimate;
  /** Things the user should know (leave address chosen, notes on the image). */
  readonly notes: readonly string[];
}
