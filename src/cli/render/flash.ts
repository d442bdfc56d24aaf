/**
 * Human output of `dfukit flash | read | erase`: the plan (what will be erased, written, verified; printed by
 * `--dry-run` and before a real run), the result with device time per phase and requests per block, and the
 * JSON documents for `--json`.
 */
import { formatRange, formatSize, hex32 } from '../../core/format.ts';
import type { EraseResult, FlashResult, ReadResult } from '../../dfu/operations.ts';
import { planToJson } from '../../plan/plan.ts';
import type { FlashPlan, PlanSector } from '../../plan/types.ts';
import { CLASS_INFO } from '../../verify/classes.ts';
import type { DiffReport } from '../../verify/report-schema.ts';

function kib(n: number): string {
  return n >= 1024 && n % 1024 === 0 ? `${n / 1024} KiB` : `${n} bytes`;
}

function ms(n: number): string {
  return n >= 1000 ? `${(n / 1000).toFixed(2)} s` : `${n.toFixed(1)} ms`;
}

function sectorName(s: PlanSector): string {
  return `bank ${s.bank} sector ${s.sector} ${formatRange(s.start, s.end)}`;
}

function sectorList(sectors: readonly PlanSector[], max = 6): string[] {
  const shown = sectors.slice(0, max).map((s) => `           ${sectorName(s)} (${kib(s.size)})`);
  if (sectors.length > max) shown.push(`           ... and ${sectors.length - max} more`);
  return shown;
}

export function renderPlan(plan: FlashPlan, device?: string): string {
  const out: string[] = [];
  out.push(`plan for ${plan.chip.displayName} (${plan.chip.profile})${device !== undefined ? ` on ${device}` : ''}`);
  out.push(`  dfu      alt ${plan.alt}, wTransferSize ${plan.transferSize} (${plan.transferSizeFrom}), program unit ${plan.programUnit} bytes, erased value 0x${plan.erasedValue.toString(16).toUpperCase()}`);
  out.push(`  image    ${formatSize(plan.counts.bytes)} bytes in ${plan.ranges.length} range(s): ${plan.ranges.slice(0, 4).map((r) => formatRange(r.start, r.end)).join(', ')}${plan.ranges.length > 4 ? ', ...' : ''}`);
  if (plan.pads.length > 0) {
    out.push(`           padded ${plan.pads.reduce((n, p) => n + p.end - p.start, 0)} bytes with 0x${plan.erasedValue.toString(16).toUpperCase()} to whole program units (${plan.pads.length} pad(s))`);
  }
  if (plan.erase.mode === 'mass') out.push(`  erase    mass erase: the whole flash (${kib(plan.erase.bytes)}), data outside the image is lost`);
  else if (plan.erase.sectors.length === 0) out.push('  erase    nothing');
  else {
    out.push(`  erase    ${plan.erase.sectors.length} sector(s), ${kib(plan.erase.bytes)} (only the sectors the image touches; the rest of the flash is kept)`);
    out.push(...sectorList(plan.erase.sectors));
  }
  const body = plan.runs.filter((r) => r.phase === 'body');
  const bodyBlocks = body.reduce((n, r) => n + r.blocks.filter((b) => b.skip === undefined).length, 0);
  out.push(`  write    ${bodyBlocks} block(s) in ${body.filter((r) => r.blocks.some((b) => b.skip === undefined)).length} run(s) (one SET_ADDRESS each${plan.addressEveryBlock ? ': every block, as the transfer size differs from the device\'s wTransferSize' : ''})${plan.counts.blocksSkipped > 0 ? `, ${plan.counts.blocksSkipped} all-0x${plan.erasedValue.toString(16).toUpperCase()} block(s) skipped` : ''}`);
  for (const r of plan.runs.filter((x) => x.phase === 'header')) {
    out.push(`  last     ${r.what ?? 'header'} ${formatRange(r.start, r.end)} (${r.blocks.length} block(s), after everything else)`);
  }
  out.push(plan.verify.length > 0 ? `  verify   read back ${plan.verify.reduce((n, r) => n + r.end - r.start, 0)} bytes and compare` : '  verify   off (--no-verify)');
  out.push(plan.leave !== undefined ? `  leave    jump to ${hex32(plan.leave.address)} (${plan.leave.from})` : '  leave    no: the device stays in DFU mode (--leave starts the firmware)');
  const e = plan.estimate;
  out.push(`  estimate ${ms(e.eraseMs)} erase + ${ms(e.programMs)} program + ${ms(3 * plan.counts.blocksToSend)} USB = ${ms(e.floorMs)} floor; about ${e.requests} requests`);
  for (const n of plan.notes) out.push(`  note     ${n}`);
  return out.join('\n') + '\n';
}

