/** `dfukit diff EXPECTED ACTUAL`: what differs between two images (typically a file and a flash read-back), and why. */
import { InvalidArgumentError, type Command } from '@commander-js/extra-typings';
import { parseNumber } from '../../core/parse-number.ts';
import { collect, parseSizeArg } from '../options.ts';

function parseCount(what: string, max: number): (value: string) => number {
  return (value) => {
    const n = parseNumber(value, { sizeSuffix: true });
    if (n === undefined || n > max) throw new InvalidArgumentError(`expected ${what}, got '${value}'`);
    return n;
  };
}

export const DIFF_HELP = `
What is compared:
  Only the addresses where EXPECTED has data, unless --whole: then wherever
  either side has data, and where EXPECTED has none the flash must read erased.
  Raw binaries need their load address: readback.bin@0x08000000 (without one,
  0x08000000 is assumed and a note says so). A DfuSe file's target --alt
  (default 0, internal flash) is compared.

Classes (each differing range gets the first that fits):
  truncated        ACTUAL has no data there (ends early, or has a hole)
  not-written      every differing byte reads erased (0xFF)
  tail-lost        only the last partial program unit of an element differs
                   (the unit comes from --align, else --chip, else 8 bytes)
  shifted          EXPECTED's bytes are in ACTUAL at a constant offset
                   (a .bin flashed at the wrong address, a header added)
  bits-cleared     actual & expected == actual for every differing byte:
                   programmed over flash that was not erased
  header-only      inside an A/B header of a known layout, field by field
  different-build  scattered differences over the image
  other            none of the above

Exit status: 0 equal, 1 different, 2 usage, 3 unreadable input.

Examples:
  dfukit diff app.dfu readback.bin@0x08000000 --chip stm32h743
  dfukit diff app.elf dump.bin@0x08000000 --whole --json
`;

export function registerDiff(program: Command): void {
  program
    .command('diff')
    .description('compare two images (e.g. a firmware file and a flash read-back): differing ranges, each with its likely cause')
    .argument('<expected>', 'the image meant for the flash (any format; raw binaries as file.bin@ADDR)')
    .argument('<actual>', 'what is there: a read-back as dump.bin@ADDR, or any firmware file')
    .option('--whole', 'also compare where only ACTUAL has data (gaps of EXPECTED must read erased)')
    .option('--merge <n>', 'join differing bytes separated by at most N equal bytes into one range (default 16)', parseCount('a byte count such as 16', 0xffffffff))
    .option('--context <n>', 'bytes shown before and after the start of each range (default 8)', parseCount('a byte count such as 8', 4096))
    .option('--chip <name>', 'chip profile: program unit, erased value, sector names, quirks (e.g. stm32h743)')
    .option('--align <n>', 'program unit in bytes (overrides the chip\'s; default 8)', parseSizeArg)
    .option('--erased-value <byte>', 'value of erased flash (default: the chip\'s, else 0xFF)', parseCount('a byte value such as 0xFF', 0xff))
    .option('--alt <n>', 'DfuSe target (alternate setting) to compare (default 0)', parseCount('an alternate setting 0..255', 255))
    .option('--lenient <name>', 'accept a named divergence in either input (repeatable; see README "Leniencies")', collect)
    .option('--max-ranges <n>', 'ranges shown in the human output (default 20; 0 = all; --json always has all)', parseCount('a count', 0xffffffff))
    .option('--json', 'print the report as JSON (schema: schemas/diff-report.schema.json)')
    .addHelpText('after', DIFF_HELP)
    .action(async (expected, actual, opts) => {
      const { runDiff } = await import('../run/diff.ts');
      process.exitCode = runDiff(expected, actual, opts);
    });
}
