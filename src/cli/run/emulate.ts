/**
 * `dfukit emulate`: one EmulatorExport (node/usbip-emulator.ts) behind a UsbipServer (node/usbip-server.ts) on
 * a loopback address, until SIGINT/SIGTERM. stdout: `listening on HOST:PORT` first (scripts wait for it; port 0
 * binds a free one), then what is emulated; at the end the counts. The flash file and the log are written as
 * requests arrive, so a SIGKILL loses nothing that was acknowledged.
 */
import { hex32 } from '../../core/format.ts';
import { EmulatorExport } from '../../node/usbip-emulator.ts';
import { parseListenAddress, UsbipServer } from '../../node/usbip-server.ts';
import { parseNumber } from '../../core/parse-number.ts';

export interface EmulateCliOptions {
  chip: string;
  listen: string;
  flashSize?: number;
  bankMode?: 'single' | 'dual';
  romRev?: string;
  bootloader?: string;
  quirks?: string;
  flashIn?: string;
  flashOut?: string;
  log?: string;
  pollScale?: number;
  serial?: string;
  verbose?: true;
  json?: true;
}

export async function runEmulate(opts: EmulateCliOptions): Promise<number> {
  const { host, port } = parseListenAddress(opts.listen);
  const quirks = opts.quirks === undefined ? undefined : opts.quirks.trim() === 'profile' ? ('profile' as const) : opts.quirks.split(/[,+]/).map((q) => q.trim()).filter((q) => q !== '');
  const exp = new EmulatorExport({
    chip: opts.chip,
    ...(opts.flashSize !== undefined ? { flashSize: opts.flashSize } : {}),
    ...(opts.bankMode !== undefined ? { bankMode: opts.bankMode } : {}),
    ...(opts.romRev !== undefined ? { romRev: opts.romRev } : {}),
    ...(opts.bootloader !== undefined ? { bootloaderVersion: parseNumber(opts.bootloader) ?? opts.bootloader } : {}),
    ...(quirks !== undefined ? { quirks } : {}),
    ...(opts.pollScale !== undefined ? { pollTimeoutScale: opts.pollScale } : {}),
    ...(opts.flashIn !== undefined ? { flashIn: opts.flashIn } : {}),
    ...(opts.flashOut !== undefined ? { flashOut: opts.flashOut } : {}),
    ...(opts.log !== undefined ? { logFile: opts.log } : {}),
    ...(opts.serial !== undefined ? { serialNumber: opts.serial } : {}),
  });
  const json = opts.json === true;
  const say = (line: string): void => {
    if (opts.verbose === true) process.stderr.write(`dfukit emulate: ${line}\n`);
  };
  const server = new UsbipServer([exp], {
    onImport: (busid, devnum, peer) => say(`${peer} imported ${busid} (device ${devnum})`),
    onDetach: (busid, devnum) => {
      const l = exp.leaves.at(-1);
      say(`${busid} (device ${devnum}) left the bus${l !== undefined && l.enumeration === exp.enumeration ? `: jumped to ${hex32(l.address)} (vector ${l.vectorValid ? 'valid' : 'not valid'})` : ''}; enumerating again`);
    },
    onConnectionError: (peer, e) => process.stderr.write(`dfukit emulate: ${peer}: ${e.message}\n`),
  });
  // Signal handlers first: a script may stop the emulator the moment it reads the `listening on` line.
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    const stop = (s: NodeJS.Signals): void => {
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
      resolve(s);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  let handle;
  try {
    handle = await server.listen({ host, port });
  } catch (e) {
    exp.close();
    throw e;
  }
  const addr = handle.host.includes(':') ? `[${handle.host}]:${handle.port}` : `${handle.host}:${handle.port}`;
  const emu = exp.emulator;
  const what = {
    chip: exp.profile.profile,
    part: exp.profile.displayName,
    busid: exp.busid,
    bootloader: `0x${emu.bootloaderVersion.toString(16).toUpperCase()}`,
    quirks: emu.quirks,
    pollScale: opts.pollScale ?? 1,
    ...(exp.revisionNote !== undefined ? { romRev: exp.revisionNote } : {}),
    ...(opts.flashOut !== undefined ? { flashOut: opts.flashOut } : {}),
    ...(opts.log !== undefined ? { log: opts.log } : {}),
  };
  if (json) process.stdout.write(JSON.stringify({ listening: addr, host: handle.host, port: handle.port, url: `usbip://${addr}/${exp.busid}`, ...what }) + '\n');
  else {
    // One write (atomic on a pipe): scripts that wait for the first line find the rest with it.
    process.stdout.write(
      `listening on ${addr}\n` +
        `emulating ${exp.profile.displayName} (${exp.profile.profile}) ROM bootloader 0x${emu.bootloaderVersion.toString(16).toUpperCase()}${exp.revisionNote !== undefined ? ` [${exp.revisionNote}]` : ''}, ` +
        `quirks: ${emu.quirks.length > 0 ? emu.quirks.join(', ') : 'none'}; busid ${exp.busid}; poll scale ${opts.pollScale ?? 1}\n` +
        `  dfukit: --device usbip://${addr}   dfu-util/pyusb: DFUKIT_USBIP=${addr} LD_LIBRARY_PATH=<libusb-usbip dir>\n`,
    );
  }
  const signal = await stopped;
  await handle.close();
  exp.close();
  const c = emu.counters;
  const summary = { stopped: signal, requests: c.requests, sectorErases: c.sectorErases, massErases: c.massErases, bytesWritten: c.bytesWritten, bytesRead: c.bytesRead, enumerations: exp.enumeration, leaves: exp.leaves.map((l) => hex32(l.address)), deviceMs: emu.clock.nowMs };
  process.stdout.write(
    json
      ? JSON.stringify(summary) + '\n'
      : `stopped (${signal}): ${c.requests} requests, ${c.sectorErases} sector erases, ${c.bytesWritten} bytes written, ${c.bytesRead} bytes read, ${exp.leaves.length} leaves${exp.leaves.length > 0 ? ` (${summary.leaves.join(', ')})` : ''}, device time ${emu.clock.nowMs} ms\n`,
  );
  return 0;
}
