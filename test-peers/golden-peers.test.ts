/**
 * Every golden image checked by tools nobody on the project wrote (peers.md):
 * - `dfu-suffix -c` (dfu-util 0.11): suffix signature, bLength and CRC;
 * - `fwupdtool firmware-parse FILE dfuse` (structure, DFUImageSize) and `firmware-export FILE dfuse`, whose
 *   element addresses and bytes must equal ours (rc 0 alone proves little: fwupd skips some checks);
 * - `dfuse-pack FILE` (dfu-util's Python parser, which slices by dwTargetSize): no PARSE/CRC ERROR;
 * - srecord 1.64: the internal-flash content of each .dfu against a reference made by
 *   `srec_cat IN -fill 0xFF -within IN -range-padding UNIT`, IN being the recipe's alt-0 inputs converted by
 *   peers (ELF by arm-none-eabi-objcopy -O ihex, BIN by srec_cat -Binary -offset). srec_cat pads every range
 *   to the unit but does not merge ranges that share an erase sector, while we do (so that per-element
 *   erasers cannot wipe a neighbour). So the comparison is: every reference byte equals ours at the same
 *   address, and every byte of ours the reference lacks is the erased value 0xFF inside an element that
 *   bridges reference ranges (a merge), never data of its own.
 * fwupdtool is always given the type argument: without it, it waits on a menu.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { planBuild } from '../src/cli/run/build.ts';
import { decodeDfuse } from '../src/formats/dfuse-file.ts';
import { decodeIhex } from '../src/formats/ihex.ts';
import { ROOT } from '../test/helpers/corpus.ts';
import { run, toolsOrSkip } from '../test/helpers/peers.ts';

const skip = toolsOrSkip('dfu-suffix', 'fwupdtool', 'dfuse-pack', 'srec_cat', 'srec_cmp', 'arm-none-eabi-objcopy');
const GOLDEN = join(ROOT, 'golden-images');
const CASES = readdirSync(GOLDEN, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(GOLDEN, d.name, 'recipe.yaml')))
  .map((d) => d.name)
  .sort();
const tmp = mkdtempSync(join(tmpdir(), 'dfukit-golden-peers-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

function ok(cmd: string, args: string[]): string {
  const r = run(cmd, args, { cwd: tmp });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** fwupdtool firmware-export: targets with their chunks (address, bytes). It omits zero-valued tags. */
function fwupdExport(file: string): { alt: number; name: string | undefined; chunks: { addr: number; data: Buffer }[] }[] {
  const xml = ok('fwupdtool', ['firmware-export', file, 'dfuse']);
  const num = (text: string, tag: string): number => {
    const m = new RegExp(`<${tag}>(0x[0-9a-f]+)</${tag}>`).exec(text);
    return m === null ? 0 : parseInt(m[1]!, 16);
  };
  return [...xml.matchAll(/<firmware>([\s\S]*?)<\/firmware>/g)].map((m) => {
    const body = m[1]!;
    return {
      alt: num(body, 'idx'),
      name: /<id>([^<]*)<\/id>/.exec(body)?.[1],
      chunks: [...body.matchAll(/<chunk>([\s\S]*?)<\/chunk>/g)].map((c) => ({
        addr: num(c[1]!, 'addr'),
        data: Buffer.from(/<data size="0x[0-9a-f]+">([^<]*)<\/data>/.exec(c[1]!)?.[1] ?? '', 'base64'),
      })),
    };
  });
}

