#!/usr/bin/env node
// `npm run demo`: the main job end to end on the bundled example firmware (a dual-core STM32H745 build:
// CM7 image in bank 1 at 0x08000000, CM4 image in bank 2 at 0x08100000, both with .data stored in flash).
// Each step prints the command it runs, so the demo doubles as a tutorial.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const cli = join(root, 'bin', 'dfukit.js');
const ex = (f) => relative(process.cwd(), join(root, 'test', 'fixtures', 'elf', f));
const out = mkdtempSync(join(tmpdir(), 'dfukit-demo-'));

function step(title, args) {
  console.log(`\n== ${title}\n$ dfukit ${args.map((a) => (a.startsWith(out) ? a.replace(out, '$OUT') : a)).join(' ')}`);
  const r = spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`demo step failed with exit status ${r.status}`);
    rmSync(out, { recursive: true, force: true });
    process.exit(1);
  }
}

const hasConvert = /^\s+convert\b/m.test(spawnSync(process.execPath, [cli, '--help'], { encoding: 'utf8' }).stdout);
step('What is in the two ELF files (loaded by load address, as objcopy does)', ['inspect', ex('h745_cm7.elf'), ex('h745_cm4.elf')]);
if (hasConvert) {
  const dfu = join(out, 'h745.dfu');
  step('Convert both cores into one DfuSe file aligned to the H745 32-byte flash word', ['convert', '--chip', 'stm32h745', ex('h745_cm7.elf'), ex('h745_cm4.elf'), '-o', dfu]);
  step('Inspect the result', ['inspect', dfu]);
}
rmSync(out, { recursive: true, force: true });
console.log('\ndemo finished');
