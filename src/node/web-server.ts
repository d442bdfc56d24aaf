/**
 * `dfukit web`: the static single-page app (built by scripts/build-web.ts into dist/web/ at `npm run build`)
 * served by a tiny node:http server, loopback by default, or copied into a folder for any static host.
 *
 * The page does everything in the browser (inspect, map, doctor, convert, diff, WebUSB flash); the server only
 * hands out the files: GET/HEAD of the built files, nothing else, no directory listings, no path outside the
 * folder. WebUSB permissions are remembered per origin, port included, hence a fixed default port.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT_USAGE, FwError } from '../core/errors.ts';

export const DEFAULT_WEB_PORT = 8484;
export const DEFAULT_WEB_HOST = '127.0.0.1';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/** The package root: the nearest folder above this module holding dfukit's package.json (works from src/ and dist/src/). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'dfukit') return dir;
      } catch {
        // not ours; keep looking
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new FwError('WEB_NOT_BUILT', 'cannot find the dfukit package folder for the web app', {}, EXIT_USAGE);
    dir = up;
  }
}

/** dist/web of this package; a FwError telling how to build it when it is missing. */
export function webAssetsDir(): string {
  const dir = join(packageRoot(), 'dist', 'web');
  if (!existsSync(join(dir, 'index.html'))) {
    throw new FwError('WEB_NOT_BUILT', `the web app is not built (no ${join('dist', 'web', 'index.html')}): run \`npm run build\``, {}, EXIT_USAGE);
  }
  return dir;
}

/** Relative paths of every file below `dir`, sorted, with `/` separators. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(relative(dir, p).split(sep).join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

/**
 * Copies the built page into `outDir` (created if missing) for a static host; returns the files written.
 * Refuses a folder inside the build itself.
 */
export function copyWebBuild(from: string, outDir: string): string[] {
  const src = realpathSync(from);
  const dst = resolve(outDir);
  if (dst === src || dst.startsWith(src + sep)) {
    throw new FwError('WEB_BUILD_DIR', `--build-dir ${outDir} is inside the built page itself (${from}): choose another folder`, { file: outDir }, EXIT_USAGE);
  }
  if (existsSync(dst) && !statSync(dst).isDirectory()) {
    throw new FwError('WEB_BUILD_DIR', `--build-dir ${outDir} is a file, expected a folder`, { file: outDir }, EXIT_USAGE);
  }
  const files = listFiles(src);
  for (const f of files) {
    const target = join(dst, ...f.split('/'));
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(join(src, ...f.split('/')), target);
  }
  return files;
}

export interface WebServerOptions {
  /** Folder to serve (the built page). */
  readonly root: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly host: string;
}

export interface RunningWebServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** The file under `root` a request path names, or undefined (outside the folder, not a file, hidden). */
function resolveRequest(root: string, urlPath: string): string | undefined {
  let path: string;
  try {
    path = decodeURIComponent(urlPath.split('?')[0]!.split('#')[0]!);
  } catch {
    return undefined;
  }
  if (path.includes('\0')) return undefined;
  if (path.endsWith('/')) path += 'index.html';
  const parts = path.split('/').filter((p) => p !== '');
  if (parts.some((p) => p === '..' || p.startsWith('.'))) return undefined;
  const file = join(root, ...parts);
  if (file !== root && !file.startsWith(root + sep)) return undefined;
  try {
    return statSync(file).isFile() ? file : undefined;
  } catch {
    return undefined;
  }
}

function send(res: ServerResponse, status: number, type: string, body: Buffer | string, head: boolean): void {
  const data = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': data.length,
    // The page is rebuilt with the package: never serve a stale copy next to a new one.
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
  });
  res.end(head ? undefined : data);
}

export function startWebServer(opts: WebServerOptions): Promise<RunningWebServer> {
  const root = realpathSync(opts.root);
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      res.setHeader('Allow', 'GET, HEAD');
      send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', false);
      return;
    }
    const file = resolveRequest(root, req.url ?? '/');
    if (file === undefined) {
      send(res, 404, 'text/plain; charset=utf-8', 'not found\n', head);
      return;
    }
    let body: Buffer;
    try {
      body = readFileSync(file);
    } catch {
      send(res, 404, 'text/plain; charset=utf-8', 'not found\n', head);
      return;
    }
    send(res, 200, MIME[extname(file).toLowerCase()] ?? 'application/octet-stream', body, head);
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') {
        reject(new FwError('WEB_PORT_IN_USE', `port ${opts.port} on ${opts.host} is in use: choose another with --port N (--port 0 picks a free one)`, {}, EXIT_USAGE));
      } else if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND') {
        reject(new FwError('WEB_HOST', `cannot listen on ${opts.host}: no such local address`, {}, EXIT_USAGE));
      } else reject(new FwError('WEB_LISTEN', `cannot listen on ${opts.host}:${opts.port}: ${e.message}`, {}, EXIT_USAGE));
    });
    server.listen(opts.port, opts.host, () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : opts.port;
      const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
      resolvePromise({
        url: `http://${host}:${port}/`,
        port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
