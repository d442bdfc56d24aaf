/** `dfukit emulate --chip PART --listen 127.0.0.1:PORT`: the STM32 ROM emulator served over USB/IP. */
import { InvalidArgumentError, type Command } from '@commander-js/extra-typings';
import { parseSizeArg } from '../options.ts';
import { parseBankMode } from './convert.ts';

function parseScale(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 100) throw new InvalidArgumentError(`expected a factor 0..100 such as 0.01, got '${value}'`);
  return n;
}

export const EMULATE_HELP = `
What it serves:
  One emulated STM32 ROM bootloader in DFU mode (0483:DF11, the part's alt
  settings and layout strings), exported as busid 1-1 over USB/IP (Linux
  Documentation/usb/usbip_protocol.rst): OP_REQ_DEVLIST, OP_REQ_IMPORT, then
  control transfers on ep0 (CMD_SUBMIT/RET_SUBMIT, CMD_UNLINK). After the
  device leaves DFU (leave, read-unprotect, option-byte reset) its connections
  close and the ROM enumerates again with the next device number; the log says
  where it jumped. Stop it with Ctrl-C (or SIGTERM).

Clients:
  dfukit flash fw.dfu --device usbip://127.0.0.1:PORT
  DFUKIT_USBIP=127.0.0.1:PORT LD_LIBRARY_PATH=<libusb-usbip> dfu-util -l
      (test-peers/libusb-usbip: a libusb-1.0.so.0 that speaks USB/IP, so the
      unmodified dfu-util and pyusb reach the emulator without kernel USB)
  usbip attach -r 127.0.0.1 -b 1-1   (Linux with vhci-hcd: a real USB device
      for every program; needs --listen 127.0.0.1:3240, usbip's port)

Timing: the device's time is virtual (erase and program times from the
profile); real hosts sleep bwPollTimeout in real time, so --poll-scale 0.01
makes a 1000 ms erase report 10 ms. Requests arriving early wait virtually.

Examples:
  dfukit emulate --chip stm32h745 --listen 127.0.0.1:0 --flash-out h745.bin --log h745.jsonl
  dfukit emulate --chip stm32h743 --rom-rev V --poll-scale 0.01 --listen 127.0.0.1:3240
  dfukit emulate --chip stm32f405 --flash-in f405.bin --flash-out f405.bin --listen 127.0.0.1:3240
`;

export function registerEmulate(program: Command): void {
  program
    .command('emulate')
    .description('serve the STM32 ROM bootloader emulator over USB/IP, for dfu-util, pyusb, usbip attach or --device usbip://')
    .requiredOption('--chip <part>', 'chip profile to emulate (dfukit chips lists them)')
    .option('--listen <host:port>', 'loopback address to listen on; port 0 picks a free one (printed)', '127.0.0.1:3240')
    .option('--flash-size <size>', 'flash size when the part name has no flash-size letter', parseSizeArg)
    .option('--bank-mode <mode>', 'single or dual (parts whose bank organisation an option bit selects)', parseBankMode)
    .option('--rom-rev <rev>', 'silicon revision whose ROM to emulate: V (H74x/H75x bootloader V9.0, bank-2 erase hang) or Y')
    .option('--bootloader <version>', 'bootloader ID or version (0x90, V9.0); default the profile\'s latest')
    .option('--quirks <list>', 'ROM quirk hooks, comma-separated, or "profile" (all the profile lists for the bootloader)')
    .option('--flash-in <file>', 'initial main flash (bank after bank); default erased')
    .option('--flash-out <file>', 'keep the main flash in this file, written through on every erase and program (may be the --flash-in file)')
    .option('--log <file>', 'write one JSON line per request: request, state before/after, status, poll timeout, DfuSe command, operation, jump address')
    .option('--poll-scale <factor>', 'multiply the bwPollTimeout the device reports (default 1)', parseScale)
    .option('--serial <string>', 'iSerialNumber string (default derived from the part)')
    .option('--verbose', 'print imports, detaches and leaves on stderr')
    .option('--json', 'print the listening address and the final counts as JSON lines')
    .addHelpText('after', EMULATE_HELP)
    .action(async (opts) => {
      const { runEmulate } = await import('../run/emulate.ts');
      process.exitCode = await runEmulate(opts);
    });
}
