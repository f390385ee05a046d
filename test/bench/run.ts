/**
 * `npm run bench [-- startup|api|bundles|tracking|search-scale|vs-mlflow|cost|traces|artifacts|registry|serving|deploy|auth|pipeline|monitoring|console|all]`: measures what the issues name and prints it. Nothing
 * here asserts a time: a slow machine makes slow figures, not failed builds.
 */

import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { REPO_ROOT } from '../../infra/repo-root.ts';
import { defineRunwayApp } from '../../infra/runway-app.ts';
import { artifactsBench } from './artifacts.bench.ts';
import { authBench } from './auth.bench.ts';
import { consoleBench } from './console.bench.ts';
import { costBench } from './cost.bench.ts';
import { deployBench } from './deploy.bench.ts';
import { monitoringBench } from './monitoring.bench.ts';
import { pipelineBench } from './pipeline.bench.ts';
import { registryBench } from './registry.bench.ts';
import { startRuntimeProcess } from './runtime-process.ts';
import { searchScaleBench } from './search-scale.bench.ts';
import { servingBench } from './serving.bench.ts';
import { pool, printTable, summarize } from './stats.ts';
import { tracesBench } from './traces.bench.ts';
import { trackingBench } from './tracking.bench.ts';
import { vsMlflowBench } from './vs-mlflow.bench.ts';

// Development runs Node 20 (Lambda runs 24); the SDK's notice about it would clutter the tables.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const benches: Record<string, () => Promise<void>> = {
  startup,
  api,
  bundles,
  tracking: trackingBench,
  'search-scale': searchScaleBench,
  traces: tracesBench,
  artifacts: artifactsBench,
  registry: registryBench,
  deploy: deployBench,
  serving: servingBench,
  auth: authBench,
  pipeline: pipelineBench,
  'vs-mlflow': vsMlflowBench,
  cost: costBench,
  monitoring: monitoringBench,
  console: consoleBench,
};

async function main(): Promise<void> {
  const requested = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
  const names = requested.length === 0 || requested.includes('all') ? Object.keys(benches) : requested;
  for (const name of names) {
    const bench = benches[name];
    if (!bench) {
      process.stderr.write(
        `unknown benchmark '${name}'; choose from ${Object.keys(benches).join(', ')}, all\n`,
      );
      process.exitCode = 2;
      return;
    }
    await bench();
  }
}

/** Time from `runway start` to /health answering 200: first start (empty data dir) and a restart. */
async function startup(): Promise<void> {
  const rows: Array<Array<string | number>> = [];
  for (let i = 0; i < 3; i++) {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'runway-bench-'));
    const fresh = await startRuntimeProcess(dataDir);
    const warmMs = await fresh.warm;
    await fresh.stop();
    const restart = await startRuntimeProcess(dataDir);
    await restart.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rows.push([`run ${i + 1}`, fresh.readyMs, restart.readyMs, warmMs]);
  }
  printTable(
    'npm start -> GET /health 200 (ms; target < 5000)',
    ['', 'fresh data dir', 'restart', 'all functions warm (fresh)'],
    rows,
  );
}

/** p50/p99 of experiment create and get over HTTP against `runway start`, at concurrency 1 and 16. */
async function api(): Promise<void> {
  const runtime = await startRuntimeProcess();
  await runtime.warm; // the steady state, not the minute of background cold starts after start-up
  try {
    const rows: Array<Array<string | number>> = [];
    const run = `bench-${Date.now()}`;
    for (const concurrency of [1, 16]) {
      const total = concurrency === 1 ? 300 : 1600;
      const ids: string[] = [];
      const create = await load(total, concurrency, async (i) => {
        const response = await fetch(`${runtime.url}/api/2.0/mlflow/experiments/create`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name: `${run}-c${concurrency}-${i}` }),
        });
        const body = (await response.json()) as { experiment_id: string };
        if (response.status !== 200) throw new Error(`create answered ${response.status}`);
        ids.push(body.experiment_id);
      });
      const get = await load(total, concurrency, async (i) => {
        const response = await fetch(
          `${runtime.url}/api/2.0/mlflow/experiments/get?experiment_id=${ids[i % ids.length]}`,
        );
        await response.arrayBuffer();
        if (response.status !== 200) throw new Error(`get answered ${response.status}`);
      });
      for (const [name, result] of [
        ['create', create],
        ['get', get],
      ] as const) {
        const stats = summarize(result.latencies);
        rows.push([name, String(concurrency), stats.n, stats.p50, stats.p99, result.throughput]);
      }
    }
    printTable(
      'experiments over HTTP against runway start (ms)',
      ['operation', 'concurrency', 'requests', 'p50', 'p99', 'req/s'],
      rows,
    );
  } finally {
    await runtime.stop();
  }
}

