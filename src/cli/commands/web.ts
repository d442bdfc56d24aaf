/** `dfukit web [--port N]`: the dfukit page on localhost, or `--build-dir OUT` for any static host. */
import { InvalidArgumentError, type Command } from '@commander-js/extra-typings';

export function parsePortArg(value: string): number {
  const n = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 0 && n <= 65535)) throw new InvalidArgumentError(`expected a port 0..65535 (0 picks a free one), got '${value}'`);
  return n;
}

export const WEB_HELP = `
What the page does (all in the browser; a file you drop never leaves it):
  drop ELF, Intel HEX, S-record, BIN (with its address) or DfuSe files: what
  \`dfukit inspect\` shows; a memory map to scale against the chosen chip's
  banks and sectors (padding, gaps, the bank boundary, the sectors a flash
  erases); the \`dfukit doctor\` findings beside it; conversion to .dfu, .hex
  and .bin as downloads; the diff of two files; and flashing over WebUSB
  (Chrome, Edge, Opera) with the plan, progress, verify and leave of
  \`dfukit flash\`. After it has loaded, the page makes no network request.

Serving:
  The server listens on 127.0.0.1 (this machine only) unless --host says
  otherwise; WebUSB needs localhost or https. Browsers remember a device
  permission per origin, port included: keep the same --port to keep it.

Examples:
  dfukit web                       # http://127.0.0.1:8484/
  dfukit web --port 0              # a free port; the URL is printed
  dfukit web --build-dir site/     # copy the page for a static web host
`;

export function registerWeb(program: Command): void {
  program
    .command('web')
    .description('serve the dfukit page on localhost: inspect, memory map, doctor, convert, diff and WebUSB flashing in the browser')
    .option('--port <n>', 'port to listen on (default 8484; 0 picks a free one)', parsePortArg)
    .option('--host <address>', 'address to listen on (default 127.0.0.1: this machine only)')
    .option('--build-dir <dir>', 'copy the page into DIR for any static web host, and exit')
    .option('--json', 'print {"url"} (serving) or {"buildDir","files"} (--build-dir) as JSON')
    .addHelpText('after', WEB_HELP)
    .action(async (opts) => {
      const { runWeb } = await import('../run/web.ts');
      process.exitCode = await runWeb(opts);
    });
}
