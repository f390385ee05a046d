import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { apiEvent, lambdaContext } from './api-event.ts';

export type ApiHandler = (
  event: APIGatewayProxyEventV2,
  context: typeof lambdaContext,
) => Promise<{ statusCode: number; headers: Record<string, string>; body: string }>;

/** Calls a real HTTP handler with an API Gateway event, as API Gateway would, and parses the answer. */
export function handlerCaller(handler: () => ApiHandler, prefix = '/api/2.0/mlflow/') {
  return async (method: string, path: string, body?: unknown, headers?: Record<string, string>) => {
    const response = await handler()(apiEvent(method, `${prefix}${path}`, body, headers), lambdaContext);
    // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON the handler answered.
    const json: any = response.body ? JSON.parse(response.body) : undefined;
    return { status: response.statusCode, headers: response.headers, json };
  };
}

export const unique = (prefix: string) => `${prefix}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
