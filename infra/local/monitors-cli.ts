import { readFileSync } from 'node:fs';
import {
  CONNECTION_HELP,
  type CommandSpecs,
  callApi,
  number,
  parseCommand,
  printAnswer,
  query,
  UsageError,
} from './api-cli.ts';

export const MONITORS_HELP = `Usage: runway monitors <command> [name] [options]

Monitors watch an endpoint: on a schedule (or now) a run reads a window of its captured invocations,
compares inputs and predictions with the baseline (drift), joins ground-truth feedback (quality),
reads its serving statistics (health), and writes a report (docs/monitoring.md). Every command talks
HTTP to a Runway: the local runtime by default, or a deployment on AWS with --url and --sigv4.

Commands:
  create <name>        Create a monitor: --endpoint is required
  get <name>           Show a monitor
  list                 List monitors (--endpoint to list those of one endpoint)
  update <name>        Change any of its settings (the options below)
  delete <name>        Delete a monitor, its schedule and its run history (reports stay in MLflow)
  run <name>           Run it now over the window ending now, or --window-start/--window-end;
                       --wait waits for the run and prints its summary
  reports <name>       Its runs, newest first; --run ID shows one run's full report (--text: as text)

Options for create and update:
  --endpoint NAME         The endpoint to watch (create only)
  --schedule EXPR         rate(1 hour) (default), rate(15 minutes), cron(0 6 * * ? *), ...
  --window-seconds N      The window a scheduled run reads (300..604800, default 3600)
  --baseline-dataset URI  Compare with this CSV (s3:// or mlflow-artifacts:/) instead of the served
                          version's training statistics; --baseline-training goes back to those
  --features a,b,c        The features to watch (default: every input of the model)
  --min-samples N         Rows a window needs before drift is judged (default 100)
  --numeric-methods M     psi,ks (default) or psi,wasserstein
  --psi X --ks X --wasserstein X --js X --linf X
                          Drift limits (defaults 0.2, 0.1, 0.1, 0.1, 0.2)
  --significance X        Family-wise false-alarm rate of a run (Bonferroni; default 0.05)
  --quality METRIC=LIMIT  A live-quality limit (repeatable): accuracy, precision, recall, f1,
                          roc_auc, r2 (minimums); rmse, mae (maximums)
  --positive-class VALUE  The label of class 1 (default: the model's, or 0/1)
  --max-error-rate X      Health: the error rate limit (default 0.05)
  --max-p99-ms N          Health: the p99 latency limit (default 1000)
  --retrain-input FILE    Retrain on drift or quality: this training pipeline input (JSON file)
  --cooldown-seconds N    At most one retraining per this many seconds (default 86400)
  --no-retrain            Remove the retrain action (update)
  --disable / --enable    Keep the schedule off / on
  --settings FILE         Any settings as the API takes them (JSON), under the options above
  --description TEXT

Options for run:
  --window-start T --window-end T   ISO 8601 times or epoch milliseconds
  --wait                            Wait for the run (up to 15 minutes) and print its summary

Options for list and reports:
  --max-results N         Page size (1..1000, default 100)
  --page-token TOKEN      The next_page_token of the previous page
  --run ID --text         One run's report, as JSON or as text

${CONNECTION_HELP}`;

