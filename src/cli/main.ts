/**
 * `dfukit` entry point. Each command lives in its own file under commands/ and imports the library lazily,
 * so start-up loads only commander and the command that runs (DESIGN.md: the CLI runs compiled JavaScript).
 * Exit codes (DESIGN.md "Conventions"): 0 ok, 1 check failed, 2 usage, 3 bad input, 4 device/transport,
 * 5 internal error (a bug in dfukit: please report it).
 */
import { Command, CommanderError } from '@commander-js/extra-typings';
import { FwError, EXIT_USAGE } from '../core/errors.ts';
import { registerInspect } from './commands/inspect.ts';
import { registerConvert } from './commands/convert.ts';
import { registerBuild } from './commands/build.ts';
import { registerChips } from './commands/chips.ts';
import { registerHeader } from './commands/header.ts';
import { registerFlash } from './commands/flash.ts';
import { registerRead } from './commands/read.ts';
import { registerErase } from './commands/erase.ts';
import { registerDiff } from './commands/diff.ts';
import { registerVerify } from './commands/verify.ts';
import { registerDoctor } from './commands/doctor.ts';
import { registerList } from './commands/list.ts';
import { registerOptionBytes } from './commands/option-bytes.ts';
import { registerUnprotect } from './commands/unprotect.ts';
import { registerEmulate } from './commands/emulate.ts';
import { registerWeb } from './commands/web.ts';
import { VERSION } from './version.ts';

export const EXIT_INTERNAL = 5;

export function buildProgram(): Command {
  const program = new Command()
    .name('dfukit')
    .description('STM32 firmware over USB DFU: inspect, convert, diagnose, verify and flash')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  registerInspect(program);
  registerConvert(program);
  registerBuild(program);
  registerChips(program);
  registerHeader(program);
  registerFlash(program);
  registerRead(program);
  registerErase(program);
  registerDiff(program);
  registerVerify(program);
  registerDoctor(program);
  registerList(program);
  registerOptionBytes(program);
  registerUnprotect(program);
  registerEmulate(program);
  registerWeb(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version arrive here too, with exit code 0.
      return e.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    if (e instanceof FwError) {
      process.stderr.write(`dfukit: error: ${e.format()}\n`);
      return e.exitStatus;
    }
    const err = e as Error;
    process.stderr.write(`dfukit: internal error: ${err?.message ?? String(e)}\n(this is a bug in dfukit; set DFUKIT_DEBUG=1 for details)\n`);
    if (process.env.DFUKIT_DEBUG === '1' && err?.stack !== undefined) process.stderr.write(err.stack + '\n');
    return EXIT_INTERNAL;
  }
}
