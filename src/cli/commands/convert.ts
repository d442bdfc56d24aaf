/** `dfukit convert INPUT... -o OUT`: any mix of firmware files into one aligned DfuSe file (or HEX, S-record, BIN). */
import { InvalidArgumentError, type Command } from '@commander-js/extra-typings';
import { parseNumber } from '../../core/parse-number.ts';
import { collect, parseSizeArg } from '../options.ts';

function parseBounded(what: string, max: number, example: string): (value: string) => number {
  return (value) => {
    const n = parseNumber(value);
    if (n === undefined || n > max) throw new InvalidArgumentError(`expected ${what} such as ${example}, got '${value}'`);
    return n;
  };
}

export const parseByteArg = parseBounded('a byte value', 0xff, '0xFF');
export const parseU16Arg = parseBounded('a 16-bit value', 0xffff, '0x0483');

export function parseBankMode(value: string): 'single' | 'dual' {
  if (value !== 'single' && value !== 'dual') throw new InvalidArgumentError(`expected single or dual, got '${value}'`);
  return value;
}

/** `ALT:FILE` for --alt. The alt is 0..255; the file may contain ':' and '@ADDR'. */
export function parseAltSpec(value: string, previous: { alt: number; spec: string }[] | undefined): { alt: number; spec: string }[] {
  const m = /^(\d{1,3}):(.+)$/.exec(value);
  const alt = m === null ? undefined : Number(m[1]);
  if (m === null || alt === undefined || alt > 255) throw new InvalidArgumentError(`expected ALT:FILE with ALT 0..255, e.g. 1:option-bytes.bin@0x1FFF0000, got '${value}'`);
  return [...(previous ?? []), { alt, spec: m[2]! }];
}

/** `NAME` (the flash target, alt 0) or `ALT:NAME` for --target-name. */
export function parseTargetName(value: string, previous: Map<number, string> | undefined): Map<number, string> {
  const m = /^(\d{1,3}):(.*)$/.exec(value);
  const alt = m === null ? 0 : Number(m[1]);
  const name = m === null ? value : m[2]!;
  if (alt > 255) throw new InvalidArgumentError(`alt ${alt} is above 255 in '${value}'`);
  if (name.length === 0 || name.length > 254) throw new InvalidArgumentError(`a target name has 1..254 characters, got '${name}'`);
  return new Map(previous ?? []).set(alt, name);
}

export const CONVERT_HELP = `
Inputs and targets:
  Every input goes into the internal-flash target (alt 0) unless given as --alt
  ALT:FILE. A .dfu input keeps its own targets, alt settings and names. Raw
  binaries need a load address: app.bin@0x08000000. Inputs that overlap are an
  error naming both; --overwrite lets later inputs win and reports each overlap.

Alignment and merging (internal-flash targets only):
  Each element starts and ends on a multiple of the program unit, padded with
  --fill (default 0xFF, the erased value). The unit comes from --align, else
  --chip, else 8 bytes (one 64-bit flash line). With --chip, elements in the
  same erase sector are merged into one, the gap written with the erased value:
  tools that erase per element (pydfu; dfu-util remembers only the last erased
  page) would otherwise erase the sector again and wipe the first element.
  --merge-gap N also merges across sectors.
  Without --chip, internal flash is taken to be 0x08000000..0x0FFFFFFF in alt 0
  (the STM32 flash window), and nothing is merged by sector.
  Option bytes, OTP, external memory and any data outside internal flash are
  left as they are (the last with a warning). Converting only .dfu files without
  --chip, --align or --merge-gap re-encodes them: elements stay as they are.

DFU suffix:
  --vid/--pid default to 0483:DF11 (the ST ROM bootloader), --bcd-device to
  0xFFFF (any release); a .dfu input's IDs are kept when not given. dfu-util
  refuses a file whose VID/PID match neither the device nor the 0xFFFF wildcard:
  give your device's IDs (or 0xFFFF) for a custom bootloader.

Output:
  The format follows the -o extension (.dfu, .hex, .srec/.s19/.s37, .bin) unless
  --to says. HEX, S-record and BIN hold one address space, so they take a single
  target. The file is written to a temporary file and renamed; an input is never
  overwritten. Same inputs and options give the same bytes on every machine.

Examples:
  dfukit convert app.elf -o app.dfu
  dfukit convert --chip stm32h745 cm7.elf cm4.elf -o fw.dfu --manifest fw.json
  dfukit convert --chip stm32h743 boot.bin@0x08000000 app.hex \\
      --alt 1:ob.bin@0x5200201C -o fw.dfu
  dfukit convert old.dfu -o same-elements.dfu --vid 0x1209 --pid 0xDB42
`;

export function registerConvert(program: Command): void {
  program
    .command('convert')
    .description('convert firmware files (ELF, Intel HEX, S-record, BIN@ADDR, DfuSe) into one DfuSe file aligned to the flash program unit, or into HEX/S-record/BIN')
    .argument('<inputs...>', 'input files, any mix of formats; raw binaries as file.bin@0x08000000')
    .requiredOption('-o, --output <file>', 'output file (.dfu, .hex, .srec, .bin)')
    .option('--to <format>', 'output format when the extension does not say: dfu, hex, srec, bin')
    .option('--alt <alt:file>', 'put FILE into DFU alternate setting ALT (option bytes, OTP, external memory); repeatable', parseAltSpec)
    .option('--chip <part>', 'chip profile (stm32h745, STM32H743ZI...): program unit, erase sectors, internal flash; see `dfukit chips`')
    .option('--flash-size <size>', 'flash size when the part name has no flash-size letter (2M, 0x100000)', parseSizeArg)
    .option('--bank-mode <mode>', 'single or dual, for parts whose bank organisation an option bit selects (F42x 1M, F76x, L47x, G47x); default: the factory setting', parseBankMode)
    .option('--align <bytes>', 'program unit in bytes, a power of two (default: the chip\'s, else 8); 1 turns alignment off', parseSizeArg)
    .option('--fill <byte>', 'pad byte (default: the erased value, 0xFF)', parseByteArg)
    .option('--merge-gap <bytes>', 'also merge elements of internal flash whose gap is at most this many bytes, across sectors', parseSizeArg)
    .option('--overwrite', 'let later inputs win where inputs overlap (each overlap is reported)')
    .option('--target-name <[alt:]name>', 'DfuSe target name (default "ST..."); ALT: names another target; repeatable', parseTargetName)
    .option('--vid <id>', 'suffix idVendor (default 0x0483)', parseU16Arg)
    .option('--pid <id>', 'suffix idProduct (default 0xDF11)', parseU16Arg)
    .option('--bcd-device <bcd>', 'suffix bcdDevice (default 0xFFFF: any release)', parseU16Arg)
    .option('--manifest <file>', 'write a JSON manifest: sha256/size of the output and every input, every element, pads and merges (schema: schemas/convert-manifest.schema.json)')
    .option('--lenient <name>', 'accept a named input divergence (repeatable; see `dfukit inspect`)', collect)
    .option('--json', 'print the conversion report as JSON (schema: schemas/convert-report.schema.json)')
    .addHelpText('after', CONVERT_HELP)
    .action(async (inputs, opts) => {
      const { runConvert } = await import('../run/convert.ts');
      process.exitCode = runConvert(inputs, opts);
    });
}
