import * as z from 'zod';
import { envVar, parseConfig } from '../../platform/config.ts';
import type { Operation } from '../../platform/http/operation.ts';
import { DynamoRegistryRepository } from '../adapters/registry.dynamodb-repository.ts';
import { systemAddressResolver } from './adapters/dns.address-resolver.ts';
import { HttpWebhookSender } from './adapters/http.webhook-sender.ts';
import { DynamoWebhookRepository } from './adapters/webhook.dynamodb-repository.ts';
import { webhookOperations } from './api/webhooks.routes.ts';
import { WebhookDeliveryService } from './delivery.service.ts';
import { TargetGuard } from './ssrf/target-guard.ts';
import { WebhookService } from './webhook.service.ts';

/** `true` or `false`, nothing else: a typo in a security switch must fail the cold start. */
const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false'])
    .default(fallback ? 'true' : 'false')
    .transform((value) => value === 'true');
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** Shared by the API and the delivery function: where webhooks live and where they may point. */
const common = {
  /** Webhooks are items of the registry table (`keys.ts`). */
  REGISTRY_TABLE_NAME: envVar.name(),
  /**
   * Lets webhooks reach private, loopback and link-local addresses. Set only by the CDK app when it
   * is synthesized for the local runtime (context `runway:local`); never on AWS.
   */
  WEBHOOK_ALLOW_PRIVATE_TARGETS: flag(false),
  /** MLflow's `MLFLOW_WEBHOOK_ALLOWED_SCHEMES`: comma-separated, https only by default. */
  WEBHOOK_ALLOWED_SCHEMES: z
    .string()
    .default('https')
    .transform((value) => value.split(',').map((scheme) => scheme.trim().toLowerCase()))
    .pipe(z.array(z.enum(['http', 'https'])).min(1)),
  /** Per request, connect to last byte. */
  WEBHOOK_TIMEOUT_MS: positiveInt(10_000),
};

/** The webhooks API function's configuration, read once at cold start. */
export function webhooksConfig(env: NodeJS.ProcessEnv = process.env) {
  return parseConfig(common, env);
}

/** The delivery function's configuration, read once at cold start. */
export function webhookDeliveryConfig(env: NodeJS.ProcessEnv = process.env) {
  return parseConfig(
    {
      ...common,
      WEBHOOK_MAX_ATTEMPTS: positiveInt(3),
      WEBHOOK_RETRY_BASE_MS: positiveInt(1000),
      WEBHOOK_CONCURRENCY: positiveInt(8),
    },
    env,
  );
}

function guardOf(config: ReturnType<typeof webhooksConfig>): TargetGuard {
  return new TargetGuard(
    {
      allowPrivateTargets: config.WEBHOOK_ALLOW_PRIVATE_TARGETS,
      allowedSchemes: config.WEBHOOK_ALLOWED_SCHEMES,
    },
    systemAddressResolver,
  );
}

/** Composition root of the webhooks API: MLflow's CRUD and test endpoints. */
export function createWebhooksApi(config: ReturnType<typeof webhooksConfig>): {
  operations: Operation[];
  service: WebhookService;
} {
  const guard = guardOf(config);
  const service = new WebhookService({
    repository: new DynamoWebhookRepository(config.REGISTRY_TABLE_NAME),
    guard,
    sender: new HttpWebhookSender(guard),
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
  });
  return { service, operations: webhookOperations(service) };
}

/** Composition root of delivery: registry events in, signed POSTs out. */
export function createWebhookDelivery(config: ReturnType<typeof webhookDeliveryConfig>): {
  service: WebhookDeliveryService;
} {
  const guard = guardOf(config);
  return {
    service: new WebhookDeliveryService({
      webhooks: new DynamoWebhookRepository(config.REGISTRY_TABLE_NAME),
      models: new DynamoRegistryRepository(config.REGISTRY_TABLE_NAME),
      // Deliveries keep nothing of the answer but its status.
      sender: new HttpWebhookSender(guard, { maxResponseBytes: 0 }),
      options: {
        maxAttempts: config.WEBHOOK_MAX_ATTEMPTS,
        retryBaseMs: config.WEBHOOK_RETRY_BASE_MS,
        timeoutMs: config.WEBHOOK_TIMEOUT_MS,
        concurrency: config.WEBHOOK_CONCURRENCY,
        maxRetryAfterMs: 10_000,
      },
    }),
  };
}
