import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../repo-root.ts';
import type { LocalRuntime } from './runtime.ts';

const HELP = `Usage: runway <command> [options]

Runway: an MLflow-compatible MLOps backend that runs serverless on AWS and, for development, here.

Commands:
  start        Run Runway locally: the whole CDK app on embedded emulators, on 127.0.0.1
  endpoints    Create, show, list, update and delete model endpoints; their deployment history
               (see 'runway endpoints --help')
  monitors     Create, show, list, update, delete and run endpoint monitors; their reports
               (see 'runway monitors --help')
  tokens       Create, list and revoke Runway tokens (see 'runway tokens --help')
  pipelines    Start, list and describe training pipeline executions (see 'runway pipelines --help')
  help         Show this help

Options for start:
  --port N         Port of the API (default 5000, or PORT; 0 picks a free one)
  --data-dir DIR   Where data is kept across restarts (default ./.runway, or RUNWAY_DATA_DIR)
  --auth           Require a Runway token on every request, checked by the same authorizer as on
                   AWS; the first admin token is written to <data-dir>/admin-token
  --quiet          Do not print function logs

Global options:
  -h, --help       Show this help
  -v, --version    Print the version

Point the MLflow client at it:  MLFLOW_TRACKING_URI=http://127.0.0.1:5000
`;

/** Runs the CLI; resolves to the process exit code (long-running commands resolve when they stop). */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '-h' || command === '--help') {
    process.stdout.write(HELP);
    return command === undefined ? 1 : 0;
  }
  if (command === '-v' || command === '--version') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  if (command === 'start') return start(rest);
  if (command === 'endpoints') return (await import('./endpoints-cli.ts')).endpointsCommand(rest);
  if (command === 'monitors') return (await import('./monitors-cli.ts')).monitorsCommand(rest);
  if (command === 'tokens') {
    // Loaded here, so --help and --version answer without loading the SDK.
    const { tokens } = await import('./tokens-cli.ts');
    return tokens(rest);
  }
  if (command === 'pipelines') {
    // Loaded here so that --help answers without loading the SDK.
    const { pipelines } = await import('./pipelines-cli.ts');
    return pipelines(rest);
  }
  process.stderr.write(`runway: unknown command '${command}'. See 'runway --help'.\n`);
  return 2;
}

async function start(argv: string[]): Promise<number> {
  let values: { port?: string; 'data-dir'?: string; quiet?: boolean; auth?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string' },
        'data-dir': { type: 'string' },
        quiet: { type: 'boolean' },
        auth: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(`runway start: ${(error as Error).message}. See 'runway --help'.\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const portText = values.port ?? process.env.PORT ?? '5000';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`runway start: --port must be an integer from 0 to 65535, got '${portText}'\n`);
    return 2;
  }
  const dataDir = path.resolve(values['data-dir'] ?? process.env.RUNWAY_DATA_DIR ?? '.runway');
  const started = Date.now();
  // Loaded here, not at the top, so --help and --version answer without loading the CDK.
  const { LocalRuntime, RuntimeStartError } = await import('./runtime.ts');
  let runtime: LocalRuntime;
  try {
    runtime = await LocalRuntime.start({
      port,
      dataDir,
      auth: values.auth ?? false,
      functionLogs: values.quiet ? 'silent' : 'inherit',
    });
  } catch (error) {
    const message =
      error instanceof RuntimeStartError ? error.message : `failed to start: ${(error as Error).message}`;
    process.stderr.write(`runway: ${message}\n`);
    return 1;
  }
  printSummary(runtime, dataDir, Date.now() - started, values.auth ?? false);
  void runtime.warmedUp.then(() => {
    const count = new Set(runtime.functions.values()).size;
    process.stdout.write(`runway: all ${count} functions warm (${Date.now() - started} ms after start)\n`);
  });
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      // A second signal (a terminal and a supervisor both sending one) must not cut the shutdown short.
      if (stopping) return;
      stopping = true;
      process.stdout.write(`\nrunway: ${signal} received, stopping\n`);
      runtime.stop().then(resolve, resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  return 0;
}

function printSummary(runtime: LocalRuntime, dataDir: string, ms: number, auth: boolean): void {
  const routes = runtime.gateway.routes.map((route) => `    ${route.routeKey}`).join('\n');
  const functions = [...new Set(runtime.functions.values())].map((fn) => `    ${fn.spec.name}`).join('\n');
  const rules = runtime.eventBus.rules.map(
    (rule) => `    ${rule.name} (${rule.schedule ?? 'event pattern'})`,
  );
  const machines = runtime.stepFunctions.listStateMachineNames?.() ?? [];
  process.stdout.write(
    [
      `Runway ${version()} is running at ${runtime.url} (ready in ${ms} ms)`,
      `  data directory: ${dataDir}`,
      `  AWS endpoint for Step Functions, EventBridge and Lambda: ${runtime.awsEndpoint}`,
      `  routes:\n${routes}`,
      `  functions:\n${functions}`,
      `  state machines: ${machines.length > 0 ? machines.join(', ') : 'none'}`,
      `  rules: ${rules.length > 0 ? `\n${rules.join('\n')}` : 'none'}`,
      `  authentication: ${auth ? `Runway tokens (admin token in ${path.join(dataDir, 'admin-token')})` : 'none (local only)'}`,
      `MLflow clients: export MLFLOW_TRACKING_URI=${runtime.url}`,
      ...(auth
        ? ['                export MLFLOW_TRACKING_TOKEN=<a token from: runway tokens create --user NAME>']
        : []),
      'Press Ctrl+C to stop.',
      '',
    ].join('\n'),
  );
}

function version(): string {
  const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}
