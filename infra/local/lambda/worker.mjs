// One local "Lambda container": a worker thread with its own environment and module graph, running
// one function's handler. Plain JavaScript so it can register the TypeScript loader before anything
// else is imported. Protocol with the parent (infra/local/lambda/local-function.ts):
//   <- { ready: true } | { initError }      -> { id, payload, context }     <- { id, result } | { id, error }
// The event (`payload`) and the result travel as JSON text, as Lambda's runtime API carries them.
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();

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
    parentPort.postMessage({ id, ...serialize(result), usage: usage() });
  } catch (error) {
    parentPort.postMessage({ id, error: toError(error), usage: usage() });
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
