import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { build } from 'vite';
import { LocalRuntime } from '../../infra/local/runtime.ts';
import { REPO_ROOT } from '../../infra/repo-root.ts';
import { Api } from '../browser/seed.ts';
import { launchBrowser } from '../support/browser.ts';
import { bundleSizes } from '../support/console-bundle.ts';
import { pool, printTable, summarize } from './stats.ts';

/** The budgets: what each figure is set beside. */
const BUDGETS = { firstPaintMs: 1000, chart100kMs: 300, frameMs: 1000 / 60, bundleGzipBytes: 300 * 1024 };
const RUNS = 10_000;
const POINTS = 100_000;

/**
 * The console's budgets (issue 14), in Debian's Chromium headless against the local runtime in this
 * process: first paint and time to content of the experiments page (cache off), a 100,000-point
 * metric chart (all points of one run, `?points=all`: the time from the data in hand to the chart
 * drawn, and uPlot's own build and draw), frame times while a 10,000-run table scrolls to its end
 * (rows virtualised, pages of 1000 fetched as it scrolls), and the gzipped bundle. Nothing asserted:
 * `test/browser/bundle-size.test.ts` holds the size.
 */
export async function consoleBench(): Promise<void> {
  await build({ configFile: path.join(REPO_ROOT, 'console/vite.config.ts'), logLevel: 'warn' });
  const bundle = bundleSizes();
  printTable(
    'console bundle (gzip -9)',
    ['file', 'bytes', 'gzipped'],
    [...bundle.files.map((f) => [f.name, f.bytes, f.gzipped]), ['total', bundle.bytes, bundle.gzipped]],
  );

  const dataDir = mkdtempSync(path.join(tmpdir(), 'runway-bench-console-'));
  const runtime = await LocalRuntime.start({
    port: 0,
    dataDir,
    functionLogs: 'silent',
    log: () => undefined,
  });
  const { context, close } = await launchBrowser();
  try {
    await runtime.warmedUp;
    const api = new Api(runtime.url);
    const seeded = await seedBench(api);
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });

    const paints: number[] = [];
    const contents: number[] = [];
    for (let i = 0; i < 7; i++) {
      const started = Date.now();
      await page.goto(`${runtime.url}/experiments`);
      await page.waitForSelector('text=bench-10k');
      contents.push(Date.now() - started);
      paints.push(
        await page.evaluate(
          () => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Number.NaN,
        ),
      );
    }

    const chartDraw: number[] = [];
    const chartFromData: number[] = [];
    for (let i = 0; i < 5; i++) {
      await page.goto(
        `${runtime.url}/experiments/${seeded.experimentId}/runs/${seeded.longRun}?tab=metrics&points=all`,
      );
      await page.waitForFunction(
        () => performance.getEntriesByName('runway:chart-draw').length > 0,
        undefined,
        {
          timeout: 60_000,
        },
      );
      const figures = await page.evaluate(() => {
        const [draw] = performance.getEntriesByName('runway:chart-draw');
        const [data] = performance.getEntriesByName('runway:chart-data');
        if (!draw || !data) throw new Error('the chart measured nothing');
        return { draw: draw.duration, fromData: draw.startTime + draw.duration - data.startTime };
      });
      const text = await page.textContent('[data-metric=long] p.muted');
      if (!text?.startsWith(POINTS.toLocaleString('en-US')))
        throw new Error(`the chart drew ${text}, not ${POINTS} points`);
      chartDraw.push(figures.draw);
      chartFromData.push(figures.fromData);
    }

    await page.goto(`${runtime.url}/experiments/${seeded.experimentId}`);
    await page.waitForSelector('.vtable-row');
    const scroll = await scrollToEnd(page);

    const row = (what: string, samples: number[], budget: string) => {
      const s = summarize(samples);
      return [what, s.n, s.p50, s.max, budget];
    };
    printTable(
      `console in Chromium ${context.browser()?.version() ?? ''} against the local runtime (ms)`,
      ['what', 'n', 'p50', 'max', 'budget'],
      [
        row('first contentful paint, /experiments, cache off', paints, `< ${BUDGETS.firstPaintMs}`),
        row('experiments listed (navigation to table)', contents, ''),
        row(
          `${POINTS.toLocaleString('en-US')}-point chart: data in hand to drawn`,
          chartFromData,
          `< ${BUDGETS.chart100kMs}`,
        ),
        row(`${POINTS.toLocaleString('en-US')}-point chart: uPlot build and draw`, chartDraw, ''),
      ],
    );
    const column = (samples: number[]) => {
      const s = summarize(samples);
      const over = (ms: number) => samples.filter((f) => f > ms).length;
      return [
        samples.length,
        s.p50,
        percentileOf(samples, 95),
        s.p99,
        s.max,
        `${((over(17.5) / samples.length) * 100).toFixed(1)}%`,
        over(50),
      ];
    };
    const down = column(scroll.frames);
    const back = column(scroll.backFrames);
    printTable(
      `scrolling ${RUNS.toLocaleString('en-US')} runs, 10 rows a frame (at most ${scroll.maxRowsInDom} rows in the DOM; frame times in ms)`,
      ['', 'to the end, pages fetched on the way', 'back to the top, rows loaded'],
      ['frames', 'p50', 'p95', 'p99', 'max', 'frames over 16.7 ms (60 fps)', 'frames over 50 ms'].map(
        (label, i) => [label, down[i] as number | string, back[i] as number | string],
      ),
    );
    const longTotal = Math.round(scroll.longTasks.reduce((a, b) => a + b, 0));
    process.stdout.write(
      `  main-thread long tasks (> 50 ms) while scrolling: ${scroll.longTasks.length}, ${longTotal} ms in all\n`,
    );
  } finally {
    await close();
    await runtime.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function percentileOf(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

/** 10,000 runs with two params and a metric each, and one run with a 100,000-point history. */
async function seedBench(api: Api) {
  const { experiment_id: experimentId } = await api.api('POST', 'mlflow/experiments/create', {
    name: 'bench-10k',
  });
  const started = Date.now();
  await pool(RUNS, 16, async (i) => {
    const { run } = await api.api('POST', 'mlflow/runs/create', {
      experiment_id: experimentId,
      run_name: `run-${i}`,
      start_time: started + i,
    });
    await api.api('POST', 'mlflow/runs/log-batch', {
      run_id: run.info.run_id,
      params: [
        { key: 'lr', value: String(10 ** -(1 + (i % 4))) },
        { key: 'seed', value: String(i) },
      ],
      metrics: [{ key: 'loss', value: 1 / (1 + (i % 97)), step: 0, timestamp: started }],
    });
  });
  const { run } = await api.api('POST', 'mlflow/runs/create', {
    experiment_id: experimentId,
    run_name: 'long-history',
  });
  await pool(POINTS / 1000, 4, async (batch) => {
    const metrics = Array.from({ length: 1000 }, (_, j) => {
      const step = batch * 1000 + j;
      return {
        key: 'long',
        value: Math.exp(-step / 30_000) + Math.sin(step / 50) * 0.05,
        step,
        timestamp: started + step,
      };
    });
    await api.api('POST', 'mlflow/runs/log-batch', { run_id: run.info.run_id, metrics });
  });
  process.stdout.write(
    `  seeded ${RUNS} runs and a ${POINTS}-point history in ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
  );
  return { experimentId: experimentId as string, longRun: run.info.run_id as string };
}

/**
 * Scrolls the runs table to its last run, 320 px (10 rows) a frame, recording every frame's interval
 * (requestAnimationFrame) and the main thread's long tasks, until the last run is on screen (pages
 * are fetched on the way); then back to the top through rows already loaded (rendering alone). The
 * code runs in the page, so it is passed as text (this Node program has no DOM types).
 */
function scrollToEnd(page: Page): Promise<{
  frames: number[];
  backFrames: number[];
  longTasks: number[];
  rows: number;
  maxRowsInDom: number;
}> {
  return page.evaluate(`new Promise((resolve) => {
    const total = ${RUNS + 1};
    const scroller = document.querySelector('[data-testid=runs-scroll]');
    const longTasks = [];
    new PerformanceObserver((list) => list.getEntries().forEach((e) => longTasks.push(e.duration))).observe({ type: 'longtask' });
    const frames = [];
    const backFrames = [];
    let maxRowsInDom = 0;
    let last = performance.now();
    let down = true;
    const step = (now) => {
      (down ? frames : backFrames).push(now - last);
      last = now;
      maxRowsInDom = Math.max(maxRowsInDom, scroller.querySelectorAll('.vtable-row').length);
      if (down) {
        const count = Number(document.querySelector('[data-testid=runs-count]').textContent.replace(/[^0-9]/g, ''));
        const atEnd = scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - 1;
        if (atEnd && count >= total) down = false;
        else scroller.scrollTop += 320;
      } else if (scroller.scrollTop <= 0) {
        resolve({ frames: frames.slice(1), backFrames: backFrames.slice(1), longTasks, rows: total, maxRowsInDom });
        return;
      } else scroller.scrollTop -= 320;
      requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  })`);
}
