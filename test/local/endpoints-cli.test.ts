import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRuntime } from '../../infra/local/runtime.ts';
import { runRunwayCli } from '../support/runway-cli.ts';

let runtime: LocalRuntime;
let dataDir: string;

/** Runs `runway endpoints ...` against the runtime, as a user would from a shell. */
async function runway(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await runRunwayCli(['endpoints', ...args, '--url', runtime.url]);
  return { status: code, stdout, stderr };
}

async function registeredModel(name: string): Promise<void> {
  const response = await fetch(`${runtime.url}/api/2.0/mlflow/registered-models/create`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  expect(response.status).toBe(200);
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'runway-endpoints-cli-'));
  runtime = await LocalRuntime.start({ port: 0, dataDir, functionLogs: 'silent', log: () => undefined });
});

afterAll(async () => {
  await runtime?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

// Each command is a Node process that loads the TypeScript loader first: seconds apiece on a busy machine.
describe('runway endpoints against the local runtime', { timeout: 180_000 }, () => {
  it('prints help that names every command and option', async () => {
    const help = await runway('--help');
    expect(help.status).toBe(0);
    for (const word of [
      'create',
      'get',
      'list',
      'update',
      'delete',
      'deployments',
      'deploy',
      '--sigv4',
      '--steps',
    ]) {
      expect(help.stdout).toContain(word);
    }
  });

  it('creates, shows, lists, updates, reads the history of and deletes an endpoint', async () => {
    await registeredModel('cli-model');
    const created = await runway(
      'create',
      'cli-endpoint',
      '--model',
      'cli-model',
      '--alias',
      'production',
      '--steps',
      '25,100',
      '--bake-seconds',
      '30',
      '--description',
      'made by the CLI',
    );
    expect(created.status, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout).endpoint).toMatchObject({
      name: 'cli-endpoint',
      model_name: 'cli-model',
      follows: { alias: 'production' },
      target: 'lambda',
      rollout_policy: { traffic_steps: [25, 100], bake_seconds: 30 },
      description: 'made by the CLI',
    });

    const shown = await runway('get', 'cli-endpoint');
    expect(JSON.parse(shown.stdout)).toEqual(JSON.parse(created.stdout));

    const listed = await runway('list', '--model', 'cli-model', '--max-results', '10');
    expect(JSON.parse(listed.stdout).endpoints.map((e: { name: string }) => e.name)).toEqual([
      'cli-endpoint',
    ]);

    const updated = await runway(
      'update',
      'cli-endpoint',
      '--stage',
      'Production',
      '--max-error-rate',
      '0.05',
    );
    expect(updated.status, updated.stderr).toBe(0);
    expect(JSON.parse(updated.stdout).endpoint).toMatchObject({
      follows: { stage: 'Production' },
      rollout_policy: { max_error_rate: 0.05, traffic_steps: [25, 100] },
    });

    const history = await runway('deployments', 'cli-endpoint');
    expect(history.status).toBe(0);
    expect(JSON.parse(history.stdout)).toEqual({});

    expect((await runway('delete', 'cli-endpoint')).status).toBe(0);
    const gone = await runway('get', 'cli-endpoint');
    expect(gone.status).toBe(1);
    expect(gone.stderr).toContain("HTTP 404 RESOURCE_DOES_NOT_EXIST: Endpoint 'cli-endpoint' does not exist");
  });

  it("prints the API's refusal and exits 1: a bad policy, sagemaker on the local runtime", async () => {
    await registeredModel('cli-model-2');
    const policy = await runway(
      'create',
      'cli-bad',
      '--model',
      'cli-model-2',
      '--alias',
      'p',
      '--steps',
      '10,50',
    );
    expect(policy.status).toBe(1);
    expect(policy.stderr).toContain('the last traffic step must be 100');
    const sagemaker = await runway(
      'create',
      'cli-sm',
      '--model',
      'cli-model-2',
      '--alias',
      'p',
      '--target',
      'sagemaker',
      '--instance-type',
      'ml.m5.large',
      '--instance-count',
      '1',
    );
    expect(sagemaker.status).toBe(1);
    expect(sagemaker.stderr).toContain('the local runtime has no SageMaker; use target lambda locally');
  });

  it('refuses bad usage with exit code 2 before any request', async () => {
    const noModel = await runway('create', 'x', '--alias', 'p');
    expect(noModel.status).toBe(2);
    expect(noModel.stderr).toContain("'create' needs --model");
    const notNumber = await runway('update', 'x', '--bake-seconds', 'soon');
    expect(notNumber.status).toBe(2);
    expect(notNumber.stderr).toContain("--bake-seconds must be a number, got 'soon'");
    expect((await runway('frobnicate')).status).toBe(2);
  });
});
