/**
 * Size budget (issue 5 item 7): loader <= 5 KB gzip, loader + app <= 45 KB gzip. Also checks the
 * loader stays a classic script (no static import/export, no import.meta). Run after `vite build`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export const LOADER_BUDGET_BYTES = 5 * 1024;
export const TOTAL_BUDGET_BYTES = 45 * 1024;

const dist = join(import.meta.dirname, '..', 'dist');
const measure = (path: string) => {
  const content = readFileSync(path);
  return { raw: content.length, gzip: gzipSync(content, { level: 9 }).length, text: content.toString('utf8') };
};
const kb = (bytes: number) => `${(bytes / 1024).toFixed(2)} KB`;

const loader = measure(join(dist, 'concierge.js'));
const chunks = readdirSync(join(dist, 'chunks')).filter((name) => name.endsWith('.js'));
const appName = chunks.find((name) => /^app-[\w-]+\.js$/.test(name));
if (!appName) {
  console.error('check-size: dist/chunks/app-[hash].js is missing; run `vite build` first.');
  process.exit(1);
}
const app = measure(join(dist, 'chunks', appName));
const total = { raw: loader.raw + app.raw, gzip: loader.gzip + app.gzip };

console.log(`loader  concierge.js          raw ${kb(loader.raw).padStart(9)}  gzip ${kb(loader.gzip).padStart(9)}  (budget ${kb(LOADER_BUDGET_BYTES)})`);
console.log(`app     chunks/${appName.padEnd(16)} raw ${kb(app.raw).padStart(9)}  gzip ${kb(app.gzip).padStart(9)}`);
console.log(`total                         raw ${kb(total.raw).padStart(9)}  gzip ${kb(total.gzip).padStart(9)}  (budget ${kb(TOTAL_BUDGET_BYTES)})`);

const failures: string[] = [];
if (loader.gzip > LOADER_BUDGET_BYTES) failures.push(`loader is ${kb(loader.gzip)} gzip, over ${kb(LOADER_BUDGET_BYTES)}`);
if (total.gzip > TOTAL_BUDGET_BYTES) failures.push(`loader + app is ${kb(total.gzip)} gzip, over ${kb(TOTAL_BUDGET_BYTES)}`);
if (chunks.length !== 1) failures.push(`expected one chunk beside the loader, found: ${chunks.join(', ')}`);
if (/\bimport\.meta\b/.test(loader.text)) failures.push('the loader uses import.meta: it must run as a classic script');
if (/(^|[;}\s])(import\s*[\w{*]|export\s*[{*\w])/.test(loader.text)) failures.push('the loader has a static import/export');
if (loader.text.includes('__CONCIERGE_APP_FILE__')) failures.push('the app chunk name was not linked into the loader');
if (failures.length) {
  for (const failure of failures) console.error(`check-size: ${failure}`);
  process.exit(1);
}
console.log('check-size: within budget');
