import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

const FIXTURE = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '../fixtures/events/apigw-http-v2.json',
);
const base = JSON.parse(readFileSync(FIXTURE, 'utf8')) as APIGatewayProxyEventV2;
let counter = 0;

/**
 * An API Gateway HTTP API event built from a captured one (test/fixtures/events), with the method,
 * path, query and body of the request under test.
 */
export function apiEvent(
  method: string,
  pathAndQuery: string,
  body?: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyEventV2 {
  const [rawPath = '/', rawQueryString = ''] = pathAndQuery.split('?');
  const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const event = structuredClone(base);
  event.rawPath = rawPath;
  event.rawQueryString = rawQueryString;
  event.queryStringParameters = rawQueryString
    ? Object.fromEntries(new URLSearchParams(rawQueryString))
    : undefined;
  event.headers = {
    ...event.headers,
    ...(text === undefined
      ? {}
      : { 'content-type': 'application/json', 'content-length': String(text.length) }),
    ...headers,
  };
  event.requestContext.http.method = method;
  event.requestContext.http.path = rawPath;
  event.requestContext.requestId = `test-${++counter}`;
  event.body = text;
  return event;
}

/** A Lambda context good enough for handlers (they read only the request id and remaining time). */
export const lambdaContext = {
  awsRequestId: 'test-request',
  functionName: 'test',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:test',
  memoryLimitInMB: '1024',
  logGroupName: '/aws/lambda/test',
  logStreamName: 'test',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 29_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};
