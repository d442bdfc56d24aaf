/**
 * `dfukit web`: serve the built page (dist/web) until Ctrl-C, or copy it with --build-dir. The URL is the first
 * line on stdout, so scripts (and the browser tests) can read it.
 */
import { EXIT_USAGE, FwError } from '../../core/errors.ts';
import { copyWebBuild, DEFAULT_WEB_HOST, DEFAULT_WEB_PORT, startWebServer, webAssetsDir } from '../../node/web-server.ts';
import { displayPath } from './convert.ts';

export interface WebCliOptions {
  port?: number;
  host?: string;
  buildDir?: string;
  json?: true;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export async function runWeb(opts: WebCliOptions): Promise<number> {
  const dir = webAssetsDir();
  if (opts.buildDir !== undefined) {
    if (opts.port !== undefined || opts.host !== undefined) {
      throw new FwError('USAGE_WEB_BUILD_DIR', '--build-dir writes files and exits: it takes no --port or --host', {}, EXIT_USAGE);
    }
    const files = copyWebBuild(dir, opts.buildDir);
    const out = displayPath(opts.buildDir);
    process.stdout.write(
      opts.json === true
        ? JSON.stringify({ buildDir: out, files }, null, 2) + '\n'
        : `dfukit web: wrote ${files.length} files to ${out}/ (${files.join(', ')}); serve the folder as it is (WebUSB needs https or localhost)\n`,
    );
    return 0;
  }
  const host = opts.host ?? DEFAULT_WEB_HOST;
  const server = await startWebServer({ root: dir, port: opts.port ?? DEFAULT_WEB_PORT, host });
  if (opts.json === true) process.stdout.write(JSON.stringify({ url: server.url }) + '\n');
  else {
    process.stdout.write(`dfukit web: serving ${server.url}\n`);
    process.stderr.write(
      '  open it in Chrome, Edge or Opera (WebUSB); files you drop stay in the browser. Ctrl-C stops the server.\n' +
        (LOOPBACK.has(host) ? '' : `  warning: listening on ${host}, not loopback: other machines can load the page (WebUSB works there only over https)\n`),
    );
  }
  await new Promise<void>((done) => {
    const stop = (): void => {
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
      done();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  return 0;
}
