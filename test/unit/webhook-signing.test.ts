import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type PythonJsonValue, pythonJsonDumps } from '../../shared/registry/webhooks/python-json.ts';
import {
  deliveryHeaders,
  deliveryIdFor,
  pythonIsoTimestamp,
  signPayload,
  verifySignature,
  WEBHOOK_HEADERS,
  webhookBody,
} from '../../shared/registry/webhooks/signing.ts';

/** Computed with CPython exactly as MLflow signs (see `_how` in the file). */
const vector = JSON.parse(
  readFileSync(new URL('../fixtures/webhooks/signing-vector.json', import.meta.url), 'utf8'),
) as {
  secret: string;
  deliveryId: string;
  timestamp: string;
  payload: PythonJsonValue;
  body: string;
  signature: string;
};

describe('webhook signing, as MLflow computes it', () => {
  it("writes the body byte for byte as Python's json.dumps", () => {
    expect(pythonJsonDumps(vector.payload)).toBe(vector.body);
  });

  it('signs `<delivery id>.<timestamp>.<body>` with HMAC-SHA256 as `v1,<base64>` (the known vector)', () => {
    expect(signPayload(vector.secret, vector.deliveryId, vector.timestamp, vector.body)).toBe(
      vector.signature,
    );
  });

  it("verifies as MLflow's receiver example does, and refuses any change", () => {
    const good = { ...vector, payload: vector.body };
    expect(verifySignature(good)).toBe(true);
    expect(verifySignature({ ...good, payload: `${vector.body} ` })).toBe(false);
    expect(verifySignature({ ...good, timestamp: '1772446531' })).toBe(false);
    expect(verifySignature({ ...good, deliveryId: good.deliveryId.replace('3f', '4f') })).toBe(false);
    expect(verifySignature({ ...good, secret: 'wrong-secret' })).toBe(false);
    expect(verifySignature({ ...good, signature: vector.signature.replace('v1,', 'v2,') })).toBe(false);
    expect(verifySignature({ ...good, signature: 'v1,short' })).toBe(false);
  });

  it('puts the signature, delivery id and timestamp in MLflow’s headers, and no signature without a secret', () => {
    const signed = deliveryHeaders({
      deliveryId: vector.deliveryId,
      timestampSeconds: Number(vector.timestamp),
      body: vector.body,
      secret: vector.secret,
    });
    expect(signed).toEqual({
      'Content-Type': 'application/json',
      'X-MLflow-Delivery-Id': vector.deliveryId,
      'X-MLflow-Timestamp': vector.timestamp,
      'X-MLflow-Signature': vector.signature,
    });
    const unsigned = deliveryHeaders({
      deliveryId: vector.deliveryId,
      timestampSeconds: 1,
      body: '{}',
      secret: undefined,
    });
    expect(unsigned[WEBHOOK_HEADERS.signature]).toBeUndefined();
    expect(unsigned[WEBHOOK_HEADERS.deliveryId]).toBe(vector.deliveryId);
  });

  it('builds the body MLflow sends: entity, action, timestamp, data', () => {
    const data = (vector.payload as { data: Record<string, PythonJsonValue> }).data;
    expect(webhookBody('model_version.created', Date.parse('2026-03-02T10:15:30.123Z'), data)).toBe(
      vector.body,
    );
  });
});

describe("Python's json.dumps", () => {
  it('escapes control characters, DEL, non-ASCII and astral characters; keeps "/" and key order', () => {
    // Expected strings printed by CPython 3.11: json.dumps({"a": [1, True, False, None, "\x00\x1f\b\f\\"], "b": {}})
    expect(pythonJsonDumps({ a: [1, true, false, null, '\u0000\u001f\b\f\\'], b: {} })).toBe(
      '{"a": [1, true, false, null, "\\u0000\\u001f\\b\\f\\\\"], "b": {}}',
    );
    expect(pythonJsonDumps({ z: 1, a: 2 })).toBe('{"z": 1, "a": 2}');
    expect(pythonJsonDumps('é🚀\u007f/')).toBe('"\\u00e9\\ud83d\\ude80\\u007f/"');
  });

  it('leaves out undefined fields and refuses what Python would print differently (floats)', () => {
    expect(pythonJsonDumps({ a: undefined, b: 'x' })).toBe('{"b": "x"}');
    expect(() => pythonJsonDumps(1.5)).toThrow(/integers/);
  });
});

describe('delivery ids and timestamps', () => {
  it('derives one UUID-shaped id per (registry change, webhook), stable across retries', () => {
    const id = deliveryIdFor('model-1:v3:created', 'webhook-a');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(deliveryIdFor('model-1:v3:created', 'webhook-a')).toBe(id);
    expect(deliveryIdFor('model-1:v3:created', 'webhook-b')).not.toBe(id);
    expect(deliveryIdFor('model-1:v4:created', 'webhook-a')).not.toBe(id);
    // The parts cannot run into each other: ("a:b", "c") is not ("a", "b:c").
    expect(deliveryIdFor('a:b', 'c')).not.toBe(deliveryIdFor('a', 'b:c'));
  });

  it("formats times as Python's isoformat: microseconds unless zero, and +00:00", () => {
    expect(pythonIsoTimestamp(Date.parse('2026-03-02T10:15:30.123Z'))).toBe(
      '2026-03-02T10:15:30.123000+00:00',
    );
    expect(pythonIsoTimestamp(Date.parse('2026-03-02T10:15:30.000Z'))).toBe('2026-03-02T10:15:30+00:00');
    expect(pythonIsoTimestamp(Date.parse('2026-03-02T10:15:30.007Z'))).toBe(
      '2026-03-02T10:15:30.007000+00:00',
    );
  });
});
