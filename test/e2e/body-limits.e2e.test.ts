import { describe, expect, it } from 'vitest';
import { http, httpRaw, mlflow, unique } from '../support/http-client.ts';

const MiB = 1024 * 1024;

/** `json` padded with trailing whitespace (still valid JSON) to exactly `size` bytes. */
function padded(json: unknown, size: number): string {
  const text = JSON.stringify(json);
  return text + ' '.repeat(size - Buffer.byteLength(text));
}

/**
 * Each route's declared body limit over HTTP, as a client meets it: 413 INVALID_PARAMETER_VALUE in
 * MLflow's error shape naming both sizes, before the body is read as JSON; never a 5xx.
 */
describe('request body limits over HTTP', () => {
  it('accepts 1 MiB on a JSON route and answers one byte more 413 with both sizes', async () => {
    const atLimit = await http(
      'POST',
      '/api/2.0/mlflow/experiments/create',
      padded({ name: unique('at') }, MiB),
    );
    expect(atLimit.status).toBe(200);
    const over = await http(
      'POST',
      '/api/2.0/mlflow/experiments/create',
      padded({ name: unique('over') }, MiB + 1),
    );
    expect(over.status).toBe(413);
    expect(over.json).toEqual({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: `The request body is ${MiB + 1} bytes; POST mlflow/experiments/create accepts at most ${MiB} bytes.`,
    });
    // The registry's routes, on another function, say the same; on the UI's prefix too.
    const registry = await http(
      'POST',
      '/ajax-api/2.0/mlflow/registered-models/create',
      padded({ name: unique('over') }, 2 * MiB),
    );
    expect(registry.status).toBe(413);
    expect(registry.json.message).toContain('POST mlflow/registered-models/create accepts at most');
  });

  it('lets log-inputs carry more than 1 MiB (dataset schemas), up to its own limit', async () => {
    const runId = (await mlflow('POST', 'runs/create', {})).json.run.info.run_id as string;
    const schema = JSON.stringify({ mlflow_colspec: [{ type: 'string', name: 'c'.repeat(200_000) }] });
    const datasets = Array.from({ length: 8 }, (_, i) => ({
      dataset: { name: 'd', digest: `digest${i}`, source_type: 'local', source: '{}', schema },
    }));
    const body = JSON.stringify({ run_id: runId, datasets });
    expect(Buffer.byteLength(body)).toBeGreaterThan(1.5 * MiB);
    expect((await http('POST', '/api/2.0/mlflow/runs/log-inputs', body)).status).toBe(200);
    const over = await http(
      'POST',
      '/api/2.0/mlflow/runs/log-inputs',
      padded({ run_id: runId }, 4 * MiB + 1),
    );
    expect(over.status).toBe(413);
    expect(over.json.message).toContain(`POST mlflow/runs/log-inputs accepts at most ${4 * MiB} bytes`);
  });

  it("answers a body over API Gateway's 10 MB on an API route with MLflow's 413 naming the size and the limit", async () => {
    const size = 10 * MiB + 1;
    const over = await httpRaw('POST', '/api/2.0/mlflow/runs/log-batch', new Uint8Array(size), {
      'content-type': 'application/octet-stream',
    });
    expect(over.status).toBe(413);
    const json = JSON.parse(Buffer.from(over.body).toString('utf8'));
    expect(json.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(json.message).toContain(
      `The request body is ${size} bytes; API Gateway accepts at most ${10 * MiB} bytes.`,
    );
    expect(json.message).toContain('PUT /api/2.0/mlflow-artifacts/artifacts/<path>');
  });
});
