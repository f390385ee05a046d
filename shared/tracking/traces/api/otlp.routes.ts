import { gunzipSync, inflateSync } from 'node:zlib';
import * as z from 'zod';
import { BadRequestError, InvalidParameterError, NotImplementedError } from '../../../platform/errors.ts';
import type { HttpRequest } from '../../../platform/http/http-request.ts';
import { defineOperation, HttpResponse, type Operation } from '../../../platform/http/operation.ts';
import { TRACE_LIMITS } from '../model.ts';
import { decodeOtlpJson, decodeOtlpProtobuf, type OtelSpan, OtlpDecodeError } from '../spans/otlp.decoder.ts';
import type { TraceService } from '../trace.service.ts';

/** The header naming the experiment spans belong to (MLflow's `MLFLOW_EXPERIMENT_ID_HEADER`). */
export const EXPERIMENT_ID_HEADER = 'x-mlflow-experiment-id';

/**
 * OTLP/HTTP span ingestion at `/v1/traces` (https://opentelemetry.io/docs/specs/otlp/#otlphttp), which
 * MLflow 3's client calls as each span ends and any OpenTelemetry SDK can call with the header
 * `x-mlflow-experiment-id`: binary protobuf or JSON, optionally gzip- or deflate-compressed. OTLP
 * over gRPC needs HTTP/2 trailers, which API Gateway's HTTP APIs and Lambda cannot carry: it is
 * answered 501, and exporters are pointed at `http/protobuf`.
 */
export function otlpOperations(traces: TraceService): Operation[] {
  return [
    defineOperation({
      method: 'POST',
      path: '/v1/traces',
      // The body is an OTLP message, not JSON parameters.
      source: 'query',
      headers: { experiment_id: EXPERIMENT_ID_HEADER },
      maxBodyBytes: TRACE_LIMITS.otlpBodyBytes,
      input: z.object({
        experiment_id: z.string({ error: 'Missing required header: X-Mlflow-Experiment-Id' }).trim().min(1, {
          error: 'Missing required header: X-Mlflow-Experiment-Id',
        }),
      }),
      handle: async ({ experiment_id }, request) => {
        const { spans, json } = decodeRequest(request);
        await traces.ingestSpans(experiment_id, spans);
        // An empty `ExportTraceServiceResponse`: no partial success to report.
        return json
          ? new HttpResponse(200, {}, { 'content-type': 'application/json' })
          : new HttpResponse(200, new Uint8Array(0), { 'content-type': 'application/x-protobuf' });
      },
    }),
  ];
}

function decodeRequest(request: HttpRequest): { spans: OtelSpan[]; json: boolean } {
  const contentType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (contentType.startsWith('application/grpc')) {
    throw new NotImplementedError(
      'OTLP over gRPC is not supported: Runway runs on API Gateway and Lambda, which cannot carry HTTP/2 trailers. Export with OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/protobuf to /v1/traces.',
    );
  }
  const json = contentType === 'application/json';
  if (!json && contentType !== 'application/x-protobuf') {
    throw new BadRequestError(
      `Invalid Content-Type: ${contentType || '(none)'}. Expected: application/x-protobuf or application/json`,
    );
  }
  const body = decompress(request.rawBody ?? Buffer.alloc(0), request.headers['content-encoding']);
  try {
    return { spans: json ? decodeOtlpJson(body.toString('utf8')) : decodeOtlpProtobuf(body), json };
  } catch (error) {
    if (error instanceof OtlpDecodeError) throw new BadRequestError(error.message);
    throw error;
  }
}

function decompress(body: Buffer, encoding: string | undefined): Buffer {
  const name = encoding?.trim().toLowerCase();
  if (!name || name === 'identity') return body;
  const options = { maxOutputLength: TRACE_LIMITS.otlpDecodedBytes };
  try {
    if (name === 'gzip') return gunzipSync(body, options);
    if (name === 'deflate') return inflateSync(body, options);
  } catch (error) {
    const tooLarge = (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
    throw new InvalidParameterError(
      tooLarge
        ? `The OTLP request decompresses to more than ${TRACE_LIMITS.otlpDecodedBytes} bytes`
        : `The OTLP request body is not valid ${name}: ${(error as Error).message}`,
    );
  }
  throw new BadRequestError(`Unsupported Content-Encoding: ${name}. Use gzip, deflate or none`);
}
