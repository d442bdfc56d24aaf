/**
 * `dfukit option-bytes`: read the option bytes through the option-bytes alt and decode them with the profile's
 * field map; `--set FIELD=VALUE` computes the new bytes and shows the diff, and writes only with `--force`:
 * the ROM applies option bytes with a system reset (dfu-util `:will-reset`), so the device is found again by
 * its serial number and read back, and each changed field is checked.
 */
import { EXIT_DEVICE, EXIT_USAGE, FwError, isFwError } from '../../core/errors.ts';
import { readOptionBytes } from '../../dfu/quirks-identify.ts';
import { byteDiff, decodeOptionBytes, encodeOptionBytes, type DecodedOptionBytes } from '../../layout/option-bytes.ts';
import { selectOne } from '../../node/device-select.ts';
import { renderOptionByteDiff, renderOptionBytes } from '../render/option-bytes.ts';
import { prepareHandle, renderDeviceNotes, selectorsFrom, type DeviceCliOptions } from './flash.ts';

export interface OptionBytesCliOptions extends DeviceCliOptions {
  set?: string[];
  force?: true;
}

export async function runOptionBytes(opts: OptionBytesCliOptions): Promise<number> {
  const json = opts.json === true;
  const h = await selectOne(opts.device ?? 'usb', selectorsFrom(opts), { ...(opts.flashSize !== undefined ? { flashSize: opts.flashSize } : {}), ...(opts.bankMode !== undefined ? { bankMode: opts.bankMode } : {}) });
  const doc: Record<string, unknown> = { ok: true, device: h.description, serial: h.serial };
  try {
    const p = await prepareHandle(h, opts);
    const profile = p.profile;
    doc.chip = profile.displayName;
    doc.notes = p.notes;
    if (!json) process.stderr.write(renderDeviceNotes(p));
    const { regions } = await readOptionBytes(h.transport, profile, { clock: h.clock });
    const before = decodeOptionBytes(profile, regions);
    doc.optionBytes = before;
    const sets = opts.set ?? [];
    if (sets.length === 0) {
      process.stdout.write(json ? JSON.stringify(doc, null, 2) + '\n' : renderOptionBytes(before, h.description));
      return 0;
    }
    const enc = encodeOptionBytes(profile, regions, sets);
    const bytes = byteDiff(regions, enc.regions);
    doc.diff = { changes: enc.changes, bytes, warnings: enc.warnings };
    if (enc.changedRegions.length === 0) {
      doc.written = false;
      process.stdout.write(json ? JSON.stringify(doc, null, 2) + '\n' : `${renderOptionBytes(before, h.description)}nothing to change: the option bytes already hold ${sets.join(', ')}\n`);
      return 0;
    }
    if (!json) process.stdout.write(renderOptionByteDiff(enc.changes, bytes, enc.warnings));
    if (opts.force !== true) {
      doc.written = false;
      throw new FwError('OB_FORCE_REQUIRED', 'nothing written: writing option bytes needs --force (the device programs them and resets; check the diff above first)', {}, EXIT_USAGE);
    }
    // One region per write: the ROM resets after each, and is found again by its serial number.
    let t = h.transport;
    for (const i of enc.changedRegions) {
      const { session } = await readOptionBytes(t, profile, { clock: h.clock });
      const r = enc.regions[i]!;
      const outcome = await session.dfuse.writeOptionBytes(r.start, r.bytes);
      if (outcome === 'reset') t = await h.reopen();
    }
    doc.written = true;
    const after: DecodedOptionBytes = decodeOptionBytes(profile, (await readOptionBytes(t, profile, { clock: h.clock })).regions);
    doc.after = after;
    const wrong = enc.changes.filter((c) => after.fields.find((f) => f.name === c.field)?.raw !== c.toRaw);
    if (wrong.length > 0) {
      throw new FwError(
        'OB_VERIFY',
        `the device reset and came back, but reads ${wrong.map((c) => `${c.field} = ${after.fields.find((f) => f.name === c.field)?.text ?? '?'} (wrote ${c.to})`).join(', ')}`,
        {},
        EXIT_DEVICE,
      );
    }
    process.stdout.write(json ? JSON.stringify(doc, null, 2) + '\n' : `written; the device reset and came back (serial ${h.serial || '?'}); read back:\n${renderOptionBytes(after, h.description)}`);
    return 0;
  } catch (e) {
    if (json && isFwError(e)) process.stdout.write(JSON.stringify({ ...doc, ok: false, error: e.toJSON() }, null, 2) + '\n');
    throw e;
  } finally {
    h.close();
  }
}
