import { InvalidParameterError, ResourceDoesNotExistError } from '../platform/errors.ts';
import { hourPath } from '../serving/capture.ts';
import { inferenceTimeOf } from '../serving/inference-id.ts';
import { FEEDBACK_LIMITS, type FeedbackRecord, type FeedbackRequestWire } from './model.ts';
import type { Clock, EndpointReader, FeedbackWriter } from './ports.ts';

/** An inference id's time may lie this far ahead of the server's clock (clocks of two machines differ). */
const CLOCK_SKEW_MS = 5 * 60_000;

/**
 * Ground truth for past invocations: each item names an inference id (the `x-runway-inference-id`
 * an invocation answered) and its true label or value, one per row of the invocation. Items are
 * filed by the hour their invocation happened (the id's time), where a monitor run joins them with
 * that hour's capture. The whole batch is checked before anything is written; a retried request
 * writes the same labels again, which is harmless (a later label of an id replaces an earlier one).
 */
export class FeedbackService {
  constructor(private readonly deps: { endpoints: EndpointReader; writer: FeedbackWriter; clock?: Clock }) {}

  async submit(endpointName: string, request: FeedbackRequestWire): Promise<{ accepted: number }> {
    const now = (this.deps.clock ?? { now: () => Date.now() }).now();
    const oldest = now - FEEDBACK_LIMITS.maxAgeDays * 86_400_000;
    let values = 0;
    const byHour = new Map<string, FeedbackRecord[]>();
    const seen = new Set<string>();
    request.feedback.forEach((item, index) => {
      const at = inferenceTimeOf(item.inference_id);
      const where = `feedback[${index}].inference_id`;
      if (at === undefined) {
        throw new InvalidParameterError(
          `Invalid value ${JSON.stringify(item.inference_id.slice(0, 64))} for parameter '${where}' supplied: not an inference id (the x-runway-inference-id an invocation answered)`,
        );
      }
      if (at > now + CLOCK_SKEW_MS) {
        throw new InvalidParameterError(
          `Invalid value for parameter '${where}' supplied: the inference is in the future`,
        );
      }
      if (at < oldest) {
        throw new InvalidParameterError(
          `Invalid value for parameter '${where}' supplied: the inference is older than ${FEEDBACK_LIMITS.maxAgeDays} days`,
        );
      }
      if (seen.has(item.inference_id)) {
        throw new InvalidParameterError(
          `Invalid value for parameter '${where}' supplied: the id appears twice in this request`,
        );
      }
      seen.add(item.inference_id);
      const groundTruth = Array.isArray(item.ground_truth) ? item.ground_truth : [item.ground_truth];
      values += groundTruth.length;
      const hour = hourPath(at);
      const records = byHour.get(hour) ?? [];
      records.push({ inferenceId: item.inference_id, groundTruth, receivedAt: now });
      byHour.set(hour, records);
    });
    if (values > FEEDBACK_LIMITS.values) {
      throw new InvalidParameterError(
        `A feedback request carries at most ${FEEDBACK_LIMITS.values} values (one per row); this one has ${values}: send it in smaller batches`,
      );
    }
    const endpoint = await this.deps.endpoints.get(endpointName);
    if (!endpoint) throw new ResourceDoesNotExistError(`Endpoint '${endpointName}' does not exist`);
    for (const [hour, records] of byHour) await this.deps.writer.write(endpointName, hour, records);
    return { accepted: request.feedback.length };
  }
}
