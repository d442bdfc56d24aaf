/** `dfukit unprotect --force`: read-unprotect (mass erase, RDP back to level 0). */
import type { Command } from '@commander-js/extra-typings';
import { parseSizeArg } from '../options.ts';
import { parseBankMode } from './convert.ts';
import { DEVICE_HELP, parseLayoutArg, parseUsbIdArg } from './flash.ts';

export const UNPROTECT_HELP = `
Sends the DfuSe Read Unprotect command (0x92, AN3156): the ROM mass-erases the
whole flash, sets read protection back to level 0 and resets. Everything in
the flash is lost, so --force is required. dfukit then finds the device again
by its serial number and reads the option bytes back to show the level.

Exit status: 0 done, 2 usage (also: without --force), 4 device error.
${DEVICE_HELP}
Examples:
  dfukit unprotect --force
  dfukit unprotect --device emulator:stm32f405,rdp=1 --force
`;

export function registerUnprotect(program: Command): void {
  program
    .command('unprotect')
    .description('read-unprotect: mass-erase the flash and set read protection to level 0 (needs --force)')
    .option('--device <spec>', 'device: usb (default), usbip://HOST:PORT or emulator:PART[,...] (see below)')
    .option('--serial <serial>', 'the device with this USB serial number')
    .option('--path <bus-port>', 'the USB device at this port path (1-2.3)')
    .option('--vid <id>', 'USB vendor ID (hex)', parseUsbIdArg)
    .option('--pid <id>', 'USB product ID (hex)', parseUsbIdArg)
    .option('--chip <part>', 'the chip, when the device\'s strings fit several profiles')
    .option('--flash-size <size>', 'flash size when the part name has no flash-size letter', parseSizeArg)
    .option('--bank-mode <mode>', 'single or dual', parseBankMode)
    .option('--layout <source>', 'when the device\'s layout string and the chip profile disagree: device or profile', parseLayoutArg)
    .option('--force', 'really mass-erase the flash')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', UNPROTECT_HELP)
    .action(async (opts) => {
      const { runUnprotect } = await import('../run/unprotect.ts');
      process.exitCode = await runUnprotect(opts);
    });
}
