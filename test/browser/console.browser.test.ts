import type { Page } from 'playwright-core';
import { describe, expect, inject, it } from 'vitest';
import { browserPages, drawnPixels, screenshot } from '../support/browser.ts';
import { Api, SEED } from './seed.ts';

/**
 * The console in a real browser against the local runtime without `--auth` (every request is the
 * local admin's), over seeded data: every page renders without a console error, charts draw, the
 * filter narrows the runs, an alias set in the UI deploys, and the pipeline form starts a training
 * run that succeeds. Each test leaves a screenshot in test-results/browser/.
 */

const base = inject('consoleUrl');
const seeded = inject('seeded');
const api = new Api(base);
const open = browserPages(base);

const runsCount = async (page: Page) =>
  Number((await page.textContent('[data-testid=runs-count]'))?.match(/^[\d,]+/)?.[0]?.replace(/,/g, ''));

describe('every page', () => {
  const e = () => seeded.experimentId;
  const pages: Array<[string, () => string, string]> = [
    ['experiments', () => '/experiments', `text=${SEED.experiment}`],
    ['runs', () => `/experiments/${e()}`, '.vtable-row'],
    ['experiment-charts', () => `/experiments/${e()}?tab=charts`, '.chart canvas'],
    ['run', () => `/experiments/${e()}/runs/${seeded.runIds[0]}`, 'text=churn-march'],
    ['run-metrics', () => `/experiments/${e()}/runs/${seeded.runIds[0]}?tab=metrics`, '.chart canvas'],
    ['run-artifacts', () => `/experiments/${e()}/runs/${seeded.runIds[0]}?tab=artifacts`, 'text=notes.txt'],
    [
      'compare',
      () => `/experiments/${e()}/compare?runs=${seeded.runIds.slice(0, 6).join(',')}`,
      '.chart canvas',
    ],
    ['models', () => '/models', `text=${SEED.model}`],
    ['model', () => `/models/${SEED.model}`, '[data-testid=versions] tbody tr'],
    ['endpoints', () => '/endpoints', '[data-testid=traffic-split]'],
    ['endpoint', () => `/endpoints/${SEED.endpoint}`, '[data-testid=endpoint-charts] canvas'],
    ['pipelines', () => '/pipelines', '[data-testid=executions] tbody tr'],
    [
      'pipeline-execution',
      () => `/pipelines/${seeded.succeededExecution}`,
      '[data-testid=validation-report]',
    ],
    [
      'pipeline-failure',
      () => `/pipelines/${seeded.failedExecution}`,
      '[data-testid=step-graph] .node.failed',
    ],
    ['traces', () => `/experiments/${e()}?tab=traces`, '[data-testid=traces] tbody tr'],
    [
      'trace',
      () => `/experiments/${e()}/traces/${seeded.traceIds.ok}`,
      '[data-testid=span-tree] [data-span=generate]',
    ],
    ['access', () => '/access', 'text=runway-local'],
  ];
  for (const [name, path, ready] of pages) {
    it(`${name} renders without console errors`, async () => {
      const { page, errors } = await open(path());
      await page.waitForSelector(ready, { timeout: 30_000 });
      await page.waitForLoadState('networkidle');
      await screenshot(page, `page-${name}`);
      expect(await page.$$('.error')).toHaveLength(name === 'pipeline-failure' ? 1 : 0);
      expect(errors).toEqual([]);
      await page.close();
    });
  }
});

it('draws a metric chart: its canvas has pixels other than the background', async () => {
  const { page } = await open(`/experiments/${seeded.experimentId}/runs/${seeded.runIds[0]}?tab=metrics`);
  await page.waitForSelector('[data-metric=loss] .chart canvas');
  await page.waitForTimeout(200);
  expect(await drawnPixels(page, '[data-metric=loss] .chart canvas')).toBeGreaterThan(500);
  await screenshot(page, 'chart');
  await page.close();
});

