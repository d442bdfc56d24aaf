/**
 * Browser-test plumbing for `dfukit web`: the server as a user starts it (`dfukit web --port 0`, URL read from
 * stdout), Debian's Chromium driven by playwright-core with the flags this machine needs and a new empty
 * profile, a recorder of every request the page makes (and every one its Content-Security-Policy blocked),
 * file drops, and reading the rendered tables back.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { chromium, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { buildTestUsb } from '../../scripts/build-web.ts';
import { ROOT } from '../../test/helpers/corpus.ts';
import { toolsOrSkip } from '../../test/helpers/peers.ts';

export const CHROMIUM = '/usr/bin/chromium';
/** As the machine notes say: without the background-networking flags Chromium calls Google's hosts at start-up. */
export const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
export const SCREENSHOTS = join(ROOT, 'test-peers', 'web', 'screenshots');

/** False when Chromium is installed, else a skip reason (under CI=true, where .ci/run installs it, a throw). */
export function chromiumOrSkip(): false | string {
  return toolsOrSkip('chromium');
}

export interface WebServer {
  readonly url: string;
  readonly origin: string;
  stop(): Promise<void>;
}

/** `dfukit web --port 0`, as built by `npm run build`; resolves with the URL it prints. */
export function startWebServer(args: string[] = []): Promise<WebServer> {
  const child: ChildProcess = spawn(process.execPath, [join(ROOT, 'bin', 'dfukit.js'), 'web', '--port', '0', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`dfukit web printed no URL within 15 s; stdout: ${out} stderr: ${err}`));
    }, 15_000);
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /serving (http:\/\/\S+)/.exec(out);
      if (m === null) return;
      clearTimeout(timer);
      const url = m[1]!;
      resolve({
        url,
        origin: new URL(url).origin,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`dfukit web exited with ${code}: ${err}`));
    });
  });
}

export interface Browser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** Debian's Chromium with a new empty profile (a temporary --user-data-dir), headless. */
export async function launch(options: BrowserContextOptions = {}): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'dfukit-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1400, height: 1000 },
    acceptDownloads: true,
    ...options,
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

let testUsbScript: Promise<string> | undefined;

/** web/src/test-usb.ts bundled once per process (it is never part of dist/web). */
export function testUsbScriptPath(): Promise<string> {
  testUsbScript ??= (async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'dfukit-test-usb-')), 'test-usb.js');
    await buildTestUsb(out);
    return out;
  })();
  return testUsbScript;
}

export interface RecordedRequest {
  readonly url: string;
  /** `request`: the browser sent it (or tried and failed); `csp`: the page's policy stopped it before it left. */
  readonly how: 'request' | 'csp';
  /** Recorded after the page said it was ready (body[data-ready]). */
  readonly afterReady: boolean;
}

/**
 * Records every request of a page: Playwright's request events, the DevTools protocol's Network.requestWillBeSent
 * (which also sees requests Playwright's routing does not), and Content-Security-Policy violations (a fetch the
 * policy blocks never becomes a request: it is an attempt all the same).
 */
export class NetworkRecorder {
  readonly requests: RecordedRequest[] = [];
  private ready = false;

  static async attach(page: Page): Promise<NetworkRecorder> {
    const rec = new NetworkRecorder();
    page.on('request', (r) => rec.add(r.url(), 'request'));
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    cdp.on('Network.requestWillBeSent', (e: { request: { url: string } }) => rec.add(e.request.url, 'request'));
    await page.exposeBinding('__dfukitCspViolation', (_source, url: string) => rec.add(url, 'csp'));
    // As source text: a function would be serialized as tsx compiled it, with helpers the page does not have.
    await page.addInitScript({ content: "document.addEventListener('securitypolicyviolation', (e) => window.__dfukitCspViolation(e.blockedURI || e.violatedDirective));" });
    return rec;
  }

  private add(url: string, how: RecordedRequest['how']): void {
    this.requests.push({ url, how, afterReady: this.ready });
  }

  /** Call once the page is loaded and ready: later network requests break the promise. */
  markReady(): void {
    this.ready = true;
  }

