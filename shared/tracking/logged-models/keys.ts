/**
 * Key builders for logged models in the tracking table (see `README.md` beside this file). Every
 * key this folder writes is built here; the table and its `gsi1` index are the tracking context's
 * (`shared/tracking/keys.ts`, `infra/stacks/stateful.stack.ts`).
 */
export const loggedModelKeys = {
  /** The model item: attributes, tags and params together, so a get is one GetItem. */
  item: (modelId: string) => ({ pk: `LM#${modelId}`, sk: 'LM' }),
  /**
   * GSI1 partition of an experiment's live logged models, so a search reads them with one (paged)
   * Query per experiment. Deleting a model removes its GSI1 keys: deleted models leave the listing.
   */
  experimentPartition: (experimentId: string) => `EXP#${experimentId}#LOGGED_MODELS`,
  experimentSort: (modelId: string) => `LM#${modelId}`,
  /**
   * A metric point a run logged with this `model_id` (runs' log-batch writes it beside the run's own
   * history). In the model's partition, so the model's metrics are one Query; the run id and the
   * point's own sort key make a retried point land on the same key.
   */
  metric: (modelId: string, key: string, runId: string, pointSort: string) => ({
    pk: `LM#${modelId}`,
    sk: `METRIC#${key}#${runId}#${pointSort}`,
  }),
  metricPrefix: 'METRIC#',
} as const;