it('previews artifacts: text, JSON, CSV, an image and MLmodel', async () => {
  const { page, errors } = await open(
    `/experiments/${seeded.experimentId}/runs/${seeded.runIds[0]}?tab=artifacts`,
  );
  const tree = '[data-testid=artifact-tree]';
  const preview = '[data-testid=artifact-preview]';
  await page.click(`${tree} button:has-text("notes.txt")`);
  await page.waitForSelector(`${preview} pre:has-text("churn snapshot")`);
  await page.click(`${tree} button:has-text("config/")`);
  await page.click(`${tree} button:has-text("params.json")`);
  expect(await page.textContent(`${preview} pre[data-kind=json]`)).toBe(
    JSON.stringify({ lr: 0.001, layers: [64, 32] }, null, 2),
  );
  await page.click(`${tree} button:has-text("eval/")`);
  await page.click(`${tree} button:has-text("predictions.csv")`);
  await page.waitForSelector(`${preview} table.csv`);
  expect(await page.$$eval(`${preview} table.csv tbody tr`, (rows) => rows.length)).toBe(3);
  await page.click(`${tree} button:has-text("model/")`);
  await page.click(`${tree} button:has-text("MLmodel")`);
  expect(await page.textContent(`${preview} pre[data-kind=mlmodel]`)).toContain('flavors:');
  await page.click(`${tree} button:has-text("plots/")`);
  await page.click(`${tree} button:has-text("confusion.png")`);
  // Page code is passed as text (no DOM types here) to evaluate, which the console's CSP allows (no eval).
  await expect
    .poll(() => page.evaluate("document.querySelector('[data-testid=artifact-preview] img')?.naturalWidth"))
    .toBe(48);
  await screenshot(page, 'artifacts-image');
  expect(errors).toEqual([]);
  await page.close();
});

it("tries an endpoint with its model's input example", async () => {
  const { page, errors } = await open(`/endpoints/${SEED.endpoint}`);
  await expect
    .poll(() => page.evaluate("document.querySelector('textarea')?.value.includes('inputs')"))
    .toBe(true);
  await page.click('button:has-text("Invoke")');
  const answer = await page.waitForSelector('[data-testid=invocation-answer]');
  expect(JSON.parse((await answer.textContent()) as string).predictions.p).toHaveLength(3);
  expect(await drawnPixels(page, '[data-testid=endpoint-charts] canvas')).toBeGreaterThan(200);
  expect(errors).toEqual([]);
  await page.close();
});

it('narrows the runs table with a filter, and shows a bad filter as the API words it', async () => {
  const { page } = await open(`/experiments/${seeded.experimentId}`);
  await page.waitForSelector('.vtable-row');
  expect(await runsCount(page)).toBe(SEED.runs);
  await page.fill('input[name=filter]', "params.optimizer = 'adam'");
  await page.click('button[type=submit]');
  await expect.poll(() => runsCount(page)).toBe(seeded.adamRuns);
  expect(await page.$$('.vtable-row')).toHaveLength(seeded.adamRuns);
  expect(new URL(page.url()).searchParams.get('filter')).toBe("params.optimizer = 'adam'");
  await screenshot(page, 'runs-filtered');

  const bad = 'metrics.loss >> 1';
  const refusal = await fetch(`${base}/api/2.0/mlflow/runs/search`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ experiment_ids: [seeded.experimentId], filter: bad }),
  }).then((response) => response.json() as Promise<{ error_code: string; message: string }>);
  await page.fill('input[name=filter]', bad);
  await page.click('button[type=submit]');
  const shown = await page.waitForSelector('.vtable .error');
  expect(await shown.textContent()).toBe(`${refusal.error_code} ${refusal.message}`);
  await page.close();
});

it('sorts the runs by a metric column on the server', async () => {
  const { page } = await open(`/experiments/${seeded.experimentId}?cols=metrics.loss`);
  await page.waitForSelector('.vtable-row');
  await page.click('.vtable-head button:has-text("loss")');
  await expect.poll(() => new URL(page.url()).searchParams.get('order') ?? '').toContain('loss');
  await page.waitForTimeout(300);
  const values = (
    await page.$$eval('.vtable-row', (rows) => rows.map((row) => row.lastElementChild?.textContent))
  ).map(Number);
  expect(values).toEqual([...values].sort((a, b) => b - a));
  await page.close();
});

