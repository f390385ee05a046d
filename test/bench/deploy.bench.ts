import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LocalRuntime } from '../../infra/local/runtime.ts';
import { LocalDeployDriver } from '../support/local-deploy.ts';
import { printTable, summarize } from './stats.ts';

const RUNS = 10;

/**
 * `npm run bench -- deploy`: the time from setting an alias (the registry call answering) to 100% of
 * an endpoint's traffic on the new version, with bake time 0, on the local runtime in this process:
 * the event on the bus, the trigger, the deploy state machine (Resolve, CheckModel, SmokeTest, two
 * traffic steps, Promote) and the endpoint read back, polled every 5 ms. The first deploy is the
 * first invocation of the trigger and the steps function (their containers start in the background
 * when the runtime starts, as the local runtime does). Each run deploys a new version of the ONNX
 * logreg fixture.
 */
export async function deployBench(): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'runway-bench-deploy-'));
  const runtime = await LocalRuntime.start({
    port: 0,
    dataDir,
    functionLogs: 'silent',
    log: () => undefined,
  });
  const driver = new LocalDeployDriver(runtime);
  try {
    const endpoint = 'bench-api';
    const model = 'bench-model';
    const versions: string[] = [];
    for (let i = 0; i <= RUNS; i++)
      versions.push(await driver.createVersion(model, await driver.uploadModel(`bench${i}`)));
    await driver.ok('POST', 'runway/endpoints', {
      name: endpoint,
      model_name: model,
      follows: { alias: 'production' },
      rollout_policy: { traffic_steps: [10, 50, 100], bake_seconds: 0 },
    });
    const samples: number[] = [];
    for (const version of versions) {
      const started = performance.now();
      await driver.setAlias(model, 'production', version);
      await driver.waitForPrimary(endpoint, version, 60_000, 5);
      samples.push(performance.now() - started);
    }
    const [cold = 0, ...warm] = samples;
    const stats = summarize(warm);
    printTable(
      'alias set -> 100% of traffic on the new version, bake 0, steps 10/50/100 (ms; target < 5000)',
      ['', 'runs', 'p50', 'p99', 'max'],
      [
        ['first deploy (first invocations of the functions)', '1', Math.round(cold), '', ''],
        [
          'next deploys',
          String(warm.length),
          Math.round(stats.p50),
          Math.round(stats.p99),
          Math.round(stats.max),
        ],
      ],
    );
  } finally {
    driver.close();
    await runtime.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
