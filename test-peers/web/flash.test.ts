/**
 * Flashing from the page through WebUSB, with a test-only `navigator.usb` whose device is the STM32 ROM emulator
 * (web/src/test-usb.ts, injected before the page's code; the page itself is the one `dfukit web` serves). The page
 * plans, erases, writes, verifies and reports per phase as `dfukit flash` does; the emulator's flash afterwards
 * holds exactly the bytes of `dfukit convert --chip stm32h745 -o x.bin`. And the browser's own failures are
 * explained: no WebUSB, a cancelled chooser, access denied (Windows driver, Linux udev), a busy interface.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { dfukit } from '../../test/helpers/cli.ts';
import { fixturePath } from '../../test/helpers/corpus.ts';
import { chromiumOrSkip, dropFiles, launch, NetworkRecorder, openPage, screenshot, startWebServer, tab, testUsbScriptPath, watchErrors, type Browser, type WebServer } from './helpers.ts';

const skip = chromiumOrSkip();
const tmp = mkdtempSync(join(tmpdir(), 'dfukit-web-flash-'));
const CM7 = fixturePath('elf', 'h745_cm7.elf');
const CM4 = fixturePath('elf', 'h745_cm4.elf');
const WINDOWS_UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';
const LINUX_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';

/** The emulator's whole flash (bank after bank), read outside the page's code. */
async function readFlash(page: Page): Promise<Buffer> {
  const b64 = await page.evaluate(() => {
    const t = (window as unknown as { __dfukitTestUsb: { emulator: { readFlash(): Uint8Array } } }).__dfukitTestUsb;
    const b = t.emulator.readFlash();
    let s = '';
    for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
    return btoa(s);
  });
  return Buffer.from(b64, 'base64');
}

