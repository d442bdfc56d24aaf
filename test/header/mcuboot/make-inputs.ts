/**
 * Makes the inputs of the imgtool comparison deterministically (README.md beside this file):
 *   app.bin           65555 bytes: a Cortex-M vector table (SP 0x20020000, reset 0x08021235) and xorshift32 data
 *   app-reserved.bin  0x200 zero bytes (header space the firmware reserved) + app.bin = 66067 bytes
 * Neither size is a multiple of 32, both are above 64 KiB.
 *   node --import tsx test/header/mcuboot/make-inputs.ts      (re)write them; the test checks they are current
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const PAYLOAD_SIZE = 65555;
export const RESERVED = 0x200;

export function makeApp(): Uint8Array {
  const out = new Uint8Array(PAYLOAD_SIZE);
  let x = 0x2545f491;
  for (let i = 0; i < out.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 0x20020000, true);
  dv.setUint32(4, 0x08021235, true);
  return out;
}

export function makeReservedApp(): Uint8Array {
  const out = new Uint8Array(RESERVED + PAYLOAD_SIZE);
  out.set(makeApp(), RESERVED);
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(join(import.meta.dirname, 'app.bin'), makeApp());
  writeFileSync(join(import.meta.dirname, 'app-reserved.bin'), makeReservedApp());
  console.log('wrote test/header/mcuboot/app.bin, app-reserved.bin');
}
