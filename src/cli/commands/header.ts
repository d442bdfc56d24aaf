/**
 * `dfukit header inject | verify | select | describe`: A/B bootloader headers from the layouts declared in
 * schemas/headers/*.yaml. The library is imported lazily, when a subcommand runs.
 */
import type { Command, OptionValues } from '@commander-js/extra-typings';
import { parseAddressArg, parseSizeArg, collect } from '../options.ts';

export const HEADER_HELP = `
Layouts (dfukit header describe lists them; describe LAYOUT explains one):
  dfukit-ab-v1  dfukit's A/B header: magic, sizes, load address, entry, version,
                flags (CRC kind, core), payload CRC, slot size, header CRC
                (docs/header-dfukit-ab-v1.md has the C struct for the bootloader)
  mcuboot       MCUboot image, unsigned: header, SHA-256 TLV, --pad trailer;
                the same bytes as imgtool sign without a key
  simple-crc    magic + size + CRC-32 at offsets you choose (--set)

Slots are NAME=ADDRESS+SIZE, first slot A (MCUboot: primary), e.g.
  --slot A=0x08020000+0x60000 --slot B=0x08080000+384K
The image goes into the slot that holds it; --staging stores an image linked
for one slot in the other (copy-to-A scheme) and says so in the header.
`;

/** Options every layout-driven subcommand takes. */
function layoutOptions<A extends unknown[], O extends OptionValues, G extends OptionValues>(c: Command<A, O, G>) {
  return c
    .option('--version <version>', 'image version MAJ.MIN.REV+BUILD (layouts with a version)')
    .option('--set <name=value>', 'layout option (repeatable): crc=stm32, core=cm4, hw-id=0x450, magic=0x..., crc-offset=8 ... (see describe)', collect)
    .option('--header-size <size>', 'bytes from the header start to the payload (default: the layout\'s)', parseSizeArg)
    .option('--header-offset <size>', 'header this many bytes after the slot start, in space the firmware reserved (layouts placed anywhere)', parseSizeArg)
    .option('--erased-value <byte>', 'value of erased flash (default 0xFF)', parseAddressArg);
}

/** MCUboot's imgtool options, as layout options of the mcuboot layout. */
function mcubootOptions<A extends unknown[], O extends OptionValues, G extends OptionValues>(c: Command<A, O, G>) {
  return c
    .option('--pad', 'mcuboot: pad to the slot size and write the trailer magic (imgtool --pad)')
    .option('--confirm', 'mcuboot: also mark the image confirmed, image_ok = 0x01 (imgtool --confirm; implies --pad)')
    .option('--align <n>', 'mcuboot: flash write alignment 1, 2, 4, 8, 16 or 32 (imgtool --align)')
    .option('--max-align <n>', 'mcuboot: trailer alignment 8, 16 or 32 (imgtool --max-align)')
    .option('--max-sectors <n>', 'mcuboot: sectors of the swap status area (imgtool --max-sectors, default 128)');
}

export function registerHeader(program: Command): void {
  // Subcommands take --version (imgtool's name for the image version): the program's own -V/--version is
  // then recognised only before the subcommand (`dfukit --version`), not after it.
  program.enablePositionalOptions();
  const header = program
    .command('header')
    .description('A/B bootloader headers declared as data: inject, verify, select the slot a bootloader boots, describe a layout')
    .addHelpText('after', HEADER_HELP);

  mcubootOptions(
    layoutOptions(
      header
        .command('inject')
        .description('put a header on an image for a slot and write it in any format (by the -o extension: .bin .hex .srec .dfu)')
        .argument('<input>', 'firmware file; raw binaries as file.bin@0x08020400')
        .requiredOption('--layout <name>', 'header layout: dfukit-ab-v1, mcuboot, simple-crc')
        .requiredOption('--slot <name=addr+size>', 'slot (repeatable): A=0x08020000+0x60000', collect)
        .requiredOption('-o, --output <file>', 'output file; format from the extension')
        .option('--into <name>', 'slot to store the image in (default: the slot that holds it; with --staging the other one)')
        .option('--staging', 'store the image in another slot than the one it is linked for (copy-to-A scheme; MCUboot secondary slot)')
        .option('--header-symbol <name>', 'ELF input: the header goes where this symbol is (space the firmware reserved)')
        .option('--pad-header', 'add the header space in front of the payload (imgtool --pad-header); without it reserved space is used when the image has it')
        .option('--chip <name>', 'chip profile: program unit and erased value')
        .option('--program-unit <n>', 'flash program unit the header must fill whole (default 32, the STM32H7 flash word)', parseSizeArg)
        .option('--vector-align <n>', 'VTOR alignment of the payload\'s vector table (default 128; STM32H7 needs 0x400)', parseSizeArg)
        .option('--json', 'print the fields and the report as JSON'),
    ),
  ).action(async (input, opts) => {
    const { runHeaderInject } = await import('../run/header-inject.ts');
    process.exitCode = runHeaderInject(input, opts);
  });

  mcubootOptions(
    layoutOptions(
      header
        .command('verify')
        .description('check every field of the headers in a file, stored vs computed; exit 1 on a mismatch')
        .argument('<file>', 'firmware file or flash dump; raw binaries as file.bin@ADDR')
        .option('--layout <name>', 'header layout (default: detected by its magic at slot or segment starts)')
        .option('--slot <name=addr+size>', 'slot (repeatable); each one the file holds data at is verified', collect)
        .option('--json', 'print one JSON result per header'),
    ),
  ).action(async (file, opts) => {
    const { runHeaderVerify } = await import('../run/header-verify.ts');
    process.exitCode = runHeaderVerify(file, opts);
  });

  mcubootOptions(
    layoutOptions(
      header
        .command('select')
        .description('which slot a bootloader following the layout boots from a flash dump, and why the others are rejected (exit 1: none)')
        .argument('<flashdump>', 'flash contents, e.g. dump.bin@0x08000000 (any input format)')
        .requiredOption('--layout <name>', 'header layout')
        .requiredOption('--slot <name=addr+size>', 'slot (repeatable, in order: A then B; MCUboot: primary then secondary)', collect)
        .option('--json', 'print the decision and every slot\'s verdict as JSON'),
    ),
  ).action(async (file, opts) => {
    const { runHeaderSelect } = await import('../run/header-select.ts');
    process.exitCode = runHeaderSelect(file, opts);
  });

  header
    .command('describe')
    .description('list the layouts, or explain one: byte map, options, CRC rules, bootloader checks')
    .argument('[layout]', 'layout name')
    .option('--c', 'print the C struct and constants for the bootloader side')
    .option('--json', 'print the description as JSON')
    .action(async (layout, opts) => {
      const { runHeaderDescribe } = await import('../run/header-describe.ts');
      process.exitCode = runHeaderDescribe(layout, opts);
    });
}
