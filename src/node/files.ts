/**
 * File I/O for the CLI. Outputs are written to a temporary file beside the target and renamed over it,
 * so a crash never leaves a half-written output; an output path that names an input is refused, so an
 * input is never overwritten.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { FwError, EXIT_USAGE } from '../core/errors.ts';
import { splitAddressSuffix } from '../core/parse-number.ts';

export interface InputFile {
  /** The argument as the user typed it (with any `@ADDR`). */
  spec: string;
  path: string;
  /** From `file.bin@0x08000000`. */
  address?: number;
  bytes: Uint8Array;
}

/** Reads `path` or `path@ADDR`. Missing or unreadable files are FwErrors (exit 3), not stack traces. */
export function readInput(spec: string): InputFile {
  let { path, address } = splitAddressSuffix(spec);
  // A path that really ends in `@<number>` exists as given: prefer the file over the address reading.
  if (address !== undefined && fileExists(spec) && !fileExists(path)) {
    path = spec;
    address = undefined;
  }
  let bytes: Uint8Array;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new FwError('FILE_IS_DIRECTORY', `${path} is a directory, expected a firmware file`, { file: path });
    const buf = readFileSync(path);
    bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    if (e instanceof FwError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String((e as Error).message);
    throw new FwError('FILE_READ', `cannot read the file: ${why}`, { file: path });
  }
  return address === undefined ? { spec, path, bytes } : { spec, path, address, bytes };
}

function fileExists(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}

function sameFile(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return resolve(a) === resolve(b);
  }
}

/**
 * Writes `bytes` to `path` atomically: temp file in the same directory, fsync, rename.
 * `inputs` are the paths read by this command; writing over one of them is a usage error.
 */
export function writeOutputAtomic(path: string, bytes: Uint8Array | string, inputs: readonly string[] = []): void {
  for (const input of inputs) {
    if (sameFile(input, path)) {
      throw new FwError('OUTPUT_IS_INPUT', `refusing to write ${path}: it is an input of this command (inputs are never overwritten)`, { file: path }, EXIT_USAGE);
    }
  }
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', 0o644);
    const data = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    if (e instanceof FwError) throw e;
    throw new FwError('FILE_WRITE', `cannot write the file: ${(e as Error).message}`, { file: path });
  }
}