const OPTIONS = {
  endpoint: { type: 'string' },
  schedule: { type: 'string' },
  'window-seconds': { type: 'string' },
  'baseline-dataset': { type: 'string' },
  'baseline-training': { type: 'boolean' },
  features: { type: 'string' },
  'min-samples': { type: 'string' },
  'numeric-methods': { type: 'string' },
  psi: { type: 'string' },
  ks: { type: 'string' },
  wasserstein: { type: 'string' },
  js: { type: 'string' },
  linf: { type: 'string' },
  significance: { type: 'string' },
  quality: { type: 'string', multiple: true },
  'positive-class': { type: 'string' },
  'max-error-rate': { type: 'string' },
  'max-p99-ms': { type: 'string' },
  'retrain-input': { type: 'string' },
  'cooldown-seconds': { type: 'string' },
  'no-retrain': { type: 'boolean' },
  disable: { type: 'boolean' },
  enable: { type: 'boolean' },
  settings: { type: 'string' },
  description: { type: 'string' },
  'window-start': { type: 'string' },
  'window-end': { type: 'string' },
  wait: { type: 'boolean' },
  'max-results': { type: 'string' },
  'page-token': { type: 'string' },
  run: { type: 'string' },
  text: { type: 'boolean' },
  url: { type: 'string' },
  sigv4: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;
// biome-ignore lint/suspicious/noExplicitAny: parseArgs' values, read by name below.
type Values = Record<string, any>;

const SETTINGS = [
  'schedule',
  'window-seconds',
  'baseline-dataset',
  'baseline-training',
  'features',
  'min-samples',
  'numeric-methods',
  'psi',
  'ks',
  'wasserstein',
  'js',
  'linf',
  'significance',
  'quality',
  'positive-class',
  'max-error-rate',
  'max-p99-ms',
  'retrain-input',
  'cooldown-seconds',
  'disable',
  'enable',
  'settings',
  'description',
];
const COMMANDS: CommandSpecs = {
  create: { name: true, options: ['endpoint', ...SETTINGS] },
  get: { name: true, options: [] },
  list: { name: false, options: ['endpoint', 'max-results', 'page-token'] },
  update: { name: true, options: [...SETTINGS, 'no-retrain'] },
  delete: { name: true, options: [] },
  run: { name: true, options: ['window-start', 'window-end', 'wait'] },
  reports: { name: true, options: ['max-results', 'page-token', 'run', 'text'] },
};

/** `runway monitors ...`: resolves to the exit code. */
export async function monitorsCommand(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '-h' || command === '--help') {
    process.stdout.write(MONITORS_HELP);
    return command === undefined ? 2 : 0;
  }
  let values: Values;
  let name: string;
  let request: { method: string; path: string; body?: unknown };
  try {
    const parsed = parseCommand(command, rest, OPTIONS, COMMANDS, 'monitor');
    values = parsed.values as Values;
    if (parsed.help) {
      process.stdout.write(MONITORS_HELP);
      return 0;
    }
    name = parsed.name;
    request = buildRequest(command, name, values);
  } catch (error) {
    if (!(error instanceof UsageError) && !(error instanceof TypeError) && !(error instanceof SyntaxError))
      throw error;
    process.stderr.write(`runway monitors: ${error.message}. See 'runway monitors --help'.\n`);
    return 2;
  }
  const label = `runway monitors ${command}`;
  try {
    const answer = await callApi(values, request.method, request.path, request.body);
    if (!answer.ok) return printAnswer(label, answer);
    if (command === 'run' && values.wait) return waitForRun(values, name, answer.json as { run_id: string });
    if (command === 'reports' && values.run && values.text) return printText(values, answer.json);
    return printAnswer(label, answer);
  } catch (error) {
    process.stderr.write(`${label}: cannot reach the API: ${(error as Error).message}\n`);
    return 1;
  }
}

function buildRequest(
  command: string,
  name: string,
  values: Values,
): { method: string; path: string; body?: unknown } {
  const resource = `/api/2.0/runway/monitors/${encodeURIComponent(name)}`;
  switch (command) {
    case 'create':
      if (!values.endpoint) throw new UsageError("'create' needs --endpoint");
      return {
        method: 'POST',
        path: '/api/2.0/runway/monitors',
        body: { name, endpoint_name: values.endpoint, ...settings(values) },
      };
    case 'get':
      return { method: 'GET', path: resource };
    case 'list':
      return {
        method: 'GET',
        path: `/api/2.0/runway/monitors${query({ endpoint_name: values.endpoint, max_results: values['max-results'], page_token: values['page-token'] })}`,
      };
    case 'update': {
      const body = settings(values);
      if (Object.keys(body).length === 0) throw new UsageError("'update' needs something to change");
      return { method: 'PATCH', path: resource, body };
    }
    case 'delete':
      return { method: 'DELETE', path: resource };
    case 'run':
      return {
        method: 'POST',
        path: `${resource}/run`,
        body: {
          ...(values['window-start'] ? { window_start: time('window-start', values['window-start']) } : {}),
          ...(values['window-end'] ? { window_end: time('window-end', values['window-end']) } : {}),
        },
      };
    default:
      if (values.text && !values.run) throw new UsageError('--text needs --run');
      return values.run
        ? { method: 'GET', path: `${resource}/reports/${encodeURIComponent(values.run)}` }
        : {
            method: 'GET',
            path: `${resource}/reports${query({ max_results: values['max-results'], page_token: values['page-token'] })}`,
          };
  }
}

