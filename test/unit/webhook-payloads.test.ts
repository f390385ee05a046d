import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { REGISTRY_EVENTS } from '../../shared/registry/events/index.ts';
import type { ModelState } from '../../shared/registry/ports.ts';
import { WEBHOOK_EVENTS } from '../../shared/registry/webhooks/model.ts';
import {
  DELIVERABLE_REGISTRY_EVENTS,
  type DeliverableRegistryEvent,
  examplePayloadOf,
  needsModel,
  parseDeliverableEvent,
  webhookEventOf,
  webhookPayloadOf,
} from '../../shared/registry/webhooks/registry-events.mapper.ts';

const EVENTS_DIR = new URL('../fixtures/registry/events/', import.meta.url);
const read = <T>(url: URL): T => JSON.parse(readFileSync(url, 'utf8')) as T;
const expected = read<Record<string, { event: string; data: unknown } | null>>(
  new URL('../fixtures/webhooks/mlflow-payloads.json', import.meta.url),
);
const state = read<ModelState>(new URL('../fixtures/webhooks/model-state.json', import.meta.url));

interface EventFixture {
  'detail-type': string;
  // biome-ignore lint/suspicious/noExplicitAny: frozen fixtures are edited per test.
  detail: any;
}
const fixture = (file: string) => read<EventFixture>(new URL(file, EVENTS_DIR));

/**
 * What one EventBridge event becomes: its MLflow event and data, or null when nothing is sent.
 * `model` is the model as it is at delivery; null when it is gone.
 */
function deliveryOf(event: EventFixture, model: ModelState | null = state) {
  const parsed = parseDeliverableEvent(event['detail-type'], event.detail);
  const name = parsed && webhookEventOf(parsed);
  if (!parsed || !name) return null;
  const data = webhookPayloadOf(parsed, needsModel(parsed) ? (model ?? undefined) : undefined);
  return data === undefined ? null : { event: name, data };
}

function withTags(base: ModelState, modelTags: Record<string, string>, versionTags?: Record<string, string>) {
  return {
    ...base,
    model: { ...base.model, tags: { ...base.model.tags, ...modelTags } },
    versions: base.versions.map((version) => ({ ...version, tags: versionTags ?? version.tags })),
  };
}

