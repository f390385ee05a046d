import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LocalRuntime } from '../../infra/local/runtime.ts';
import { pool, printTable, requestsPerCall, summarize } from './stats.ts';

// biome-ignore lint/suspicious/noExplicitAny: the benchmark reads whatever JSON the API answered.
type Json = Record<string, any>;

const SEARCH_MODELS = 1_000;
const VERSIONS = 100;
const ALIASES = 10;
const q = encodeURIComponent;

/**
 * The registry workload over HTTP against the local runtime (in this process, so the DynamoDB
 * emulator's request counter can be read):
 * - `registered-models/get` on a model with 100 versions and 10 aliases, which the MLflow client
 *   calls before most registry operations; the design says one Query (shared/registry/README.md);
 * - a search walk over 1,000 registered models, page by page;
 * - `model-versions/create` on one model at concurrency 1 and 16, checking that the numbers come out
 *   1..N without gaps or duplicates;
 * - the DynamoDB requests each operation causes: the registry function's own, plus those of the
 *   functions its events trigger (deliveries are awaited before counting), since the emulator counts
 *   requests by operation, not by caller.
 * Nothing is asserted: figures and checks are printed.
 */
export async function registryBench(): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'runway-bench-registry-'));
  const runtime = await LocalRuntime.start({
    port: 0,
    dataDir,
    functionLogs: 'silent',
    log: () => undefined,
  });
  const api = async (method: string, endpoint: string, body?: unknown): Promise<Json> => {
    const response = await fetch(`${runtime.url}/api/2.0/mlflow/${endpoint}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await response.json()) as Json;
    if (response.status !== 200)
      throw new Error(`${method} ${endpoint} answered ${response.status}: ${JSON.stringify(json)}`);
    return json;
  };
  const dynamo = () => ({ ...runtime.emulatorRequests.dynamodb });
  const rows: Array<Array<string | number>> = [];
  const checks: string[] = [];
  /** Times `n` sequential calls and counts the DynamoDB requests they made, per call. */
  const measure = async (name: string, n: number, call: (i: number) => Promise<unknown>) => {
    await call(-1); // warm
    const before = dynamo();
    const samples: number[] = [];
    for (let i = 0; i < n; i++) {
      const started = performance.now();
      await call(i);
      samples.push(performance.now() - started);
    }
    const stats = summarize(samples);
    await runtime.eventBus.idle();
    const perCall = requestsPerCall(dynamo(), before, n);
    rows.push([name, '1', String(n), stats.p50, stats.p99, '-', perCall.text]);
    return perCall;
  };

  try {
    // --- 1,000 registered models, walked page by page (a fresh table holds only these) ----------
    const prefix = `bench-search-${Date.now()}`;
    await pool(SEARCH_MODELS, 16, (i) =>
      api('POST', 'registered-models/create', {
        name: `${prefix}-${String(i).padStart(4, '0')}`,
        tags: [{ key: 'parity', value: i % 2 === 0 ? 'even' : 'odd' }],
      }),
    );
    const pageTimes: number[] = [];
    const walkTimes: number[] = [];
    let pagesPerWalk = 0;
    let modelsSeen = 0;
    const walkBefore = dynamo();
    const walks = 5;
    for (let walk = 0; walk < walks; walk++) {
      const walkStarted = performance.now();
      let token: string | undefined;
      pagesPerWalk = 0;
      modelsSeen = 0;
      do {
        const started = performance.now();
        const page: Json = await api(
          'GET',
          `registered-models/search?max_results=100&order_by=${q('name ASC')}${token ? `&page_token=${q(token)}` : ''}`,
        );
        pageTimes.push(performance.now() - started);
        modelsSeen += page.registered_models?.length ?? 0;
        pagesPerWalk++;
        token = page.next_page_token;
      } while (token);
      walkTimes.push(performance.now() - walkStarted);
    }
    const pages = summarize(pageTimes);
    const walkStats = summarize(walkTimes);
    rows.push([
      `registered-models/search, page of 100 (of ${SEARCH_MODELS})`,
      '1',
      String(pageTimes.length),
      pages.p50,
      pages.p99,
      '-',
      requestsPerCall(dynamo(), walkBefore, pageTimes.length).text,
    ]);
    rows.push([
      `registered-models/search, whole walk (${pagesPerWalk} pages)`,
      '1',
      String(walks),
      walkStats.p50,
      walkStats.p99,
      '-',
      requestsPerCall(dynamo(), walkBefore, walks).text,
    ]);
    checks.push(
      `search walk: ${modelsSeen} models in ${pagesPerWalk} pages (expected ${SEARCH_MODELS} in ${SEARCH_MODELS / 100}): ${modelsSeen === SEARCH_MODELS && pagesPerWalk === SEARCH_MODELS / 100 ? 'ok' : 'MISMATCH'}`,
    );
    await measure('registered-models/search, filter name + tag -> 50', 20, () =>
      api(
        'GET',
        `registered-models/search?filter=${q(`name LIKE '${prefix}-00%' AND tags.parity = 'even'`)}&max_results=100`,
      ),
    );

    // --- one model with 100 versions and 10 aliases ------------------------------------------
    const big = `bench-big-${Date.now()}`;
    await api('POST', 'registered-models/create', { name: big });
    for (let i = 0; i < VERSIONS; i++) {
      await api('POST', 'model-versions/create', {
        name: big,
        source: `s3://bench-bucket/models/${i}`,
        tags: [{ key: 'fold', value: String(i % 5) }],
      });
    }
    for (let i = 0; i < ALIASES; i++) {
      await api('POST', 'registered-models/alias', {
        name: big,
        alias: `alias-${i}`,
        version: String(10 * i + 1),
      });
    }
    await api('POST', 'model-versions/transition-stage', {
      name: big,
      version: '50',
      stage: 'Production',
      archive_existing_versions: true,
    });
    const got = await api('GET', `registered-models/get?name=${q(big)}`);
    const getRequests = await measure(
      `registered-models/get (${VERSIONS} versions, ${ALIASES} aliases)`,
      200,
      () => api('GET', `registered-models/get?name=${q(big)}`),
    );
    checks.push(
      `registered-models/get: ${got.registered_model.aliases?.length} aliases, ${got.registered_model.latest_versions?.length} latest versions; DynamoDB per call ${getRequests.text} (design: one Query): ${getRequests.total === 1 && getRequests.byOperation.Query === 1 ? 'ok' : 'MISMATCH'}`,
    );
    await measure('model-versions/get', 100, (i) =>
      api('GET', `model-versions/get?name=${q(big)}&version=${(Math.abs(i) % VERSIONS) + 1}`),
    );
    await measure('registered-models/alias (get by alias)', 100, (i) =>
      api('GET', `registered-models/alias?name=${q(big)}&alias=alias-${Math.abs(i) % ALIASES}`),
    );
    await measure('get-latest-versions [Production]', 100, () =>
      api('POST', 'registered-models/get-latest-versions', { name: big, stages: ['Production'] }),
    );
    await measure('model-versions/get-download-uri', 100, (i) =>
      api('GET', `model-versions/get-download-uri?name=${q(big)}&version=${(Math.abs(i) % VERSIONS) + 1}`),
    );
    await measure(`model-versions/search name = (${VERSIONS} versions)`, 50, () =>
      api('GET', `model-versions/search?filter=${q(`name = '${big}'`)}`),
    );
    await measure('registered-models/alias (move)', 50, (i) =>
      api('POST', 'registered-models/alias', {
        name: big,
        alias: 'alias-0',
        version: String((Math.abs(i) % VERSIONS) + 1),
      }),
    );
    await measure('transition-stage, archive_existing_versions', 50, (i) =>
      api('POST', 'model-versions/transition-stage', {
        name: big,
        version: String((Math.abs(i) % VERSIONS) + 1),
        stage: 'Staging',
        archive_existing_versions: true,
      }),
    );
    await measure('model-versions/set-tag', 50, (i) =>
      api('POST', 'model-versions/set-tag', { name: big, version: '1', key: 'k', value: String(i) }),
    );
    await measure('registered-models/set-tag', 50, (i) =>
      api('POST', 'registered-models/set-tag', { name: big, key: 'k', value: String(i) }),
    );

    // --- create_model_version at concurrency 1 and 16 --------------------------------------
    // All on one model (contention on its counter and partition), and spread over 16 models (the
    // same load without contention), each checked for numbers 1..N without gaps or duplicates.
    let crowded = '';
    for (const [concurrency, total, models] of [
      [1, 200, 1],
      [16, 800, 1],
      [16, 800, 16],
    ] as const) {
      const names = Array.from(
        { length: models },
        (_, m) => `bench-versions-c${concurrency}-m${models}-${m}-${Date.now()}`,
      );
      for (const name of names) await api('POST', 'registered-models/create', { name });
      const versions = new Map<string, number[]>(names.map((name) => [name, []]));
      const before = dynamo();
      const { latencies, throughput } = await pool(total, concurrency, async (i) => {
        const name = names[i % models] as string;
        const created = await api('POST', 'model-versions/create', {
          name,
          source: `s3://bench-bucket/m/${i}`,
        });
        versions.get(name)?.push(Number(created.model_version.version));
      });
      const stats = summarize(latencies);
      await runtime.eventBus.idle();
      rows.push([
        `model-versions/create, ${models === 1 ? 'one model' : `${models} models`}`,
        String(concurrency),
        String(total),
        stats.p50,
        stats.p99,
        `${throughput.toFixed(0)}/s`,
        requestsPerCall(dynamo(), before, total).text,
      ]);
      let ok = true;
      for (const name of names) {
        const answered = [...(versions.get(name) ?? [])].sort((a, b) => a - b);
        const listed: Json = await api(
          'GET',
          `model-versions/search?filter=${q(`name = '${name}'`)}&max_results=${total + 10}`,
        );
        const stored = ((listed.model_versions ?? []) as Array<{ version: string }>)
          .map((v) => Number(v.version))
          .sort((a, b) => a - b);
        const expected = Array.from({ length: total / models }, (_, i) => i + 1);
        ok &&= sameNumbers(answered, expected) && sameNumbers(stored, expected);
      }
      checks.push(
        `create_model_version, concurrency ${concurrency}, ${total} versions on ${models} model(s): ${ok ? `ok, each model has 1..${total / models} without gaps or duplicates` : 'GAPS OR DUPLICATES'}`,
      );
      if (models === 1 && concurrency === 16) crowded = names[0] as string;
    }
    // What a read costs as a model grows: every operation reads the model's whole partition.
    await measure('registered-models/get (800 versions)', 50, () =>
      api('GET', `registered-models/get?name=${q(crowded)}`),
    );
  } finally {
    await runtime.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  printTable(
    'registry over HTTP against the local runtime (ms; DynamoDB requests per call, including those of functions its events trigger)',
    ['operation', 'concurrency', 'calls', 'p50', 'p99', 'throughput', 'DynamoDB requests'],
    rows,
  );
  process.stdout.write(`\nchecks\n${checks.map((check) => `  ${check}\n`).join('')}`);
}

function sameNumbers(actual: readonly number[], expected: readonly number[]): boolean {
  return actual.length === expected.length && actual.every((value, index) => value === expected[index]);
}
