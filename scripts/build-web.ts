/**
 * Builds the `dfukit web` page into dist/web/ (run by `npm run build`): web/index.html, the app bundled from
 * web/src/main.ts with the library by esbuild (one ES module, no imports left, so the page fetches nothing but
 * its own three files), and the stylesheet. esbuild does not type-check: web/tsconfig.json is checked first.
 *
 * `buildTestUsb(outFile)` bundles web/src/test-usb.ts, the test-only `navigator.usb` over the ROM emulator,
 * as a classic script for Playwright's addInitScript; it is never part of dist/web.
 *
 *   node --import tsx scripts/build-web.ts [--out DIR] [--no-typecheck]
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type BuildOptions } from 'esbuild';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const WEB = join(ROOT, 'web');
export const DEFAULT_OUT = join(ROOT, 'dist', 'web');

/** What every bundle shares: browser ES2022 (Chrome/Edge ≥ 94, the WebUSB browsers), no source maps, no node built-ins. */
const COMMON: BuildOptions = {
  bundle: true,
  platform: 'browser',
  target: ['es2022', 'chrome100'],
  minify: true,
  sourcemap: false,
  legalComments: 'eof',
  // The library is platform-neutral: a node:* import reaching the page fails the build (platform 'browser').
  logLevel: 'warning',
};

export function typecheckWeb(): void {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(WEB, 'tsconfig.json'), '--noEmit'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('web/: type errors (tsc -p web/tsconfig.json)');
}

export async function buildWeb(outDir = DEFAULT_OUT, opts: { typecheck?: boolean } = {}): Promise<string[]> {
  if (opts.typecheck !== false) typecheckWeb();
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  await build({ ...COMMON, entryPoints: [join(WEB, 'src', 'main.ts')], format: 'esm', outfile: join(outDir, 'app.js') });
  await build({ ...COMMON, entryPoints: [join(WEB, 'src', 'app.css')], outfile: join(outDir, 'app.css') });
  copyFileSync(join(WEB, 'index.html'), join(outDir, 'index.html'));
  return ['app.css', 'app.js', 'index.html'];
}

/** The test-only WebUSB stand-in as one classic script (for `page.addInitScript({ path })`). */
export async function buildTestUsb(outFile: string): Promise<void> {
  await build({ ...COMMON, minify: false, entryPoints: [join(WEB, 'src', 'test-usb.ts')], format: 'iife', outfile: outFile });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const i = args.indexOf('--out');
  const out = i >= 0 && args[i + 1] !== undefined ? resolve(args[i + 1]!) : DEFAULT_OUT;
  const t0 = performance.now();
  try {
    const files = await buildWeb(out, { typecheck: !args.includes('--no-typecheck') });
    process.stdout.write(`web: ${files.join(', ')} -> ${out} (${Math.round(performance.now() - t0)} ms)\n`);
  } catch (e) {
    process.stderr.write(`build-web: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}
