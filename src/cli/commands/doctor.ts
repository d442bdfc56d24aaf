/** `dfukit doctor FILE --chip PART [--fix -o OUT]`: every known problem of a firmware file, and the mechanical repairs. */
import type { Command } from '@commander-js/extra-typings';
import { parseBankMode } from './convert.ts';
import { parseFormatArg, parseSizeArg } from '../options.ts';

export const DOCTOR_HELP = `
What it checks:
  The file is read leniently; whatever a strict reader rejects is a finding.
  DfuSe structure: suffix CRC, DFUImageSize convention (fwupd rejects the
  dfuse-pack one), counts and sizes against the data, bytes after the last
  target, element order and overlap. With --chip: elements on the flash word
  (partial words are what DfuFileMgr files lose on H7 and L4), two elements in
  one erase sector, elements across a bank boundary, data outside the flash of
  the alternate setting or in option bytes/OTP through the flash target, ROM
  bootloader faults in the file's address ranges (H74x/H75x Rev V bank 2), both
  cores' images on dual-core parts, the vector table at each image start
  (stack pointer in RAM, Thumb reset handler inside the image), ELF sections
  loaded at RAM addresses, and the part of each erase sector the file leaves
  unwritten (it is erased anyway).

Output:
  Findings grouped by severity, each with file offset, address range and fix;
  --json prints the report (schema: schemas/doctor-report.schema.json).
  Exit 0 without errors, 1 with errors, 2 usage, 3 unreadable input.

Repair:
  --fix -o OUT writes the file with every mechanical repair: elements aligned
  and padded to the program unit with the erased value, sorted, merged within
  an erase sector, split at bank boundaries; counts, sizes, DFUImageSize and
  CRC rewritten. The data bytes stay as they are. The new file is diagnosed
  again; exit 0 when it has no errors.

Examples:
  dfukit doctor fw.dfu --chip stm32h743
  dfukit doctor app.hex --chip STM32H745ZI --dual-core
  dfukit doctor app.bin@0x08020000 --chip stm32f767 --json
  dfukit doctor --fix fw.dfu --chip stm32h743 -o fixed.dfu
`;

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('find every known problem of a firmware file for a chip (why it "flashes fine but does not run"), and repair it with --fix')
    .argument('<file>', 'firmware file (.dfu, .hex, .elf, .srec, .bin@ADDR)')
    .option('--chip <part>', 'chip profile (stm32h743, STM32H745ZI...); without it only chip-independent checks run')
    .option('--flash-size <size>', 'flash size when the part name has no flash-size letter (2M, 0x100000)', parseSizeArg)
    .option('--bank-mode <mode>', 'single or dual, for parts whose bank organisation an option bit selects', parseBankMode)
    .option('--dual-core', 'check both cores\' images of a dual-core part even when the file holds only one')
    .option('--format <format>', 'skip content detection: elf, ihex, srec, bin, dfuse, dfu', parseFormatArg)
    .option('--fix', 'write a repaired file (needs -o)')
    .option('-o, --output <file>', 'where --fix writes (.dfu; .hex, .srec, .bin for single-target files)')
    .option('--json', 'print the report as JSON (schema: schemas/doctor-report.schema.json)')
    .addHelpText('after', DOCTOR_HELP)
    .action(async (file, opts) => {
      const { runDoctor } = await import('../run/doctor.ts');
      process.exitCode = runDoctor(file, opts);
    });
}
