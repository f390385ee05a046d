import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { ConfigurationError, envVar, parseConfig } from '../../shared/platform/config.ts';
import {
  InvalidParameterError,
  MethodNotAllowedError,
  NotImplementedError,
  ResourceAlreadyExistsError,
  ResourceDoesNotExistError,
} from '../../shared/platform/errors.ts';
import { errorResponse } from '../../shared/platform/http/error-response.ts';
import { Logger, redact } from '../../shared/platform/logger.ts';

describe('parseConfig', () => {
  it('returns typed values with defaults', () => {
    const config = parseConfig({ TABLE: envVar.name(), LOG_LEVEL: envVar.logLevel() }, { TABLE: 't' });
    expect(config).toEqual({ TABLE: 't', LOG_LEVEL: 'info' });
  });

  it('names every missing or invalid variable in one message', () => {
    const parse = () =>
      parseConfig(
        { TABLE: envVar.name(), BUCKET: envVar.name(), LOG_LEVEL: envVar.logLevel() },
        { LOG_LEVEL: 'loud', BUCKET: ' ' },
      );
    expect(parse).toThrow(ConfigurationError);
    expect(parse).toThrow(/TABLE is not set; BUCKET is invalid .*; LOG_LEVEL is invalid/);
  });

  it('accepts any zod schema for a variable', () => {
    expect(parseConfig({ N: z.coerce.number().int() }, { N: '7' })).toEqual({ N: 7 });
  });
});

describe('errorResponse', () => {
  it.each([
    [new InvalidParameterError('bad'), 400, 'INVALID_PARAMETER_VALUE'],
    [new ResourceAlreadyExistsError('dup'), 400, 'RESOURCE_ALREADY_EXISTS'],
    [new ResourceDoesNotExistError('gone'), 404, 'RESOURCE_DOES_NOT_EXIST'],
    [new NotImplementedError('later'), 501, 'NOT_IMPLEMENTED'],
  ])('maps %s to %i %s with its message', (error, status, code) => {
    const response = errorResponse(error, 'req-1');
    expect(response.statusCode).toBe(status);
    expect(JSON.parse(response.body)).toEqual({ error_code: code, message: error.message });
    expect(response.headers['content-type']).toBe('application/json');
  });

  it('adds Allow to a 405', () => {
    const response = errorResponse(new MethodNotAllowedError('no', ['GET', 'POST']), 'r');
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe('GET, POST');
  });

  it('hides the message of unexpected errors and gives the request id instead', () => {
    const response = errorResponse(new Error('connection string postgres://user:pw@db'), 'req-9');
    expect(response.statusCode).toBe(500);
    expect(response.body).not.toContain('postgres');
    expect(JSON.parse(response.body)).toEqual({
      error_code: 'INTERNAL_ERROR',
      message: 'Internal error (request id req-9)',
    });
  });

  it("answers DynamoDB's refusal of an item over 400 KB with 400, not 500", () => {
    const tooLarge = Object.assign(new Error('Item size has exceeded the maximum allowed size'), {
      name: 'ValidationException',
    });
    const response = errorResponse(tooLarge, 'r');
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body).error_code).toBe('INVALID_PARAMETER_VALUE');
    // Other validation failures stay server faults: they are Runway's bugs, not the client's.
    const other = Object.assign(new Error('One or more parameter values were invalid'), {
      name: 'ValidationException',
    });
    expect(errorResponse(other, 'r').statusCode).toBe(500);
  });

  it('answers throttling from AWS with a retryable 503', () => {
    const throttled = Object.assign(new Error('Rate exceeded'), {
      name: 'ProvisionedThroughputExceededException',
    });
    const response = errorResponse(throttled, 'r');
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('1');
  });
});

describe('Logger', () => {
  it('writes one JSON line with context and redacts secrets at any depth', () => {
    const lines: string[] = [];
    const logger = new Logger({ level: 'info', service: 'svc', sink: (line) => lines.push(line) });
    logger.setContext({ requestId: 'r1' });
    logger.debug('hidden');
    logger.info('hello', {
      headers: { Authorization: 'Bearer abc', accept: '*/*' },
      nested: [{ password: 'p' }],
    });
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0] as string);
    expect(entry).toMatchObject({ level: 'info', service: 'svc', message: 'hello', requestId: 'r1' });
    expect(entry.headers).toEqual({ Authorization: '[redacted]', accept: '*/*' });
    expect(entry.nested[0].password).toBe('[redacted]');
  });

  it('redacts credentials inside any string: tokens, Bearer and Basic values, SigV4 secrets', () => {
    const token = `rwy_0123456789abcdef_${'S'.repeat(40)}-_x`;
    const secret = token.slice(21);
    const basic = Buffer.from(`ana:${token}`).toString('base64');
    const signature = 'f'.repeat(64);
    const lines: string[] = [];
    const logger = new Logger({ level: 'debug', service: 'svc', sink: (line) => lines.push(line) });
    logger.info(`client error for ${token}`, {
      detail: `No Experiment with id=${token} exists`,
      quoted: [`Authorization: Bearer ${token}`, `authorization: Basic ${basic}`, `basic=${basic}`],
      sigv4: `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261128/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=${signature}`,
      url: `https://b.s3.amazonaws.com/k?X-Amz-Credential=AKID%2F1&X-Amz-Security-Token=IQoJb3JpZ2luX2VjE%2Fabc&X-Amz-Signature=${signature}`,
      env: `AWS_SECRET_ACCESS_KEY=${'k'.repeat(40)}`,
      malformed: 'rwy_not-a-real-token-but-close',
      error: new Error(`failed with ${token}`),
      tokenId: '0123456789abcdef',
    });
    const line = lines[0] as string;
    for (const leaked of [
      secret,
      basic,
      signature,
      'IQoJb3JpZ2luX2VjE',
      'k'.repeat(40),
      'not-a-real-token',
    ]) {
      expect(line).not.toContain(leaked);
    }
    const entry = JSON.parse(line);
    // What is left is enough for support: the token's public id, the scheme, the credential's scope.
    expect(entry.message).toBe('client error for rwy_0123456789abcdef_[redacted]');
    expect(entry.quoted).toEqual([
      'Authorization: Bearer [redacted]',
      'authorization: Basic [redacted]',
      'basic=[redacted]',
    ]);
    expect(entry.sigv4).toContain('Credential=AKIDEXAMPLE/20261128/us-east-1/execute-api/aws4_request');
    expect(entry.sigv4).toContain('Signature=[redacted]');
    expect(entry.url).toContain('X-Amz-Signature=[redacted]');
    expect(entry.error.message).toBe('failed with rwy_0123456789abcdef_[redacted]');
    expect(entry.error.stack).not.toContain(secret);
    expect(entry.tokenId).toBe('0123456789abcdef');
  });

  it('leaves ordinary values alone', () => {
    const ordinary = {
      path: '/api/2.0/mlflow/runs/log-batch',
      runId: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
      detail: "Invalid value 'abc' for parameter 'max_results' supplied",
      dataset: 'Dataset digest exceeds the maximum length of 36',
      digest: 'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
    };
    expect(redact(ordinary)).toEqual(ordinary);
  });

  it('turns errors into plain objects', () => {
    expect(redact({ error: new TypeError('x') })).toMatchObject({
      error: { name: 'TypeError', message: 'x' },
    });
  });
});
