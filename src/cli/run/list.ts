/**
 * `dfukit list`: every DFU device the device option and selectors name (USB by default; `--device emulator:...`
 * works too), each described from the device itself (USB identity and bcdDevice from its descriptors, the DFU
 * functional descriptor, the layout strings of every alternate setting parsed into segments, the flash map) and
 * matched against the chip profiles. Human table or `--json` (schemas/list-report.schema.json).
 */
import { formatRange } from '../../core/format.ts';
import { describeDevice, type DeviceDescription } from '../../dfu/quirks-identify.ts';
import type { MemoryLayout } from '../../layout/layout-string.ts';
import { selectDevices } from '../../node/device-select.ts';
import type { ListDevice, ListReport } from '../render/list.ts';
import { selectorsFrom, type DeviceCliOptions } from './flash.ts';

const hex4 = (n: number): string => n.toString(16).padStart(4, '0');

function altKind(name: string): ListDevice['alts'][number]['kind'] {
  if (/flash/i.test(name)) return 'flash';
  if (/option/i.test(name)) return 'option-bytes';
  if (/otp/i.test(name)) return 'otp';
  if (/feature/i.test(name)) return 'device-feature';
  return 'other';
}

function layoutJson(l: MemoryLayout): NonNullable<ListDevice["alts"][number]["layout"]> {
  return {
    name: l.name,
    segments: l.segments.map((s) => ({ start: s.start, end: s.end, sectorCount: s.sectorCount, sectorSize: s.sectorSize, type: s.type, readable: s.readable, erasable: s.erasable, writable: s.writable })),
    leniencies: [...l.leniencies],
  };
}

/** The report entry for one described device. */
export function listEntry(d: DeviceDescription, where: { source: ListDevice['source']; path?: string }): ListDevice {
  const f = d.functional;
  const flash = d.flashAlt === undefined ? undefined : d.alts.find((a) => a.alt === d.flashAlt)?.layout;
  const candidates = new Set(d.profiles);
  return {
    source: where.source,
    ...(where.path !== undefined ? { path: where.path } : {}),
    serial: d.serial ?? null,
    vendorId: hex4(d.vendorId),
    productId: hex4(d.productId),
    manufacturer: d.manufacturer ?? null,
    product: d.product ?? null,
    bcdDevice: d.bcdDevice === undefined ? null : `0x${d.bcdDevice.toString(16).toUpperCase().padStart(4, '0')}`,
    dfu:
      f === undefined
        ? null
        : {
            version: `0x${f.bcdDFUVersion.toString(16).toUpperCase().padStart(4, '0')}`,
            dfuse: f.bcdDFUVersion === 0x011a,
            transferSize: f.wTransferSize,
            detachTimeoutMs: f.wDetachTimeOut,
            canDownload: f.canDownload,
            canUpload: f.canUpload,
            manifestationTolerant: f.manifestationTolerant,
            willDetach: f.willDetach,
          },
    interfaceNumber: d.interfaceNumber,
    alts: d.alts.map((a) => ({ alt: a.alt, name: a.name, kind: altKind(a.name), ...(a.layout !== undefined ? { layout: layoutJson(a.layout) } : {}), ...(a.parseError !== undefined ? { error: a.parseError } : {}) })),
    flash: flash === undefined ? null : { alt: d.flashAlt!, bytes: flash.segments.reduce((n, s) => n + (s.end - s.start), 0), segments: layoutJson(flash).segments },
    chips: {
      identified: d.profiles.length === 1 ? d.profiles[0]! : null,
      candidates: [...candidates],
      matches: d.matches
        .filter((m) => candidates.has(m.profile.profile) && (m.exact || m.differences.every((x) => x.documented)))
        .map((m) => ({
          profile: m.profile.profile,
          chip: m.profile.displayName,
          flashSize: m.profile.flashSize,
          bankMode: m.profile.bankMode,
          exact: m.exact,
          score: m.score,
          differences: m.differences.map((x) => ({ kind: x.kind, alt: x.alt, message: x.message, documented: x.documented, ...(x.quirk !== undefined ? { quirk: x.quirk } : {}) })),
        })),
    },
  };
}

