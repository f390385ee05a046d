import { createRequire } from 'node:module';
import type { MessagePort } from 'node:worker_threads';

const require = createRequire(import.meta.url);

/** A request the SDK hands its HTTP handler (`@smithy/core`'s HttpRequest), as far as read here. */
interface SdkRequest {
  protocol: string;
  hostname: string;
  port?: number;
  headers: Record<string, string>;
  body?: unknown;
}
type Handle = (this: unknown, request: SdkRequest, options?: unknown) => Promise<{ response: unknown }>;

/** What the worker posts for one request, and what comes back. */
export interface EmulatorCall {
  id: number;
  target: string;
  body: string;
}
export interface EmulatorAnswer {
  id: number;
  statusCode: number;
  body: string;
}

/**
 * Carries a local function's DynamoDB requests to the emulator over a message port instead of a
 * loopback HTTP connection. The function's code and its SDK client are what Lambda runs: the command
 * is built, serialized, signed and retried by the SDK, and its answer parsed by it; only the last
 * step, the HTTP exchange (on AWS, the network), is replaced, in the SDK's own transport
 * (`NodeHttpHandler.handle`) and only for the emulator's endpoint. Loopback HTTP cost a request some
 * 0.4 ms of CPU on this machine's two cores (the client and the server side of a socket, headers,
 * streams), which a deployed function pays as network time instead.
 */
export function carryToEmulator(port: MessagePort, endpoint: string): void {
  let inFlight = 0;
  const { NodeHttpHandler } = require('@smithy/node-http-handler') as {
    NodeHttpHandler: { prototype: { handle: Handle } };
  };
  const { HttpResponse } = require('@smithy/core/protocols') as {
    HttpResponse: new (init: {
      statusCode: number;
      headers: Record<string, string>;
      body: Uint8Array;
    }) => unknown;
  };
  const target = new URL(endpoint);
  const pending = new Map<number, (answer: EmulatorAnswer) => void>();
  let next = 0;
  port.on('message', (answers: EmulatorAnswer[]) => {
    for (const answer of answers) {
      inFlight--;
      pending.get(answer.id)?.(answer);
      pending.delete(answer.id);
    }
  });
  // The worker lives as long as its function; the port must not keep it alive beyond that.
  port.unref();
  const send = batcher<EmulatorCall>((calls) => port.postMessage(calls));

  const http = NodeHttpHandler.prototype.handle;
  NodeHttpHandler.prototype.handle = function handle(request, options) {
    const forEmulator =
      request.protocol === target.protocol &&
      request.hostname === target.hostname &&
      String(request.port ?? '') === target.port;
    if (!forEmulator) return http.call(this, request, options);
    const id = next++;
    const call: EmulatorCall = {
      id,
      target: header(request.headers, 'x-amz-target'),
      body: text(request.body),
    };
    return new Promise((resolve) => {
      pending.set(id, (answer) =>
        resolve({
          response: new HttpResponse({
            statusCode: answer.statusCode,
            headers: { 'content-type': 'application/x-amz-json-1.0' },
            body: Buffer.from(answer.body),
          }),
        }),
      );
      // Requests sent while others are out travel together: one round trip on AWS.
      if (inFlight++ === 0) emulatorRoundTrips++;
      send(call);
    });
  };
}

/**
 * Gathers what is sent during one turn of the event loop into one message, posted when the turn
 * ends (`setImmediate`). A message to another thread wakes it, and the woken thread competes for the
 * same two cores: timed inside a function's worker while searches ran, `postMessage` took 0.2 to
 * 0.8 ms on average (14 to 26 us in an isolated test). The requests a handler sends together
 * (`Promise.all`), and the answers the emulator has ready together, cross as one. Nothing waits
 * longer than the turn it was sent in.
 */
export function batcher<T>(post: (items: T[]) => void): (item: T) => void {
  let queued: T[] = [];
  const flush = () => {
    const items = queued;
    queued = [];
    post(items);
  };
  return (item) => {
    if (queued.push(item) === 1) setImmediate(flush);
  };
}

let emulatorRoundTrips = 0;

/**
 * Round trips this container made to the emulator: requests sent while none was out. On AWS each
 * is a network wait (the cost model counts them: `npm run bench -- cost`).
 */
export function roundTrips(): number {
  return emulatorRoundTrips;
}

/** The request body as text (the SDK's JSON serializer hands over its bytes). */
function text(body: unknown): string {
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array)
    return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString();
  return '';
}

/**
 * An SDK request handler (the `requestHandler` of a DynamoDB client's configuration) that serves
 * every request with `dispatch`, in this thread: for tools of the local runtime's own process (a
 * benchmark writing a hundred thousand runs), which would otherwise pay loopback HTTP per request.
 */
export function dispatchingRequestHandler(
  dispatch: (target: string, body: string) => Promise<{ statusCode: number; body: string }>,
) {
  const { HttpResponse } = require('@smithy/core/protocols') as {
    HttpResponse: new (init: {
      statusCode: number;
      headers: Record<string, string>;
      body: Uint8Array;
    }) => unknown;
  };
  return {
    metadata: { handlerProtocol: 'runway-emulator' },
    async handle(request: SdkRequest) {
      const answer = await dispatch(header(request.headers, 'x-amz-target'), text(request.body));
      return {
        response: new HttpResponse({
          statusCode: answer.statusCode,
          headers: { 'content-type': 'application/x-amz-json-1.0' },
          body: Buffer.from(answer.body),
        }),
      };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs() {
      return {};
    },
    destroy() {},
  };
}

function header(headers: Record<string, string>, name: string): string {
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name) return value;
  return '';
}
