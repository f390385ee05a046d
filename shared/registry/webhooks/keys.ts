/**
 * Key builders for webhook items in the registry table (see `README.md` beside this file). Every key
 * the webhooks module writes is built here. All keys start with `WEBHOOK`, which is what the
 * functions' IAM policies allow them to write (`dynamodb:LeadingKeys`), and which no model key uses
 * (`MODEL#...`, `shared/registry/keys.ts`).
 */
export const webhookKeys = {
  /**
   * Every webhook lives in one partition: listing (newest first: ids are time-ordered UUIDs) and
   * finding an event's subscribers are each one strongly consistent Query, and every change of a
   * webhook is a single-item write. Registries have tens of webhooks, far below a partition's limits.
   */
  partition: 'WEBHOOKS',
  webhook: (webhookId: string) => ({ pk: 'WEBHOOKS', sk: `WEBHOOK#${webhookId}` }),
  webhookPrefix: 'WEBHOOK#',
  /** The webhook id in a webhook item's sort key. */
  webhookIdOf: (sk: string) => sk.slice('WEBHOOK#'.length),

  /**
   * A failed delivery, in its webhook's own partition (an operator asks "what failed for this
   * webhook"), keyed by delivery id so a retried invocation replaces its record instead of adding one.
   */
  deadLetter: (webhookId: string, deliveryId: string) => ({
    pk: `WEBHOOK#${webhookId}`,
    sk: `DEAD_LETTER#${deliveryId}`,
  }),
  /** GSI1: every dead letter in time order, across webhooks ("what failed today"). */
  deadLettersPartition: 'WEBHOOK_DEAD_LETTERS',
  deadLettersSort: (failedAtIso: string, deliveryId: string) => `${failedAtIso}#${deliveryId}`,
} as const;
