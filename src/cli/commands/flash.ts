/** `dfukit flash FILE... --device D`: plan, erase the touched sectors, write, verify, leave. */
import { InvalidArgumentError, type Command } from '@commander-js/extra-typings';
import { collect, parseAddressArg, parseSizeArg } from '../options.ts';
import { parseBankMode } from './convert.ts';

export function parseRetries(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 10) throw new InvalidArgumentError(`expected 0..10 retries, got '${value}'`);
  return n;
}

/** `0483`, `0x0483`: a USB vendor or product ID (hex, as lsusb prints them). */
export function parseUsbIdArg(value: string): number {
  const m = /^(?:0x)?([0-9a-f]{1,4})$/i.exec(value.trim());
  if (m === null) throw new InvalidArgumentError(`expected a 16-bit hex ID such as 0483 or 0xdf11, got '${value}'`);
  return parseInt(m[1]!, 16);
}

export function parseAltArg(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 255) throw new InvalidArgumentError(`expected an alternate setting 0..255, got '${value}'`);
  return n;
}

export function parseLayoutArg(value: string): 'device' | 'profile' {
  if (value === 'device' || value === 'profile') return value;
  throw new InvalidArgumentError(`expected device or profile, got '${value}'`);
}

export const DEVICE_HELP = `
Devices:
  --device usb (the default)
      real USB devices through the optional \`usb\` package (node-usb): the chip
      is identified from the device (layout strings, bcdDevice, flash size
      register; --chip names it when several profiles fit); select one with
      --serial, --path (bus-port, as 1-2.3), --vid/--pid; a device that resets
      (option bytes, unprotect) is found again by its serial number.
  --device emulator:PART[,flash=FILE][,quirks=a+b|profile][,bootloader=0x90]
                   [,serials=A+B|count=N][,faults=[SERIAL:]KIND@WHERE][,bank=single|dual]
                   [,rdp=0|1][,usb-timeout=MS][,anonymous]
      the STM32 ROM bootloader emulated in this process (dfukit chips lists
      the parts); flash=FILE keeps its flash in FILE (bank after bank),
      written through on every erase and program ({serial} in FILE with
      several serials); device time is virtual.
  --device usbip://HOST:PORT[/BUSID]
      a device exported over USB/IP: \`dfukit emulate\` in another process (or
      usbipd); the chip is the part dfukit emulate names, else identified
      from the device as for usb (--chip names it); device time is real time.
`;

export const FLASH_HELP = `
What flash does, in order (--dry-run prints it and stops):
  1. erase only the sectors the image touches: data elsewhere in the flash
     survives (--mass-erase erases everything);
  2. write: one SET_ADDRESS per contiguous run, then blocks of wTransferSize
     (3 USB requests per block); a partial program unit is padded with the
     erased value; blocks that are all erased value are not sent;
  3. A/B headers (--header-layout L --slot A=... --slot B=...) last, so a cut
     before the end leaves the old slot the one that boots;
  4. verify by read-back (--no-verify skips it);
  5. --leave: jump to the image's vector table (or --leave-address); the
     device disconnecting then is success.
A failure names the operation, address, DFU state and status (exit 4; a verify
mismatch exits 1). After a cut cable or Ctrl-C, run the same command with
--resume: the device is read back sector by sector and only what differs is
erased and written.
${DEVICE_HELP}
Examples:
  dfukit flash cm7.elf cm4.elf --device emulator:stm32h745
  dfukit flash app.bin@0x08000000 --device emulator:stm32f405 --leave
  dfukit flash --recipe fw.yaml --device emulator:stm32h745,flash=h745.bin --json
  dfukit flash slotB.hex --header-layout dfukit-ab-v1 \\
      --slot A=0x08040000+256K --slot B=0x08100000+256K --device emulator:stm32h745
  dfukit flash app.hex --chip stm32h743 --dry-run
  dfukit flash app.hex --all --vid 0483 --pid df11
`;

export function registerFlash(program: Command): void {
  program
    .command('flash')
    .description('flash firmware (ELF, HEX, S-record, BIN@ADDR, DfuSe, or a recipe) over DfuSe: erase touched sectors, write, verify, leave')
    .argument('[inputs...]', 'input files, any mix of formats; raw binaries as file.bin@0x08000000')
    .option('--device <spec>', 'device: usb (default), usbip://HOST:PORT or emulator:PART[,...] (see below)')
    .option('--serial <serial>', 'the device with this USB serial number')
    .option('--path <bus-port>', 'the USB device at this port path (1-2.3)')
    .option('--vid <id>', 'USB vendor ID (hex)', parseUsbIdArg)
    .option('--pid <id>', 'USB product ID (hex)', parseUsbIdArg)
    .option('--alt <n>', 'alternate setting to flash through (default: the internal-flash alt)', parseAltArg)
    .option('--all', 'flash every matching device in parallel; one log prefix per serial and a summary table')
    .option('--layout <source>', 'when the device\'s layout string and the chip profile disagree: device or profile', parseLayoutArg)
    .option('--recipe <file>', 'take the inputs from a build recipe (as `dfukit build`)')
    .option('--chip <part>', 'chip for --dry-run without a device; with a device, names it when its strings fit several profiles')
    .option('--flash-size <size>', 'flash size when the part name has no flash-size letter', parseSizeArg)
    .option('--bank-mode <mode>', 'single or dual (parts whose bank organisation an option bit selects)', parseBankMode)
    .option('--dry-run', 'print the plan (sectors, blocks, header ranges, verify, leave) and stop before any request')
    .option('--mass-erase', 'erase the whole flash instead of the touched sectors (loses data outside the image)')
    .option('--no-verify', 'do not read back and compare after writing')
    .option('--leave', 'leave DFU mode at the end and start the firmware')
    .option('--no-leave', 'stay in DFU mode at the end (the default)')
    .option('--leave-address <addr>', 'jump here on leave instead of the image\'s vector table (implies --leave)', parseAddressArg)
    .option('--header-layout <name>', 'A/B header layout whose headers are written last: dfukit-ab-v1, mcuboot, simple-crc')
    .option('--slot <name=addr+size>', 'A/B slot (repeatable, with --header-layout): A=0x08040000+256K', collect)
    .option('--resume', 'finish an interrupted flash: read the device back and erase/write only what differs')
    .option('--retries <n>', 'extra attempts per block or sector after a recoverable error (default 2)', parseRetries)
    .option('--transfer-size <bytes>', 'override the device\'s wTransferSize (dfu-util -t)', parseSizeArg)
    .option('--send-erased', 'also send blocks that are all erased value')
    .option('--overwrite', 'let later inputs win where inputs overlap')
    .option('--lenient <name>', 'accept a named input divergence (repeatable; see `dfukit inspect`)', collect)
    .option('--json', 'print the plan, timings and counts as JSON')
    .addHelpText('after', FLASH_HELP)
    .action(async (inputs, opts) => {
      const { runFlash } = await import('../run/flash.ts');
      process.exitCode = await runFlash(inputs, opts);
    });
}