function kib(n: number): string {
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n / (1 << 20)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} B`;
}

function access(s: { readable: boolean; erasable: boolean; writable: boolean }): string {
  return [s.readable ? 'read' : '', s.erasable ? 'erase' : '', s.writable ? 'write' : ''].filter((x) => x !== '').join('/') || 'none';
}

export function renderList(r: ListReport): string {
  const out: string[] = [];
  out.push(r.devices.length === 0 ? 'no DFU device found' : `${r.devices.length} DFU device(s)`);
  r.devices.forEach((d, i) => {
    out.push('');
    const who = [d.manufacturer, d.product].filter((x) => x !== null).map((x) => JSON.stringify(x)).join(' ');
    out.push(`[${i + 1}] ${d.vendorId}:${d.productId}  serial ${d.serial ?? '(none)'}  bcdDevice ${d.bcdDevice ?? '?'}  ${who}  (${d.source}${d.path !== undefined ? ` ${d.path}` : ''})`);
    if (d.error !== undefined) {
      out.push(`    error  ${d.error}`);
      return;
    }
    if (d.dfu !== null) {
      const attrs = [d.dfu.canDownload ? 'download' : '', d.dfu.canUpload ? 'upload' : '', d.dfu.willDetach ? 'will-detach' : '', d.dfu.manifestationTolerant ? 'manifestation-tolerant' : 'manifestation-intolerant'].filter((x) => x !== '');
      out.push(`    dfu    ${d.dfu.dfuse ? 'DfuSe' : 'DFU'} (bcdDFUVersion ${d.dfu.version}), wTransferSize ${d.dfu.transferSize}, ${attrs.join(', ')}, detach timeout ${d.dfu.detachTimeoutMs} ms`);
    } else out.push('    dfu    no functional descriptor');
    for (const a of d.alts) {
      out.push(`    alt ${a.alt}  ${JSON.stringify(a.name)}${a.error !== undefined ? `  (not a DfuSe layout: ${a.error})` : ''}`);
      for (const s of a.layout?.segments ?? []) out.push(`           ${formatRange(s.start, s.end)}  ${s.sectorCount} x ${kib(s.sectorSize)} '${s.type}' ${access(s)}`);
    }
    if (d.flash !== null) out.push(`    flash  alt ${d.flash.alt}: ${kib(d.flash.bytes)} in ${d.flash.segments.reduce((n, s) => n + s.sectorCount, 0)} sector(s)`);
    const c = d.chips;
    if (c.identified !== null) out.push(`    chip   ${c.identified}`);
    else if (c.candidates.length > 1) out.push(`    chip   one of ${c.candidates.join(', ')}: the DFU interface cannot tell them apart (flash and erase need --chip)`);
    else out.push('    chip   no profile fits (name it with --chip)');
    for (const m of c.matches.slice(0, 6)) {
      const mode = m.bankMode === 'dual' ? ', dual-bank' : '';
      out.push(`           ${m.chip} (${m.profile}${mode}) ${m.exact ? 'exact' : m.differences.map((x) => `${x.quirk ?? x.kind}`).join(', ')}`);
    }
  });
  if (r.unopenable.length > 0) {
    out.push('');
    for (const u of r.unopenable) out.push(`seen but not opened: ${u.vendorId}:${u.productId} at ${u.path}: ${u.hint} (${u.error})`);
  }
  return out.join('\n') + '\n';
}

export interface ListCliOptions extends Pick<DeviceCliOptions, 'device' | 'serial' | 'path' | 'vid' | 'pid' | 'json'> {}

export async function runList(opts: ListCliOptions): Promise<number> {
  const { handles, unopenable } = await selectDevices(opts.device ?? 'usb', selectorsFrom(opts));
  const devices: ListDevice[] = [];
  for (const h of handles) {
    const where = { source: h.source, ...(h.path !== undefined ? { path: h.path } : {}) };
    try {
      devices.push(listEntry(await describeDevice(h.transport), where));
    } catch (e) {
      devices.push({
        ...where,
        serial: h.serial === '' ? null : h.serial,
        vendorId: hex4(h.transport.vendorId),
        productId: hex4(h.transport.productId),
        manufacturer: null,
        product: null,
        bcdDevice: null,
        dfu: null,
        alts: [],
        flash: null,
        chips: { identified: null, candidates: [], matches: [] },
        error: e instanceof Error ? e.message : String(e),
      });
    } finally {
      try {
        await h.transport.close();
      } catch {
        // Listing only: a device gone meanwhile is reported by its entry.
      }
      h.close();
    }
  }
  const report: ListReport = {
    devices,
    unopenable: unopenable.map((u) => ({ path: u.path, vendorId: hex4(u.vendorId), productId: hex4(u.productId), error: u.error, hint: u.hint })),
  };
  process.stdout.write(opts.json === true ? JSON.stringify(report, null, 2) + '\n' : renderList(report));
  return 0;
}
