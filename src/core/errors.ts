/**
 * One error class for everything dfukit rejects. `code` is stable (tests and scripts match on it);
 * `location` says where in which input the problem is. The CLI maps `exitStatus` to the process exit code
 * (DESIGN.md "Conventions": 2 usage, 3 bad input, 4 device/transport).
 */
import { hex32 } from './format.ts';

export interface Location {
  /** Input file name as the user gave it. */
  file?: string;
  /** Byte offset in the file. */
  offset?: number;
  /** 1-based line number (text formats). */
  line?: number;
  /** 1-based column (text formats). */
  column?: number;
  /** Target memory address. */
  address?: number;
}

export type ExitStatus = 1 | 2 | 3 | 4;

/** Error categories by code prefix. Codes are UPPER_SNAKE, prefixed with the area that raised them. */
export const EXIT_USAGE: ExitStatus = 2;
export const EXIT_BAD_INPUT: ExitStatus = 3;
export const EXIT_DEVICE: ExitStatus = 4;

export class FwError extends Error {
  readonly code: string;
  readonly location: Location;
  readonly exitStatus: ExitStatus;

  constructor(code: string, message: string, location: Location = {}, exitStatus: ExitStatus = EXIT_BAD_INPUT) {
    super(message);
    this.name = 'FwError';
    this.code = code;
    this.location = location;
    this.exitStatus = exitStatus;
  }

  /** Same error, with the file name filled in where the raiser did not know it. */
  withFile(file: string): FwError {
    if (this.location.file !== undefined) return this;
    const e = new FwError(this.code, this.message, { ...this.location, file }, this.exitStatus);
    return e;
  }

  /** `file:line: message` or `file: offset 0x1a: message`, for humans. */
  format(): string {
    return `${formatLocation(this.location)}${this.message} [${this.code}]`;
  }

  toJSON(): { code: string; message: string; location: Location } {
    return { code: this.code, message: this.message, location: this.location };
  }
}

export function formatLocation(loc: Location): string {
  const parts: string[] = [];
  if (loc.file !== undefined) parts.push(loc.file);
  if (loc.line !== undefined) parts.push(loc.column !== undefined ? `line ${loc.line}:${loc.column}` : `line ${loc.line}`);
  if (loc.offset !== undefined) parts.push(`offset ${hex32(loc.offset)}`);
  if (loc.address !== undefined) parts.push(`addr ${hex32(loc.address)}`);
  return parts.length > 0 ? `${parts.join(', ')}: ` : '';
}

export function isFwError(e: unknown): e is FwError {
  return e instanceof FwError;
}
