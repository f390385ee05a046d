/**
 * `runway pipelines start|list|describe`: the training pipeline through the Step Functions API, on
 * the local runtime (its endpoint read from `<data-dir>/runtime.json`) or, with `--aws`, on AWS with
 * the SDK's default credentials and region.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { DEFAULT_PIPELINE_NAME } from '../../shared/pipelines/model.ts';

export const PIPELINES_HELP = `Usage: runway pipelines <start|list|describe> [options]

  start      Start the training pipeline; prints the execution ARN (with --wait, the outcome)
  list       List the pipeline's executions, newest first
  describe   Show an execution: status, each step, and the output or the failure

Options:
  --input FILE        start: the pipeline input (JSON; see docs/pipelines.md)
  --input-json JSON   start: the input inline
  --dataset FILE      start (local only): upload FILE to mlflow-artifacts:/datasets/<name> and use it
  --name NAME         start: the execution name (default: generated)
  --wait              start: wait for the execution to end; exit 1 if it did not succeed
  --pipeline NAME     the state machine's name or ARN (default ${DEFAULT_PIPELINE_NAME})
  --data-dir DIR      the local runtime's data directory (default ./.runway, or RUNWAY_DATA_DIR)
  --aws               use AWS (default credentials and region) instead of the local runtime
  -h, --help          show this help

Examples:
  runway pipelines start --input pipeline.json --dataset datasets/iris/iris.csv --wait
  runway pipelines describe <execution name or ARN>
`;

type Values = {
  input?: string;
  'input-json'?: string;
  dataset?: string;
  name?: string;
  wait?: boolean;
  pipeline?: string;
  'data-dir'?: string;
  aws?: boolean;
  help?: boolean;
};

/** A usage mistake: printed as one line, exit code 2. */
class UsageError extends Error {}

interface Target {
  client: SFNClient;
  /** The local runtime's API URL (for dataset uploads); undefined on AWS. */
  localUrl?: string;
}

function connect(values: Values): Target {
  if (values.aws) return { client: new SFNClient({}) };
  const dataDir = path.resolve(values['data-dir'] ?? process.env.RUNWAY_DATA_DIR ?? '.runway');
  const file = path.join(dataDir, 'runtime.json');
  if (!existsSync(file)) {
    throw new UsageError(
      `no local Runway is running with data directory ${dataDir} (start one with 'runway start', or pass --aws)`,
    );
  }
  const { url, awsEndpoint } = JSON.parse(readFileSync(file, 'utf8')) as { url: string; awsEndpoint: string };
  return {
    client: new SFNClient({
      endpoint: awsEndpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
    localUrl: url,
  };
}

async function stateMachineArn(client: SFNClient, pipeline: string): Promise<string> {
  if (pipeline.startsWith('arn:')) return pipeline;
  let nextToken: string | undefined;
  do {
    const page = await client.send(new ListStateMachinesCommand({ nextToken }));
    const found = page.stateMachines?.find((machine) => machine.name === pipeline);
    if (found?.stateMachineArn) return found.stateMachineArn;
    nextToken = page.nextToken;
  } while (nextToken);
  throw new UsageError(`no state machine named '${pipeline}'`);
}

function executionArn(machineArn: string, id: string): string {
  if (id.startsWith('arn:')) return id;
  // Execution ARNs of STANDARD machines are the machine's ARN with `execution` and the name.
  return `${machineArn.replace(':stateMachine:', ':execution:')}:${id}`;
}

async function readInput(values: Values, target: Target): Promise<Record<string, unknown>> {
  if (values.input && values['input-json']) throw new UsageError('give --input or --input-json, not both');
  const text = values.input ? readFileSync(values.input, 'utf8') : values['input-json'];
  if (text === undefined) throw new UsageError('start needs --input FILE or --input-json JSON');
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`the input is not JSON: ${(error as Error).message}`);
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new UsageError('the input must be a JSON object');
  }
  if (values.dataset) {
    if (!target.localUrl) {
      throw new UsageError(
        '--dataset uploads to the local runtime only; on AWS, put the file in S3 and set datasetUri',
      );
    }
    const name = path.basename(values.dataset);
    const response = await fetch(
      `${target.localUrl}/api/2.0/mlflow-artifacts/artifacts/datasets/${encodeURIComponent(name)}`,
      {
        method: 'PUT',
        body: readFileSync(values.dataset),
      },
    );
    if (!response.ok)
      throw new Error(`uploading ${values.dataset} failed: HTTP ${response.status} ${await response.text()}`);
    return { ...input, datasetUri: `mlflow-artifacts:/datasets/${name}` };
  }
  return input as Record<string, unknown>;
}

