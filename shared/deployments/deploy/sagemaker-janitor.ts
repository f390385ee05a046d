import type { Logger } from '../../platform/logger.ts';
import type { Clock, SageMakerResource, SageMakerResources } from './ports.ts';
import {
  OWNER_TAG,
  sageMakerAlarmNames,
  sageMakerEndpointName,
  sageMakerResourceOwner,
  sageMakerResourcePrefix,
} from './sagemaker-plan.ts';

export interface SageMakerJanitorDeps {
  resources: SageMakerResources;
  clock: Clock;
  logger: Logger;
  /** This Runway's `OWNER_TAG` value (its deployments table): orphans of other Runways are not ours. */
  owner: string;
  /**
   * Resources younger than this are never orphans: an endpoint created after the reconciler listed
   * the endpoints has resources it did not see. @default one hour
   */
  orphanGraceMs?: number;
}

/** What a teardown found still there. */
export interface TeardownReport {
  /** Nothing of the endpoint is left in SageMaker or CloudWatch. */
  done: boolean;
  /** What is still there, for the endpoint's status message (`the SageMaker endpoint is Deleting`). */
  remaining: string[];
}

/**
 * Keeps SageMaker from billing for what Runway no longer uses. Every method is idempotent (deleting
 * what is gone succeeds) and safe to run again on failure:
 * - `teardown`: a deleted endpoint's canary alarms, SageMaker endpoint, endpoint configs and models;
 * - `prune`: after a successful deploy, the endpoint's models and configs but the ones it serves and
 *   the previous version's (kept for rollback);
 * - `sweepOrphans`: `runway-*` resources of this Runway (by tag) that no endpoint item owns.
 */
export class SageMakerJanitor {
  private readonly graceMs: number;

  constructor(private readonly deps: SageMakerJanitorDeps) {
    this.graceMs = deps.orphanGraceMs ?? 3_600_000;
  }

  async teardown(endpointName: string): Promise<TeardownReport> {
    const { resources } = this.deps;
    const alarms = sageMakerAlarmNames(endpointName);
    await resources.deleteAlarms([alarms.errors, alarms.latency]);
    const name = sageMakerEndpointName(endpointName);
    const remaining: string[] = [];
    const endpoint = await resources.describeEndpoint(name);
    if (endpoint) {
      if (endpoint.status !== 'Deleting') await resources.delete('endpoint', name);
      remaining.push(`the SageMaker endpoint ${name} is being deleted`);
    }
    const prefix = sageMakerResourcePrefix(endpointName);
    for (const kind of ['endpoint-config', 'model'] as const) {
      for (const resource of await this.owned(kind, prefix)) await resources.delete(kind, resource.name);
    }
    return { done: remaining.length === 0, remaining };
  }

  /** Deletes the endpoint's models and configs but `keep` and what its SageMaker endpoint runs now. */
  async prune(endpointName: string, keep: readonly string[]): Promise<string[]> {
    const { resources } = this.deps;
    const running = await resources.describeEndpoint(sageMakerEndpointName(endpointName));
    const kept = new Set([...keep, ...(running ? [running.configName] : [])]);
    const deleted: string[] = [];
    const prefix = sageMakerResourcePrefix(endpointName);
    for (const kind of ['endpoint-config', 'model'] as const) {
      for (const resource of await this.owned(kind, prefix)) {
        if (kept.has(resource.name)) continue;
        await resources.delete(kind, resource.name);
        deleted.push(`${kind}/${resource.name}`);
      }
    }
    return deleted;
  }

  /**
   * Deletes this Runway's SageMaker resources whose endpoint has no item (`endpointNames`: every
   * endpoint, deleting ones included), older than the grace period. An orphan SageMaker endpoint is
   * torn down whole (with its alarms).
   */
  async sweepOrphans(endpointNames: readonly string[]): Promise<string[]> {
    const { resources, clock } = this.deps;
    const endpoints = new Set(endpointNames.map(sageMakerEndpointName));
    const prefixes = new Set(endpointNames.map(sageMakerResourcePrefix));
    const old = (resource: SageMakerResource) => resource.createdAt < clock.now() - this.graceMs;
    const deleted: string[] = [];
    for (const kind of ['endpoint', 'endpoint-config', 'model'] as const) {
      for (const resource of await resources.list(kind, 'runway-')) {
        const ownerPrefix = kind === 'endpoint' ? undefined : sageMakerResourceOwner(resource.name);
        const known =
          kind === 'endpoint'
            ? endpoints.has(resource.name)
            : ownerPrefix === undefined || prefixes.has(ownerPrefix);
        if (known || !old(resource)) continue;
        const tags = await resources.tags(resource);
        if (tags[OWNER_TAG] !== this.deps.owner) continue;
        if (kind === 'endpoint')
          await resources.deleteAlarms([`${resource.name}-canary-errors`, `${resource.name}-canary-latency`]);
        await resources.delete(kind, resource.name);
        deleted.push(`${kind}/${resource.name}`);
        this.deps.logger.info('orphan SageMaker resource deleted', { kind, name: resource.name });
      }
    }
    return deleted;
  }

  /** The models or configs of the endpoint whose resources start with `prefix` (and no other's). */
  private async owned(kind: 'model' | 'endpoint-config', prefix: string): Promise<SageMakerResource[]> {
    const found = await this.deps.resources.list(kind, `${prefix}-v`);
    return found.filter((resource) => sageMakerResourceOwner(resource.name) === prefix);
  }
}