/** The settings fields of create and update, laid over --settings; the API checks every value. */
function settings(values: Values): Record<string, unknown> {
  const base = values.settings
    ? (JSON.parse(readFileSync(values.settings, 'utf8')) as Record<string, unknown>)
    : {};
  if (values.disable && values.enable) throw new UsageError('give --disable or --enable, not both');
  if (values['baseline-dataset'] && values['baseline-training']) {
    throw new UsageError('give --baseline-dataset or --baseline-training, not both');
  }
  const num = (option: string) => (values[option] === undefined ? undefined : number(option, values[option]));
  const defined = (entries: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(entries).filter(([, v]) => v !== undefined));
  const thresholds = defined({
    psi: num('psi'),
    ks: num('ks'),
    wasserstein: num('wasserstein'),
    jensen_shannon: num('js'),
    l_infinity: num('linf'),
  });
  const drift = defined({
    ...((base.drift as object) ?? {}),
    numeric_methods: values['numeric-methods']?.split(',').map((m: string) => m.trim()),
    significance: num('significance'),
    ...(Object.keys(thresholds).length > 0 ? { thresholds } : {}),
  });
  const limits: Record<string, number> = {};
  for (const entry of (values.quality ?? []) as string[]) {
    const [metric, limit] = entry.split('=');
    if (!metric || limit === undefined) throw new UsageError(`--quality takes METRIC=LIMIT, got '${entry}'`);
    limits[metric.trim()] = number('quality', limit);
  }
  const quality = defined({
    ...((base.quality as object) ?? {}),
    ...(Object.keys(limits).length > 0 ? { limits } : {}),
    positive_class: values['positive-class'],
  });
  const health = defined({
    ...((base.health as object) ?? {}),
    max_error_rate: num('max-error-rate'),
    max_p99_ms: num('max-p99-ms'),
  });
  const retrain = values['retrain-input']
    ? defined({
        pipeline_input: JSON.parse(readFileSync(values['retrain-input'], 'utf8')) as unknown,
        cooldown_seconds: num('cooldown-seconds'),
      })
    : undefined;
  if (values['cooldown-seconds'] !== undefined && !retrain)
    throw new UsageError('--cooldown-seconds needs --retrain-input');
  return defined({
    ...base,
    schedule: values.schedule,
    window_seconds: num('window-seconds'),
    baseline: values['baseline-dataset']
      ? { type: 'dataset', dataset_uri: values['baseline-dataset'] }
      : values['baseline-training']
        ? { type: 'training' }
        : base.baseline,
    features: values.features?.split(',').map((f: string) => f.trim()),
    min_samples: num('min-samples'),
    drift: Object.keys(drift).length > 0 ? drift : undefined,
    quality: Object.keys(quality).length > 0 ? quality : undefined,
    health: Object.keys(health).length > 0 ? health : undefined,
    actions: values['no-retrain'] ? {} : retrain ? { retrain } : base.actions,
    enabled: values.disable ? false : values.enable ? true : base.enabled,
    description: values.description ?? base.description,
  });
}

/** ISO 8601 or epoch milliseconds. */
function time(option: string, text: string): number {
  const value = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(value))
    throw new UsageError(`--${option} must be an ISO 8601 time or epoch milliseconds`);
  return value;
}

async function waitForRun(values: Values, name: string, started: { run_id: string }): Promise<number> {
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    const answer = await callApi(
      values,
      'GET',
      `/api/2.0/runway/monitors/${encodeURIComponent(name)}/reports/${started.run_id}`,
    );
    const run = (answer.json as { run?: { status?: string } } | undefined)?.run;
    if (answer.ok && run && run.status !== 'Running') {
      process.stdout.write(`${JSON.stringify(run, null, 2)}\n`);
      return run.status === 'Completed' ? 0 : 1;
    }
    if (!answer.ok && answer.status !== 404) return printAnswer(`runway monitors run`, answer);
    if (Date.now() > deadline) {
      process.stderr.write(`runway monitors run: run ${started.run_id} did not finish within 15 minutes\n`);
      return 1;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** A run's report as text: the `report.txt` beside its `report.json`, through the artifacts API. */
async function printText(values: Values, json: unknown): Promise<number> {
  const uri = (json as { run?: { report_uri?: string } }).run?.report_uri;
  if (!uri) {
    process.stderr.write('runway monitors reports: this run has no report yet\n');
    return 1;
  }
  const path = uri.replace(/^mlflow-artifacts:\//, '').replace(/report\.json$/, 'report.txt');
  const answer = await callApi(values, 'GET', `/api/2.0/mlflow-artifacts/artifacts/${path}`);
  if (!answer.ok) return printAnswer('runway monitors reports', answer);
  process.stdout.write(answer.text);
  return 0;
}