/** Warms the function's container and connections, as a deployed function would be, then loads it. */
async function load(total: number, concurrency: number, call: (i: number) => Promise<void>) {
  for (let i = 0; i < 5; i++) await call(total + i);
  return pool(total, concurrency, call);
}

/** Each Lambda bundle as `cdk synth` builds it: its size and the time a fresh Node takes to import it. */
async function bundles(): Promise<void> {
  const outdir = mkdtempSync(path.join(tmpdir(), 'runway-bench-synth-'));
  try {
    const app = new App({
      outdir,
      builtinCloudFormationValidation: false,
      context: { 'aws:cdk:enable-asset-metadata': true },
    });
    defineRunwayApp(app, { env: { account: '123456789012', region: 'us-east-1' } });
    const assembly = app.synth();
    const rows: Array<Array<string | number>> = [];
    for (const stack of assembly.stacks) {
      for (const [logicalId, resource] of Object.entries(stack.template.Resources ?? {}) as Array<
        [string, Resource]
      >) {
        if (resource.Type !== 'AWS::Lambda::Function' || !resource.Metadata?.['aws:asset:path']) continue;
        const dir = path.join(outdir, resource.Metadata['aws:asset:path']);
        const file =
          readdirSync(dir).find((name) => name.endsWith('.mjs') || name.endsWith('.js')) ?? 'index.mjs';
        const size = statSync(path.join(dir, file)).size;
        const maps = readdirSync(dir).filter((name) => name.endsWith('.map'));
        rows.push([
          `${stack.stackName}/${logicalId}`,
          (size / 1024).toFixed(1),
          maps.length > 0 ? (statSync(path.join(dir, maps[0] as string)).size / 1024).toFixed(1) : '-',
          importTime(path.join(dir, file), benchEnvironment(resource)),
        ]);
      }
    }
    printTable(
      'Lambda bundles (target < 400 KB for API functions)',
      ['function', 'KB', 'source map KB', 'import ms (median of 5)'],
      rows,
    );
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

interface Resource {
  Type: string;
  Metadata?: Record<string, string>;
  Properties?: { Environment?: { Variables?: Record<string, unknown> } };
}

/** The function's variables from the template, references replaced by placeholders, as at cold start. */
function benchEnvironment(resource: Resource): Record<string, string> {
  const variables = resource.Properties?.Environment?.Variables ?? {};
  return Object.fromEntries(
    Object.entries(variables)
      .filter(([key]) => key !== 'NODE_OPTIONS')
      .map(([key, value]) => [key, typeof value === 'string' ? value : 'bench-placeholder']),
  );
}

/**
 * Imports the bundle in a fresh Node process (cold). The bundle is copied under the repository so
 * that the AWS SDK, which Lambda's runtime provides, resolves from node_modules.
 */
function importTime(bundle: string, environment: Record<string, string>): number {
  const dir = mkdtempSync(path.join(REPO_ROOT, '.bench-'));
  const file = path.join(dir, 'index.mjs');
  copyFileSync(bundle, file);
  try {
    return timeImports(file, environment);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function timeImports(file: string, environment: Record<string, string>): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(file)}); console.log(performance.now() - t);`;
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        ...environment,
        AWS_REGION: 'us-east-1',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
    });
    samples.push(Number(out.toString().trim()));
  }
  return summarize(samples).p50;
}

await main();
