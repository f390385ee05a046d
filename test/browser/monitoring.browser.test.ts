import { describe, expect, inject, it } from 'vitest';
import { browserPages, drawnPixels, screenshot } from '../support/browser.ts';
import { Api, SEED } from './seed.ts';

/**
 * The console's monitoring pages in a real browser against the local runtime, over a monitor whose
 * two runs the seed made from real traffic (in-distribution, then petal_length shifted by two standard
 * deviations): the pages render without console errors, the drift chart draws, the report shows the
 * drifted feature against its limits and the event the run published, "Run now" adds a report, and
 * create / edit / delete work through the API (its refusals shown as worded).
 */

const base = inject('consoleUrl');
const seeded = inject('seeded');
const api = new Api(base);
const open = browserPages(base);

/** What the API itself answers a request with (status, error_code, message). */
async function refusalOf(method: string, path: string, body?: unknown) {
  const response = await fetch(`${base}/api/2.0/${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, ...((await response.json()) as { error_code: string; message: string }) };
}

describe('monitoring pages', () => {
  const pages: Array<[string, () => string, string]> = [
    ['monitors', () => '/monitors', `[data-testid=monitors] a:has-text("${SEED.monitor}")`],
    [
      'monitors-of-endpoint',
      () => `/monitors?endpoint=${SEED.monitoredEndpoint}`,
      '[data-testid=monitors] tbody tr',
    ],
    ['monitor', () => `/monitors/${SEED.monitor}`, '[data-testid=drift-chart] canvas'],
    [
      'monitor-report',
      () => `/monitors/${SEED.monitor}/reports/${seeded.monitorRuns.drifted}`,
      '[data-testid=drift-features]',
    ],
    ['monitored-endpoint', () => `/endpoints/${SEED.monitoredEndpoint}`, '[data-testid=endpoint-monitors]'],
  ];
  for (const [name, path, ready] of pages) {
    it(`${name} renders without console errors`, async () => {
      const { page, errors } = await open(path());
      await page.waitForSelector(ready, { timeout: 30_000 });
      await page.waitForLoadState('networkidle');
      await screenshot(page, `page-${name}`);
      expect(await page.$$('.error')).toHaveLength(0);
      expect(errors).toEqual([]);
      await page.close();
    });
  }
});

it("lists the monitor with its last run's verdict, from the nav and from the endpoint's page", async () => {
  const { page, errors } = await open(`/endpoints/${SEED.monitoredEndpoint}`);
  const row = await page.waitForSelector(`[data-testid=endpoint-monitors] li:has-text("${SEED.monitor}")`);
  expect(await row.textContent()).toContain(`drift: ${SEED.driftedFeature}`);
  await page.click('a:has-text("All monitors of this endpoint")');
  await page.waitForSelector(`[data-testid=monitors] tr:has-text("${SEED.monitor}")`);
  expect(await page.textContent(`[data-testid=monitors] tr:has-text("${SEED.monitor}")`)).toContain(
    `drift: ${SEED.driftedFeature}`,
  );
  await page.click('.topbar nav a:has-text("Monitors")');
  await page.waitForURL(`${base}/monitors`);
  await page.click(`[data-testid=monitors] a:has-text("${SEED.monitor}")`);
  await page.waitForSelector('[data-testid=drift-chart] canvas');
  expect(errors).toEqual([]);
  await page.close();
});

it('draws drift per feature over the runs, one series per feature and the limit', async () => {
  const { page, errors } = await open(`/monitors/${SEED.monitor}`);
  await page.waitForSelector('[data-testid=drift-chart] canvas');
  await page.waitForTimeout(200);
  expect(await drawnPixels(page, '[data-testid=drift-chart] canvas')).toBeGreaterThan(500);
  // The legend names the monitor's four features and the PSI limit it holds them to.
  const legend = await page.$$eval('[data-testid=drift-chart] .u-legend .u-label', (labels) =>
    labels.map((label) => label.textContent),
  );
  expect(legend).toEqual(
    expect.arrayContaining(['sepal_length', 'sepal_width', 'petal_length', 'petal_width', 'limit 0.2']),
  );
  expect(await page.textContent('[data-testid=drift-limits]')).toContain('psi 0.2');
  // Quality and health over time: the seed sent every invocation's true label back as feedback.
  expect(await drawnPixels(page, '[data-testid=quality-health-charts] canvas')).toBeGreaterThan(200);
  const charts = await page.$$eval('[data-testid=quality-health-charts] .u-title', (titles) =>
    titles.map((title) => title.textContent),
  );
  expect(charts).toEqual(['live quality by version', 'p99 latency by version', 'error rate by version']);
  expect(
    await page.$$eval('[data-testid=quality-health-charts] .u-legend .u-label', (labels) =>
      labels.map((label) => label.textContent),
    ),
  ).toEqual(expect.arrayContaining(['accuracy v1', 'limit accuracy 0.9']));
  await page.selectOption('[data-testid=drift-chart] select[aria-label=method]', 'ks');
  await expect
    .poll(() =>
      page.$$eval('[data-testid=drift-chart] .u-legend .u-label', (labels) =>
        labels.map((l) => l.textContent),
      ),
    )
    .toContain('limit 0.1');
  await screenshot(page, 'monitor');
  expect(errors).toEqual([]);
  await page.close();
});

it('shows a report: the drifted feature against its limits and baseline, and the event the run published', async () => {
  const { report } = await api.api(
    'GET',
    `runway/monitors/${SEED.monitor}/reports/${seeded.monitorRuns.drifted}`,
  );
  const petal = report.drift.features.find((f: { name: string }) => f.name === SEED.driftedFeature);
  const { page, errors } = await open(`/monitors/${SEED.monitor}/reports/${seeded.monitorRuns.drifted}`);
  const row = `[data-testid=drift-features] tr[data-feature=${SEED.driftedFeature}]`;
  await page.waitForSelector(row);
  expect(await page.getAttribute(row, 'data-drifted')).toBe('true');
  expect(await page.textContent(`${row} [data-method=psi]`)).toBe(
    `psi ${+petal.statistics.psi.toPrecision(4)} > 0.2`,
  );
  expect(await page.textContent(row)).toContain(`mean ${+petal.baseline.mean.toPrecision(4)}`);
  expect(await page.textContent(row)).toContain(petal.reasons[0]);
  expect(await page.$$('[data-testid=drift-features] tr[data-drifted=true]')).toHaveLength(1);
  expect(await page.textContent('[data-testid=events]')).toContain('monitoring.drift-detected');
  expect(await page.textContent('[data-testid=report-summary]')).toBe(report.summary);
  await screenshot(page, 'monitor-report');

  // The steady window: nothing drifted, nothing published.
  await page.goto(`${base}/monitors/${SEED.monitor}/reports/${seeded.monitorRuns.steady}`);
  await page.waitForSelector('[data-testid=drift-features]');
  expect(await page.$$('[data-testid=drift-features] tr[data-drifted=true]')).toHaveLength(0);
  expect(await page.textContent('[data-testid=events]')).toContain('None');
  expect(errors).toEqual([]);
  await page.close();
});

it('"Run now" starts a run, shows it completing, and its report joins the list', async () => {
  const before = (await api.api('GET', `runway/monitors/${SEED.monitor}/reports`)).runs.length;
  const { page, errors } = await open(`/monitors/${SEED.monitor}`);
  await page.waitForSelector('[data-testid=monitor-runs] tbody tr');
  await page.click('button:has-text("Run now")');
  await page.waitForSelector('[data-testid=started-run]');
  await page.waitForSelector('[data-testid=started-run][data-status=Completed]', { timeout: 90_000 });
  const { runs } = await api.api('GET', `runway/monitors/${SEED.monitor}/reports`);
  expect(runs).toHaveLength(before + 1);
  expect(runs[0]).toMatchObject({ status: 'Completed', trigger: 'manual' });
  expect(await page.textContent('[data-testid=started-run]')).toContain(runs[0].summary);
  await expect
    .poll(() => page.$$('[data-testid=monitor-runs] tbody tr').then((r) => r.length))
    .toBe(before + 1);
  await page.click(`[data-testid=started-run] a:has-text("${runs[0].run_id}")`);
  await page.waitForSelector('[data-testid=report-summary]');
  expect(await page.textContent('[data-testid=report-summary]')).toBe(runs[0].summary);
  expect(errors).toEqual([]);
  await page.close();
});

it('creates, edits and deletes a monitor, and shows what the API refuses as it words it', async () => {
  const name = 'console-made';
  const { page, errors } = await open(`/monitors?endpoint=${SEED.monitoredEndpoint}`);
  await page.click('button:has-text("Create a monitor")');
  const form = '[data-testid=monitor-form]';
  await page.fill(`${form} input[name=name]`, name);
  expect(await page.inputValue(`${form} input[name=endpoint_name]`)).toBe(SEED.monitoredEndpoint);
  await page.fill(`${form} input[name=threshold_psi]`, '500');
  await page.click(`${form} button[type=submit]`);
  const refusal = await refusalOf('POST', 'runway/monitors', {
    name,
    endpoint_name: SEED.monitoredEndpoint,
    drift: { thresholds: { psi: 500 } },
  });
  expect(refusal.status).toBe(400);
  const shown = await page.waitForSelector(`${form} .error`);
  expect(await shown.textContent()).toBe(`${refusal.error_code} ${refusal.message}`);
  expect(refusal.message).toContain('drift.thresholds.psi');
  await screenshot(page, 'monitor-form-error');

  await page.fill(`${form} input[name=threshold_psi]`, '0.3');
  await page.fill(`${form} input[name=schedule]`, 'rate(30 minutes)');
  await page.fill(`${form} input[name=quality_limits]`, 'accuracy=0.9');
  await page.click(`${form} button[type=submit]`);
  await page.waitForURL(`${base}/monitors/${name}`);
  await page.waitForSelector('text=rate(30 minutes)');
  const created = (await api.api('GET', `runway/monitors/${name}`)).monitor;
  expect(created).toMatchObject({
    endpoint_name: SEED.monitoredEndpoint,
    schedule: 'rate(30 minutes)',
    drift: { thresholds: { psi: 0.3 } },
    quality: { limits: { accuracy: 0.9 } },
  });

  // Edit: the form holds the current settings; a change is saved, the rest keep their values.
  await page.click('.page-head button:has-text("Edit")');
  expect(await page.inputValue(`${form} input[name=threshold_psi]`)).toBe('0.3');
  await page.fill(`${form} input[name=min_samples]`, '10000000');
  await page.click(`${form} input[name=enabled]`);
  await page.click(`${form} button[type=submit]`);
  await page.waitForSelector(form, { state: 'detached' });
  await page.waitForSelector('text=10000000 rows');
  const edited = (await api.api('GET', `runway/monitors/${name}`)).monitor;
  expect(edited).toMatchObject({
    min_samples: 10_000_000,
    enabled: false,
    drift: { thresholds: { psi: 0.3 } },
  });
  expect(edited.schedule).toBe('rate(30 minutes)');

  // A run over the last hour's traffic, far short of ten million rows: "not enough data", nothing judged.
  await page.click('button:has-text("Run now")');
  await page.waitForSelector('[data-testid=started-run][data-status=Completed]', { timeout: 90_000 });
  await page.click('[data-testid=started-run] a');
  const notice = await page.waitForSelector('[data-testid=not-enough-data]');
  expect(await notice.textContent()).toMatch(/^not enough data \(\d+ of 10000000\)/);
  expect(await page.$$('[data-testid=drift-features] tr[data-drifted=true]')).toHaveLength(0);
  expect(await page.textContent('[data-testid=events]')).not.toContain('monitoring.drift-detected');
  await screenshot(page, 'monitor-report-not-enough-data');
  await page.click('.page-head h1 a');

  // Delete asks first, then the monitor is gone.
  await page.click('.page-head button:has-text("Delete")');
  await page.click('[role=dialog] button.primary');
  await page.waitForURL(`${base}/monitors`);
  expect((await refusalOf('GET', `runway/monitors/${name}`)).error_code).toBe('RESOURCE_DOES_NOT_EXIST');
  // The browser logs the refused create itself; nothing else went wrong.
  expect(errors).toEqual([expect.stringMatching(/status of 400 .*\/api\/2\.0\/runway\/monitors\)$/)]);
  await page.close();
});

it("shows a monitor that does not exist as the API's 404", async () => {
  const { page, errors } = await open('/monitors/no-such-monitor');
  const refusal = await refusalOf('GET', 'runway/monitors/no-such-monitor');
  const shown = await page.waitForSelector('.error');
  expect(await shown.textContent()).toBe(`${refusal.error_code} ${refusal.message}`);
  // The browser logs the refused request itself; nothing else went wrong.
  expect(errors.every((line) => line.includes('404'))).toBe(true);
  await page.close();
});
