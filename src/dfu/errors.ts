/**
 * Errors of the DFU host stack. Every failure is an `FwError` (exit 4, DESIGN.md "Conventions": device/transport
 * error) whose message names the operation, the address, the DFU request that failed and the device's bState and
 * bStatus as DFU 1.1 names them, because "Error during download get_status" (dfu-util) is what users are left
 * with today (dfu-protocol.md §3 items 2, 4, 5). The fields are also kept on the error for `--json` and tests.
 *
 * A read-back that differs from the image is not a device error but a failed check: exit 1, as `verify`.
 */
import { EXIT_DEVICE, FwError, type ExitStatus } from '../core/errors.ts';
import { hex32 } from '../core/format.ts';
import { TransportError } from './transport.ts';
import { statusName, stateName } from './names.ts';

/** Where in a flash job a request was made: what the user asked for, at which address, with which request. */
export interface DfuContext {
  /** `erase`, `write`, `verify`, `read`, `set address`, `leave`, `mass erase`, `read unprotect`, `connect`... */
  readonly operation: string;
  readonly address?: number;
  /** wBlockNum of the DNLOAD/UPLOAD, when the failure is about one block. */
  readonly block?: number;
}

export type DfuErrorCode =
  | 'DFU_STATUS' // the device reported bStatus != OK (it is in dfuERROR)
  | 'DFU_STALL' // the device STALLed a request: not valid in its state (DFU 1.1 §6.1.2)
  | 'DFU_STATE' // the device is in a state the request sequence cannot continue from
  | 'DFU_TIMEOUT' // bwPollTimeout polling went past the operation's deadline (dfuDNBUSY for too long)
  | 'DFU_DISCONNECTED' // the device vanished (TransportError 'disconnected')
  | 'DFU_TRANSPORT' // any other transport failure (timeout, I/O)
  | 'DFU_ABORTED' // the caller's AbortSignal fired
  | 'DFU_DESCRIPTOR' // the device's descriptors do not describe a DfuSe device we can flash
  | 'DFU_LAYOUT' // the device's memory layout does not allow the plan (read-only sector, address outside)
  | 'DFU_VERIFY_MISMATCH' // read-back differs from the image (exit 1)
  | 'DFU_NOT_AVAILABLE'; // a device kind this build cannot open yet

export interface DfuErrorDetails {
  readonly operation: string;
  readonly address?: number;
  readonly block?: number;
  /** The request that failed or whose answer was wrong (`DNLOAD`, `GETSTATUS`...). */
  readonly request?: string;
  /** bState name of the last GETSTATUS (`dfuERROR`). */
  readonly state?: string;
  /** bStatus name of the last GETSTATUS (`errPROG`). */
  readonly status?: string;
}

export class DfuError extends FwError {
  readonly dfu: DfuErrorDetails;
  constructor(code: DfuErrorCode, message: string, details: DfuErrorDetails, exitStatus: ExitStatus = EXIT_DEVICE) {
    super(code, message, details.address !== undefined ? { address: details.address } : {}, exitStatus);
    this.name = 'DfuError';
    this.dfu = details;
  }

  override toJSON(): { code: string; message: string; location: FwError['location']; dfu: DfuErrorDetails } {
    return { ...super.toJSON(), dfu: this.dfu };
  }
}

export function isDfuError(e: unknown): e is DfuError {
  return e instanceof DfuError;
}

/** `write at 0x08020000 (block 5)`: the start of every message. */
export function describeContext(ctx: DfuContext): string {
  const at = ctx.address !== undefined ? ` at ${hex32(ctx.address)}` : '';
  const block = ctx.block !== undefined ? ` (wBlockNum ${ctx.block})` : '';
  return `${ctx.operation}${at}${block}`;
}

/** The device answered GETSTATUS with an error status (bState dfuERROR). */
export function statusError(ctx: DfuContext, request: string, state: number, status: number, extra = ''): DfuError {
  const s = stateName(state);
  const st = statusName(status);
  return new DfuError(
    'DFU_STATUS',
    `${describeContext(ctx)}: the device reports ${st} in ${s} after ${request}${extra}`,
    { ...details(ctx), request, state: s, status: st },
  );
}

export function stallError(ctx: DfuContext, request: string, state?: number): DfuError {
  const s = state === undefined ? undefined : stateName(state);
  return new DfuError(
    'DFU_STALL',
    `${describeContext(ctx)}: the device STALLed ${request}${s !== undefined ? ` (last state ${s})` : ''}: the request is not valid in its state (DFU 1.1 §6.1.2)`,
    { ...details(ctx), request, ...(s !== undefined ? { state: s } : {}) },
  );
}

export function stateError(ctx: DfuContext, request: string, state: number, status: number, expected: string): DfuError {
  const s = stateName(state);
  const st = statusName(status);
  return new DfuError('DFU_STATE', `${describeContext(ctx)}: after ${request} the device is in ${s} (status ${st}), expected ${expected}`, {
    ...details(ctx),
    request,
    state: s,
    status: st,
  });
}

/** Wraps a TransportError (or anything thrown by the transport) with the context of the request it broke. */
export function transportError(ctx: DfuContext, request: string, e: unknown, hint = ''): DfuError {
  if (e instanceof DfuError) return e;
  const te = e instanceof TransportError ? e : undefined;
  const why = e instanceof Error ? e.message : String(e);
  if (te?.kind === 'disconnected') {
    return new DfuError('DFU_DISCONNECTED', `${describeContext(ctx)}: the device disconnected during ${request} (${why})${hint}`, { ...details(ctx), request });
  }
  return new DfuError('DFU_TRANSPORT', `${describeContext(ctx)}: ${request} failed: ${why}${hint}`, { ...details(ctx), request });
}

export function abortedError(ctx: DfuContext, reason?: unknown): DfuError {
  const why = reason instanceof Error ? `: ${reason.message}` : typeof reason === 'string' ? `: ${reason}` : '';
  return new DfuError('DFU_ABORTED', `${describeContext(ctx)}: stopped by the caller${why}`, details(ctx));
}

function details(ctx: DfuContext): DfuErrorDetails {
  return {
    operation: ctx.operation,
    ...(ctx.address !== undefined ? { address: ctx.address } : {}),
    ...(ctx.block !== undefined ? { block: ctx.block } : {}),
  };
}