describe('dfukit web: flashing over (emulated) WebUSB', { skip }, () => {
  let server: WebServer;
  let browser: Browser;

  before(async () => {
    server = await startWebServer();
    browser = await launch({ bypassCSP: true });
    await browser.context.addInitScript({ path: await testUsbScriptPath() });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  async function newPage(params: Record<string, string>): Promise<Page> {
    const page = await browser.context.newPage();
    await openPage(page, server, params);
    return page;
  }

  test('H745: connect (its layout fits H743/H745/H750: the page asks), flash both cores with verify, read back = `dfukit convert` .bin', async () => {
    const page = await newPage({ 'test-usb': 'stm32h745' });
    const rec = await NetworkRecorder.attach(page);
    const errors = watchErrors(page);
    rec.markReady();
    await dropFiles(page, [CM7, CM4]);
    await tab(page, 'output');
    await page.click('#connect');
    // No chip chosen, and the ROM's layout strings are the same on H743, H745 and H750: the page asks which.
    await page.waitForSelector('.device .problem[data-code="CHIP_AMBIGUOUS"]');
    assert.equal(await page.$eval('.device', (e) => (e as HTMLElement).dataset.profiles), 'stm32h743 stm32h745 stm32h750');
    assert.equal(await page.$eval('.device', (e) => (e as HTMLElement).dataset.usbId), '0483:DF11');
    assert.equal(await page.isEnabled('#flash'), false);
    await page.click('button[data-choose-chip="stm32h745"]');
    assert.equal(await page.inputValue('#chip-input'), 'stm32h745');
    await page.click('#flash');
    await page.waitForSelector('.flash-done', { timeout: 120_000 });
    const phases = await page.$$eval('#progress .phase', (p) => p.map((x) => `${(x as HTMLElement).dataset.phase}:${(x as HTMLElement).dataset.state}`));
    assert.deepEqual(phases, ['erase:done', 'write:done', 'verify:done']);
    const done = await page.$eval('.flash-done', (e) => ({ bytes: Number((e as HTMLElement).dataset.bytes), verified: Number((e as HTMLElement).dataset.verified) }));
    const plan = JSON.parse(dfukit(['flash', CM7, CM4, '--chip', 'stm32h745', '--dry-run', '--json']).stdout) as { plan: { counts: { bytes: number } } };
    assert.equal(done.verified, plan.plan.counts.bytes, 'every byte of the plan read back');
    assert.ok(done.bytes > 0 && done.bytes <= done.verified);
    await screenshot(page, 'flash-done');

    // The emulator's flash, read outside the page, against the CLI's conversion of the same files.
    const out = join(tmp, 'both.bin');
    const r = dfukit(['convert', CM7, CM4, '--chip', 'stm32h745', '-o', out]);
    assert.equal(r.status, 0, r.stderr);
    const expected = readFileSync(out);
    const flash = await readFlash(page);
    assert.equal(flash.length, 0x200000);
    assert.ok(flash.subarray(0, expected.length).equals(expected), 'flash differs from the .bin of `dfukit convert`');
    assert.ok(flash.subarray(expected.length).every((b) => b === 0xff), 'flash written past the image');
    rec.assertNoNetwork(server.origin);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('F722: the chip comes from the device; the flash equals `dfukit convert` .bin', async () => {
    const f722 = fixturePath('elf', 'f722.elf');
    const page = await newPage({ 'test-usb': 'stm32f722' });
    await dropFiles(page, [f722]);
    await tab(page, 'output');
    await page.click('#connect');
    await page.waitForSelector('.device');
    assert.equal(await page.inputValue('#chip-input'), 'stm32f722');
    await page.click('#flash');
    await page.waitForSelector('.flash-done', { timeout: 120_000 });
    const out = join(tmp, 'f722.bin');
    assert.equal(dfukit(['convert', f722, '--chip', 'stm32f722', '-o', out]).status, 0);
    const expected = readFileSync(out);
    const flash = await readFlash(page);
    assert.ok(flash.subarray(0, expected.length).equals(expected), 'flash differs from the .bin of `dfukit convert`');
    assert.ok(flash.subarray(expected.length).every((b) => b === 0xff));
    await page.close();
  });

  test('leave: the device jumps to the CM7 vector table and disconnects, and the page says so', async () => {
    const page = await newPage({ 'test-usb': 'stm32h745', chip: 'stm32h745' });
    await dropFiles(page, [CM7]);
    await tab(page, 'output');
    await page.check('input[data-setting="leave"]');
    await page.click('#connect');
    await page.waitForSelector('.device');
    await page.click('#flash');
    await page.waitForSelector('.flash-done', { timeout: 120_000 });
    assert.match(await page.textContent('.flash-done') ?? '', /jumped to 0x08000000/);
    const leave = await page.evaluate(() => (window as unknown as { __dfukitTestUsb: { emulator: { lastLeave?: { address: number; vectorValid: boolean } } } }).__dfukitTestUsb.emulator.lastLeave);
    assert.deepEqual(leave && { address: leave.address, vectorValid: leave.vectorValid }, { address: 0x08000000, vectorValid: true });
    await page.close();
  });

  test('a device that vanishes mid-write: the page names the operation and address, and says to flash again', async () => {
    const page = await newPage({ 'test-usb': 'stm32h745', chip: 'stm32h745', 'test-usb-disconnect-at': '120' });
    await dropFiles(page, [CM7]);
    await tab(page, 'output');
    await page.click('#connect');
    await page.waitForSelector('.device');
    await page.click('#flash');
    const el = await page.waitForSelector('#flash-result .problem', { timeout: 120_000 });
    assert.equal(await el.getAttribute('data-code'), 'DFU_DISCONNECTED');
    const text = (await el.textContent()) ?? '';
    assert.match(text, /write at 0x080[0-9A-F]{5}/);
    assert.match(text, /flash again/);
    assert.equal(await page.$eval('#progress .phase[data-phase="write"]', (e) => (e as HTMLElement).dataset.state), 'failed');
    assert.match(text, /The device disconnected during the flash/);
    await screenshot(page, 'flash-disconnected');
    await page.close();
  });

  test('a chip that is not the device\'s is flagged before flashing', async () => {
    const page = await newPage({ 'test-usb': 'stm32h745', chip: 'stm32f405' });
    await dropFiles(page, [CM7]);
    await tab(page, 'output');
    await page.click('#connect');
    await page.waitForSelector('.problem[data-code="CHIP_MISMATCH"]');
    await page.close();
  });

  async function problemFor(params: Record<string, string>, ua?: string): Promise<{ code: string; text: string; page: Page }> {
    const ctx = ua === undefined ? browser.context : undefined;
    const page = ctx !== undefined ? await ctx.newPage() : await browser.context.newPage();
    if (ua !== undefined) {
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('Emulation.setUserAgentOverride', { userAgent: ua });
    }
    await openPage(page, server, params);
    await dropFiles(page, [CM7]);
    await tab(page, 'output');
    await page.click('#connect');
    const el = await page.waitForSelector('#flash-result .problem');
    return { code: (await el.getAttribute('data-code')) ?? '', text: (await el.textContent()) ?? '', page };
  }

  test('access denied on Windows: the driver is named and Zadig/WinUSB is the way out', async () => {
    const p = await problemFor({ 'test-usb': 'stm32h745', 'test-usb-fail': 'access-denied', chip: 'stm32h745' }, WINDOWS_UA);
    assert.equal(p.code, 'WEBUSB_ACCESS_DENIED');
    assert.match(p.text, /WinUSB/);
    assert.match(p.text, /Zadig/);
    assert.match(p.text, /SecurityError: Access denied\./);
    await screenshot(p.page, 'flash-access-denied-windows');
    await p.page.close();
  });

  test('access denied on Linux: the udev rule to add', async () => {
    const p = await problemFor({ 'test-usb': 'stm32h745', 'test-usb-fail': 'access-denied', chip: 'stm32h745' }, LINUX_UA);
    assert.equal(p.code, 'WEBUSB_ACCESS_DENIED');
    assert.match(p.text, /ATTR\{idVendor\}=="0483", ATTR\{idProduct\}=="df11"/);
    await p.page.close();
  });

  test('a cancelled chooser and a busy interface are told apart', async () => {
    const a = await problemFor({ 'test-usb': 'stm32h745', 'test-usb-fail': 'none-selected' });
    assert.equal(a.code, 'WEBUSB_NO_DEVICE_CHOSEN');
    assert.match(a.text, /DFU mode/);
    await a.page.close();
    const b = await problemFor({ 'test-usb': 'stm32h745', 'test-usb-fail': 'busy' });
    assert.equal(b.code, 'WEBUSB_BUSY');
    assert.match(b.text, /Unable to claim interface/);
    await b.page.close();
  });

  test('a browser without WebUSB says so, and everything else still works', async () => {
    const page = await browser.context.newPage();
    // As source text: a function would be serialized as tsx compiled it, with helpers the page does not have.
    await page.addInitScript({ content: "Object.defineProperty(Navigator.prototype, 'usb', { configurable: true, get: () => undefined });" });
    await openPage(page, server, { chip: 'stm32h745' });
    await dropFiles(page, [CM7]);
    await tab(page, 'output');
    const text = await page.textContent('.flash-panel .problem[data-code="WEBUSB_UNSUPPORTED"]');
    assert.match(text ?? '', /Firefox and Safari do not implement it/);
    assert.equal(await page.isEnabled('#connect'), false);
    assert.equal(await page.isEnabled('button[data-convert="dfu"]'), true);
    await screenshot(page, 'flash-no-webusb');
    await page.close();
  });
});
