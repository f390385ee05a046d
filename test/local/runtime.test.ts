import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRuntime, RuntimeStartError } from '../../infra/local/runtime.ts';
import { defineLocalTestApp } from '../support/stacks/local-test-app.ts';

/** The parts of the echoed API Gateway event the tests read. */
interface ApiEvent {
  headers: Record<string, string>;
  requestContext: { requestId: string };
  pathParameters?: Record<string, string>;
  isBase64Encoded: boolean;
  body: string;
}

let dataDir: string;
let runtime: LocalRuntime;
const logs: string[] = [];

async function start(): Promise<LocalRuntime> {
  return LocalRuntime.start({
    port: 0,
    dataDir,
    define: defineLocalTestApp,
    functionLogs: (name, line) => logs.push(`${name} ${line}`),
    log: () => undefined,
  });
}

async function post(pathname: string, body: unknown) {
  const response = await fetch(`${runtime.url}${pathname}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON the function answered.
  return { status: response.status, json: (await response.json()) as any };
}

async function waitFor<T>(read: () => Promise<T | undefined | null>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined && value !== null) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'runway-local-'));
  runtime = await start();
});

afterAll(async () => {
  await runtime?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('HTTP API as API Gateway serves it', () => {
  it('sends the payload format 2.0 event, with path parameters and joined repeated query values', async () => {
    const response = await fetch(`${runtime.url}/echo/42?a=1&a=2&b=x%20y`, {
      headers: { 'X-Custom': 'Yes' },
    });
    expect(response.status).toBe(200);
    const { event } = (await response.json()) as { event: ApiEvent };
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'GET /echo/{id}',
      rawPath: '/echo/42',
      rawQueryString: 'a=1&a=2&b=x%20y',
      queryStringParameters: { a: '1,2', b: 'x y' },
      pathParameters: { id: '42' },
      isBase64Encoded: false,
      requestContext: {
        http: { method: 'GET', path: '/echo/42' },
        stage: '$default',
        routeKey: 'GET /echo/{id}',
      },
    });
    expect(event.headers['x-custom']).toBe('Yes');
    expect(event.requestContext.requestId).toMatch(/[0-9a-f-]{36}/);
  });

  it('matches greedy routes, base64-encodes binary bodies, and answers 404 where no route matches', async () => {
    const response = await fetch(`${runtime.url}/files/a/b/c.bin`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: new Uint8Array([0, 1, 2, 255]),
    });
    const { event } = (await response.json()) as { event: ApiEvent };
    expect(event.pathParameters).toEqual({ proxy: 'a/b/c.bin' });
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body, 'base64')).toEqual(Buffer.from([0, 1, 2, 255]));
    const missing = await fetch(`${runtime.url}/not/a/route`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ message: 'Not Found' });
    expect((await fetch(`${runtime.url}/echo/1`, { method: 'DELETE' })).status).toBe(404);
  });

  it('gives each function only its own environment, as Lambda does', async () => {
    const echo = (await (await fetch(`${runtime.url}/echo/1`)).json()) as {
      env: Record<string, string | undefined>;
    };
    expect(echo.env.TABLE_NAME).toMatch(/^LocalTest-Records/);
    expect(echo.env.RECORDER_ONLY).toBeUndefined();
    expect(echo.env.AWS_LAMBDA_FUNCTION_NAME).toMatch(/^LocalTest-Echo/);
  });

  it("rejects bodies over API Gateway's 10 MB limit with 413", async () => {
    const response = await fetch(`${runtime.url}/echo/1`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: new Uint8Array(10 * 1024 * 1024 + 1),
    });
    expect(response.status).toBe(413);
  });

  it("rejects an event over Lambda's 6 MB payload limit with 413, counting bytes, not characters", async () => {
    // 2.1 million three-byte characters: 6.3 MB, although the event's JSON is only ~2.1 million long.
    const response = await fetch(`${runtime.url}/echo/1`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: '€'.repeat(2_100_000),
    });
    expect(response.status).toBe(413);
  });
});

describe('state machines from the synthesized definition', () => {
  it('runs through Lambda tasks and a Choice when started by a function through the SDK', async () => {
    const started = await post('/start', { value: 60 });
    expect(started.status).toBe(200);
    const arn = started.json.executionArn as string;
    const done = await runtime.stepFunctions.waitForExecution(arn, 10_000);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output as string)).toMatchObject({ doubled: 120 });
    const described = await post('/describe', { executionArn: arn });
    expect(described.json.status).toBe('SUCCEEDED');
    const history = await runtime.stepFunctions.getExecutionHistory({ executionArn: arn });
    const entered = (history.events ?? [])
      .filter((e) => e.type?.endsWith('StateEntered'))
      .map((e) => e.stateEnteredEventDetails?.name);
    expect(entered).toEqual(['Double', 'Big?', 'Big']);
  });

  it('retries a transient failure and catches a validation error into the Fail state', async () => {
    const flaky = await post('/start', { value: 1, flaky: true });
    const ok = await runtime.stepFunctions.waitForExecution(flaky.json.executionArn, 10_000);
    expect(ok.status).toBe('SUCCEEDED');
    const bad = await post('/start', { value: -1 });
    const failed = await runtime.stepFunctions.waitForExecution(bad.json.executionArn, 10_000);
    expect(failed).toMatchObject({
      status: 'FAILED',
      error: 'Rejected',
      cause: 'the worker refused the input',
    });
  });

  it('starts an execution once per name and refuses the name with other input', async () => {
    const first = await post('/start', { value: 2, name: 'once-only', sleepMs: 300 });
    const again = await post('/start', { value: 2, name: 'once-only', sleepMs: 300 });
    expect(again.json.executionArn).toBe(first.json.executionArn);
    const other = await post('/start', { value: 3, name: 'once-only' });
    expect(other.status).toBe(400);
    expect(other.json.name).toBe('ExecutionAlreadyExists');
  });

  it('fails a task whose function times out, as Lambda does', async () => {
    const slow = await post('/start', { value: 1, sleepMs: 3_000 });
    const done = await runtime.stepFunctions.waitForExecution(slow.json.executionArn, 15_000);
    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('Sandbox.Timedout');
  });
});

describe('the event bus', () => {
  it('delivers a published event to the matching rule targets: a function and a state machine', async () => {
    const published = await post('/publish', { value: 7 });
    expect(published.json.FailedEntryCount).toBe(0);
    const eventId = published.json.Entries[0].EventId as string;
    await runtime.eventBus.idle();
    const recorded = await waitFor(
      async () => (await post('/get', { key: `EVENT#${eventId}`, sk: 'EVENT' })).json,
    );
    expect(JSON.parse(recorded.event)).toMatchObject({
      id: eventId,
      source: 'test.app',
      'detail-type': 'ping',
      detail: { value: 7 },
    });
    const deliveries = runtime.eventBus.deliveries.filter((d) => d.eventId === eventId);
    expect(
      deliveries.map((d) => [d.rule.replace(/^LocalTest-/, '').replace(/[A-F0-9]{8}$/, ''), d.status]).sort(),
    ).toEqual([
      ['OnPing', 'delivered'],
      ['OnWork', 'delivered'],
    ]);
    const executions = await runtime.stepFunctions.listExecutions({ stateMachineArn: machineArn() });
    const inputs = await Promise.all(
      (executions.executions ?? []).map(async (e) =>
        JSON.parse((await runtime.stepFunctions.describeExecution(e.executionArn ?? '')).input ?? '{}'),
      ),
    );
    expect(inputs.some((input) => input.id === eventId && input.detail.value === 7)).toBe(true);
  });

  it('does not deliver an event no rule matches', async () => {
    const result = runtime.eventBus.putEvents([
      { EventBusName: busName(), Source: 'other.app', DetailType: 'ping', Detail: '{}' },
    ]);
    await runtime.eventBus.idle();
    const id = (result.Entries[0] as { EventId: string }).EventId;
    expect(runtime.eventBus.deliveries.filter((d) => d.eventId === id)).toEqual([]);
  });

  it('retries a failing target, then writes the event to the dead-letter file', async () => {
    const result = runtime.eventBus.putEvents([
      { EventBusName: busName(), Source: 'test.app', DetailType: 'ping', Detail: '{"fail":true}' },
    ]);
    const id = (result.Entries[0] as { EventId: string }).EventId;
    await runtime.eventBus.idle();
    const failed = runtime.eventBus.deliveries.find((d) => d.eventId === id && d.status === 'failed');
    expect(failed).toMatchObject({ attempts: 3, error: expect.stringContaining('RecorderFailure') });
    const deadLetters = readFileSync(path.join(dataDir, 'events', 'dead-letter.jsonl'), 'utf8')
      .trim()
      .split('\n');
    expect(deadLetters.map((line) => JSON.parse(line).event.id)).toContain(id);
  });

  it('rejects malformed entries per entry, as PutEvents does', () => {
    const result = runtime.eventBus.putEvents([
      { EventBusName: busName(), Source: 'test.app', DetailType: 'ping', Detail: 'not json' },
      { EventBusName: 'no-such-bus', Source: 'test.app', DetailType: 'ping', Detail: '{}' },
      { EventBusName: busName(), Source: 'test.app', DetailType: 'ping', Detail: '{}' },
    ]);
    expect(result.FailedEntryCount).toBe(2);
    expect(result.Entries.map((e) => ('ErrorCode' in e ? e.ErrorCode : 'ok'))).toEqual([
      'MalformedDetail',
      'ResourceNotFoundException',
      'ok',
    ]);
  });

  it('fires a scheduled rule with a Scheduled Event', async () => {
    const rule = runtime.eventBus.rules.find((r) => r.schedule);
    expect(rule?.schedule).toBe('rate(1 hour)');
    const event = runtime.eventBus.fireSchedule(rule!.name);
    await runtime.eventBus.idle();
    expect(event).toMatchObject({
      source: 'aws.events',
      'detail-type': 'Scheduled Event',
      resources: [rule!.arn],
    });
    expect(runtime.eventBus.deliveries.find((d) => d.eventId === event.id)?.status).toBe('delivered');
  });
});

