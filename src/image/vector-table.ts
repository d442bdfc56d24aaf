/**
 * The first two words of a Cortex-M vector table (ARMv7-M ARM B1.5.3): the initial main stack pointer and the
 * reset handler. At reset the core loads SP from word 0 and PC from word 1; the reset handler's bit 0 must be
 * set (Thumb state), or the core takes a HardFault on the first instruction.
 */
import type { MemoryImage } from './memory-image.ts';

export interface VectorTable {
  address: number;
  initialSp: number;
  resetHandler: number;
  thumb: boolean;
  plausible: boolean;
}

/** SRAM-class regions any STM32 may put its stack in: CCM/ITCM-data 0x10000000, SRAM/DTCM 0x2xxxxxxx, H7 D2/D3 SRAM 0x3xxxxxxx. */
function plausibleStack(sp: number): boolean {
  return sp >= 0x10000000 && sp <= 0x40000000 && sp % 4 === 0;
}

/** Vector table words at `address`, or undefined when the image does not hold 8 bytes there. */
export function readVectorTable(image: MemoryImage, address: number): VectorTable | undefined {
  if (!image.covers(address, address + 8)) return undefined;
  const w = image.read(address, 8);
  const dv = new DataView(w.buffer, w.byteOffset, 8);
  const initialSp = dv.getUint32(0, true);
  const resetHandler = dv.getUint32(4, true);
  const thumb = (resetHandler & 1) === 1;
  return { address, initialSp, resetHandler, thumb, plausible: plausibleStack(initialSp) && thumb && resetHandler !== 0xffffffff };
}
