/** `dfukit verify FILE... --device D`: read back what the image covers and diff it (nothing is written). */
import { InvalidArgumentError, type Command } from '@commander-js/extra-typings';
import { parseNumber } from '../../core/parse-number.ts';
import { collect, parseSizeArg } from '../options.ts';
import { parseBankMode } from './convert.ts';
import { DEVICE_HELP, parseLayoutArg, parseRetries, parseUsbIdArg } from './flash.ts';

function parseCount(what: string, max: number): (value: string) => number {
  return (value) => {
    const n = parseNumber(value, { sizeSuffix: true });
    if (n === undefined || n > max) throw new InvalidArgumentError(`expected ${what}, got '${value}'`);
    return n;
  };
}

export const VERIFY_HELP = `
What verify does:
  The inputs become one image and go through the same plan as \`dfukit flash\`
  (internal flash only, runs aligned to the program unit); exactly those
  ranges are read back through the flasher, and the read-back is compared
  with the image as \`dfukit diff\` does: each differing range with its class
  (not written, truncated, tail lost, shifted, programmed over unerased flash,
  header only, different build) and the bytes around it. Nothing is erased
  or written.

Exit status: 0 equal, 1 different, 2 usage, 3 unreadable input, 4 device error.
${DEVICE_HELP}
Examples:
  dfukit verify app.hex --device emulator:stm32h743,flash=h743.bin
  dfukit verify cm7.elf cm4.elf --device emulator:stm32h745 --json
  dfukit verify app.bin@0x08000000 --serial 3574364C3034
`;

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('compare the device\'s flash with firmware files: read back what the image covers, report what differs and why')
    .argument('[inputs...]', 'input files, any mix of formats; raw binaries as file.bin@0x08000000')
    .option('--device <spec>', 'device: usb (default), usbip://HOST:PORT or emulator:PART[,...] (see below)')
    .option('--serial <serial>', 'the device with this USB serial number')
    .option('--path <bus-port>', 'the USB device at this port path (1-2.3)')
    .option('--vid <id>', 'USB vendor ID (hex)', parseUsbIdArg)
    .option('--pid <id>', 'USB product ID (hex)', parseUsbIdArg)
    .option('--layout <source>', 'when the device\'s layout string and the chip profile disagree: device or profile', parseLayoutArg)
    .option('--recipe <file>', 'take the inputs from a build recipe (as `dfukit build`)')
    .option('--chip <part>', 'the chip, when the device\'s strings fit several profiles (must match the device)')
    .option('--flash-size <size>', 'flash size when the part name has no flash-size letter', parseSizeArg)
    .option('--bank-mode <mode>', 'single or dual (parts whose bank organisation an option bit selects)', parseBankMode)
    .option('--retries <n>', 'extra attempts per read after a recoverable error (default 2)', parseRetries)
    .option('--transfer-size <bytes>', 'override the device\'s wTransferSize (dfu-util -t)', parseSizeArg)
    .option('--overwrite', 'let later inputs win where inputs overlap')
    .option('--lenient <name>', 'accept a named input divergence (repeatable; see `dfukit inspect`)', collect)
    .option('--merge <n>', 'join differing bytes separated by at most N equal bytes into one range (default 16)', parseCount('a byte count such as 16', 0xffffffff))
    .option('--context <n>', 'bytes shown before and after the start of each range (default 8)', parseCount('a byte count such as 8', 4096))
    .option('--max-ranges <n>', 'ranges shown in the human output (default 20; 0 = all; --json always has all)', parseCount('a count', 0xffffffff))
    .option('--json', 'print the diff report as JSON (schema: schemas/diff-report.schema.json)')
    .addHelpText('after', VERIFY_HELP)
    .action(async (inputs, opts) => {
      const { runVerify } = await import('../run/verify.ts');
      process.exitCode = await runVerify(inputs, opts);
    });
}
