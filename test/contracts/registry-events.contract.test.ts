import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileEventPattern } from '../../infra/local/events/event-pattern.ts';
import {
  REGISTRY_EVENT_SOURCE,
  REGISTRY_EVENTS,
  registryEventModule,
} from '../../shared/registry/events/index.ts';

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/registry/events');

interface DeliveredEvent {
  'detail-type': string;
  source: string;
  detail: Record<string, unknown>;
}

const fixtures = readdirSync(DIR)
  .filter((file) => file.endsWith('.json'))
  .map((file) => ({ file, event: JSON.parse(readFileSync(path.join(DIR, file), 'utf8')) as DeliveredEvent }));

/**
 * The registry's events are a public contract: rules on the Runway bus (the deploy state machine,
 * users' own integrations) match on them. Every event version ever published keeps parsing.
 */
describe('registry events: published versions keep parsing', () => {
  it.each(fixtures.map(({ file, event }) => [file, event] as const))('%s', (file, event) => {
    const module = registryEventModule(event['detail-type']);
    expect(module, `no event module for ${event['detail-type']}`).toBeDefined();
    expect(event.source).toBe(module?.source);
    expect(file).toBe(`${event['detail-type'].replace(/^registry\./, '')}.v${event.detail.version}.json`);
    const parsed = module?.schema.safeParse(event.detail);
    expect(parsed?.success, JSON.stringify(parsed?.error?.issues)).toBe(true);
  });

  it('has a fixture for the current version of every event', () => {
    const covered = new Set(fixtures.map(({ event }) => `${event['detail-type']}@${event.detail.version}`));
    for (const module of REGISTRY_EVENTS) expect(covered).toContain(`${module.name}@${module.version}`);
  });

  it('names events registry.<entity>.<change>, once each, all from runway.registry', () => {
    const names = REGISTRY_EVENTS.map((module) => module.name);
    expect(new Set(names).size).toBe(names.length);
    for (const module of REGISTRY_EVENTS) {
      expect(module.name).toMatch(/^registry\.(registered-model|model-version)\.[a-z]+(-[a-z]+)*$/);
      expect(module.source).toBe(REGISTRY_EVENT_SOURCE);
      expect(module.version).toBe(1);
    }
  });
});

describe('registry events: schemas', () => {
  const aliasSet = fixtures.find(
    ({ event }) => event['detail-type'] === 'registry.model-version.alias-set',
  )!.event;
  const module = registryEventModule('registry.model-version.alias-set')!;

  it('accept fields added later, so consumers of v1 survive additive changes', () => {
    expect(module.schema.safeParse({ ...aliasSet.detail, addedLater: { any: 'thing' } }).success).toBe(true);
  });

  it('refuse details without the envelope or with another schema version', () => {
    for (const field of ['version', 'idempotencyKey', 'occurredAt', 'modelId', 'modelName', 'modelVersion']) {
      const { [field]: _dropped, ...rest } = aliasSet.detail;
      expect(module.schema.safeParse(rest).success, field).toBe(false);
    }
    expect(module.schema.safeParse({ ...aliasSet.detail, version: 2 }).success).toBe(false);
    expect(module.schema.safeParse({ ...aliasSet.detail, modelVersion: 3 }).success).toBe(false);
  });

  it('match the rule a deploy that follows an alias would use', () => {
    const rule = compileEventPattern({
      source: [REGISTRY_EVENT_SOURCE],
      'detail-type': ['registry.model-version.alias-set'],
      detail: { version: [1], alias: ['production'] },
    });
    expect(rule.matches(aliasSet)).toBe(true);
    expect(rule.matches({ ...aliasSet, detail: { ...aliasSet.detail, alias: 'staging' } })).toBe(false);
    const stageRule = compileEventPattern({
      source: [REGISTRY_EVENT_SOURCE],
      'detail-type': ['registry.model-version.stage-transitioned'],
      detail: { stage: ['Production'] },
    });
    const transitioned = fixtures.find(
      ({ event }) => event['detail-type'] === 'registry.model-version.stage-transitioned',
    )!.event;
    expect(stageRule.matches(transitioned)).toBe(true);
  });
});
