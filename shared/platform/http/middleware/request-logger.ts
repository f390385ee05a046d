import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { Logger } from '../../logger.ts';
import type { ApiResponse } from '../error-response.ts';

/**
 * Logs one line per request with its id, route, status and duration; the request id is also set on
 * every line the handler logs, and returned to the client as `x-request-id` for support.
 * Headers, bodies and query strings are never logged: they may carry tokens or data.
 */
export const requestLogger = (opts: {
  logger: Logger;
}): MiddlewareObj<APIGatewayProxyEventV2, ApiResponse> => {
  const started = new WeakMap<object, number>();
  const finish = (request: { event: APIGatewayProxyEventV2; response: ApiResponse | null }) => {
    const { event, response } = request;
    if (response) response.headers = { ...response.headers, 'x-request-id': event.requestContext.requestId };
    const status = response?.statusCode ?? 500;
    const fields = {
      status,
      method: event.requestContext.http.method,
      path: event.rawPath,
      durationMs: Date.now() - (started.get(event) ?? Date.now()),
    };
    if (status >= 500) opts.logger.error('request failed', fields);
    else opts.logger.info('request', fields);
  };
  return {
    before: (request) => {
      started.set(request.event, Date.now());
      opts.logger.setContext({ requestId: request.event.requestContext.requestId });
    },
    after: finish,
    onError: finish,
  };
};
