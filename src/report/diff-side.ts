/**
 * One side of `dfukit diff` from a file's bytes (platform-neutral, shared by the CLI and the web page): any
 * format decoded, the DfuSe target `alt` chosen (default alt 0, else the only target), raw binaries and plain
 * DFU payloads placed at their `@ADDR` or, with a warning, at the STM32 flash base.
 */
import { EXIT_USAGE, FwError } from '../core/errors.ts';
import { hex32 } from '../core/format.ts';
import type { Note } from '../core/notes.ts';
import { decodeFile } from '../formats/decode.ts';
import type { MemoryImage } from '../image/memory-image.ts';
import type { SideLabel } from '../verify/diff.ts';

/** The STM32 flash base: where a raw binary without @ADDR is taken to start (as `dfukit inspect` does). */
export const ASSUMED_BIN_ADDRESS = 0x08000000;

export interface DiffSide {
  readonly image: MemoryImage;
  readonly label: SideLabel;
  readonly notes: Note[];
}

export interface DiffSideInput {
  /** The name shown in the report (the argument as typed, or the dropped file's name). */
  name: string;
  bytes: Uint8Array;
  address?: number;
  alt?: number;
  lenient?: readonly string[];
}

export function diffSide(input: DiffSideInput, which: 'expected' | 'actual'): DiffSide {
  const { name, bytes, alt } = input;
  const notes: Note[] = [];
  try {
    // The address matters only to raw binaries and plain DFU payloads; the others carry their own.
    const sniff = decodeFile(bytes, {
      file: name,
      address: input.address ?? ASSUMED_BIN_ADDRESS,
      ...(input.lenient !== undefined && input.lenient.length > 0 ? { lenient: input.lenient } : {}),
    });
    const fmt = sniff.decoded.format;
    const raw = fmt === 'bin' || fmt === 'dfu';
    const address = raw ? (input.address ?? ASSUMED_BIN_ADDRESS) : undefined;
    if (raw && input.address === undefined) {
      notes.push({
        code: 'DIFF_ADDRESS_ASSUMED',
        severity: 'warning',
        message: `${which} ${name}: no load address given, taken as ${hex32(ASSUMED_BIN_ADDRESS)} (give one as ${name}@ADDR)`,
        location: { file: name },
      });
    } else if (!raw && input.address !== undefined) {
      notes.push({
        code: 'DIFF_ADDRESS_IGNORED',
        severity: 'warning',
        message: `${which} ${name}: @${hex32(input.address)} ignored: a ${fmt} file carries its own addresses`,
        location: { file: name },
      });
    }
    const targets = sniff.decoded.targets;
    const target = alt !== undefined ? targets.find((t) => t.alt === alt) : (targets.find((t) => t.alt === 0) ?? (targets.length === 1 ? targets[0] : undefined));
    if (target === undefined) {
      const have = targets.map((t) => t.alt).join(', ');
      throw new FwError('DIFF_NO_TARGET', `no DfuSe target for alt ${alt ?? 0} in the ${which} image (it has alt ${have || 'none'}): choose one with --alt`, { file: name }, EXIT_USAGE);
    }
    for (const n of sniff.decoded.notes) if (n.severity === 'warning' || n.leniency !== undefined) notes.push(n);
    return {
      image: target.image,
      label: {
        name,
        format: fmt,
        detectedBy: sniff.detection.reason,
        ...(fmt === 'dfuse' ? { alt: target.alt } : {}),
        ...(address !== undefined ? { address } : {}),
      },
      notes,
    };
  } catch (e) {
    throw e instanceof FwError ? e.withFile(name) : e;
  }
}
