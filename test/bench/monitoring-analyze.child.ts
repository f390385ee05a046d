/**
 * One Analyze step of a monitor run in a process of its own, as a cold Lambda container would run it:
 * the steps function's own handler, its environment given by the bench (tables, bucket, emulators).
 * Prepare runs first (not measured); then Analyze, with its wall time, the process's peak RSS and the
 * V8 heap's peak (sampled every 20 ms) printed as one JSON line.
 */
import { randomBytes } from 'node:crypto';
import { handler } from '../../functions/monitor-steps.ts';
import type { AnalyzeOutcome, PrepareOutcome } from '../../shared/monitoring/run/monitor-run.service.ts';

const [monitor = '', windowStart = '0', windowEnd = '0'] = process.argv.slice(2);
const runId = `${windowEnd.padStart(13, '0')}-${randomBytes(4).toString('hex')}`;
const prepared = (await handler({
  step: 'prepare',
  request: {
    monitor,
    trigger: 'manual',
    windowStart: Number(windowStart),
    windowEnd: Number(windowEnd),
    runId,
  },
  executionArn: `arn:aws:states:us-east-1:000000000000:execution:bench:${runId}`,
})) as PrepareOutcome;
if (prepared.skip) throw new Error(prepared.reason);
let peakHeap = process.memoryUsage().heapUsed;
const sampler = setInterval(() => {
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
}, 20);
const started = performance.now();
const outcome = (await handler({ step: 'analyze', plan: prepared.plan })) as AnalyzeOutcome;
const analyzeMs = performance.now() - started;
clearInterval(sampler);
peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
process.stdout.write(
  `${JSON.stringify({
    analyzeMs,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    peakHeapMb: peakHeap / 1024 / 1024,
    rows: outcome.findings.rows,
  })}\n`,
);
