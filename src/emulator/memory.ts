/**
 * The memory map the ROM serves over DFU, and strict NOR-flash rules.
 *
 * Regions: main flash (one region per bank, real geometry from the resolved profile: the ROM's layout string
 * may describe the whole die, see quirk h7-rom-layout-reports-die-size), RAM (the profile's regions), system
 * memory (read-only; the bootloader ID byte at `bootloader.idAddress`), option bytes (factory image with the
 * RDP byte, option-bytes.ts), OTP (NOR, never erasable), Device Feature (plain bytes), and the flash size
 * register (read-only, KiB). Every non-flash alt's layout-string segments are mapped too, so an address a
 * ROM string names (H7A3 `/0x1FF8000/`) exists.
 *
 * NOR rules (RM0090 / RM0433 "Flash program and erase operations"): an erase sets a whole sector to the erased
 * value; programming can only clear bits of erased bytes. ECC flash (H7, L4, G4: `partialUnit: 'drop'`)
 * programs whole flash words once per erase; byte-programmable flash (F4, F7: `keep`) programs any byte once.
 */
import { FwError } from '../core/errors.ts';
import { hex32 } from '../core/format.ts';
import { alignDown } from '../core/range.ts';
import type { DfuStatusName } from '../dfu/constants.ts';
import type { MemoryKind } from '../layout/chip-schema.ts';
import type { FlashSector } from '../layout/chips.ts';
import { parseLayoutString } from '../layout/layout-string.ts';
import { optionByteLayout, rdpByteFor, rdpLevelOf, type OptionByteLayout, type RdpLevel } from './option-bytes.ts';
import type { PartialUnitMode, ProgramOverProgrammed, ResolvedChip } from './types.ts';

export type RegionKind = 'flash' | 'ram' | 'system-memory' | 'option-bytes' | 'otp' | 'device-feature' | 'device-info' | 'other';

export interface Region {
  readonly kind: RegionKind;
  readonly name: string;
  readonly start: number;
  readonly end: number;
  readonly data: Uint8Array;
  /** Flash bank number (flash regions). */
  readonly bank?: number;
}

const ALT_KIND_TO_REGION: Record<string, RegionKind> = {
  'option-bytes': 'option-bytes',
  otp: 'otp',
  'device-feature': 'device-feature',
  other: 'other',
};

function memoryKindToRegion(kind: MemoryKind): RegionKind | undefined {
  switch (kind) {
    case 'system-memory':
    case 'option-bytes':
    case 'otp':
    case 'device-feature':
    case 'other':
      return kind;
    case 'flash-alias':
      return undefined; // the boot alias is a view of flash, not something DFU addresses
  }
}

export class MemoryMap {
  readonly regions: Region[] = [];
  readonly flashRegions: Region[] = [];
  readonly erased: number;
  private readonly ob: OptionByteLayout;
  /** The option-byte region holding RDP (the first group of the option-bytes alt's string). */
  readonly rdpRegion: Region | undefined;
  private readonly obFactory = new Map<Region, Uint8Array>();

  constructor(
    readonly chip: ResolvedChip,
    opts: { flash?: Uint8Array | undefined; bootloaderId: number },
  ) {
    this.erased = chip.erasedValue;
    for (const b of chip.banks) {
      const r: Region = { kind: 'flash', name: `flash bank ${b.bank}`, start: b.start, end: b.end, data: new Uint8Array(b.size).fill(this.erased), bank: b.bank };
      this.regions.push(r);
      this.flashRegions.push(r);
    }
    if (opts.flash !== undefined) {
      if (opts.flash.length > chip.flashSize) {
        throw new FwError('EMULATOR_FLASH_SIZE', `initial flash content is ${opts.flash.length} bytes; ${chip.displayName} has ${chip.flashSize}`);
      }
      let off = 0;
      for (const r of this.flashRegions) {
        const part = opts.flash.subarray(off, off + r.data.length);
        r.data.set(part);
        off += r.data.length;
      }
    }
    for (const m of chip.ram) this.regions.push({ kind: 'ram', name: m.name, start: m.start, end: m.start + m.size, data: new Uint8Array(m.size) });
    for (const m of chip.memories) {
      const kind = memoryKindToRegion(m.kind);
      if (kind === undefined) continue;
      const fillValue = kind === 'otp' ? this.erased : kind === 'system-memory' ? 0x00 : kind === 'device-feature' ? 0x00 : 0xff;
      this.regions.push({ kind, name: m.name, start: m.start, end: m.start + m.size, data: new Uint8Array(m.size).fill(fillValue) });
    }
    // Segments of non-flash alts that no region of their kind covers (H7A3 strings name 0x01FF8000, 0x01FF7000).
    let obFirst: number | undefined;
    for (const a of [...chip.dfu.alts].sort((x, y) => x.alt - y.alt)) {
      const kind = ALT_KIND_TO_REGION[a.kind];
      if (kind === undefined) continue;
      const layout = parseLayoutString(a.layout);
      if (kind === 'option-bytes' && obFirst === undefined) obFirst = layout.segments[0]?.start;
      for (const s of layout.segments) {
        const covered = this.regions.some((r) => r.kind === kind && r.start <= s.start && s.end <= r.end);
        if (covered) continue;
        const fillValue = kind === 'otp' ? this.erased : kind === 'option-bytes' ? 0xff : 0x00;
        this.regions.push({ kind, name: `${layout.name} (alt ${a.alt} string)`, start: s.start, end: s.end, data: new Uint8Array(s.end - s.start).fill(fillValue) });
      }
    }
    // Option bytes: factory images.
    this.ob = optionByteLayout(chip.profile);
    const obRegions = this.regions.filter((r) => r.kind === 'option-bytes');
    for (const r of obRegions) {
      const img = this.ob.image(r.data.length);
      r.data.set(img);
      this.obFactory.set(r, img);
    }
    this.rdpRegion = obRegions.find((r) => r.start === obFirst) ?? [...obRegions].sort((a, b) => a.start - b.start)[0];
    // Bootloader ID byte and flash size register.
    this.placeReadOnly(chip.bootloader.idAddress, Uint8Array.of(opts.bootloaderId), 'bootloader ID');
    if (chip.bootloader.flashSizeRegister !== undefined) {
      const kib = chip.flashSize / 1024;
      this.placeReadOnly(chip.bootloader.flashSizeRegister, Uint8Array.of(kib & 0xff, (kib >> 8) & 0xff), 'flash size register');
    }
    this.regions.sort((a, b) => a.start - b.start || a.end - a.start - (b.end - b.start));
  }

