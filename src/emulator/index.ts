/**
 * The STM32 ROM bootloader (system-memory DFU, ST DfuSe) as an in-process USB device behind `DfuTransport`.
 *
 *   const emu = createRomEmulator({ chip: 'stm32h743' });
 *   await flash(emu.device, plan, { sleep: emu.sleep });   // host stack waits on the virtual clock
 *   emu.clock.nowMs;                                         // device time the flash took
 *   emu.readMemory(0x08000000, 32);                          // what is in flash now
 *
 * What it models (each file cites its sources): USB descriptors and standard requests as the captured ROMs
 * answer them (descriptors.ts); the DFU 1.1 / AN3156 DfuSe state machine where operations run on the first
 * GETSTATUS after a DNLOAD and EP0 NAKs while they run (rom.ts); strict NOR flash with per-profile sectors,
 * program unit and erased value, option bytes with RDP, OTP, RAM and read-only system memory (memory.ts);
 * a virtual clock with datasheet erase/program times from the profile and `transferMs` per control transfer;
 * ROM quirks as switchable hooks (quirks.ts); injected faults; a log of every request and counters.
 *
 * Platform-neutral: no node:* imports, no console, no timers.
 */
import { resolveChip } from '../layout/chips.ts';
import type { DfuTransport } from '../dfu/transport.ts';
import { EmulatedRomDevice } from './device.ts';
import { RomCore } from './rom.ts';
import type { RomEmulator, RomEmulatorOptions } from './types.ts';

export { EMULATOR_QUIRKS, type EmulatorQuirkName } from './quirks.ts';
export { ROM_COMMANDS, USB_RESET_MS, MANIFEST_POLL_MS, WEDGED_POLL_MS } from './rom.ts';
export { ROM_MANUFACTURER, ROM_PRODUCT_CLASSIC, ROM_PRODUCT_FS, ROM_DFU_ATTRIBUTES, ROM_DETACH_TIMEOUT_MS, romIdentity, defaultSerial } from './descriptors.ts';
export { RDP_LEVEL0, RDP_LEVEL1, RDP_LEVEL2, rdpLevelOf } from './option-bytes.ts';
export type {
  Counters,
  EarlyPollMode,
  Fault,
  LeaveRecord,
  LogEntry,
  OperationRecord,
  PartialUnitMode,
  ProgramOverProgrammed,
  RawUsbPort,
  RequestResult,
  ResolvedChip,
  RomDescriptors,
  RomEmulator,
  RomEmulatorOptions,
  VirtualClock,
} from './types.ts';

export function createRomEmulator(opts: RomEmulatorOptions): RomEmulator {
  const chip =
    typeof opts.chip === 'string'
      ? resolveChip(opts.chip, {
          ...(opts.flashSize !== undefined ? { flashSize: opts.flashSize } : {}),
          ...(opts.bankMode !== undefined ? { bankMode: opts.bankMode } : {}),
        })
      : opts.chip;
  const core = new RomCore(chip, opts);
  let device: DfuTransport = new EmulatedRomDevice(core, core.generation);
  const d = core.descriptors;
  const descriptors = {
    device: d.device,
    configuration: d.configuration,
    functional: d.functional,
    strings: d.strings,
    bcdDevice: d.bcdDevice,
    bcdUSB: d.bcdUSB,
  };

  const emulator: RomEmulator = {
    chip,
    get device() {
      return device;
    },
    clock: core.clock,
    sleep: async (ms: number) => {
      core.clock.advance(Math.max(0, ms));
    },
    readMemory: (addr, length) => core.memory.read(addr, length),
    writeMemory: (addr, bytes) => {
      for (const r of core.memory.write(addr, bytes)) opts.onFlashWrite?.(r.start, core.memory.read(r.start, r.end - r.start));
    },
    readFlash: () => core.memory.readFlash(),
    log: core.log,
    counters: core.counters,
    reconnect: () => {
      core.reconnect();
      device = new EmulatedRomDevice(core, core.generation);
      return device;
    },
    get state() {
      return core.stateName();
    },
    get status() {
      return core.statusName();
    },
    get connected() {
      return core.connected;
    },
    get alt() {
      return core.alt;
    },
    get addressPointer() {
      return core.pointer;
    },
    get readProtection() {
      return core.rdpLevel();
    },
    setReadProtection: (level) => core.memory.setRdpLevel(level),
    get lastLeave() {
      return core.lastLeave;
    },
    quirks: core.quirks.names,
    bootloaderVersion: core.bootloaderId,
    descriptors,
    raw: {
      control: (setup, data) => core.control(setup, data),
      reset: () => core.busReset(),
    },
  };
  return emulator;
}
