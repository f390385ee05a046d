import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../shared/platform/config.ts';
import { artifactsConfig } from '../../shared/tracking/artifacts/artifacts.module.ts';
import { MAX_INLINE_BYTES } from '../../shared/tracking/artifacts/model.ts';

const required = { ARTIFACT_BUCKET_NAME: 'artifacts', TRACKING_TABLE_NAME: 'tracking' };

describe('artifacts function configuration', () => {
  it('needs the bucket and the tracking table, and defaults the rest', () => {
    expect(artifactsConfig(required)).toEqual({
      ...required,
      ARTIFACT_KEY_PREFIX: '',
      ARTIFACT_MAX_INLINE_UPLOAD_BYTES: 4 * 1024 * 1024,
      ARTIFACT_MAX_INLINE_DOWNLOAD_BYTES: 4 * 1024 * 1024,
      ARTIFACT_DOWNLOAD_URL_TTL_SECONDS: 300,
      ARTIFACT_UPLOAD_URL_TTL_SECONDS: 3600,
    });
    expect(() => artifactsConfig({})).toThrow(
      /ARTIFACT_BUCKET_NAME is not set; TRACKING_TABLE_NAME is not set/,
    );
  });

  it('reads limits and a key prefix, trimming its slashes', () => {
    const config = artifactsConfig({
      ...required,
      ARTIFACT_KEY_PREFIX: '/mlflow/artifacts/',
      ARTIFACT_MAX_INLINE_DOWNLOAD_BYTES: '0',
      ARTIFACT_UPLOAD_URL_TTL_SECONDS: '86400',
    });
    expect(config.ARTIFACT_KEY_PREFIX).toBe('mlflow/artifacts');
    expect(config.ARTIFACT_MAX_INLINE_DOWNLOAD_BYTES).toBe(0);
    expect(config.ARTIFACT_UPLOAD_URL_TTL_SECONDS).toBe(86_400);
  });

  it.each([
    ['ARTIFACT_MAX_INLINE_UPLOAD_BYTES', String(MAX_INLINE_BYTES + 1)],
    ['ARTIFACT_MAX_INLINE_DOWNLOAD_BYTES', '-1'],
    ['ARTIFACT_MAX_INLINE_UPLOAD_BYTES', 'lots'],
    ['ARTIFACT_DOWNLOAD_URL_TTL_SECONDS', '604801'],
    ['ARTIFACT_UPLOAD_URL_TTL_SECONDS', '0'],
    ['ARTIFACT_KEY_PREFIX', 'a/../b'],
    ['ARTIFACT_KEY_PREFIX', 'a//b'],
  ])('refuses %s=%s at cold start, naming the variable', (name, value) => {
    expect(() => artifactsConfig({ ...required, [name]: value })).toThrow(ConfigurationError);
    expect(() => artifactsConfig({ ...required, [name]: value })).toThrow(name);
  });

  it('caps inline sizes where a base64 body still fits in a 6 MB Lambda payload', () => {
    expect(MAX_INLINE_BYTES).toBeGreaterThan(4 * 1024 * 1024);
    expect(Math.ceil(MAX_INLINE_BYTES / 3) * 4).toBeLessThan(6 * 1024 * 1024 - 60 * 1024);
  });
});