  private placeReadOnly(addr: number, bytes: Uint8Array, name: string): void {
    const r = this.smallest(addr, undefined);
    if (r !== undefined && addr + bytes.length <= r.end) r.data.set(bytes, addr - r.start);
    else this.regions.push({ kind: 'device-info', name, start: addr, end: addr + bytes.length, data: bytes.slice() });
  }

  /** The smallest region containing `addr` (memories may nest), among `kinds` when given. */
  smallest(addr: number, kinds: ReadonlySet<RegionKind> | undefined): Region | undefined {
    let best: Region | undefined;
    for (const r of this.regions) {
      if (addr < r.start || addr >= r.end) continue;
      if (kinds !== undefined && !kinds.has(r.kind)) continue;
      if (best === undefined || r.end - r.start < best.end - best.start) best = r;
    }
    return best;
  }

  /**
   * Splits [addr, addr+length) into pieces, each inside one region (of `kinds` when given), following
   * adjacent regions. Returns the pieces covered from `addr` on, stopping at the first unmapped byte.
   */
  pieces(addr: number, length: number, kinds: ReadonlySet<RegionKind> | undefined): { region: Region; start: number; end: number }[] {
    const out: { region: Region; start: number; end: number }[] = [];
    let cursor = addr;
    const end = addr + length;
    while (cursor < end) {
      const r = this.smallest(cursor, kinds);
      if (r === undefined) break;
      // A nested region that starts inside [cursor, r.end) ends this piece early (F72x OTP inside system memory).
      let pieceEnd = Math.min(end, r.end);
      for (const o of this.regions) {
        if (o !== r && o.start > cursor && o.start < pieceEnd && o.end - o.start < r.end - r.start && (kinds === undefined || kinds.has(o.kind))) pieceEnd = o.start;
      }
      out.push({ region: r, start: cursor, end: pieceEnd });
      cursor = pieceEnd;
    }
    return out;
  }

  /** Backdoor read of mapped bytes; throws on an unmapped byte. */
  read(addr: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    let done = 0;
    for (const p of this.pieces(addr, length, undefined)) {
      out.set(p.region.data.subarray(p.start - p.region.start, p.end - p.region.start), p.start - addr);
      done = p.end - addr;
    }
    if (done < length) throw new FwError('EMULATOR_UNMAPPED', `no memory at ${hex32(addr + done)} on ${this.chip.displayName}`, { address: addr + done });
    return out;
  }

  /** Backdoor raw write; returns the flash pieces written (for write-through). Throws on an unmapped byte. */
  write(addr: number, bytes: Uint8Array): { start: number; end: number }[] {
    const pieces = this.pieces(addr, bytes.length, undefined);
    const covered = pieces.length === 0 ? 0 : pieces[pieces.length - 1]!.end - addr;
    if (covered < bytes.length) throw new FwError('EMULATOR_UNMAPPED', `no memory at ${hex32(addr + covered)} on ${this.chip.displayName}`, { address: addr + covered });
    const flash: { start: number; end: number }[] = [];
    for (const p of pieces) {
      p.region.data.set(bytes.subarray(p.start - addr, p.end - addr), p.start - p.region.start);
      if (p.region.kind === 'flash') flash.push({ start: p.start, end: p.end });
    }
    return flash;
  }

