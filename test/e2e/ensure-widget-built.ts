import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The widget package folder. */
export const WIDGET_DIR = path.resolve(fileURLToPath(import.meta.url), '../../../widget');
/** The built loader the server serves at `/widget/concierge.js`. */
export const LOADER_FILE = path.join(WIDGET_DIR, 'dist/concierge.js');

function newestSourceMtimeMs(folder: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
    const full = path.join(folder, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMtimeMs(full));
    else if (!/\.test\.tsx?$/.test(entry.name)) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

/** Runs `vite build` in widget/ when dist/concierge.js is missing or older than any widget source file. */
export function ensureWidgetBuilt(): void {
  const builtAt = fs.existsSync(LOADER_FILE) ? fs.statSync(LOADER_FILE).mtimeMs : 0;
  const sources = Math.max(
    newestSourceMtimeMs(path.join(WIDGET_DIR, 'src')),
    fs.statSync(path.join(WIDGET_DIR, 'vite.config.ts')).mtimeMs,
  );
  if (builtAt > sources) return;
  // Without the test runner's variables: the build must look exactly like `pnpm build`.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(VITEST|TEST$|NODE_ENV$)/.test(name)));
  execFileSync(process.execPath, [path.join(WIDGET_DIR, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], {
    cwd: WIDGET_DIR,
    env,
    stdio: 'inherit',
  });
  if (!fs.existsSync(LOADER_FILE)) throw new Error(`vite build finished but ${LOADER_FILE} is missing`);
  if (!/chunks\/app-[\w-]+\.js/.test(fs.readFileSync(LOADER_FILE, 'utf8'))) throw new Error(`${LOADER_FILE} does not import a hashed app chunk`);
}
