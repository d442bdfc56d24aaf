/** `dfukit read --device D --range ADDR:SIZE -o out.bin`: read memory back into a raw binary. */
import type { Command } from '@commander-js/extra-typings';
import { parseSizeArg } from '../options.ts';
import { DEVICE_HELP, parseAltArg, parseLayoutArg, parseUsbIdArg } from './flash.ts';
import { parseBankMode } from './convert.ts';

export function registerRead(program: Command): void {
  program
    .command('read')
    .description('read device memory into a raw binary (spanning sectors, banks and layout segments)')
    .option('--device <spec>', 'device: usb (default), usbip://HOST:PORT or emulator:PART[,...] (see below)')
    .option('--serial <serial>', 'the device with this USB serial number')
    .option('--path <bus-port>', 'the USB device at this port path (1-2.3)')
    .option('--vid <id>', 'USB vendor ID (hex)', parseUsbIdArg)
    .option('--pid <id>', 'USB product ID (hex)', parseUsbIdArg)
    .option('--layout <source>', 'when the device\'s layout string and the chip profile disagree: device or profile', parseLayoutArg)
    .requiredOption('--range <range>', 'ADDR:SIZE (0x08000000:256K) or ADDR..END (0x08000000..0x08040000)')
    .requiredOption('-o, --output <file>', 'output file (raw binary, written atomically)')
    .option('--chip <part>', 'the chip, when the device\'s strings fit several profiles (must match the device)')
    .option('--flash-size <size>', 'flash size when the part name has no flash-size letter', parseSizeArg)
    .option('--bank-mode <mode>', 'single or dual', parseBankMode)
    .option('--alt <n>', 'alternate setting to read through (default: the internal-flash alt; 1 is the option bytes on ST ROMs)', parseAltArg)
    .option('--transfer-size <bytes>', 'override the device\'s wTransferSize', parseSizeArg)
    .option('--json', 'print the result as JSON')
    .addHelpText('after', DEVICE_HELP)
    .action(async (opts) => {
      const { runRead } = await import('../run/read.ts');
      process.exitCode = await runRead(opts);
    });
}
