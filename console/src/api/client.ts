/**
 * The one API client every page goes through. It calls Runway's public API only (so the console never
 * shows more than the API allows), sends the signed-in token, and turns every refusal into an
 * `ApiError` that carries the API's own `error_code` and `message`: pages show those words as they are.
 */
import { signal } from '@preact/signals';
import { clearToken, readToken } from '../auth/token-store.ts';

/** An answer other than 2xx, as the API worded it (MLflow's `{"error_code", "message"}`). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** True once a request was refused 401: the app shows the sign-in until a token is accepted. */
export const signInNeeded = signal(false);

type Query = Record<string, string | number | boolean | undefined | ReadonlyArray<string | number>>;

function url(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) params.append(key, String(item));
  }
  const search = params.toString();
  // The API is the console's own origin: Runway's one URL serves both (`npm start`, CloudFront on AWS).
  return `${path}${search ? `?${search}` : ''}`;
}

/** Sends one request; resolves with the raw response when it is 2xx, else throws the API's error. */
export async function request(
  method: string,
  path: string,
  options: { query?: Query; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  const token = readToken();
  if (token) headers.authorization = `Bearer ${token}`;
  let body: BodyInit | undefined;
  if (options.body instanceof Blob || typeof options.body === 'string') body = options.body;
  else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  let response: Response;
  try {
    response = await fetch(url(path, options.query), { method, headers, body });
  } catch (error) {
    throw new ApiError(0, 'NETWORK_ERROR', `The API could not be reached: ${(error as Error).message}`);
  }
  if (response.ok) return response;
  const text = await response.text();
  let errorCode = `HTTP_${response.status}`;
  let message = text.slice(0, 2000) || response.statusText;
  try {
    const parsed = JSON.parse(text) as { error_code?: unknown; message?: unknown };
    if (typeof parsed.error_code === 'string') errorCode = parsed.error_code;
    if (typeof parsed.message === 'string') message = parsed.message;
  } catch {
    // Not MLflow's body (a gateway's own answer): its text is the message.
  }
  if (response.status === 401) {
    clearToken();
    signInNeeded.value = true;
  }
  throw new ApiError(response.status, errorCode, message);
}

async function json<T>(method: string, path: string, options: Parameters<typeof request>[2]): Promise<T> {
  const response = await request(method, path, options);
  const text = await response.text();
  return (text ? JSON.parse(text) : {}) as T;
}

/** MLflow's and Runway's JSON routes under `/api/2.0/`. */
export const api = {
  get: <T>(path: string, query?: Query) => json<T>('GET', `/api/2.0/${path}`, { query }),
  post: <T>(path: string, body: unknown = {}) => json<T>('POST', `/api/2.0/${path}`, { body }),
  patch: <T>(path: string, body: unknown) => json<T>('PATCH', `/api/2.0/${path}`, { body }),
  delete: <T>(path: string, body?: unknown) => json<T>('DELETE', `/api/2.0/${path}`, { body }),
  /** Any other route (an endpoint's invocations), answered as JSON. */
  call: <T>(method: string, path: string, body: unknown) => json<T>(method, path, { body }),
};

/** MLflow 3's routes under `/api/3.0/` (traces). */
export const api3 = {
  get: <T>(path: string, query?: Query) => json<T>('GET', `/api/3.0/${path}`, { query }),
  post: <T>(path: string, body: unknown = {}) => json<T>('POST', `/api/3.0/${path}`, { body }),
};

/** An artifact's bytes through the proxy (`mlflow-artifacts:/<path>`). */
export async function fetchArtifact(artifactPath: string): Promise<Blob> {
  const encoded = artifactPath.split('/').map(encodeURIComponent).join('/');
  const response = await request('GET', `/api/2.0/mlflow-artifacts/artifacts/${encoded}`, {
    headers: { accept: '*/*' },
  });
  return response.blob();
}
