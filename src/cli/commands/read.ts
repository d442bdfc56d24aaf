/** `dfukit read --device D --range ADDR:SIZE -o out.bin`: read memory back into a raw binary. */
import type { Command } from '@commander-js/extra-typings';
import { parseSizeArg } from '../options.ts';
import { DEVICE_HELP } from './flash.ts';
import { parseBankMode } from './convert.ts';

export function registerRead(program: Command): void {
  program
    .command('read')
    .description('read device memory into a raw binary (spanning sectors, banks and layout segments)')
    .requiredOption('--device <spec>', 'device: emulator:PART[,flash=FILE] or usb')
    .requiredOption('--range <range>', 'ADDR:SIZE (0x08000000:256K) or ADDR..END (0x08000000..0x08040000)')
    .requiredOption('-o, --output <file>', 'output file (raw binary, written atomically)')
    .option('--chip <part>', 'must match the device when given')
    .option('--flash-size <size>', 'flash size when the part name has no flash-size letter', parseSizeArg)
    .option('--bank-mode <mode>', 'single or dual', parseBankMode)
    .option('--transfer-size <bytes>', 'override the device\'s wTransferSize', parseSizeArg)
    .option('--json', 'print the result as JSON')
    .addHelpText('after', DEVICE_HELP)
    .action(async (opts) => {
      const { runRead } = await import('../run/read.ts');
      process.exitCode = await runRead(opts);
    });
}
