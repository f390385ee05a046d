import type { IncomingHttpHeaders } from 'node:http';
import vm from 'node:vm';

/** CloudFront Functions' header, query and cookie shape: lower-case names, `{ value }` (or `multiValue`). */
export type CfFunctionValues = Record<string, { value: string; multiValue?: Array<{ value: string }> }>;

/** The request of a CloudFront Functions viewer event. */
export interface CfFunctionRequest {
  method: string;
  uri: string;
  querystring: CfFunctionValues;
  headers: CfFunctionValues;
  cookies: CfFunctionValues;
}

/** A response a viewer-request function generates instead of forwarding the request. */
export interface CfFunctionResponse {
  statusCode: number;
  statusDescription?: string;
  headers?: CfFunctionValues;
  body?: string | { data: string; encoding?: 'text' | 'base64' };
}

/** CloudFront stops a function that runs too long; a local one gets a second. */
const TIMEOUT_MS = 1000;
const CALL = new vm.Script('handler(__event)', { filename: 'cloudfront-function-call.js' });

/**
 * A CloudFront Function (the `cloudfront-js-2.0` runtime) as the template declares it: its code in a
 * V8 context of its own (no `require`, no `process`, as at the edge), called with CloudFront
 * Functions' event shape. Code the template names is Runway's own (`FunctionCode.fromInline`); the
 * context keeps it from the runtime's globals, it is not a sandbox against hostile code.
 */
export class LocalCloudFrontFunction {
  private readonly context: vm.Context;

  constructor(
    readonly name: string,
    code: string,
  ) {
    this.context = vm.createContext({});
    new vm.Script(code, { filename: `${name}.js` }).runInContext(this.context, { timeout: TIMEOUT_MS });
    if (typeof this.context.handler !== 'function') {
      throw new Error(`CloudFront Function ${name} defines no handler(event)`);
    }
  }

  /** Runs the function on a viewer request: the (possibly changed) request, or a generated response. */
  async viewerRequest(
    request: CfFunctionRequest,
    context: { distributionDomainName: string; requestId: string; viewerIp: string },
  ): Promise<CfFunctionRequest | CfFunctionResponse> {
    this.context.__event = {
      version: '1.0',
      context: {
        distributionDomainName: context.distributionDomainName,
        distributionId: 'LOCAL',
        eventType: 'viewer-request',
        requestId: context.requestId,
      },
      viewer: { ip: context.viewerIp },
      request,
    };
    try {
      return (await CALL.runInContext(this.context, { timeout: TIMEOUT_MS })) as
        | CfFunctionRequest
        | CfFunctionResponse;
    } finally {
      delete this.context.__event;
    }
  }
}

/** True when a viewer-request function answered itself. */
export function isGeneratedResponse(
  result: CfFunctionRequest | CfFunctionResponse,
): result is CfFunctionResponse {
  return typeof (result as CfFunctionResponse).statusCode === 'number';
}

/** A viewer request in CloudFront Functions' shape. */
export function toFunctionRequest(
  method: string,
  uri: string,
  querystring: string,
  headers: IncomingHttpHeaders,
): CfFunctionRequest {
  const values = (entries: Array<[string, string]>): CfFunctionValues => {
    const out: CfFunctionValues = {};
    for (const [name, value] of entries) {
      const existing = out[name];
      if (!existing) out[name] = { value };
      else existing.multiValue = [...(existing.multiValue ?? [{ value: existing.value }]), { value }];
    }
    return out;
  };
  const headerEntries = Object.entries(headers).flatMap(
    ([name, value]): Array<[string, string]> =>
      name === 'cookie' || value === undefined
        ? []
        : (Array.isArray(value) ? value : [value]).map((item) => [name, item]),
  );
  const cookies = String(headers.cookie ?? '')
    .split(';')
    .map((pair) => pair.trim())
    .filter(Boolean)
    .map((pair): [string, string] => {
      const at = pair.indexOf('=');
      return at < 0 ? [pair, ''] : [pair.slice(0, at), pair.slice(at + 1)];
    });
  return {
    method,
    uri,
    querystring: values([...new URLSearchParams(querystring)]),
    headers: values(headerEntries),
    cookies: values(cookies),
  };
}

/** A function's query string back in URL form. */
export function fromFunctionQuery(querystring: CfFunctionValues): string {
  const params = new URLSearchParams();
  for (const [name, entry] of Object.entries(querystring)) {
    for (const { value } of entry.multiValue ?? [entry]) params.append(name, value);
  }
  return params.toString();
}

/** A function's headers as Node writes them. */
export function fromFunctionHeaders(
  headers: CfFunctionValues | undefined,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, entry] of Object.entries(headers ?? {})) {
    out[name] = entry.multiValue ? entry.multiValue.map((item) => item.value) : entry.value;
  }
  return out;
}

/** A generated response's body as bytes. */
export function functionResponseBody(response: CfFunctionResponse): Buffer {
  const { body } = response;
  if (body === undefined) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  return Buffer.from(body.data, body.encoding === 'base64' ? 'base64' : 'utf8');
}
