import path from 'node:path';
import { defineConfig } from 'vite';

/**
 * The console's build: a static bundle in `console/dist` that the local runtime serves at `/` and
 * the CDK app uploads to the console bucket. `npm run build` runs it; `npm install` runs it too (the
 * `prepare` script), so `npm start` never needs a dev server. JSX is Preact's automatic runtime.
 */
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  publicDir: false,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  // `npx vite --config console/vite.config.ts`: a dev server with reload, the API proxied to a running
  // Runway (RUNWAY_URL, default http://127.0.0.1:5000); page loads of /endpoints/... stay the app's.
  server: {
    proxy: Object.fromEntries(
      ['/api', '/ajax-api', '/endpoints'].map((prefix) => [
        prefix,
        {
          target: process.env.RUNWAY_URL ?? 'http://127.0.0.1:5000',
          bypass: (request: { headers: { accept?: string } }) =>
            request.headers.accept?.includes('text/html') ? '/index.html' : undefined,
        },
      ]),
    ),
  },
  build: {
    outDir: path.join(import.meta.dirname, 'dist'),
    emptyOutDir: true,
    target: 'es2022',
    // One small bundle; a sourcemap file beside it is never fetched unless devtools ask.
    sourcemap: true,
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
});
