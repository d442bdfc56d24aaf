/**
 * Progress of a device job on stderr (DESIGN.md "Conventions": progress bars go to stderr on a TTY only):
 * one `cli-progress` bar per phase (erase, write, verify, read) on a TTY; otherwise one plain line per phase
 * when it ends, plus retries and notes, so logs of CI jobs stay readable. `--json` keeps stderr quiet unless a
 * retry or note is worth knowing.
 */
import cliProgress from 'cli-progress';
import type { FlashEvent, FlashPhase } from '../../dfu/operations.ts';
import { hex32 } from '../../core/format.ts';

export interface ProgressReporter {
  onEvent(e: FlashEvent): void;
  /** Stops a bar still drawn (on an error). */
  stop(): void;
}

const TITLES: Record<FlashPhase, string> = { check: 'check', erase: 'erase', write: 'write', verify: 'verify', leave: 'leave', read: 'read' };

function amount(n: number, unit: string): string {
  if (unit !== 'bytes') return `${n} ${unit === 'sectors' && n === 1 ? 'sector' : unit}`;
  return n >= 10 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} bytes`;
}

export function progressReporter(opts: { stream?: NodeJS.WriteStream; tty?: boolean; quiet?: boolean } = {}): ProgressReporter {
  const stream = opts.stream ?? process.stderr;
  const tty = opts.tty ?? stream.isTTY === true;
  const quiet = opts.quiet === true;
  let bar: cliProgress.SingleBar | undefined;
  let current: { phase: FlashPhase; total: number; unit: string } | undefined;
  const line = (s: string): void => {
    stream.write(s + '\n');
  };
  return {
    onEvent(e) {
      switch (e.type) {
        case 'phase':
          current = { phase: e.phase, total: e.total, unit: e.unit };
          if (tty && !quiet && e.phase !== 'leave') {
            bar = new cliProgress.SingleBar(
              {
                stream,
                format: `${TITLES[e.phase].padEnd(6)} [{bar}] {percentage}% | {shown}`,
                hideCursor: true,
                clearOnComplete: false,
                barsize: 30,
              },
              cliProgress.Presets.shades_classic,
            );
            bar.start(Math.max(1, e.total), 0, { shown: `0/${amount(e.total, e.unit)}` });
          }
          break;
        case 'progress':
          bar?.update(e.done, { shown: `${amount(e.done, current?.unit ?? 'bytes')} of ${amount(e.total, current?.unit ?? 'bytes')}${e.address !== undefined ? ` @ ${hex32(e.address)}` : ''}` });
          break;
        case 'phase-end':
          if (bar !== undefined) {
            bar.update(Math.max(1, current?.total ?? 1));
            bar.stop();
            bar = undefined;
          } else if (!quiet && current !== undefined && e.phase !== 'leave') {
            line(`${TITLES[e.phase]}: ${amount(current.total, current.unit)} done, ${e.deviceMs.toFixed(0)} ms device time`);
          }
          current = undefined;
          break;
        case 'retry':
          bar?.stop();
          bar = undefined;
          line(`retry ${e.attempt} (${TITLES[e.phase]}${e.address !== undefined ? ` at ${hex32(e.address)}` : ''}): ${e.error}`);
          break;
        case 'note':
          if (!quiet) line(`note: ${e.message}`);
          break;
      }
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}