  flashRegionOf(addr: number): Region | undefined {
    return this.flashRegions.find((r) => addr >= r.start && addr < r.end);
  }

  eraseSector(sector: FlashSector): void {
    const r = this.flashRegionOf(sector.start)!;
    r.data.fill(this.erased, sector.start - r.start, sector.end - r.start);
  }

  readFlash(): Uint8Array {
    const out = new Uint8Array(this.flashRegions.reduce((n, r) => n + r.data.length, 0));
    let off = 0;
    for (const r of this.flashRegions) {
      out.set(r.data, off);
      off += r.data.length;
    }
    return out;
  }

  get rdpLevel(): RdpLevel {
    const r = this.rdpRegion;
    if (r === undefined) return 0;
    return rdpLevelOf(r.data[this.ob.rdpOffset]!);
  }

  setRdpLevel(level: RdpLevel): void {
    const r = this.rdpRegion;
    if (r === undefined) throw new FwError('EMULATOR_NO_OPTION_BYTES', `${this.chip.displayName}: no option-byte region to hold RDP`);
    const b = rdpByteFor(level);
    r.data[this.ob.rdpOffset] = b;
    if (this.ob.rdpComplementOffset !== undefined && this.ob.rdpComplementOffset < r.data.length) r.data[this.ob.rdpComplementOffset] = ~b & 0xff;
  }

  /** Factory option bytes (RDP level 0), as after a read-unprotect. */
  resetOptionBytes(): void {
    for (const [r, img] of this.obFactory) r.data.set(img);
  }
}

export interface ProgramParams {
  readonly unit: number;
  readonly partial: PartialUnitMode;
  readonly over: ProgramOverProgrammed;
  readonly erased: number;
  /** An injected failure inside this write. */
  readonly failAt?: { address: number; status: 'errPROG' | 'errVERIFY' | 'errWRITE' } | undefined;
  /** Write-protected program unit (by its address): errWRITE. */
  readonly isProtected?: ((addr: number) => boolean) | undefined;
  /** Program unit (by its address) whose programming is silently lost (fault `program-drop`): counted, not stored. */
  readonly isDropped?: ((addr: number) => boolean) | undefined;
}

export interface ProgramResult {
  status: DfuStatusName;
  /** Program units programmed (for timing). */
  units: number;
  /** Ranges whose stored bytes changed, for write-through. */
  runs: { start: number; end: number }[];
  /** Bytes not programmed because their program unit was only partly covered. */
  lostBytes: number;
  /** Address of the unit that stopped the write. */
  stoppedAt?: number;
}

/**
 * Programs `data` at `addr` into a NOR region (flash or OTP), unit by unit in address order, as a ROM's
 * flash driver does: a failing unit stops the write, units before it stay programmed.
 */
export function programNor(region: Region, addr: number, data: Uint8Array, p: ProgramParams): ProgramResult {
  const end = addr + data.length;
  const res: ProgramResult = { status: 'OK', units: 0, runs: [], lostBytes: 0 };
  const mem = region.data;
  const base = region.start;
  const addRun = (s: number, e: number): void => {
    const last = res.runs[res.runs.length - 1];
    if (last !== undefined && last.end === s) last.end = e;
    else res.runs.push({ start: s, end: e });
  };
  for (let u = alignDown(addr - base, p.unit) + base; u < end; u += p.unit) {
    const cs = Math.max(u, addr);
    const ce = Math.min(u + p.unit, end);
    const full = cs === u && ce === u + p.unit;
    if (!full && p.partial === 'drop') {
      res.lostBytes += ce - cs;
      continue;
    }
    if (p.isProtected?.(u) === true) return { ...res, status: 'errWRITE', stoppedAt: u };
    if (p.isDropped?.(u) === true) {
      res.units++;
      continue;
    }
    const fail = p.failAt !== undefined && p.failAt.address >= cs && p.failAt.address < ce ? p.failAt : undefined;
    if (fail !== undefined && fail.status !== 'errVERIFY') return { ...res, status: fail.status, stoppedAt: u };
    // Erased check: the whole flash word on ECC flash, the bytes written on byte-programmable flash.
    const checkFrom = p.partial === 'drop' ? u : cs;
    const checkTo = p.partial === 'drop' ? u + p.unit : ce;
    let conflict = false;
    for (let a = checkFrom; a < checkTo; a++) {
      if (mem[a - base] !== p.erased) {
        conflict = true;
        break;
      }
    }
    if (conflict && p.over === 'error') return { ...res, status: 'errCHECK_ERASED', stoppedAt: u };
    for (let a = cs; a < ce; a++) {
      const old = mem[a - base]!;
      let v = data[a - addr]!;
      if (p.over === 'and') v &= old;
      if (fail !== undefined && a === fail.address) v &= v - 1; // stuck-at-0 bit: the lowest set bit reads back cleared
      mem[a - base] = v;
    }
    addRun(cs, ce);
    res.units++;
    if (fail !== undefined) res.status = 'errVERIFY';
  }
  return res;
}
