import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { CONSOLE_BUNDLE, consoleCsp } from '../constructs/console-hosting.ts';

/** Where `npm run build` (and so `npm install`) writes the console's bundle. */
export const CONSOLE_DIST = CONSOLE_BUNDLE;

/** Path prefixes of the APIs: never answered with the console, whatever the request accepts. */
const API_PREFIXES = ['/api/', '/ajax-api/'];

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

/** The console's CSP, the same as CloudFront sends on AWS (`console-hosting.ts`): the API is this origin. */
export const CONSOLE_CSP = consoleCsp();

const HTML_HEADERS = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  // The page names the current bundle's files: always ask again.
  'cache-control': 'no-cache',
};

/**
 * Serves the console's prebuilt bundle beside the API, as CloudFront does on AWS: `/assets/...`
 * (content-hashed, cached for a year), `/config.json` (the API is this origin), and `index.html` for
 * the client's routes (the SPA fallback). The fallback answers only a browser's page load (a GET or
 * HEAD that accepts `text/html`) of a path that no API route claims (API Gateway would give it to
 * `$default`) and that is not under `/api/` or `/ajax-api/`: the API answers everything else, so
 * the console never shadows an API route and clients keep getting MLflow's JSON 404s.
 */
export class ConsoleAssets {
  constructor(private readonly distDir: string = CONSOLE_DIST) {}

  /** True when it answered the request; false leaves it to the API. */
  serve(
    request: IncomingMessage,
    response: ServerResponse,
    claimedByApi: (method: string, path: string) => boolean,
  ): boolean {
    const method = (request.method ?? 'GET').toUpperCase();
    if (method !== 'GET' && method !== 'HEAD') return false;
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(request.url ?? '/', 'http://127.0.0.1').pathname);
    } catch {
      return false;
    }
    if (API_PREFIXES.some((prefix) => pathname.startsWith(prefix))) return false;
    if (claimedByApi(method, pathname)) return false;
    if (pathname.startsWith('/assets/')) return this.file(response, method, pathname);
    if (pathname === '/config.json') {
      response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache' });
      response.end(method === 'HEAD' ? undefined : '{"apiUrl":""}');
      return true;
    }
    if (!String(request.headers.accept ?? '').includes('text/html')) return false;
    const index = path.join(this.distDir, 'index.html');
    if (!existsSync(index)) {
      response.writeHead(503, { ...HTML_HEADERS, 'content-type': 'text/html; charset=utf-8' });
      response.end(
        method === 'HEAD'
          ? undefined
          : '<!doctype html><title>Runway</title><p>The console is not built. Run <code>npm run build</code> (npm install runs it), then reload. The API is up: point the MLflow client here.</p>',
      );
      return true;
    }
    send(response, method, index, HTML_HEADERS);
    return true;
  }

  private file(response: ServerResponse, method: string, pathname: string): boolean {
    const file = path.resolve(this.distDir, `.${pathname}`);
    // `..` never leaves the bundle's folder (URL parsing already folds it; this is the second lock).
    if (!file.startsWith(`${path.resolve(this.distDir)}${path.sep}`) || !isFile(file)) {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      response.end(method === 'HEAD' ? undefined : 'Not found');
      return true;
    }
    send(response, method, file, {
      'cache-control': 'public, max-age=31536000, immutable',
      'x-content-type-options': 'nosniff',
    });
    return true;
  }
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function send(response: ServerResponse, method: string, file: string, headers: Record<string, string>): void {
  const type = TYPES[path.extname(file)] ?? 'application/octet-stream';
  response.writeHead(200, {
    'content-type': type,
    'content-length': String(statSync(file).size),
    ...headers,
  });
  if (method === 'HEAD') {
    response.end();
    return;
  }
  createReadStream(file).pipe(response);
}
