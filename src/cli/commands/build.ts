/** `dfukit build RECIPE.yaml`: a conversion declared in a recipe file, for pipelines. */
import type { Command } from '@commander-js/extra-typings';

export const BUILD_HELP = `
A recipe declares what \`dfukit convert\` takes on its command line: inputs
(path, address, alt, header step), slots, chip, align, fill, mergeGap,
overwrite, target names, suffix IDs, several outputs (.dfu, .hex, .srec, .bin)
and a manifest. Paths are relative to the recipe file. Schema: schemas/recipe.schema.json. Example:

  # yaml-language-server: $schema=https://dfukit.dev/schemas/recipe.schema.json
  recipe: 1
  chip: stm32h745
  inputs:
    - path: build/cm7.elf
    - path: build/cm4.elf
    - path: option-bytes.bin
      address: 0x5200201C
      alt: 1
  targets:
    - { alt: 1, name: Option Bytes }
  suffix: { vid: 0x0483, pid: 0xDF11 }
  outputs:
    - path: out/fw.dfu
  manifest: out/fw.manifest.json

A/B headers: a \`slots:\` map names areas (\`cm7-a: 0x08020000+0x60000\`), and an
input's \`header:\` step (layout, slot, version, options; \`staging: true\` for a copy
linked for another slot) puts a dfukit-ab-v1, mcuboot or simple-crc header on that
input before alignment; see golden-images/h745-ab-headers/recipe.yaml.

A .hex, .srec or .bin output holds one address space: only for recipes with a
single target. Errors name the recipe file and line. Outputs are written to a
temporary file and renamed; inputs and the recipe are never overwritten. The
same recipe and inputs give the same bytes on every machine.
`;

export function registerBuild(program: Command): void {
  program
    .command('build')
    .description('build the outputs a recipe file declares (inputs, chip, alignment, suffix, outputs, manifest)')
    .argument('<recipe>', 'recipe file (YAML)')
    .option('--json', 'print the build report as JSON (schema: schemas/convert-report.schema.json)')
    .addHelpText('after', BUILD_HELP)
    .action(async (recipe, opts) => {
      const { runBuild } = await import('../run/build.ts');
      process.exitCode = runBuild(recipe, opts);
    });
}