export function renderFlashResult(r: FlashResult, device?: string): string {
  const out: string[] = [];
  const x = r.executed;
  out.push(`flashed ${x.chip.displayName}${device !== undefined ? ` on ${device}` : ''}: ${formatSize(r.bytesWritten)} bytes written, ${r.sectorsErased} sector(s) erased${r.bytesVerified > 0 ? `, ${formatSize(r.bytesVerified)} bytes verified` : ''}`);
  if (r.resume !== undefined) {
    const c = (s: string): number => r.resume!.filter((z) => z.state === s).length;
    out.push(`  resume   ${c('match')} sector(s) already matched, ${c('program')} completed, ${c('erase')} erased and rewritten`);
  }
  for (const p of r.phases) out.push(`  ${p.phase.padEnd(8)} ${ms(p.deviceMs).padStart(10)} device time, ${String(p.requests).padStart(6)} requests`);
  out.push(`  total    ${ms(r.deviceMs).padStart(10)} device time (${ms(r.wallMs)} wall), ${r.requestCount} requests`);
  const write = r.phases.find((p) => p.phase === 'write');
  if (write !== undefined && r.blocksWritten > 0) {
    const runs = x.runs.filter((run) => run.blocks.some((b) => b.skip === undefined)).length;
    out.push(`  blocks   ${r.blocksWritten} written, ${r.blocksSkipped} skipped (erased); ${write.requests} write requests = ${((write.requests - 3 * runs) / r.blocksWritten).toFixed(2)} per block + 3 per run (SET_ADDRESS) x ${runs}`);
  }
  if (r.retries > 0) out.push(`  retries  ${r.retries}`);
  for (const q of r.recoveries) out.push(`  recovery ${q}`);
  if (r.leave !== undefined) out.push(`  leave    ${hex32(r.leave.address)} (${r.leave.from}): ${r.leave.outcome === 'disconnected' ? 'the device left DFU mode (disconnected)' : r.leave.outcome === 'manifest' ? 'the device is starting the firmware (dfuMANIFEST)' : 'the device stayed in dfuIDLE'}`);
  return out.join('\n') + '\n';
}

export function flashJson(plan: FlashPlan, result: FlashResult | undefined, device: string | undefined, dryRun: boolean): Record<string, unknown> {
  return {
    ok: true,
    dryRun,
    ...(device !== undefined ? { device } : {}),
    plan: planToJson(plan),
    ...(result !== undefined
      ? {
          result: {
            ...(result.resume !== undefined ? { resume: result.resume, executed: planToJson(result.executed) } : {}),
            phases: result.phases,
            deviceMs: result.deviceMs,
            wallMs: result.wallMs,
            requests: result.requests,
            requestCount: result.requestCount,
            sectorsErased: result.sectorsErased,
            blocksWritten: result.blocksWritten,
            blocksSkipped: result.blocksSkipped,
            bytesWritten: result.bytesWritten,
            bytesVerified: result.bytesVerified,
            retries: result.retries,
            recoveries: result.recoveries,
            ...(result.leave !== undefined ? { leave: result.leave } : {}),
          },
        }
      : {}),
  };
}

export function renderRead(r: ReadResult, start: number, output: string): string {
  return `read ${formatSize(r.bytes.length)} bytes from ${formatRange(start, start + r.bytes.length)} into ${output}: ${ms(r.deviceMs)} device time, ${r.requestCount} requests\n`;
}

export function renderErase(r: EraseResult): string {
  const out: string[] = [];
  if (r.mass) out.push(`mass erase done: ${ms(r.deviceMs)} device time, ${r.requestCount} requests`);
  else {
    out.push(`erased ${r.sectors.length} sector(s), ${kib(r.sectors.reduce((n, s) => n + s.size, 0))}: ${ms(r.deviceMs)} device time, ${r.requestCount} requests`);
    out.push(...sectorList(r.sectors, 20).map((l) => l.replace(/^ {11}/, '  ')));
  }
  for (const q of r.recoveries) out.push(`  recovery ${q}`);
  return out.join('\n') + '\n';
}

/**
 * A flash whose read-back differs: the diff in brief (verdict, each range with its class and evidence, the likely
 * causes); `dfukit verify` with the same inputs prints the whole report with the bytes.
 */
export function renderVerifyFailure(report: DiffReport, maxRanges = 8): string {
  const out: string[] = [];
  const f = report.firstDifference;
  const n = report.differingBytes + report.missingBytes;
  out.push(
    `verify FAILED: ${formatSize(n)} of ${formatSize(report.compared.bytes)} bytes read back differ in ${report.ranges.length} range(s)${f !== undefined ? `; first at ${hex32(f.address)}` : ''}`,
  );
  for (const r of report.ranges.slice(0, maxRanges)) {
    const sectors = r.sectors !== undefined && r.sectors.length > 0 ? ` [${r.sectors.length <= 3 ? r.sectors.join(', ') : `${r.sectors[0]} .. ${r.sectors[r.sectors.length - 1]}`}]` : '';
    out.push(`  #${r.index} ${formatRange(r.start, r.end)} ${CLASS_INFO[r.class].title}${sectors}: ${r.summary}`);
  }
  if (report.ranges.length > maxRanges) out.push(`  ... and ${report.ranges.length - maxRanges} more range(s)`);
  for (const c of report.causes) out.push(`  cause    ${CLASS_INFO[c.class].title}: ${CLASS_INFO[c.class].cause}`);
  out.push('  every byte: `dfukit verify` with the same inputs and device (--json: the diff report); --resume rewrites what differs');
  return out.join('\n') + '\n';
}
