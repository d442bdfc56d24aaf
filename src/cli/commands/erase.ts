/** `dfukit erase --device D (--range R | --sectors LIST | --mass)`. */
import type { Command } from '@commander-js/extra-typings';
import { parseSizeArg } from '../options.ts';
import { DEVICE_HELP, parseAltArg, parseLayoutArg, parseUsbIdArg } from './flash.ts';
import { parseBankMode } from './convert.ts';

export function registerErase(program: Command): void {
  program
    .command('erase')
    .description('erase flash sectors (whole sectors: a range is rounded out to the sectors it touches) or the whole flash')
    .option('--device <spec>', 'device: usb (default), usbip://HOST:PORT or emulator:PART[,...] (see below)')
    .option('--serial <serial>', 'the device with this USB serial number')
    .option('--path <bus-port>', 'the USB device at this port path (1-2.3)')
    .option('--vid <id>', 'USB vendor ID (hex)', parseUsbIdArg)
    .option('--pid <id>', 'USB product ID (hex)', parseUsbIdArg)
    .option('--alt <n>', 'alternate setting to erase through (default: the internal-flash alt)', parseAltArg)
    .option('--layout <source>', 'when the device\'s layout string and the chip profile disagree: device or profile', parseLayoutArg)
    .option('--range <range>', 'erase the sectors ADDR:SIZE or ADDR..END touches')
    .option('--sectors <list>', 'sector indices as `dfukit chips` lists them (0-3,8) or bankB:N (bank2:0-1)')
    .option('--mass', 'mass erase: the whole flash')
    .option('--chip <part>', 'the chip, when the device\'s strings fit several profiles (must match the device)')
    .option('--flash-size <size>', 'flash size when the part name has no flash-size letter', parseSizeArg)
    .option('--bank-mode <mode>', 'single or dual', parseBankMode)
    .option('--json', 'print the result as JSON')
    .addHelpText('after', DEVICE_HELP)
    .action(async (opts) => {
      const { runErase } = await import('../run/erase.ts');
      process.exitCode = await runErase(opts);
    });
}
