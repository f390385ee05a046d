import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { CONSOLE_BUNDLE as CONSOLE_DIST } from '../../infra/constructs/console-hosting.ts';

/** The built bundle's files with their sizes, plain and gzipped (what a browser downloads). */
export function bundleSizes() {
  const files = [
    'index.html',
    ...readdirSync(path.join(CONSOLE_DIST, 'assets'))
      .filter((name) => /\.(js|css)$/.test(name))
      .map((name) => `assets/${name}`),
  ].map((name) => {
    const bytes = readFileSync(path.join(CONSOLE_DIST, name));
    return { name, bytes: bytes.length, gzipped: gzipSync(bytes, { level: 9 }).length };
  });
  return {
    files,
    bytes: files.reduce((sum, f) => sum + f.bytes, 0),
    gzipped: files.reduce((sum, f) => sum + f.gzipped, 0),
  };
}
