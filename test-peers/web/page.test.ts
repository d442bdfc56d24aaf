/**
 * `dfukit web` in headless Chromium against the CLI: files dropped on the page (a real corpus file and the H745
 * fixtures) show the element table of `dfukit inspect --json` field by field and the findings of `doctor --json`;
 * the map puts the bank boundary and the data where the chip's geometry says; downloads from the page are the
 * bytes `dfukit convert` writes; the comparison is `dfukit diff --json`'s. The whole session is recorded: the page
 * makes no request to another origin, and none at all once loaded.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { formatSize, hex32 } from '../../src/core/format.ts';
import type { DoctorReport } from '../../src/doctor/report-schema.ts';
import type { InspectReport } from '../../src/formats/inspect-report.ts';
import type { DiffReport } from '../../src/verify/report-schema.ts';
import { dfukit } from '../../test/helpers/cli.ts';
import { corpusOrSkip, fixturePath } from '../../test/helpers/corpus.ts';
import {
  chooseFiles,
  chromiumOrSkip,
  downloadFrom,
  dropFiles,
  elementRows,
  findingRows,
  launch,
  NetworkRecorder,
  openPage,
  screenshot,
  setChip,
  showFile,
  startWebServer,
  tab,
  watchErrors,
  type Browser,
  type WebServer,
} from './helpers.ts';

const skip = chromiumOrSkip();
const corpus = corpusOrSkip();
const tmp = mkdtempSync(join(tmpdir(), 'dfukit-web-page-'));

const CM7 = fixturePath('elf', 'h745_cm7.elf');
const CM4 = fixturePath('elf', 'h745_cm4.elf');
const OPENMV = corpus.dir !== undefined ? join(corpus.dir, 'openmv__openmv', 'firmware', 'OPENMV4', 'firmware.dfu') : '';
const OPENMV_BIN = corpus.dir !== undefined ? join(corpus.dir, 'openmv__openmv', 'firmware', 'OPENMV4', 'firmware.bin') : '';
const FWUPD_DFUSE = corpus.dir !== undefined ? join(corpus.dir, 'fwupd__fwupd', 'data', 'tests', 'firmware.dfuse') : '';

/** The CLI run in the file's folder on its bare name, so reports name files as the page does (by name). */
function cliJson<T>(args: string[], ok: number[] = [0], cwd?: string): T {
  const r = dfukit(args, cwd !== undefined ? { cwd } : {});
  assert.ok(ok.includes(r.status ?? -1), `dfukit ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** The page's element table equals `dfukit inspect --json`, every target, every element, every field. */
async function assertInspectMatches(page: Page, file: string): Promise<InspectReport> {
  const [report] = cliJson<InspectReport[]>(['inspect', '--json', basename(file)], [0], dirname(file));
  const rows = await elementRows(page);
  const expected = report!.targets.flatMap((t) => t.elements.map((e) => ({ alt: t.alt, e })));
  assert.equal(rows.length, expected.length, `${basename(file)}: element rows`);
  expected.forEach(({ alt, e }, i) => {
    const row = rows[i]!;
    assert.equal(row.alt, String(alt), `row ${i} alt`);
    assert.equal(row.index, String(e.index), `row ${i} index`);
    assert.equal(row.address, hex32(e.address), `row ${i} address`);
    assert.equal(row.end, hex32(e.end), `row ${i} end`);
    assert.equal(row.size, formatSize(e.size), `row ${i} size`);
    assert.equal(row.crc32, hex32(e.crc32), `row ${i} crc32`);
    if (e.offset !== undefined) assert.equal(row.offset, hex32(e.offset), `row ${i} offset`);
    if (row.source !== undefined) assert.equal(row.source, e.source ?? '', `row ${i} source`);
  });
  const field = (f: string): Promise<string> => page.$eval(`.inspect [data-field="${f}"]`, (el) => el.textContent ?? '');
  assert.equal(await field('fileSize'), formatSize(report!.fileSize));
  assert.equal(await field('size'), formatSize(report!.size));
  assert.equal(await field('detectedBy'), report!.detectedBy);
  if (report!.entry !== undefined) assert.equal(await field('entry'), hex32(report!.entry));
  const notes = await page.$$eval('.inspect ul.notes li', (li) => li.map((x) => (x as HTMLElement).dataset.code ?? ''));
  assert.deepEqual(notes, report!.notes.map((n) => n.code));
  return report!;
}

/** The page's findings equal `dfukit doctor --json`: same order, code, severity, range, message and fix. */
async function assertDoctorMatches(page: Page, file: string, chip: string): Promise<DoctorReport> {
  const report = cliJson<DoctorReport>(['doctor', '--json', basename(file), '--chip', chip], [0, 1], dirname(file));
  const rows = await findingRows(page);
  assert.equal(rows.length, report.findings.length, `${basename(file)}: findings`);
  report.findings.forEach((f, i) => {
    const r = rows[i]!;
    assert.equal(r.code, f.code, `finding ${i}`);
    assert.equal(r.severity, f.severity, `finding ${i} ${f.code}`);
    assert.equal(r.start, f.start !== undefined ? hex32(f.start) : undefined, `finding ${i} ${f.code} start`);
    assert.equal(r.end, f.end !== undefined ? hex32(f.end) : undefined, `finding ${i} ${f.code} end`);
    assert.equal(r.message, f.message, `finding ${i} ${f.code} message`);
    assert.equal(r.fix, f.fix, `finding ${i} ${f.code} fix`);
  });
  const verdict = await page.$eval('.findings', (el) => ({ errors: (el as HTMLElement).dataset.errors, warnings: (el as HTMLElement).dataset.warnings }));
  assert.deepEqual(verdict, { errors: String(report.summary.errors), warnings: String(report.summary.warnings) });
  return report;
}

interface Box {
  x: number;
  width: number;
}

/** Screen x of the bank boundary line, and the overview's flash bar from its first to its last bank. */
async function overviewGeometry(page: Page, view: 'overview' | 'closeup' = 'overview'): Promise<{ bar: Box; boundary: number; boundaryAddress: string }> {
  return page.evaluate((v) => {
    const svg = document.querySelector(v === 'overview' ? 'svg.map.overview' : 'svg.map.closeup')!;
    const bars = [...svg.querySelectorAll('rect.flash-bar')].map((r) => r.getBoundingClientRect());
    const line = svg.querySelector(`.bank-boundary[data-view="${v}"] line`)!.getBoundingClientRect();
    const g = svg.querySelector(`.bank-boundary[data-view="${v}"]`) as SVGGElement;
    const x0 = bars.length > 0 ? Math.min(...bars.map((b) => b.left)) : 0;
    const x1 = bars.length > 0 ? Math.max(...bars.map((b) => b.right)) : 0;
    return { bar: { x: x0, width: x1 - x0 }, boundary: line.left + line.width / 2, boundaryAddress: g.dataset.address! };
  }, view);
}

async function dataRect(page: Page, start: string, view: 'overview' | 'closeup' = 'overview'): Promise<Box> {
  return page.$eval(`svg.map rect.data[data-view="${view}"][data-start="${start}"]`, (r) => {
    const b = r.getBoundingClientRect();
    return { x: b.left, width: b.width };
  });
}

describe('dfukit web: inspect, doctor, map, convert and diff in Chromium match the CLI', { skip }, () => {
  let server: WebServer;
  let browser: Browser;
  let page: Page;
  let rec: NetworkRecorder;
  let errors: string[];

  before(async () => {
    server = await startWebServer();
    // bypassCSP: the no-network check must see every request the page's code makes, not what the policy lets out.
    browser = await launch({ bypassCSP: true });
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    rec = await NetworkRecorder.attach(page);
    errors = watchErrors(page);
    await openPage(page, server, { chip: 'stm32h745' });
    rec.markReady();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('dfukit web prints the URL it serves on loopback', () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  test('H745 fixtures (dropped): element tables = inspect --json, findings = doctor --json', async () => {
    await dropFiles(page, [CM7, CM4]);
    await showFile(page, 'h745_cm7.elf');
    await assertInspectMatches(page, CM7);
    await assertDoctorMatches(page, CM7, 'stm32h745');
    await showFile(page, 'h745_cm4.elf');
    await assertInspectMatches(page, CM4);
    await assertDoctorMatches(page, CM4, 'stm32h745');
    await screenshot(page, 'inspect-h745-cm4');
  });

  test('H745 map: the bank boundary at 0x08100000 is halfway along the 2 MiB flash, and the CM4 image starts on it', async () => {
    await showFile(page, 'h745_cm4.elf');
    const g = await overviewGeometry(page);
    assert.equal(g.boundaryAddress, '0x08100000');
    // Two banks of 1 MiB: bank 2 starts at half the bar's width.
    assert.ok(Math.abs(g.boundary - (g.bar.x + g.bar.width / 2)) < 1.5, `boundary at ${g.boundary}, bar ${JSON.stringify(g.bar)}`);
    const cm4 = await dataRect(page, '0x08100000');
    assert.ok(Math.abs(cm4.x - g.boundary) < 2, `CM4 data starts at ${cm4.x}, boundary ${g.boundary}`);
    // Its width is its size to scale: 164068 of 2097152 bytes.
    assert.ok(Math.abs(cm4.width - (g.bar.width * 164068) / 0x200000) < 1.5, `CM4 width ${cm4.width}`);
    // The sectors it touches are the ones a flash erases.
    const touched = await page.$$eval('svg.map.overview rect.sector.touched', (r) => r.map((x) => `${(x as SVGElement).dataset.bank}/${(x as SVGElement).dataset.sector}`));
    assert.deepEqual(touched, ['2/0', '2/1']);
    // The element ends 4 bytes into a 32-byte flash word: the padding is on the map.
    assert.equal(await page.$$eval('svg.map.overview rect.pad', (r) => r.map((x) => (x as SVGElement).dataset.start).join()), '0x081280E4');
  });

  test('convert both H745 images: the .dfu, .hex and .bin downloads are the bytes `dfukit convert --chip stm32h745` writes', async () => {
    await tab(page, 'output');
    for (const fmt of ['dfu', 'hex', 'bin'] as const) {
      const out = join(tmp, `cli.${fmt}`);
      const r = dfukit(['convert', CM7, CM4, '--chip', 'stm32h745', '-o', out]);
      assert.equal(r.status, 0, r.stderr);
      const got = await downloadFrom(page, `button[data-convert="${fmt}"]`);
      assert.equal(got.name, `h745_cm7.${fmt}`);
      assert.ok(got.bytes.equals(readFileSync(out)), `.${fmt}: page ${got.bytes.length} bytes, CLI ${readFileSync(out).length}`);
    }
    const sha = await page.$eval('.convert-report [data-field="sha256"]', (e) => e.textContent);
    assert.match(sha ?? '', /^[0-9a-f]{64}$/);
    await screenshot(page, 'convert-flash-plan');
  });

  test('the flash plan shown is `dfukit flash --dry-run`: same sectors to erase and blocks to send', async () => {
    const cli = cliJson<{ plan: { erase: { sectors: { bank: number; sector: number }[] }; counts: { blocksToSend: number } } }>(['flash', CM7, CM4, '--chip', 'stm32h745', '--dry-run', '--json']);
    const plan = await page.$eval('.plan', (e) => ({ sectors: (e as HTMLElement).dataset.sectors, blocks: (e as HTMLElement).dataset.blocks }));
    assert.deepEqual(plan, { sectors: String(cli.plan.erase.sectors.length), blocks: String(cli.plan.counts.blocksToSend) });
  });

  test('compare two builds: the ranges and classes are those of `dfukit diff --json --chip stm32f722`', async () => {
    const base = fixturePath('diff', 'base.elf');
    const layout = fixturePath('diff', 'layout.elf');
    await setChip(page, 'stm32f722');
    await chooseFiles(page, [base, layout]);
    await tab(page, 'compare');
    await page.selectOption('#diff-expected', { label: 'base.elf' });
    await page.selectOption('#diff-actual', { label: 'layout.elf' });
    const cli = cliJson<DiffReport>(['diff', 'base.elf', 'layout.elf', '--chip', 'stm32f722', '--json'], [1], dirname(base));
    const rows = await page.$$eval('table.diff-ranges tbody tr', (tr) => tr.map((r) => ({ cls: (r as HTMLElement).dataset.class, start: (r as HTMLElement).dataset.start, range: r.querySelector('[data-field="range"]')?.textContent, summary: r.querySelector('[data-field="summary"]')?.textContent })));
    assert.equal(rows.length, cli.ranges.length);
    cli.ranges.forEach((r, i) => {
      assert.equal(rows[i]!.cls, r.class);
      assert.equal(rows[i]!.start, hex32(r.start));
      assert.equal(rows[i]!.range, `${hex32(r.start)}..${hex32(r.end)}`);
      assert.equal(rows[i]!.summary, r.summary);
    });
    assert.equal(await page.$eval('section.diff', (e) => (e as HTMLElement).dataset.equal), 'false');
    await screenshot(page, 'compare-builds');
  });

  test('Intel HEX and S-record fixtures (file picker): element tables and findings match the CLI', async () => {
    const hex = fixturePath('hex', 'sparse.hex');
    const srec = fixturePath('hex', 'sparse.srec');
    await setChip(page, 'stm32h743');
    await chooseFiles(page, [hex, srec]);
    await tab(page, 'file');
    for (const f of [hex, srec]) {
      await showFile(page, basename(f));
      await assertInspectMatches(page, f);
      await assertDoctorMatches(page, f, 'stm32h743');
    }
  });

  test('corpus: OpenMV4 firmware.dfu on STM32H743 matches inspect and doctor, and crosses the bank boundary on the map', { skip: corpus.skip }, async () => {
    await setChip(page, 'stm32h743');
    await dropFiles(page, [OPENMV]);
    await tab(page, 'file');
    await showFile(page, 'firmware.dfu');
    await assertInspectMatches(page, OPENMV);
    const doc = await assertDoctorMatches(page, OPENMV, 'stm32h743');
    assert.ok(doc.findings.some((f) => f.code === 'LAYOUT_BANK_CROSSING'));
    const g = await overviewGeometry(page);
    assert.equal(g.boundaryAddress, '0x08100000');
    assert.ok(Math.abs(g.boundary - (g.bar.x + g.bar.width / 2)) < 1.5);
    // The element 0x08040000..0x0818A484 straddles it: it starts 1/8 along the bar and ends past the boundary.
    const d = await dataRect(page, '0x08040000');
    assert.ok(Math.abs(d.x - (g.bar.x + g.bar.width / 8)) < 1.5, `data starts at ${d.x}`);
    assert.ok(d.x < g.boundary && d.x + d.width > g.boundary);
    // The close-up row spans the boundary too, and shows it where bank 1's share of the row ends.
    const c = await overviewGeometry(page, 'closeup');
    assert.equal(c.boundaryAddress, '0x08100000');
    const row = await page.$eval('svg.map.closeup g.group', (el) => {
      const b = el.querySelector('rect.sector')!.getBoundingClientRect();
      const last = [...el.querySelectorAll('rect.sector')].pop()!.getBoundingClientRect();
      return { x: b.left, width: last.right - b.left, start: (el as SVGGElement).dataset.start, end: (el as SVGGElement).dataset.end };
    });
    assert.deepEqual([row.start, row.end], ['0x08040000', '0x081A0000']);
    assert.ok(Math.abs(c.boundary - (row.x + (row.width * (0x08100000 - 0x08040000)) / (0x081a0000 - 0x08040000))) < 1.5);
    await screenshot(page, 'inspect-openmv-h743');
  });

  test('corpus: converting firmware.dfu in the page gives the bytes of `dfukit convert --chip stm32h743`', { skip: corpus.skip }, async () => {
    // Only firmware.dfu ticked (each click re-renders the list: look the boxes up again every time).
    for (const name of await page.$$eval('.file-card', (c) => c.map((x) => (x as HTMLElement).dataset.name!))) {
      const box = `.file-card[data-name="${name}"] input.use`;
      if ((await page.isChecked(box)) !== (name === 'firmware.dfu')) await page.click(box);
    }
    await tab(page, 'output');
    const out = join(tmp, 'openmv.dfu');
    const r = dfukit(['convert', OPENMV, '--chip', 'stm32h743', '-o', out]);
    assert.equal(r.status, 0, r.stderr);
    const got = await downloadFrom(page, 'button[data-convert="dfu"]');
    assert.ok(got.bytes.equals(readFileSync(out)), 'page and CLI .dfu differ');
  });

  test('corpus: a raw binary given its address equals the DfuSe file it was packed into', { skip: corpus.skip }, async () => {
    await dropFiles(page, [OPENMV_BIN]);
    await tab(page, 'file');
    await showFile(page, 'firmware.bin');
    await page.fill('#address', '0x08040000');
    await page.dispatchEvent('#address', 'change');
    assert.deepEqual(await elementRows(page).then((r) => r.map((x) => x.address)), ['0x08040000']);
    await tab(page, 'compare');
    await page.selectOption('#diff-expected', { label: 'firmware.dfu' });
    await page.selectOption('#diff-actual', { label: 'firmware.bin' });
    assert.equal(await page.$eval('section.diff', (e) => (e as HTMLElement).dataset.equal), 'true');
    const cli = cliJson<DiffReport>(['diff', OPENMV, `${OPENMV_BIN}@0x08040000`, '--json']);
    assert.equal(cli.equal, true);
  });

  test('corpus: a DfuSe file with two alt-0 targets and misaligned elements: errors listed and marked on the map', { skip: corpus.skip }, async () => {
    await dropFiles(page, [FWUPD_DFUSE]);
    await tab(page, 'file');
    await showFile(page, 'firmware.dfuse');
    await assertInspectMatches(page, FWUPD_DFUSE);
    const doc = await assertDoctorMatches(page, FWUPD_DFUSE, 'stm32h743');
    assert.ok(doc.summary.errors > 0);
    const marks = await page.$$eval('svg.map.overview g.finding-mark.error', (g) => g.map((x) => (x as SVGGElement).dataset.code));
    assert.ok(marks.includes('LAYOUT_ELEMENT_START_UNALIGNED'), marks.join());
    await screenshot(page, 'inspect-fwupd-errors');
  });

  test('no request left the page: nothing to another origin, nothing at all after it loaded; no page errors', () => {
    assert.ok(rec.requests.some((r) => r.url.startsWith(server.url) && !r.afterReady), `the recorder saw the page load: ${JSON.stringify(rec.requests)}`);
    if (process.env.DFUKIT_DEBUG_WEB === '1') console.log(JSON.stringify(rec.requests));
    rec.assertNoNetwork(server.origin);
    assert.deepEqual(errors, []);
  });
});
