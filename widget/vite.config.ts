import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';

const APP_FILE_PLACEHOLDER = '__CONCIERGE_APP_FILE__';

/**
 * The loader imports the app chunk by a URL built from its own script URL, so it needs the hashed
 * file name: this swaps the placeholder for it once the bundle is named.
 */
function linkAppChunk(): Plugin {
  return {
    name: 'concierge-link-app-chunk',
    generateBundle(_options, bundle) {
      const app = Object.values(bundle).find((file) => file.type === 'chunk' && file.isEntry && file.name === 'app');
      const loader = bundle['concierge.js'];
      if (!app || !loader || loader.type !== 'chunk') this.error('concierge.js or the app chunk is missing');
      // A build run inside Vitest (mode "test") would have defined the placeholder away: fail loudly.
      if (!loader.code.includes(APP_FILE_PLACEHOLDER)) this.error(`${APP_FILE_PLACEHOLDER} is missing from concierge.js`);
      loader.code = loader.code.replaceAll(APP_FILE_PLACEHOLDER, JSON.stringify(`./${app.fileName}`));
    },
  };
}

/**
 * Two entries: `concierge.js` (the loader, a classic `<script async>`: no static import/export, no
 * `import.meta`) and the hashed app chunk it imports on demand. They share no module, so no shared
 * chunk appears; scripts/check-size.ts enforces that and the size budget.
 */
export default defineConfig(({ mode }) => ({
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  // Only Vitest's own transform (mode "test") gets a fixed name: a build started from a test must link the real chunk.
  define: mode === 'test' ? { __CONCIERGE_APP_FILE__: '"./app.js"' } : {},
  plugins: [linkAppChunk()],
  build: {
    target: 'es2020',
    outDir: 'dist',
    emptyOutDir: true,
    modulePreload: false,
    cssCodeSplit: false,
    sourcemap: false,
    rolldownOptions: {
      input: { concierge: 'src/index.ts', app: 'src/app.ts' },
      preserveEntrySignatures: 'exports-only',
      output: {
        format: 'es',
        entryFileNames: (chunk) => (chunk.name === 'concierge' ? '[name].js' : 'chunks/[name]-[hash].js'),
        chunkFileNames: 'chunks/[name]-[hash].js',
        assetFileNames: 'assets/[name]-[hash][extname]',
      },
    },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
  },
}));
