/**
 * The no-network check has teeth: a fetch to another host, injected into the page served by `dfukit web`, makes it
 * fail, whether the page's Content-Security-Policy stops the fetch (then it is a blocked attempt) or is bypassed
 * (then it is a request that left). And the policy itself is in the served page.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fixturePath } from '../../test/helpers/corpus.ts';
import { chromiumOrSkip, downloadFrom, dropFiles, launch, NetworkRecorder, openPage, startWebServer, tab, type Browser, type WebServer } from './helpers.ts';

const skip = chromiumOrSkip();
/** TEST-NET-1 (RFC 5737): never routed, so nothing is really sent anywhere. */
const FOREIGN = 'http://192.0.2.1/collect';

describe('dfukit web: the no-network assertion fails when the page reaches another host', { skip }, () => {
  let server: WebServer;
  before(async () => {
    server = await startWebServer();
  });
  after(async () => {
    await server?.stop();
  });

  async function session(bypassCSP: boolean, inject: boolean): Promise<{ rec: NetworkRecorder; outcome: string; browser: Browser }> {
    const browser = await launch({ bypassCSP });
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    const rec = await NetworkRecorder.attach(page);
    await openPage(page, server, { chip: 'stm32h745' });
    rec.markReady();
    const outcome = inject ? await page.evaluate((u) => fetch(u, { mode: 'no-cors' }).then(() => 'sent', (e: Error) => `failed: ${e.message}`), FOREIGN) : 'none';
    // Let late events (the CSP report, the failed request) arrive.
    await page.waitForTimeout(300);
    return { rec, outcome, browser };
  }

  test('control: the page alone passes', async () => {
    const s = await session(true, false);
    s.rec.assertNoNetwork(server.origin);
    await s.browser.close();
  });

  test('with the policy bypassed, an injected fetch is a request to another host: the assertion fails', async () => {
    const s = await session(true, true);
    assert.ok(s.rec.requests.some((r) => r.url === FOREIGN && r.how === 'request'), JSON.stringify(s.rec.requests));
    assert.throws(() => s.rec.assertNoNetwork(server.origin), /request to http:\/\/192\.0\.2\.1\/collect/);
    await s.browser.close();
  });

  test('with the policy in force, the fetch is blocked before it leaves, and the attempt still fails the assertion', async () => {
    const s = await session(false, true);
    assert.match(s.outcome, /^failed/);
    assert.ok(!s.rec.requests.some((r) => r.url === FOREIGN && r.how === 'request'), 'the policy let the request out');
    assert.throws(() => s.rec.assertNoNetwork(server.origin), /blocked attempt to http:\/\/192\.0\.2\.1\/collect/);
    await s.browser.close();
  });

  test('a same-origin request after load also fails it (the page fetches nothing once loaded)', async () => {
    const s = await session(true, false);
    const page = s.browser.context.pages()[0]!;
    await page.evaluate((u) => fetch(u).then(() => 'ok', () => 'failed'), `${server.url}index.html`);
    await page.waitForTimeout(200);
    assert.throws(() => s.rec.assertNoNetwork(server.origin), /after the page had loaded/);
    await s.browser.close();
  });

  test('under its own policy the page works and breaks none of it: drop, map, doctor, download, compare', async () => {
    const browser = await launch();
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    const rec = await NetworkRecorder.attach(page);
    await openPage(page, server, { chip: 'stm32h745' });
    rec.markReady();
    await dropFiles(page, [fixturePath('elf', 'h745_cm7.elf'), fixturePath('elf', 'h745_cm4.elf')]);
    await page.waitForSelector('svg.map.overview .bank-boundary');
    await tab(page, 'output');
    const dl = await downloadFrom(page, 'button[data-convert="dfu"]');
    assert.ok(dl.bytes.length > 300_000);
    await tab(page, 'compare');
    await page.waitForSelector('section.diff');
    assert.deepEqual(rec.requests.filter((r) => r.how === 'csp'), [], 'the policy blocked something the page did');
    rec.assertNoNetwork(server.origin);
    await browser.close();
  });

  test('the served page carries the policy: connect-src \'none\', scripts and styles from itself only', async () => {
    const html = await (await fetch(server.url)).text();
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1] ?? '';
    for (const d of ["default-src 'none'", "connect-src 'none'", "script-src 'self'", "style-src 'self'"]) assert.ok(csp.includes(d), `${d} in ${csp}`);
  });
});
