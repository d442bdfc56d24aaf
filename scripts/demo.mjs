#!/usr/bin/env node
// `npm run demo`: the main job end to end on the bundled example firmware (a dual-core STM32H745 build:
// CM7 image in bank 1 at 0x08000000, CM4 image in bank 2 at 0x08100000, both with .data stored in flash).
// Inspect, convert to one DfuSe file, then flash it into the in-process STM32 ROM emulator whose flash
// already holds random "user data" in a sector the image does not touch, verify, and read the user data back
// to show it survived. Each step prints the command it runs, so the demo doubles as a tutorial.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const cli = join(root, 'bin', 'dfukit.js');
const ex = (f) => relative(process.cwd(), join(root, 'test', 'fixtures', 'elf', f));
const out = mkdtempSync(join(tmpdir(), 'dfukit-demo-'));

function step(title, args) {
  console.log(`\n== ${title}\n$ dfukit ${args.map((a) => a.replaceAll(out, '$OUT')).join(' ')}`);
  const r = spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`demo step failed with exit status ${r.status}`);
    rmSync(out, { recursive: true, force: true });
    process.exit(1);
  }
}

const help = spawnSync(process.execPath, [cli, '--help'], { encoding: 'utf8' }).stdout;
const has = (cmd) => new RegExp(`^\\s+${cmd}\\b`, 'm').test(help);

step('What is in the two ELF files (loaded by load address, as objcopy does)', ['inspect', ex('h745_cm7.elf'), ex('h745_cm4.elf')]);
if (has('convert')) {
  const dfu = join(out, 'h745.dfu');
  step('Convert both cores into one DfuSe file aligned to the H745 32-byte flash word', ['convert', '--chip', 'stm32h745', ex('h745_cm7.elf'), ex('h745_cm4.elf'), '-o', dfu]);
  step('Inspect the result', ['inspect', dfu]);

  if (has('flash')) {
    // The emulated device keeps its flash in a file (bank after bank, 2 MiB). Before the flash, bank 1 sector 3
    // (0x08060000, untouched by the image: it uses sectors 0-1 of each bank) holds 4 KiB of random user data.
    const flashFile = join(out, 'h745-flash.bin');
    const USER_ADDR = 0x08060000;
    const user = randomBytes(4096);
    const flash = Buffer.alloc(2 * 1024 * 1024, 0xff);
    user.copy(flash, USER_ADDR - 0x08000000);
    writeFileSync(flashFile, flash);
    console.log(`\n== A device whose flash already holds 4096 random bytes of user data at 0x${USER_ADDR.toString(16).toUpperCase().padStart(8, '0')} (bank 1 sector 3)`);
    const device = `emulator:stm32h745,flash=${flashFile}`;

    step('The plan, before any request: erase only the touched sectors, write, verify', ['flash', dfu, '--device', device, '--dry-run']);
    step('Flash it into the in-process STM32H745 ROM emulator (device time is virtual: the datasheet erase/program times)', ['flash', dfu, '--device', device]);
    const back = join(out, 'user-back.bin');
    step('Read the user data back', ['read', '--device', device, '--range', `0x${USER_ADDR.toString(16)}:4K`, '-o', back]);
    const same = Buffer.compare(readFileSync(back), user) === 0;
    console.log(same ? '\nuser data survived: the 4096 bytes read back are identical to the ones placed before the flash' : '\nUSER DATA LOST: the bytes read back differ');
    if (!same) {
      rmSync(out, { recursive: true, force: true });
      process.exit(1);
    }
  }
}
rmSync(out, { recursive: true, force: true });
console.log('\ndemo finished');