describe('registry events to MLflow webhook payloads', () => {
  const files = readdirSync(EVENTS_DIR).filter((file) => file.endsWith('.json'));

  it('has an expectation for every frozen registry event fixture', () => {
    expect(files.sort()).toEqual(
      Object.keys(expected)
        .filter((key) => !key.startsWith('_'))
        .sort(),
    );
  });

  it.each(files)('%s becomes what MLflow sends', (file) => {
    expect(deliveryOf(fixture(file))).toEqual(expected[file]);
  });

  it('maps exactly six registry events, one per MLflow 3.3 model registry event', () => {
    expect(Object.values(DELIVERABLE_REGISTRY_EVENTS).sort()).toEqual([...WEBHOOK_EVENTS].sort());
    const published = REGISTRY_EVENTS.map((module) => module.name as string);
    for (const detailType of Object.keys(DELIVERABLE_REGISTRY_EVENTS))
      expect(published).toContain(detailType);
  });

  it('sends model_version_alias.deleted when the alias itself was deleted, not when its version was', () => {
    const event = fixture('model-version.alias-deleted.v1.json');
    expect(deliveryOf(event)).toBeNull();
    event.detail.reason = 'alias-deleted';
    expect(deliveryOf(event)).toEqual({
      event: 'model_version_alias.deleted',
      data: { name: 'churn-classifier', alias: 'challenger' },
    });
  });

  it('sends nothing for prompts but registered_model.created, as MLflow 3.3', () => {
    const prompt = withTags(state, { 'mlflow.prompt.is_prompt': 'TRUE' });
    for (const file of [
      'model-version.tag-set.v1.json',
      'model-version.tag-deleted.v1.json',
      'model-version.alias-set.v1.json',
    ]) {
      expect(deliveryOf(fixture(file), prompt)).toBeNull();
    }
    // A version is a prompt's when it was created with the prompt tag (`_is_prompt_request`).
    const promptVersion = withTags(state, {}, { 'mlflow.prompt.is_prompt': 'true' });
    expect(deliveryOf(fixture('model-version.created.v1.json'), promptVersion)).toBeNull();
    const created = fixture('registered-model.created.v1.json');
    created.detail.tags = { 'mlflow.prompt.is_prompt': 'true' };
    expect(deliveryOf(created)?.event).toBe('registered_model.created');
    expect(
      deliveryOf(
        fixture('model-version.tag-set.v1.json'),
        withTags(state, { 'mlflow.prompt.is_prompt': 'false' }),
      ),
    ).not.toBeNull();
  });

  it('still delivers when the model is gone or is another model by now, with what the event carries', () => {
    const other = { ...state, model: { ...state.model, modelId: 'a-new-model' } };
    for (const model of [null, other]) {
      expect(deliveryOf(fixture('model-version.created.v1.json'), model)?.data).toEqual({
        name: 'churn-classifier',
        version: '3',
        source: 'runs:/4f9d3c2b1a0e4d5f8a7b6c5d4e3f2a1b/model',
        run_id: '4f9d3c2b1a0e4d5f8a7b6c5d4e3f2a1b',
        tags: {},
        description: null,
      });
      expect(deliveryOf(fixture('model-version.tag-set.v1.json'), model)).toEqual(
        expected['model-version.tag-set.v1.json'],
      );
    }
  });

  it('writes an empty run id as null and keeps an empty model description as "" (protobuf default)', () => {
    const version = fixture('model-version.created.v1.json');
    version.detail.runId = '';
    expect(deliveryOf(version)?.data).toMatchObject({ run_id: null });
    const model = fixture('registered-model.created.v1.json');
    model.detail.description = '';
    expect(deliveryOf(model)?.data).toEqual({
      name: 'churn-classifier',
      tags: { team: 'growth' },
      description: '',
    });
  });

  it('needs the model for every event but registered_model.created (whose event carries it all)', () => {
    const needs = Object.keys(DELIVERABLE_REGISTRY_EVENTS).map((detailType) => {
      const file = `${detailType.replace('registry.', '')}.v1.json`;
      return [
        detailType,
        needsModel(parseDeliverableEvent(detailType, fixture(file).detail) as DeliverableRegistryEvent),
      ];
    });
    expect(Object.fromEntries(needs)).toEqual({
      'registry.registered-model.created': false,
      'registry.model-version.created': true,
      'registry.model-version.tag-set': true,
      'registry.model-version.tag-deleted': true,
      'registry.model-version.alias-set': true,
      'registry.model-version.alias-deleted': true,
    });
  });

  it('refuses a detail that does not match its schema (a bug upstream, not a delivery)', () => {
    const event = fixture('model-version.created.v1.json');
    delete event.detail.modelVersion;
    expect(() => parseDeliverableEvent(event['detail-type'], event.detail)).toThrow(z.ZodError);
    expect(parseDeliverableEvent('registry.something-new', {})).toBeUndefined();
  });
});

describe('test payloads', () => {
  it("are MLflow's example payloads (what MLflow's own end-to-end tests receive)", () => {
    expect(examplePayloadOf('model_version.created')).toEqual({
      name: 'example_model',
      version: '1',
      source: 'models:/123',
      run_id: 'abcd1234abcd5678',
      tags: { example_key: 'example_value' },
      description: 'An example model version',
    });
    expect(examplePayloadOf('registered_model.created')).toEqual({
      name: 'example_model',
      tags: { example_key: 'example_value' },
      description: 'An example registered model',
    });
    expect(examplePayloadOf('model_version_tag.set')).toEqual({
      name: 'example_model',
      version: '1',
      key: 'example_key',
      value: 'example_value',
    });
    for (const event of WEBHOOK_EVENTS)
      expect(examplePayloadOf(event)).toMatchObject({ name: 'example_model' });
  });
});