it('setting an alias in the UI deploys: the confirmation names the endpoint, the timeline shows the new deployment', async () => {
  const { page, errors } = await open(`/models/${SEED.model}`);
  await page.waitForSelector('[data-testid=versions] tbody tr');
  await page.fill('input[aria-label="alias for version 2"]', 'production');
  await page.click('tr:has(input[aria-label="alias for version 2"]) button:has-text("Set alias")');
  const dialog = await page.waitForSelector('[role=dialog]');
  expect(await dialog.textContent()).toContain(SEED.endpoint);
  await screenshot(page, 'alias-confirmation');
  await page.click('[role=dialog] button.primary');
  await page.waitForSelector('[role=dialog]', { state: 'detached' });
  await page.goto(`${base}/endpoints/${SEED.endpoint}`);
  await page.waitForSelector(
    '[data-testid=deployment-timeline] li[data-version="2"][data-status=Succeeded]',
    {
      timeout: 90_000,
    },
  );
  const { endpoint } = await api.api('GET', `runway/endpoints/${SEED.endpoint}`);
  expect(endpoint.traffic.primary.version).toBe('2');
  // The seeded broken version's failed deploy is on the timeline with the reason the API gives.
  const { deployments } = await api.api('GET', `runway/endpoints/${SEED.endpoint}/deployments`);
  const failed = deployments.find((d: { status: string }) => d.status === 'Failed');
  expect(failed.reason).toBeTruthy();
  expect(
    await page.textContent(`[data-testid=deployment-timeline] li[data-version="${failed.version}"] .reason`),
  ).toBe(failed.reason);
  await page.waitForSelector('[data-testid=traffic-split]:has-text("v2 100%")');
  await screenshot(page, 'endpoint-after-alias');
  expect(errors).toEqual([]);
  await page.close();
});

it('the pipeline form starts an execution that succeeds', async () => {
  const { page, errors } = await open('/pipelines');
  await page.click('button:has-text("Start a training run")');
  await page.fill('input[name=datasetUri]', 'mlflow-artifacts:/datasets/iris.csv');
  await page.fill('input[name=targetColumn]', 'species');
  await page.fill('input[name=positiveClass]', 'virginica');
  await page.fill('input[name=modelName]', 'iris-from-console');
  await page.fill('input[name=threshold]', '0.8');
  await page.click('[data-testid=start-pipeline] button[type=submit]');
  await page.waitForURL(/\/pipelines\/[^/]+$/);
  const name = decodeURIComponent(new URL(page.url()).pathname.split('/').pop() as string);
  await page.waitForSelector('.page-head .status-succeeded', { timeout: 90_000 });
  await page.waitForSelector('[data-testid=validation-report]');
  const { execution } = await api.api('GET', `runway/pipelines/executions/${name}`);
  expect(execution).toMatchObject({
    status: 'SUCCEEDED',
    model_name: 'iris-from-console',
    registered_version: '1',
  });
  expect(await page.$$('[data-testid=step-graph] .node.succeeded')).not.toHaveLength(0);
  await screenshot(page, 'pipeline-started');
  expect(errors).toEqual([]);
  await page.close();
});

