import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * The web console: one bundle built into dist/console, which the API serves at `/` (api/routes/console.ts).
 * Hashed file names under assets/ let the API cache them for a year; index.html is revalidated.
 */
export default defineConfig({
  root,
  base: '/',
  publicDir: 'public',
  build: {
    outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
    emptyOutDir: true,
    // The API's Content-Security-Policy allows no inline script, so no inline polyfill either.
    modulePreload: { polyfill: false },
    target: 'es2022',
  },
  // `npm run console:dev`: hot reload on :5173, the API calls passed to `npm start`'s API.
  server: { proxy: { '/v1': 'http://127.0.0.1:8080' } },
  test: {
    root,
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
