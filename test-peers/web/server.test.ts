/**
 * `dfukit web` as a server and as a builder: loopback by default, the URL on stdout, only the built files (no
 * listing, no path outside the folder, GET and HEAD only), and `--build-dir` copies exactly dist/web.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { listFiles } from '../../src/node/web-server.ts';
import { dfukit } from '../../test/helpers/cli.ts';
import { ROOT } from '../../test/helpers/corpus.ts';
import { startWebServer, type WebServer } from './helpers.ts';

const DIST = join(ROOT, 'dist', 'web');

function raw(url: string, method: string, path: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = request({ host: u.hostname, port: u.port, method, path }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('dfukit web: the server', () => {
  let server: WebServer;
  const tmp = mkdtempSync(join(tmpdir(), 'dfukit-web-server-'));
  before(async () => {
    server = await startWebServer();
  });
  after(async () => {
    await server?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('serves the built page on 127.0.0.1', async () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const index = await raw(server.url, 'GET', '/');
    assert.equal(index.status, 200);
    assert.equal(index.type, 'text/html; charset=utf-8');
    assert.equal(index.body, readFileSync(join(DIST, 'index.html'), 'utf8'));
    const js = await raw(server.url, 'GET', '/app.js');
    assert.equal(js.status, 200);
    assert.equal(js.type, 'text/javascript; charset=utf-8');
    assert.equal((await raw(server.url, 'HEAD', '/app.css')).status, 200);
  });

  test('nothing but the built files: no traversal, no dot files, no listing, GET/HEAD only', async () => {
    for (const p of ['/../package.json', '/%2e%2e/package.json', '/..%2fpackage.json', '/nope.js', '/.hidden', '/%00']) {
      assert.equal((await raw(server.url, 'GET', p)).status, 404, p);
    }
    assert.equal((await raw(server.url, 'POST', '/')).status, 405);
  });

  test('the test-only WebUSB stand-in is not part of the page', () => {
    assert.deepEqual(listFiles(DIST), ['app.css', 'app.js', 'index.html']);
    assert.ok(!readFileSync(join(DIST, 'app.js'), 'utf8').includes('__dfukitTestUsb'));
  });

  test('--build-dir copies the page for a static host', () => {
    const out = join(tmp, 'site');
    const r = dfukit(['web', '--build-dir', out, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { files: string[] };
    assert.deepEqual(report.files, listFiles(DIST));
    for (const f of report.files) assert.ok(readFileSync(join(out, f)).equals(readFileSync(join(DIST, f))), f);
  });

  test('usage errors: a port out of range, --build-dir with --port', () => {
    assert.equal(dfukit(['web', '--port', '70000']).status, 2);
    assert.equal(dfukit(['web', '--build-dir', join(tmp, 'x'), '--port', '1']).status, 2);
  });

  test('a port in use is a clear error, not a stack trace', async () => {
    const port = new URL(server.url).port;
    const r = dfukit(['web', '--port', port]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /port \d+ on 127\.0\.0\.1 is in use: choose another with --port N/);
  });
});
