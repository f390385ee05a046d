import { createHash } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { inject } from 'vitest';
import { signSigV4 } from '../../infra/local/sigv4.ts';

/**
 * Against a deployment's public URL (CloudFront, token API) requests carry `E2E_TOKEN` as a Bearer
 * token, as the MLflow client does with MLFLOW_TRACKING_TOKEN; against its IAM API, `E2E_SIGV4=true`.
 */
function withCredentials(headers: Record<string, string>): Record<string, string> {
  const token = process.env.E2E_TOKEN;
  return token && !('authorization' in headers) ? { ...headers, authorization: `Bearer ${token}` } : headers;
}

export interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON the server answered.
  json: any;
}

/** A response whose body is kept as bytes (artifacts), for requests the JSON helper does not carry. */
export interface RawResult {
  status: number;
  headers: Headers;
  body: Uint8Array;
}

/**
 * Sends any request to the deployment under test, with a text or binary body, and keeps the answer
 * as bytes. Against AWS the API requires SigV4 (IAM): with `E2E_SIGV4=true` requests are signed with
 * the default credentials, as the MLflow client does with `MLFLOW_TRACKING_AWS_SIGV4=true`.
 */
export async function httpRaw(
  method: string,
  pathAndQuery: string,
  body?: Uint8Array | string,
  options: Record<string, string> & { redirect?: 'follow' | 'manual' } = {},
): Promise<RawResult> {
  const { redirect, ...headers } = options;
  const url = new URL(pathAndQuery, `${inject('baseUrl')}/`);
  const signed =
    process.env.E2E_SIGV4 === 'true' ? await signSigV4(url, method, headers, body) : withCredentials(headers);
  const response = await fetch(url, { method, headers: signed, body, redirect: redirect ?? 'follow' });
  return {
    status: response.status,
    headers: response.headers,
    body: new Uint8Array(await response.arrayBuffer()),
  };
}

/** Sends a request with a JSON (or text) body, as the MLflow client would, and parses the JSON answer. */
export async function http(
  method: string,
  pathAndQuery: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const raw = await httpRaw(method, pathAndQuery, text, {
    ...(text === undefined ? {} : { 'content-type': 'application/json' }),
    ...headers,
  });
  const responseText = Buffer.from(raw.body).toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(responseText);
  } catch {
    json = undefined;
  }
  return { status: raw.status, headers: raw.headers, text: responseText, json };
}

/** Calls an MLflow REST endpoint under `/api/2.0/mlflow/`. */
export function mlflow(method: string, endpoint: string, body?: unknown): Promise<HttpResult> {
  return http(method, `/api/2.0/mlflow/${endpoint}`, body);
}

export const unique = (prefix: string) => `${prefix}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

/**
 * Sends a request with its path exactly as written: no URL parsing, so `.` and `..` segments and
 * their encodings reach the server as an attacker would send them (`fetch` and `new URL` resolve
 * them first). With `E2E_SIGV4=true` the request is signed for the resolved path, which is what
 * AWS's SigV4 canonicalizes a request path to.
 */
export async function httpRawPath(
  method: string,
  rawPathAndQuery: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  const base = new URL(`${inject('baseUrl')}/`);
  const allHeaders = { ...(body === undefined ? {} : { 'content-type': 'text/plain' }), ...headers };
  const signed =
    process.env.E2E_SIGV4 === 'true'
      ? await signSigV4(new URL(rawPathAndQuery, base), method, allHeaders, body)
      : withCredentials(allHeaders);
  const send = base.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      {
        host: base.hostname,
        port: base.port || undefined,
        method,
        path: `${base.pathname.replace(/\/+$/, '')}${rawPathAndQuery}`,
        headers: signed,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          const responseHeaders = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            if (value !== undefined) responseHeaders.set(name, String(value));
          }
          resolve({ status: res.statusCode ?? 0, headers: responseHeaders, text, json });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** What a streamed exchange answered: the status, headers, and the body's size and sha256 (never kept whole). */
export interface StreamedResult {
  status: number;
  headers: IncomingMessage['headers'];
  size: number;
  sha256: string;
  /** The first 64 KiB of the body (for error bodies). */
  head: string;
}

/**
 * Sends a request whose body is produced chunk by chunk with its length declared, as `requests` sends
 * a file (one `Content-Length`, no chunking), and reads the answer as a stream, hashing it: neither
 * side ever holds a large body whole.
 */
export function httpStream(
  method: string,
  pathAndQuery: string,
  headers: Record<string, string>,
  body?: { length: number; chunks: Iterable<Uint8Array> },
): Promise<StreamedResult> {
  const url = new URL(pathAndQuery, `${inject('baseUrl')}/`);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const outgoing = send(
      url,
      {
        method,
        headers: withCredentials({
          ...headers,
          ...(body ? { 'content-length': String(body.length) } : {}),
        }),
      },
      (response) => {
        const hash = createHash('sha256');
        let size = 0;
        let head = '';
        response.on('data', (chunk: Buffer) => {
          hash.update(chunk);
          size += chunk.length;
          if (head.length < 65536) head += chunk.toString('utf8');
        });
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            size,
            sha256: hash.digest('hex'),
            head,
          }),
        );
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    void (async () => {
      for (const chunk of body?.chunks ?? []) {
        if (!outgoing.write(chunk)) await new Promise((drained) => outgoing.once('drain', drained));
      }
      outgoing.end();
    })();
  });
}
