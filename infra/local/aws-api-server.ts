import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A service behind the local AWS endpoint, reached by the `X-Amz-Target` prefix of JSON protocols. */
export interface JsonProtocolService {
  /** e.g. `AWSStepFunctions`, `AWSEvents` */
  targetPrefix: string;
  contentType: string;
  handleApiRequest(action: string, body: unknown): Promise<{ status: number; body: unknown }>;
}

/** A service of the REST JSON protocol, reached by its path prefix (EventBridge Scheduler's `/schedules/`). */
export interface RestProtocolService {
  pathPrefix: string;
  handleRestRequest(
    method: string,
    url: URL,
    body: unknown,
  ): Promise<{ status: number; body: unknown; headers?: Record<string, string> }>;
}

/** Lambda's Invoke API (`POST /2015-03-31/functions/{name}/invocations`). */
export type LambdaInvokeHandler = (
  functionName: string,
  payload: unknown,
  invocationType: string,
) => Promise<{ status: number; body: unknown; functionError?: string }>;

/**
 * The endpoint the local runtime gives the AWS SDK for the services it emulates itself (Step
 * Functions, EventBridge, Lambda Invoke): handlers reach it through `AWS_ENDPOINT_URL_SFN`,
 * `AWS_ENDPOINT_URL_EVENTBRIDGE` and `AWS_ENDPOINT_URL_LAMBDA`, exactly as they reach AWS.
 */
export class LocalAwsEndpoint {
  private server: Server | undefined;
  endpoint = '';

  private readonly services: JsonProtocolService[];
  private readonly restServices: RestProtocolService[] = [];

  constructor(
    services: readonly JsonProtocolService[],
    private readonly invokeLambda?: LambdaInvokeHandler,
  ) {
    this.services = [...services];
  }

  /** Adds a REST JSON service, served below its path prefix. */
  addRestService(service: RestProtocolService): void {
    this.restServices.push(service);
  }

  /** Adds a service; services may be created after the endpoint, since they need its address. */
  addService(service: JsonProtocolService): void {
    this.services.push(service);
  }

  async listen(host = '127.0.0.1', port = 0): Promise<string> {
    const server = createServer((request, response) => {
      this.route(request, response).catch((error: unknown) => {
        writeJson(response, 500, 'application/x-amz-json-1.0', {
          __type: 'InternalFailure',
          message: error instanceof Error ? error.message : String(error),
        });
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.endpoint = `http://${host}:${(server.address() as AddressInfo).port}`;
    return this.endpoint;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const raw = await readAll(request);
    const invoke = /^\/2015-03-31\/functions\/([^/]+)\/invocations/.exec(request.url ?? '');
    if (invoke && this.invokeLambda) {
      const payload = raw.length > 0 ? JSON.parse(raw.toString('utf8')) : {};
      const type = String(request.headers['x-amz-invocation-type'] ?? 'RequestResponse');
      const result = await this.invokeLambda(decodeURIComponent(invoke[1] as string), payload, type);
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'x-amz-executed-version': '$LATEST',
      };
      if (result.functionError) headers['x-amz-function-error'] = result.functionError;
      const body = result.body === undefined ? '' : JSON.stringify(result.body);
      response.writeHead(result.status, headers);
      response.end(body);
      return;
    }
    const url = new URL(request.url ?? '/', 'http://local');
    const rest = this.restServices.find((service) => url.pathname.startsWith(service.pathPrefix));
    if (rest && !request.headers['x-amz-target']) {
      let body: unknown = {};
      try {
        body = raw.length > 0 ? JSON.parse(raw.toString('utf8')) : {};
      } catch {
        writeJson(
          response,
          400,
          'application/json',
          { Message: 'Malformed JSON' },
          { 'x-amzn-errortype': 'ValidationException' },
        );
        return;
      }
      const result = await rest.handleRestRequest(request.method ?? 'GET', url, body);
      writeJson(response, result.status, 'application/json', result.body, result.headers);
      return;
    }
    const target = String(request.headers['x-amz-target'] ?? '');
    const [prefix = '', action = ''] = target.split('.');
    const service = this.services.find((candidate) => candidate.targetPrefix === prefix);
    if (!service) {
      writeJson(response, 400, 'application/x-amz-json-1.1', {
        __type: 'UnknownOperationException',
        message: `The local runtime does not emulate ${target || request.url}`,
      });
      return;
    }
    let body: unknown;
    try {
      body = raw.length > 0 ? JSON.parse(raw.toString('utf8')) : {};
    } catch {
      writeJson(response, 400, service.contentType, {
        __type: 'SerializationException',
        message: 'Malformed JSON',
      });
      return;
    }
    const result = await service.handleApiRequest(action, body);
    writeJson(response, result.status, service.contentType, result.body);
  }
}

function writeJson(
  response: ServerResponse,
  status: number,
  contentType: string,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const payload = JSON.stringify(body ?? {});
  response.writeHead(status, {
    ...headers,
    'content-type': contentType,
    'content-length': Buffer.byteLength(payload),
  });
  response.end(payload);
}

async function readAll(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
