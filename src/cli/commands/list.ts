/** `dfukit list`: every DFU device with its identity, DFU descriptor, alternate settings, flash map and matching chips. */
import type { Command } from '@commander-js/extra-typings';
import { DEVICE_HELP, parseUsbIdArg } from './flash.ts';

export const LIST_HELP = `
For each DFU device: VID:PID, serial number, bcdDevice (the ROM generation),
the DFU functional descriptor (DFU version, wTransferSize, attributes), every
alternate setting with its layout string parsed into segments, the internal
flash map, and the chip profiles that fit it (exact, or with differences a
profile quirk documents). The layout strings cannot tell every part apart
(H743, H745 and H750 report the same): then flash, read and erase need --chip.

Exit status: 0 listed (also when no device is connected), 4 no USB access
(the \`usb\` package missing, no USB subsystem).
${DEVICE_HELP}
Examples:
  dfukit list
  dfukit list --json
  dfukit list --device emulator:stm32f722,serials=A+B
`;

export function registerList(program: Command): void {
  program
    .command('list')
    .description('list DFU devices: identity, DFU descriptor, alternate settings and flash map, matching chip profiles')
    .option('--device <spec>', 'where to look: usb (default), usbip://HOST:PORT or emulator:PART[,...]')
    .option('--serial <serial>', 'only the device with this USB serial number')
    .option('--path <bus-port>', 'only the USB device at this port path (1-2.3)')
    .option('--vid <id>', 'only this USB vendor ID (hex)', parseUsbIdArg)
    .option('--pid <id>', 'only this USB product ID (hex)', parseUsbIdArg)
    .option('--json', 'print the report as JSON (schema: schemas/list-report.schema.json)')
    .addHelpText('after', LIST_HELP)
    .action(async (opts) => {
      const { runList } = await import('../run/list.ts');
      process.exitCode = await runList(opts);
    });
}
