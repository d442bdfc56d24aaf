/**
 * `dfukit unprotect --force`: DfuSe Read Unprotect (0x92, AN3156 §6.3). The ROM mass-erases the whole flash,
 * sets read protection back to level 0 and resets; dfukit finds the device again by its serial number and reads
 * the option bytes back to show the level. Refused without `--force`: everything in the flash is lost.
 */
import { EXIT_DEVICE, EXIT_USAGE, FwError, isFwError } from '../../core/errors.ts';
import { connect } from '../../dfu/operations.ts';
import { readOptionBytes } from '../../dfu/quirks-identify.ts';
import type { ChipProfile } from '../../layout/chip-types.ts';
import { decodeOptionBytes, type DecodedOptionBytes } from '../../layout/option-bytes.ts';
import type { DfuTransport } from '../../dfu/transport.ts';
import type { Clock } from '../../dfu/protocol.ts';
import { selectOne } from '../../node/device-select.ts';
import { prepareHandle, renderDeviceNotes, selectorsFrom, type DeviceCliOptions } from './flash.ts';

export interface UnprotectCliOptions extends DeviceCliOptions {
  force?: true;
}

async function rdpOf(t: DfuTransport, profile: ChipProfile, clock: Clock): Promise<DecodedOptionBytes | undefined> {
  if (profile.optionBytes === undefined) return undefined;
  return decodeOptionBytes(profile, (await readOptionBytes(t, profile, { clock })).regions);
}

export async function runUnprotect(opts: UnprotectCliOptions): Promise<number> {
  if (opts.force !== true) {
    throw new FwError(
      'UNPROTECT_FORCE_REQUIRED',
      'read-unprotect (DfuSe 0x92) mass-erases the whole flash and sets read protection to level 0: nothing was sent; add --force to do it',
      {},
      EXIT_USAGE,
    );
  }
  const json = opts.json === true;
  const h = await selectOne(opts.device ?? 'usb', selectorsFrom(opts), { ...(opts.flashSize !== undefined ? { flashSize: opts.flashSize } : {}), ...(opts.bankMode !== undefined ? { bankMode: opts.bankMode } : {}) });
  const doc: Record<string, unknown> = { ok: true, device: h.description, serial: h.serial };
  try {
    const p = await prepareHandle(h, opts);
    const profile = p.profile;
    doc.chip = profile.displayName;
    if (!json) process.stderr.write(renderDeviceNotes(p));
    const before = await rdpOf(h.transport, profile, h.clock);
    if (before?.rdp !== undefined) doc.before = { rdp: before.rdp.level };
    const s = await connect(h.transport, profile, { clock: h.clock });
    const outcome = await s.dfuse.readUnprotect();
    doc.outcome = outcome;
    // The ROM mass-erases (up to the profile's mass-erase time), resets and enumerates again.
    const t = await h.reopen(Math.max(60_000, 2 * (profile.timing.massEraseMs?.max ?? 30_000)));
    const after = await rdpOf(t, profile, h.clock);
    if (after?.rdp !== undefined) doc.after = { rdp: after.rdp.level };
    if (after?.rdp !== undefined && after.rdp.level !== 0) {
      throw new FwError('UNPROTECT_FAILED', `the device reset and came back with read protection level ${after.rdp.level} (RDP 0x${after.rdp.raw.toString(16).toUpperCase()})`, {}, EXIT_DEVICE);
    }
    const was = before?.rdp !== undefined ? `level ${before.rdp.level}` : 'unknown level';
    process.stdout.write(
      json
        ? JSON.stringify(doc, null, 2) + '\n'
        : `read-unprotect done on ${profile.displayName} (${h.description}): read protection ${was} -> ${after?.rdp !== undefined ? `level ${after.rdp.level}` : 'not read back (no option-byte map)'}; the flash was mass-erased; the device reset and came back (serial ${h.serial || '?'})\n`,
    );
    return 0;
  } catch (e) {
    if (json && isFwError(e)) process.stdout.write(JSON.stringify({ ...doc, ok: false, error: e.toJSON() }, null, 2) + '\n');
    throw e;
  } finally {
    h.close();
  }
}
