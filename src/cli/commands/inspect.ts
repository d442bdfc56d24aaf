/** `dfukit inspect FILE...`: list everything a firmware file holds. */
import type { Command } from '@commander-js/extra-typings';
import { collect, parseFormatArg } from '../options.ts';

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('parse firmware files strictly and list everything in them (ELF, Intel HEX, S-record, BIN@ADDR, DfuSe, DFU)')
    .argument('<files...>', 'input files; raw binaries as file.bin@0x08000000')
    .option('--json', 'print one JSON report per file (schema: schemas/inspect-report.schema.json)')
    .option('--format <format>', 'skip content detection: elf, ihex, srec, bin, dfuse, dfu', parseFormatArg)
    .option('--lenient <name>', 'accept a named divergence (repeatable; see README "Leniencies")', collect)
    .option('--overwrite', 'let later data win where records overlap (each overlap is reported)')
    .action(async (files, opts) => {
      const { runInspect } = await import('../run/inspect.ts');
      process.exitCode = runInspect(files, opts);
    });
}
