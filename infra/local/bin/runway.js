#!/usr/bin/env node
// The `runway` command. Registers the TypeScript loader, then runs the CLI from source, so the local
// runtime executes exactly the code that is bundled for Lambda.
import { spawn } from 'node:child_process';
import os from 'node:os';
import v8 from 'node:v8';

// V8 runs its background work (optimizing compiles, GC helper tasks) on a pool of platform threads,
// four by default, shared by every isolate of the process: `runway start` has 32 (the main thread
// and a worker per function). On a 2-core machine, in steady state, those threads took about 1 ms of
// CPU per `log_metric` (0.3 ms of it TurboFan, still compiling some 200 functions per 3,000 calls
// after 15,000; the rest GC helper tasks), competing for the cores with the request's own two
// threads and the client. With one, in interleaved A/B runs with the MLflow 2.22.4 client,
// `log_metric` was 16 % faster and searches 5 to 8 % (`--single-threaded` measured the same). The
// pool is fixed when Node starts, so `runway start` runs itself again with one thread fewer than
// the machine's cores (at most Node's default of 4), unless `--v8-pool-size` was given.
const POOL_FLAG = '--v8-pool-size';
const poolGiven = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((arg) =>
  arg.startsWith(POOL_FLAG),
);
const poolSize = Math.max(1, Math.min(4, os.availableParallelism() - 1));
if (process.argv[2] === 'start' && !poolGiven && poolSize !== 4) {
  const child = spawn(
    process.execPath,
    [...process.execArgv, `${POOL_FLAG}=${poolSize}`, ...process.argv.slice(1)],
    {
      stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, RUNWAY_RELAUNCHED: '1' },
    },
  );
  // A signal sent to this process alone (a supervisor, a test) reaches the runtime; one sent to the
  // terminal's process group reaches both, and the runtime ignores the second.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  const code = await new Promise((resolve) => {
    child.once('error', () => resolve(1));
    child.once('exit', (exitCode, signal) => resolve(exitCode ?? 128 + (os.constants.signals[signal] ?? 0)));
  });
  process.exit(code);
}
const relaunched = process.env.RUNWAY_RELAUNCHED === '1';
delete process.env.RUNWAY_RELAUNCHED;
if (relaunched && process.channel) {
  // Started by the lines above: stop, as on SIGTERM, if the launching process ends without passing
  // on a signal (killed outright), so no runtime outlives it.
  process.channel.unref();
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}

const { register } = await import('tsx/esm/api');

// V8 starts an incremental marking whenever the memory held by Buffers outside its heap grows, and
// a request body of tens of MB streams in as thousands of socket reads: the main thread (which
// serves the S3 emulator) then ran a full mark-compact about every 100 ms, some 25 ms of each 20 MB
// PUT. Without incremental marking, V8 frees those short-lived buffers with cheap young-generation
// collections instead: a 20 MB PUT from Python's http.client went from 130-143 to 200-252 MB/s, and
// small requests measured the same either way. Set first, while the heap is still empty.
v8.setFlagsFromString('--no-incremental-marking');

// Lambda runs Node 24; only local development runs on Node 20, where the SDK would print a notice.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
const { main } = await import('../cli.ts');
process.exitCode = await main(process.argv.slice(2));