describe('data and lifecycle', () => {
  it('keeps table data across a restart on the same data directory', async () => {
    expect((await post('/put', { key: 'kept', value: 'across restarts' })).status).toBe(200);
    await runtime.stop();
    runtime = await start();
    expect((await post('/get', { key: 'kept' })).json).toMatchObject({ value: 'across restarts' });
  });

  it("carries functions' DynamoDB requests to the emulator without HTTP, through their own SDK client", async () => {
    const { http, direct } = { ...runtime.emulatorRequests.dynamodbTransport };
    expect((await post('/put', { key: 'carried', value: 'by port' })).status).toBe(200);
    expect((await post('/get', { key: 'carried' })).json).toMatchObject({ value: 'by port' });
    expect(runtime.emulatorRequests.dynamodbTransport.direct - direct).toBe(2);
    expect(runtime.emulatorRequests.dynamodbTransport.http - http).toBe(0);
  });

  it('refuses a second runtime on the same data directory, naming the other', async () => {
    await expect(start()).rejects.toThrow(/in use by another Runway/);
  });

  it('fails with one line when the port is taken or the data directory is not writable', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const otherDir = mkdtempSync(path.join(tmpdir(), 'runway-port-'));
    try {
      const error = await LocalRuntime.start({
        port,
        dataDir: otherDir,
        define: defineLocalTestApp,
        log: () => undefined,
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RuntimeStartError);
      expect((error as Error).message).toBe(
        `Port ${port} on 127.0.0.1 is in use; choose another with --port`,
      );
    } finally {
      blocker.close();
      rmSync(otherDir, { recursive: true, force: true });
    }
    const file = path.join(tmpdir(), `runway-not-a-dir-${process.pid}`);
    writeFileSync(file, '');
    try {
      await expect(
        LocalRuntime.start({
          port: 0,
          dataDir: path.join(file, 'data'),
          define: defineLocalTestApp,
          log: () => undefined,
        }),
      ).rejects.toThrow(/^Cannot write to the data directory .* \(ENOTDIR\)$/);
    } finally {
      rmSync(file);
    }
  });
});

function machineArn(): string {
  return runtime.template.arn(runtime.template.resourcesOfType('AWS::StepFunctions::StateMachine')[0]!);
}

function busName(): string {
  return runtime.template.physicalName(runtime.template.resourcesOfType('AWS::Events::EventBus')[0]!);
}
