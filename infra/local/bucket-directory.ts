import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import { type BucketContent, contentRuleFor } from '../constructs/bucket-content.ts';
import { REPO_ROOT } from '../repo-root.ts';

/** Content types by extension, as `aws s3 sync` (the upload of `BucketDeployment`) guesses them. */
const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/vnd.microsoft.icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain',
};

/** S3's answer to a missing key when the reader may not list the bucket (origin access control grants GetObject only). */
const ACCESS_DENIED =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>';

/**
 * A bucket whose objects are a folder's files (`runway:content`: the console bundle), read as
 * CloudFront reads its bucket: GET and HEAD of a key, with the `Cache-Control` the upload stores it
 * with, an ETag and `If-None-Match`; a key the upload would not have written (no rule, an excluded
 * suffix, `.`/`..` segments, a missing file) is S3's 403 AccessDenied. Files are read at each
 * request, so a rebuilt bundle shows at once.
 */
export class BucketDirectory {
  readonly directory: string;

  constructor(
    readonly bucket: string,
    private readonly content: BucketContent,
  ) {
    this.directory = path.resolve(REPO_ROOT, content.directory);
  }

  /** False when the folder is not there (the console not built yet). */
  exists(): boolean {
    return existsSync(this.directory);
  }

  /** Answers one GET or HEAD of `uri` (as the viewer sent it, percent-encoded). */
  serve(method: string, uri: string, ifNoneMatch: string | undefined, response: ServerResponse): void {
    if (!this.exists()) {
      const page =
        '<!doctype html><title>Runway</title><p>The console is not built. Run <code>npm run build</code> ' +
        '(npm install runs it), then reload. The API is up: point the MLflow client here.</p>';
      response.writeHead(503, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      response.end(method === 'HEAD' ? undefined : page);
      return;
    }
    const file = this.fileOf(uri);
    const rule = file && contentRuleFor(this.content, file.key);
    if (!file || !rule) {
      response.writeHead(403, { 'content-type': 'application/xml' });
      response.end(method === 'HEAD' ? undefined : ACCESS_DENIED);
      return;
    }
    // The bundle's files are small: read whole, hashed for the ETag S3 would give them.
    const bytes = readFileSync(file.path);
    const etag = `"${createHash('md5').update(bytes).digest('hex')}"`;
    const headers = {
      'content-type': TYPES[path.extname(file.key)] ?? 'binary/octet-stream',
      'cache-control': rule.cacheControl,
      'last-modified': file.modified.toUTCString(),
      etag,
    };
    if (ifNoneMatch === etag) {
      response.writeHead(304, headers);
      response.end();
      return;
    }
    response.writeHead(200, { ...headers, 'content-length': String(bytes.length) });
    response.end(method === 'HEAD' ? undefined : bytes);
  }

  /** The file a key names, or undefined: S3 keys are literal, so `.` and `..` segments name nothing uploaded. */
  private fileOf(uri: string): { key: string; path: string; modified: Date } | undefined {
    let key: string;
    try {
      key = decodeURIComponent(uri.replace(/^\//, ''));
    } catch {
      return undefined;
    }
    const segments = key.split('/');
    if (segments.some((segment) => segment === '' || segment === '.' || segment === '..')) return undefined;
    if (/[\\\0]/.test(key)) return undefined;
    const file = path.join(this.directory, ...segments);
    if (!file.startsWith(`${this.directory}${path.sep}`)) return undefined;
    try {
      const stat = statSync(file);
      return stat.isFile() ? { key, path: file, modified: stat.mtime } : undefined;
    } catch {
      return undefined;
    }
  }
}