  /**
   * The no-network promise: no request (or blocked attempt) to any origin but `origin`, and after the page was ready
   * no network request at all (same-origin blob: URLs of downloads are not network). Throws listing the offenders.
   */
  assertNoNetwork(origin: string): void {
    const bad: string[] = [];
    for (const r of this.requests) {
      let u: URL;
      try {
        u = new URL(r.url);
      } catch {
        bad.push(`${r.how} ${r.url} (unparsable)`);
        continue;
      }
      const local = u.protocol === 'blob:' ? new URL(u.pathname).origin === origin : u.origin === origin;
      if (!local) bad.push(`${r.how === 'csp' ? 'blocked attempt' : 'request'} to ${r.url}${r.afterReady ? ' after load' : ''}`);
      else if (r.afterReady && u.protocol !== 'blob:' && u.protocol !== 'data:') bad.push(`request to ${r.url} after the page had loaded`);
    }
    if (bad.length > 0) throw new Error(`the page used the network: ${[...new Set(bad)].join('; ')}`);
  }
}

/** Opens the page (query string from `params`), waits until it says it is ready. */
export async function openPage(page: Page, server: WebServer, params: Record<string, string> = {}): Promise<void> {
  const q = new URLSearchParams(params).toString();
  await page.goto(server.url + (q !== '' ? `?${q}` : ''));
  await page.waitForSelector('body[data-ready]');
}

/** Drops files on the drop zone as a user's drag and drop does (a DataTransfer with File objects, dragenter/over/drop). */
export async function dropFiles(page: Page, paths: readonly string[]): Promise<void> {
  const files = paths.map((p) => ({ name: basename(p), b64: readFileSync(p).toString('base64') }));
  await page.evaluate(async (list) => {
    const dt = new DataTransfer();
    for (const f of list) {
      const bin = atob(f.b64);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      dt.items.add(new File([bytes], f.name));
    }
    const zone = document.getElementById('drop')!;
    for (const type of ['dragenter', 'dragover', 'drop']) zone.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, files);
  await waitIdle(page);
}

/** Chooses files through the file picker (the other way in). */
export async function chooseFiles(page: Page, paths: readonly string[]): Promise<void> {
  await page.setInputFiles('#file-input', [...paths]);
  await waitIdle(page);
}

export async function waitIdle(page: Page): Promise<void> {
  await page.waitForFunction(() => document.body.dataset.busy === undefined && document.querySelector('#view') !== null);
}

/** Selects a file card by name and the Inspect & doctor tab. */
export async function showFile(page: Page, name: string): Promise<void> {
  await page.click(`.file-card[data-name="${name}"] .file-name`);
}

export async function setChip(page: Page, chip: string): Promise<void> {
  await page.fill('#chip-input', chip);
  await page.dispatchEvent('#chip-input', 'change');
}

export async function tab(page: Page, name: 'file' | 'output' | 'compare'): Promise<void> {
  await page.click(`#tabs button[data-tab="${name}"]`);
}

/** The element tables as rendered: per row, alt and every `data-field` cell's text. */
export async function elementRows(page: Page): Promise<Record<string, string>[]> {
  return page.$$eval('.inspect table.elements tbody tr', (rows) =>
    rows.map((tr) => {
      const o: Record<string, string> = { alt: (tr as HTMLElement).dataset.alt ?? '' };
      for (const td of tr.querySelectorAll<HTMLElement>('td[data-field]')) o[td.dataset.field!] = td.textContent ?? '';
      return o;
    }),
  );
}

export interface RenderedFinding {
  code: string;
  severity: string;
  start?: string;
  end?: string;
  message: string;
  fix: string;
  where: string;
}

export async function findingRows(page: Page): Promise<RenderedFinding[]> {
  return page.$$eval('.findings li.finding', (items) =>
    items.map((li) => {
      const e = li as HTMLElement;
      return {
        code: e.dataset.code ?? '',
        severity: e.dataset.severity ?? '',
        ...(e.dataset.start !== undefined ? { start: e.dataset.start } : {}),
        ...(e.dataset.end !== undefined ? { end: e.dataset.end } : {}),
        message: e.querySelector('.message')?.textContent ?? '',
        fix: e.querySelector('.fix-text')?.textContent ?? '',
        where: e.querySelector('.where')?.textContent ?? '',
      };
    }),
  );
}

/** Clicks a button that starts a download; returns the downloaded bytes and the suggested name. */
export async function downloadFrom(page: Page, selector: string): Promise<{ name: string; bytes: Buffer }> {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
  const path = await dl.path();
  return { name: dl.suggestedFilename(), bytes: readFileSync(path) };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Fails the test on any uncaught error in the page. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Content Security Policy|Failed to fetch|ERR_/.test(m.text())) errors.push(m.text());
  });
  return errors;
}