it("lists an experiment's traces, narrows them with MLflow's trace filter, and shows a failed trace's span tree", async () => {
  const { page, errors } = await open(`/experiments/${seeded.experimentId}?tab=traces`);
  const rows = '[data-testid=traces] tbody tr';
  await page.waitForSelector(rows);
  expect(await page.$$(rows)).toHaveLength(2);
  // Newest first: the failed trace started a minute after the other.
  expect(
    await page.$$eval(`${rows} td:first-child a`, (links) => links.map((a) => a.getAttribute('title'))),
  ).toEqual([seeded.traceIds.failed, seeded.traceIds.ok]);
  await page.fill('input[name=trace_filter]', "status = 'ERROR'");
  await page.click('[data-testid=traces-filter] button[type=submit]');
  await expect.poll(async () => (await page.$$(rows)).length).toBe(1);
  expect(new URL(page.url()).searchParams.get('trace_filter')).toBe("status = 'ERROR'");
  await screenshot(page, 'traces-filtered');

  // A filter the API refuses shows as the API words it.
  const bad = "span.name = 'retrieve'";
  const refusal = await fetch(`${base}/api/3.0/mlflow/traces/search`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      locations: [{ mlflow_experiment: { experiment_id: seeded.experimentId } }],
      filter: bad,
    }),
  }).then((response) => response.json() as Promise<{ error_code: string; message: string }>);
  await page.fill('input[name=trace_filter]', bad);
  await page.click('[data-testid=traces-filter] button[type=submit]');
  const shown = await page.waitForSelector('.error');
  expect(await shown.textContent()).toBe(`${refusal.error_code} ${refusal.message}`);

  await page.goto(
    `${base}/experiments/${seeded.experimentId}?tab=traces&trace_filter=${encodeURIComponent("status = 'ERROR'")}`,
  );
  await page.click(`${rows} td:first-child a`);
  await page.waitForURL(new RegExp(`/traces/${seeded.traceIds.failed}$`));
  const tree = '[data-testid=span-tree]';
  await page.waitForSelector(`${tree} [data-span=retrieve]`);
  expect(await spansShown(page)).toEqual([
    ['answer', '0'],
    ['retrieve', '1'],
  ]);
  expect(await page.getAttribute(`${tree} [data-span=retrieve]`, 'class')).toContain('span-error');
  await page.click(`${tree} [data-span=retrieve]`);
  const detail = '[data-testid=span-detail]';
  await page.waitForSelector(`${detail} h2:has-text("retrieve")`);
  expect(await page.textContent(`${detail} .status`)).toBe('ERROR');
  expect(await page.textContent(`${detail} pre[data-kind=inputs]`)).toBe(
    JSON.stringify({ query: 'How do I reset my password?', k: 2 }, null, 2),
  );
  expect(await page.textContent(`${detail} [data-event=exception]`)).toContain('search timed out');
  expect(new URL(page.url()).searchParams.get('span')).toMatch(/^[0-9a-f]{16}$/);
  await screenshot(page, 'trace-failed');
  // Chromium logs the refused search's 400; nothing else went wrong.
  expect(errors).toEqual([
    `Failed to load resource: the server responded with a status of 400 (Bad Request) (${base}/api/3.0/mlflow/traces/search)`,
  ]);
  await page.close();
});

it("shows a trace's spans with their inputs, outputs, timing and status, its run and its feedback", async () => {
  const { page, errors } = await open(`/experiments/${seeded.experimentId}/traces/${seeded.traceIds.ok}`);
  const tree = '[data-testid=span-tree]';
  await page.waitForSelector(`${tree} [data-span=generate]`);
  expect(await spansShown(page)).toEqual([
    ['answer', '0'],
    ['retrieve', '1'],
    ['generate', '1'],
  ]);
  // The root is selected first: the trace's question and answer.
  const detail = '[data-testid=span-detail]';
  expect(await page.textContent(`${detail} pre[data-kind=inputs]`)).toBe(
    JSON.stringify({ question: 'How do I reset my password?' }, null, 2),
  );
  expect(await page.textContent(`${detail} pre[data-kind=outputs]`)).toBe(
    'Open Settings, then Security, then Reset password.',
  );
  await page.click(`${tree} [data-span=generate]`);
  await page.waitForSelector(`${detail} h2:has-text("generate")`);
  expect(await page.textContent(`${detail} pre[data-kind=outputs]`)).toBe(
    JSON.stringify({ content: 'Open Settings, then Security, then Reset password.', tokens: 14 }, null, 2),
  );
  expect(await page.textContent(`${detail} table.kv`)).toContain('670 ms');
  expect(await page.textContent(`${detail} .status`)).toBe('OK');
  // The generate span's bar starts after retrieve's and spans most of the trace.
  const width = async (name: string) =>
    Number(
      (await page.getAttribute(`${tree} [data-span=${name}] .span-bar`, 'style'))?.match(
        /width:\s*([\d.]+)%/,
      )?.[1],
    );
  expect(await width('generate')).toBeGreaterThan(70);
  expect(await width('retrieve')).toBeLessThan(20);
  expect(await page.getAttribute(`a[href$="/runs/${seeded.runIds[0]}"]`, 'href')).toBe(
    `/experiments/${seeded.experimentId}/runs/${seeded.runIds[0]}`,
  );
  expect(await page.textContent('[data-testid=assessments]')).toContain('correct');
  await screenshot(page, 'trace');
  expect(errors).toEqual([]);
  await page.close();
});

/** The span tree's rows as [name, depth], top to bottom. */
function spansShown(page: Page) {
  return page.$$eval('[data-testid=span-tree] [data-span]', (spans) =>
    spans.map((s) => [s.getAttribute('data-span'), s.getAttribute('data-depth')]),
  );
}