function stepsOf(events: readonly HistoryEvent[]): string[] {
  const lines: string[] = [];
  for (const event of events) {
    const entered = event.stateEnteredEventDetails?.name;
    if (entered) lines.push(`  ${entered}`);
    const failure = event.lambdaFunctionFailedEventDetails ?? event.taskFailedEventDetails;
    if (failure && lines.length > 0) lines[lines.length - 1] += `  (failed: ${failure.error})`;
  }
  return lines;
}

function printExecution(execution: DescribeExecutionCommandOutput, events: readonly HistoryEvent[]): void {
  const lines = [
    `execution: ${execution.executionArn}`,
    `status:    ${execution.status}`,
    `started:   ${execution.startDate?.toISOString()}`,
    ...(execution.stopDate ? [`stopped:   ${execution.stopDate.toISOString()}`] : []),
    'steps:',
    ...stepsOf(events),
  ];
  if (execution.error) lines.push(`error:     ${execution.error}`, `cause:\n${execution.cause ?? ''}`);
  if (execution.output) lines.push(`output:\n${JSON.stringify(JSON.parse(execution.output), null, 2)}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function describe(client: SFNClient, arn: string): Promise<DescribeExecutionCommandOutput> {
  const execution = await client.send(new DescribeExecutionCommand({ executionArn: arn }));
  const history = await client.send(new GetExecutionHistoryCommand({ executionArn: arn, maxResults: 1000 }));
  printExecution(execution, history.events ?? []);
  return execution;
}

async function waitForEnd(client: SFNClient, arn: string): Promise<void> {
  for (;;) {
    const { status } = await client.send(new DescribeExecutionCommand({ executionArn: arn }));
    if (status !== 'RUNNING') return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Runs `runway pipelines ...`; resolves to the exit code. */
export async function pipelines(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: {
        input: { type: 'string' },
        'input-json': { type: 'string' },
        dataset: { type: 'string' },
        name: { type: 'string' },
        wait: { type: 'boolean' },
        pipeline: { type: 'string' },
        'data-dir': { type: 'string' },
        aws: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    process.stderr.write(`runway pipelines: ${(error as Error).message}. See 'runway pipelines --help'.\n`);
    return 2;
  }
  if (command === undefined || command === '--help' || command === '-h' || values.help) {
    process.stdout.write(PIPELINES_HELP);
    return command === undefined ? 2 : 0;
  }
  try {
    const target = connect(values);
    const machine = await stateMachineArn(target.client, values.pipeline ?? DEFAULT_PIPELINE_NAME);
    switch (command) {
      case 'start': {
        const input = await readInput(values, target);
        const { executionArn: arn } = await target.client.send(
          new StartExecutionCommand({
            stateMachineArn: machine,
            input: JSON.stringify(input),
            name: values.name,
          }),
        );
        if (!values.wait) {
          process.stdout.write(`${arn}\n`);
          return 0;
        }
        await waitForEnd(target.client, arn ?? '');
        const execution = await describe(target.client, arn ?? '');
        return execution.status === 'SUCCEEDED' ? 0 : 1;
      }
      case 'list': {
        const { executions = [] } = await target.client.send(
          new ListExecutionsCommand({ stateMachineArn: machine, maxResults: 100 }),
        );
        for (const execution of executions) {
          const stopped = execution.stopDate ? `  ${execution.stopDate.toISOString()}` : '';
          process.stdout.write(
            `${execution.name}  ${execution.status}  ${execution.startDate?.toISOString()}${stopped}\n`,
          );
        }
        return 0;
      }
      case 'describe': {
        const [id] = positionals;
        if (!id) throw new UsageError('describe needs an execution name or ARN');
        await describe(target.client, executionArn(machine, id));
        return 0;
      }
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (error) {
    const usage = error instanceof UsageError;
    process.stderr.write(
      `runway pipelines: ${(error as Error).message}${usage ? ". See 'runway pipelines --help'." : ''}\n`,
    );
    return usage ? 2 : 1;
  }
}
