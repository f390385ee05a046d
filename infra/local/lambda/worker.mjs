// One local "Lambda container": a worker thread with its own environment and module graph, running
// one function's handler. Plain JavaScript so it can register the TypeScript loader before anything
// else is imported. Protocol with the parent (infra/local/lambda/local-function.ts):
//   <- { ready: true } | { initError }      -> { id, payload, context }     <- { id, result } | { id, error }
//   <- { logs: [[1 | 2, text], ...] }  (stdout and stderr; also carried on results and errors)
// The event (`payload`) and the result travel as JSON text, as Lambda's runtime API carries them.
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();

// What the function writes to stdout and stderr (its log lines) goes to the parent with the next
// message it sends anyway, the invocation's result, or at the end of the event loop's turn when
// none follows: a write through the worker's own stdout stream is one more message, and a message
// wakes the parent's thread (some 0.1 ms of the sender's time on this machine's virtual CPUs).
let logs = [];
const flushLogs = () => {
  if (logs.length === 0) return;
  parentPort.postMessage({ logs: takeLogs() });
};
const takeLogs = () => {
  const taken = logs;
  logs = [];
  return taken;
};
for (const [stream, index] of [
  [process.stdout, 1],
  [process.stderr, 2],
]) {
  stream.write = (chunk, encoding, callback) => {
    const done = typeof encoding === 'function' ? encoding : callback;
    const text =
      typeof chunk === 'string'
        ? chunk
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString(
            typeof encoding === 'string' ? encoding : 'utf8',
          );
    if (logs.push([index, text]) === 1) setImmediate(flushLogs);
    if (done) queueMicrotask(() => done(null));
    return true;
  };
}
// A crash ends the thread before the turn does: what it logged first still reaches the parent.
process.on('uncaughtExceptionMonitor', flushLogs);

const toError = (error) => ({
  errorType: error?.name ?? 'Error',
  errorMessage: error?.message ?? String(error),
  trace: typeof error?.stack === 'string' ? error.stack.split('\n') : [],
});

// The local DynamoDB emulator is reached over a message port, not loopback HTTP (see the module).
let roundTrips = () => 0;
if (workerData.dynamodb) {
  const transport = await import('./emulator-transport.ts');
  transport.carryToEmulator(workerData.dynamodb.port, workerData.dynamodb.endpoint);
  roundTrips = transport.roundTrips;
}

let handler;
try {
  const module = await import(pathToFileURL(workerData.entry).href);
  handler = module[workerData.handlerName];
  if (typeof handler !== 'function') {
    throw Object.assign(new Error(`${workerData.entry} does not export '${workerData.handlerName}'`), {
      name: 'Runtime.HandlerNotFound',
    });
  }
  parentPort.postMessage({ ready: true });
} catch (error) {
  parentPort.postMessage({ initError: toError(error) });
}

parentPort.on('message', async ({ id, payload, context }) => {
  const deadline = Date.now() + context.timeoutMs;
  const lambdaContext = {
    ...context,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done() {},
    fail() {},
    succeed() {},
  };
  // What the invocation cost this container: its thread's busy time and its round trips to the
  // emulator (the cost model's Lambda duration, `npm run bench -- cost`).
  const busy = performance.eventLoopUtilization();
  const trips = roundTrips();
  const usage = () => ({
    activeMs: performance.eventLoopUtilization(busy).active,
    roundTrips: roundTrips() - trips,
  });
  try {
    const result = await handler(JSON.parse(payload), lambdaContext);
    parentPort.postMessage({ id, ...serialize(result), usage: usage(), logs: takeLogs() });
  } catch (error) {
    parentPort.postMessage({ id, error: toError(error), usage: usage(), logs: takeLogs() });
  }
});

/**
 * The result as JSON text, as Lambda's runtime API carries it. A proxy response's `body` (a string,
 * often the largest part) travels beside the text instead of escaped inside it: a string comes out
 * of a JSON round trip as it went in, so the parent rebuilds exactly what JSON would have given,
 * without escaping and parsing the body again (some 2 ms for a 140 KB search answer on this machine).
 */
function serialize(result) {
  if (
    result === null ||
    typeof result !== 'object' ||
    Object.getPrototypeOf(result) !== Object.prototype ||
    typeof result.body !== 'string' ||
    'toJSON' in result
  ) {
    return { result: JSON.stringify(result) ?? 'null' };
  }
  const { body, ...rest } = result;
  return { result: JSON.stringify(rest), body };
}
