import { Agent, request } from 'node:http';

/**
 * A lean JSON-over-HTTP client for benchmarks: `node:http` with a keep-alive agent. The tracking
 * bench runs its client in the runtime's own process (to read the emulators' request counters), so
 * the client's CPU shares the thread that serves the API and the emulators; `fetch` (undici and its
 * web streams) spent about a millisecond of that thread per call, more than this client's ~0.2 ms,
 * and more than a client in a process of its own (MLflow's figures: its Python client) takes from
 * the server.
 */
export function jsonClient(baseUrl: string) {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const call = (method: string, path: string, body?: unknown) =>
    new Promise<{ status: number; json: unknown }>((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = request(
        `${baseUrl}${path}`,
        {
          method,
          agent,
          headers: payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {},
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            try {
              resolve({ status: response.statusCode ?? 0, json: text ? JSON.parse(text) : undefined });
            } catch (error) {
              reject(error);
            }
          });
          response.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  /** A request with a body of raw bytes (an artifact), answering its status only. */
  const raw = (method: string, path: string, body: Buffer) =>
    new Promise<{ status: number }>((resolve, reject) => {
      const req = request(
        `${baseUrl}${path}`,
        {
          method,
          agent,
          headers: { 'content-type': 'application/octet-stream', 'content-length': body.length },
        },
        (response) => {
          response.resume();
          response.on('end', () => resolve({ status: response.statusCode ?? 0 }));
          response.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  return { call, raw, close: () => agent.destroy() };
}
