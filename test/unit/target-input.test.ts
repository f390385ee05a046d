import { describe, expect, it } from 'vitest';
import { applyTargetInput, jsonPath } from '../../infra/local/events/target-input.ts';

const event = {
  id: 'e-1',
  source: 'runway.registry',
  'detail-type': 'alias set',
  detail: { model: 'churn', alias: 'production', version: 3, tags: ['a', 'b'] },
};

describe('EventBridge target input', () => {
  it('passes the whole event by default', () => {
    expect(applyTargetInput({}, event)).toBe(event);
  });

  it('uses a constant Input as JSON', () => {
    expect(applyTargetInput({ input: '{"fixed":true}' }, event)).toEqual({ fixed: true });
  });

  it('selects with InputPath', () => {
    expect(applyTargetInput({ inputPath: '$.detail' }, event)).toEqual(event.detail);
    expect(jsonPath(event, '$.detail.tags[1]')).toBe('b');
    expect(jsonPath(event, "$['detail-type']")).toBe('alias set');
    expect(jsonPath(event, '$.detail.missing.deeper')).toBeUndefined();
  });

  it('fills an InputTransformer template, as text inside strings and as JSON elsewhere', () => {
    const input = applyTargetInput(
      {
        inputTransformer: {
          InputPathsMap: { model: '$.detail.model', version: '$.detail.version', tags: '$.detail.tags' },
          InputTemplate: '{"name": "<model>-v<version>", "version": <version>, "tags": <tags>}',
        },
      },
      event,
    );
    expect(input).toEqual({ name: 'churn-v3', version: 3, tags: ['a', 'b'] });
  });

  it('delivers a non-JSON template result as a string, and offers the whole event', () => {
    expect(
      applyTargetInput(
        { inputTransformer: { InputPathsMap: { m: '$.detail.model' }, InputTemplate: 'model <m> promoted' } },
        event,
      ),
    ).toBe('model churn promoted');
    expect(
      applyTargetInput({ inputTransformer: { InputTemplate: '{"event": <aws.events.event.json>}' } }, event),
    ).toEqual({ event });
  });
});
