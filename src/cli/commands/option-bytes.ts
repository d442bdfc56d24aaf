/** `dfukit option-bytes`: read and decode the option bytes; `--set FIELD=VALUE --force` writes them. */
import type { Command } from '@commander-js/extra-typings';
import { collect, parseSizeArg } from '../options.ts';
import { parseBankMode } from './convert.ts';
import { DEVICE_HELP, parseLayoutArg, parseUsbIdArg } from './flash.ts';

export const OPTION_BYTES_HELP = `
Reads the option bytes through the ROM's option-bytes alternate setting and
decodes them with the chip profile's field map (schemas/chips/*.yaml,
optionBytes): read-protection level, write-protected sectors or pages, boot
addresses (per core on dual-core parts: BOOT_CM7_ADDx, BOOT_CM4_ADDx, BCM4,
BCM7), bank mode (nDBANK, DB1M, DUALBANK, DBANK), and every other field.

--set FIELD=VALUE (repeatable) computes the new option bytes and shows the
diff, field by field and byte by byte; nothing is written without --force.
The ROM programs them and resets; dfukit finds the device again by its serial
number, reads the option bytes back and checks every changed field.
VALUE is a value name (software, dual), a number, an address for boot
addresses (0x08000000), sector numbers for nWRP-style fields (0,1,4-7, none,
all), or 0/1 for RDP (level 2 is permanent: dfukit refuses it).

Exit status: 0 ok, 2 usage (also: --set without --force), 4 device error.
${DEVICE_HELP}
Examples:
  dfukit option-bytes
  dfukit option-bytes --device emulator:stm32h745 --json
  dfukit option-bytes --set nDBANK=dual --set BOOT_ADD0=0x08000000
  dfukit option-bytes --set nDBANK=dual --force
`;

export function registerOptionBytes(program: Command): void {
  program
    .command('option-bytes')
    .description('read and decode the option bytes (RDP, write protection, boot addresses, bank mode); --set FIELD=VALUE --force writes them')
    .option('--device <spec>', 'device: usb (default), usbip://HOST:PORT or emulator:PART[,...] (see below)')
    .option('--serial <serial>', 'the device with this USB serial number')
    .option('--path <bus-port>', 'the USB device at this port path (1-2.3)')
    .option('--vid <id>', 'USB vendor ID (hex)', parseUsbIdArg)
    .option('--pid <id>', 'USB product ID (hex)', parseUsbIdArg)
    .option('--chip <part>', 'the chip, when the device\'s strings fit several profiles')
    .option('--flash-size <size>', 'flash size when the part name has no flash-size letter', parseSizeArg)
    .option('--bank-mode <mode>', 'single or dual (otherwise read from the option bytes)', parseBankMode)
    .option('--layout <source>', 'when the device\'s layout string and the chip profile disagree: device or profile', parseLayoutArg)
    .option('--set <field=value>', 'change a field (repeatable); shows the diff; writes only with --force', collect)
    .option('--force', 'write the --set changes (the device resets)')
    .option('--json', 'print the decoded option bytes (and the diff) as JSON')
    .addHelpText('after', OPTION_BYTES_HELP)
    .action(async (opts) => {
      const { runOptionBytes } = await import('../run/option-bytes.ts');
      process.exitCode = await runOptionBytes(opts);
    });
}