describe('golden images against peer tools', { skip }, () => {
  for (const name of CASES) {
    describe(name, () => {
      const recipePath = relative(process.cwd(), join(GOLDEN, name, 'recipe.yaml'));
      const plan = skip === false ? planBuild(recipePath) : undefined;
      const dfus = (plan?.outputPaths ?? []).filter((p) => p.endsWith('.dfu')).map((p) => resolve(p));

      for (const file of dfus) {
        const label = relative(GOLDEN, file);
        test(`${label}: dfu-suffix -c accepts it`, () => {
          const out = ok('dfu-suffix', ['-c', file]);
          assert.match(out, /contains a DFU suffix/);
          assert.match(out, /BCD DFU:\s+0x011A/i);
        });

        test(`${label}: fwupdtool firmware-parse accepts it and firmware-export gives our elements`, () => {
          ok('fwupdtool', ['firmware-parse', file, 'dfuse']);
          const ours = decodeDfuse(new Uint8Array(readFileSync(file))).targets;
          const theirs = fwupdExport(file);
          assert.equal(theirs.length, ours.length, 'target count');
          ours.forEach((t, i) => {
            const th = theirs[i]!;
            assert.equal(th.alt, t.alt, `target ${i} alt`);
            assert.equal(th.name, t.name, `target ${i} name`);
            assert.deepEqual(
              th.chunks.map((c) => c.addr),
              t.image.segments.map((s) => s.addr),
              `target ${i} element addresses`,
            );
            t.image.segments.forEach((s, k) => assert.ok(th.chunks[k]!.data.equals(Buffer.from(s.data)), `target ${i} element ${k} bytes`));
          });
        });

        test(`${label}: dfuse-pack parses it without errors`, () => {
          const r = run(PYTHON, ['/usr/bin/dfuse-pack', file], { cwd: tmp });
          const out = r.stdout + r.stderr;
          assert.equal(r.status, 0, out);
          assert.doesNotMatch(out, /ERROR|Traceback/, out);
          const n = decodeDfuse(new Uint8Array(readFileSync(file))).dfuse.targets.reduce((k, t) => k + t.elements.length, 0);
          assert.equal((out.match(/^\s+\d+, address: 0x/gm) ?? []).length, n, out);
        });
      }

      const flashInputs = (plan?.recipe.inputs ?? []).filter((i) => (i.alt ?? 0) === 0);
      const reason = flashInputs.some((i) => i.path.endsWith('.dfu')) ? 'a .dfu input: srec_cat reads no DfuSe files' : false;
      for (const file of dfus) {
        test(`${relative(GOLDEN, file)}: flash content equals srec_cat -fill 0xFF -within IN -range-padding UNIT, plus erased-value merges`, { skip: reason }, () => {
          const unit = plan!.outcome.report.alignment.programUnit;
          const parts = flashInputs.map((input, k) => {
            const src = join(GOLDEN, name, input.path);
            const hex = join(tmp, `${name}-${k}.hex`);
            if (input.path.endsWith('.elf')) ok('arm-none-eabi-objcopy', ['-O', 'ihex', src, hex]);
            else if (input.address !== undefined) ok('srec_cat', [src, '-Binary', '-offset', `0x${input.address.toString(16)}`, '-o', hex, '-Intel']);
            else ok('srec_cat', [src, '-Intel', '-o', hex, '-Intel']);
            return hex;
          });
          const merged = join(tmp, `${name}-in.hex`);
          ok('srec_cat', [...parts.flatMap((p) => [p, '-Intel']), '-o', merged, '-Intel']);
          const refFile = join(tmp, `${name}-ref.hex`);
          ok('srec_cat', [merged, '-Intel', '-fill', '0xFF', '-within', merged, '-Intel', '-range-padding', String(unit), '-o', refFile, '-Intel']);
          const ref = decodeIhex(new Uint8Array(readFileSync(refFile))).targets[0]!.image;
          const ours = decodeDfuse(new Uint8Array(readFileSync(file))).targets.find((t) => t.alt === 0)!.image;
          // A/B headers (recipe header steps) are bytes no input holds: srec_cat cannot know them, so they are left
          // out of this comparison. `dfukit header verify` and the C reference consumer check them instead
          // (test/header, test-peers/header-consumer.test.ts).
          const headers = (plan!.outcome.report.headers ?? []).flatMap((h) => h.written);
          const inHeader = (a: number): boolean => headers.some((h) => a >= h.start && a < h.end);
          const masked = (img: typeof ours, start: number, end: number): Buffer => {
            const b = Buffer.from(img.read(start, end - start));
            for (let a = start; a < end; a++) if (inHeader(a)) b[a - start] = 0;
            return b;
          };

          for (const r of ref.ranges()) {
            assert.ok(ours.covers(r.start, r.end), `reference range 0x${r.start.toString(16)}..0x${r.end.toString(16)} is not in one of our elements`);
            assert.ok(masked(ours, r.start, r.end).equals(masked(ref, r.start, r.end)), `bytes differ in 0x${r.start.toString(16)}..`);
          }
          for (const s of ours.segments) {
            const inRef = ref.slice(s.addr, s.addr + s.data.length);
            assert.ok(!inRef.isEmpty, `element at 0x${s.addr.toString(16)} holds no reference data`);
            for (const g of inRef.gaps(s.addr, s.addr + s.data.length)) {
              if (headers.some((h) => g.start >= h.start && g.end <= h.end)) continue; // a header added in front of its payload
              const extra = s.data.subarray(g.start - s.addr, g.end - s.addr);
              assert.ok(extra.every((b) => b === 0xff), `0x${g.start.toString(16)}..0x${g.end.toString(16)}: bytes beyond the reference are not the erased value`);
              // A merge gap lies between two reference ranges of the same element: never at its start or end.
              assert.ok(g.start > s.addr && g.end < s.addr + s.data.length, `0x${g.start.toString(16)}: extra bytes at an element edge, not a merge`);
            }
          }
          for (const out of plan!.outputPaths.filter((p) => p.endsWith('.hex') || p.endsWith('.srec')).map((p) => resolve(p))) {
            // Our HEX/S-record outputs hold the same data as our .dfu (srec_cmp compares by address).
            const fmt = out.endsWith('.hex') ? '-Intel' : '-Motorola';
            const dfuHex = join(tmp, `${name}-${basename(file)}.hex`);
            // Elements as HEX through srec_cat, from the fwupd export of the .dfu (no dfukit code involved).
            const chunks = fwupdExport(file).find((t) => t.alt === 0)!.chunks;
            const bins = chunks.map((c, k) => {
              const p = join(tmp, `${name}-chunk${k}.bin`);
              writeFileSync(p, c.data);
              return [p, '-Binary', '-offset', `0x${c.addr.toString(16)}`];
            });
            ok('srec_cat', [...bins.flat(), '-o', dfuHex, '-Intel']);
            ok('srec_cmp', [dfuHex, '-Intel', out, fmt]);
          }
        });
      }
    });
  }
});
