/** `dfukit erase --device D (--range R | --sectors LIST | --mass)`. */
import type { Command } from '@commander-js/extra-typings';
import { parseSizeArg } from '../options.ts';
import { DEVICE_HELP } from './flash.ts';
import { parseBankMode } from './convert.ts';

export function registerErase(program: Command): void {
  program
    .command('erase')
    .description('erase flash sectors (whole sectors: a range is rounded out to the sectors it touches) or the whole flash')
    .requiredOption('--device <spec>', 'device: emulator:PART[,flash=FILE] or usb')
    .option('--range <range>', 'erase the sectors ADDR:SIZE or ADDR..END touches')
    .option('--sectors <list>', 'sector indices as `dfukit chips` lists them (0-3,8) or bankB:N (bank2:0-1)')
    .option('--mass', 'mass erase: the whole flash')
    .option('--chip <part>', 'must match the device when given')
    .option('--flash-size <size>', 'flash size when the part name has no flash-size letter', parseSizeArg)
    .option('--bank-mode <mode>', 'single or dual', parseBankMode)
    .option('--json', 'print the result as JSON')
    .addHelpText('after', DEVICE_HELP)
    .action(async (opts) => {
      const { runErase } = await import('../run/erase.ts');
      process.exitCode = await runErase(opts);
    });
}
