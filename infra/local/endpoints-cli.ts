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

export const ENDPOINTS_HELP = `Usage: runway endpoints <command> [name] [options]

Endpoints serve a registered model's alias or stage (docs/endpoints.md). Every command talks HTTP to
a Runway: the local runtime by default, or a deployment on AWS with --url and --sigv4.

Commands:
  create <name>        Create an endpoint: --model and --alias or --stage are required
  get <name>           Show an endpoint
  list                 List endpoints (--model to list those of one registered model)
  update <name>        Change what it follows, its rollout policy or description
  delete <name>        Delete an endpoint and its deployment history
  deployments <name>   Show its deployment history, newest first
  deploy <name>        Deploy --version N, or the version its alias or stage points to now

Options for create and update:
  --model NAME            The registered model (create only)
  --alias ALIAS           Follow an alias, e.g. production
  --stage STAGE           Follow a stage: Staging or Production
  --target TARGET         lambda (default) or sagemaker (create only; needs AWS)
  --steps 10,50,100       Canary traffic steps in percent, increasing, the last 100
  --bake-seconds N        How long each step is watched (0..3600)
  --max-error-rate X      Error rate (0..1) of the canary that rolls back
  --max-latency-ms N      p99 latency of the canary that rolls back
  --min-invocations N     Invocations a step needs before its error rate counts
  --description TEXT
  --instance-type TYPE    SageMaker only, e.g. ml.m5.large
  --instance-count N      SageMaker only
  --image URI             SageMaker only: a serving image other than the default

Options for list and deployments:
  --max-results N         Page size (1..1000, default 100)
  --page-token TOKEN      The next_page_token of the previous page

${CONNECTION_HELP}`;

const OPTIONS = {
  model: { type: 'string' },
  alias: { type: 'string' },
  stage: { type: 'string' },
  target: { type: 'string' },
  steps: { type: 'string' },
  'bake-seconds': { type: 'string' },
  'max-error-rate': { type: 'string' },
  'max-latency-ms': { type: 'string' },
  'min-invocations': { type: 'string' },
  description: { type: 'string' },
  'instance-type': { type: 'string' },
  'instance-count': { type: 'string' },
  image: { type: 'string' },
  'max-results': { type: 'string' },
  'page-token': { type: 'string' },
  version: { type: 'string' },
  url: { type: 'string' },
  sigv4: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;
type Values = {
  [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string;
};

/** The options each command accepts besides the connection ones. */
const CONFIG_OPTIONS = [
  'alias',
  'stage',
  'steps',
  'bake-seconds',
  'max-error-rate',
  'max-latency-ms',
  'min-invocations',
  'description',
  'instance-type',
  'instance-count',
  'image',
] as const;
const COMMANDS: CommandSpecs = {
  create: { name: true, options: ['model', 'target', ...CONFIG_OPTIONS] },
  get: { name: true, options: [] },
  list: { name: false, options: ['model', 'max-results', 'page-token'] },
  update: { name: true, options: CONFIG_OPTIONS },
  delete: { name: true, options: [] },
  deployments: { name: true, options: ['max-results', 'page-token'] },
  deploy: { name: true, options: ['version'] },
};

/** `runway endpoints ...`: resolves to the exit code. */
export async function endpointsCommand(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '-h' || command === '--help') {
    process.stdout.write(ENDPOINTS_HELP);
    return command === undefined ? 2 : 0;
  }
  let request: { method: string; path: string; body?: unknown };
  let values: Values;
  try {
    const parsed = parseCommand(command, rest, OPTIONS, COMMANDS, 'endpoint');
    values = parsed.values as Values;
    if (parsed.help) {
      process.stdout.write(ENDPOINTS_HELP);
      return 0;
    }
    request = buildRequest(command, parsed.name, values);
  } catch (error) {
    if (!(error instanceof UsageError) && !(error instanceof TypeError)) throw error;
    process.stderr.write(`runway endpoints: ${error.message}. See 'runway endpoints --help'.\n`);
    return 2;
  }
  let answer: Awaited<ReturnType<typeof callApi>>;
  try {
    answer = await callApi(values, request.method, `/api/2.0/runway/${request.path}`, request.body);
  } catch (error) {
    process.stderr.write(`runway endpoints: cannot reach the API: ${(error as Error).message}\n`);
    return 1;
  }
  return printAnswer(`runway endpoints ${command}`, answer);
}

function buildRequest(
  command: string,
  name: string,
  values: Values,
): { method: string; path: string; body?: unknown } {
  const resource = `endpoints/${encodeURIComponent(name)}`;
  switch (command) {
    case 'create':
      if (!values.model) throw new UsageError("'create' needs --model");
      if (!values.alias && !values.stage) throw new UsageError("'create' needs --alias or --stage");
      return {
        method: 'POST',
        path: 'endpoints',
        body: {
          name,
          model_name: values.model,
          ...(values.target ? { target: values.target } : {}),
          ...config(values),
        },
      };
    case 'get':
      return { method: 'GET', path: resource };
    case 'list':
      return { method: 'GET', path: `endpoints${pageQuery(values, { model_name: values.model })}` };
    case 'update': {
      const body = config(values);
      if (Object.keys(body).length === 0) throw new UsageError("'update' needs something to change");
      return { method: 'PATCH', path: resource, body };
    }
    case 'delete':
      return { method: 'DELETE', path: resource };
    case 'deployments':
      return { method: 'GET', path: `${resource}/deployments${pageQuery(values, {})}` };
    default:
      return {
        method: 'POST',
        path: `${resource}/deploy`,
        body: values.version ? { version: values.version } : {},
      };
  }
}

/** The request body fields of create and update; numbers are sent as typed, the API checks ranges. */
function config(values: Values): Record<string, unknown> {
  if (values.alias && values.stage) throw new UsageError('give --alias or --stage, not both');
  const policy = {
    ...(values.steps !== undefined
      ? { traffic_steps: values.steps.split(',').map((step) => number('steps', step)) }
      : {}),
    ...numberField('bake_seconds', 'bake-seconds', values),
    ...numberField('max_error_rate', 'max-error-rate', values),
    ...numberField('max_latency_ms', 'max-latency-ms', values),
    ...numberField('min_invocations', 'min-invocations', values),
  };
  const sagemaker = {
    ...(values['instance-type'] !== undefined ? { instance_type: values['instance-type'] } : {}),
    ...numberField('initial_instance_count', 'instance-count', values),
    ...(values.image !== undefined ? { image: values.image } : {}),
  };
  return {
    ...(values.alias ? { follows: { alias: values.alias } } : {}),
    ...(values.stage ? { follows: { stage: values.stage } } : {}),
    ...(Object.keys(policy).length > 0 ? { rollout_policy: policy } : {}),
    ...(values.description !== undefined ? { description: values.description } : {}),
    ...(Object.keys(sagemaker).length > 0 ? { sagemaker } : {}),
  };
}

function numberField(field: string, option: keyof Values, values: Values): Record<string, number> {
  const text = values[option];
  return typeof text === 'string' ? { [field]: number(option, text) } : {};
}

function pageQuery(values: Values, extra: Record<string, string | undefined>): string {
  return query({ ...extra, max_results: values['max-results'], page_token: values['page-token'] });
}
