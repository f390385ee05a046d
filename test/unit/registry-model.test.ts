import { describe, expect, it } from 'vitest';
import { InvalidParameterError } from '../../shared/platform/errors.ts';
import {
  canonicalStage,
  latestPerStage,
  type ModelVersion,
  normalisePosix,
  parseVersion,
  validateAlias,
  validateModelName,
  validateTag,
} from '../../shared/registry/model.ts';
import {
  loggedModelIdOf,
  parseModelSource,
  runArtifactLocation,
} from '../../shared/registry/model-source.ts';

const refused = (run: () => unknown) => expect(run).toThrow(InvalidParameterError);

describe('registry model rules (mlflow/utils/validation.py)', () => {
  it('reserves latest, v<N> and V<N>, and allows only [\\w-] up to 255 characters in aliases', () => {
    for (const alias of ['latest', 'Latest', 'v1', 'V42', '', 'a b', 'a.b', 'a/b', 'x!', 'a'.repeat(256)]) {
      refused(() => validateAlias(alias));
    }
    for (const alias of ['champion', 'prod-2', 'v1a', 'version1', 'x_y', 'a'.repeat(255), 'latest2']) {
      expect(validateAlias(alias)).toBe(alias);
    }
  });

  it('reads versions as MLflow int() does and refuses the rest', () => {
    expect(parseVersion('3')).toBe(3);
    expect(parseVersion(' 7 ')).toBe(7);
    expect(parseVersion('+2')).toBe(2);
    expect(parseVersion('-1')).toBe(-1);
    for (const bad of ['abc', '1.5', '', '1e3', 'one']) refused(() => parseVersion(bad));
  });

  it('canonicalises stages case-insensitively', () => {
    expect(canonicalStage('production')).toBe('Production');
    expect(canonicalStage('NONE')).toBe('None');
    expect(canonicalStage('archived')).toBe('Archived');
    refused(() => canonicalStage('Prod'));
    refused(() => canonicalStage('Deleted_Internal'));
  });

  it('validates tags with the registry limits (key 250, value 100,000 as MLflow 3.11) and name rules', () => {
    validateTag('k'.repeat(250), 'v'.repeat(100_000));
    validateTag('mlflow.note:content', '');
    validateTag('a/b c-d.e_f', 'x');
    for (const [key, value] of [
      ['k'.repeat(251), 'v'],
      ['k', 'v'.repeat(100_001)],
      ['', 'v'],
      ['a/../b', 'v'],
      ['./a', 'v'],
      ['/abs', 'v'],
      ['a//b', 'v'],
      ['bad*', 'v'],
    ] as const) {
      refused(() => validateTag(key, value));
    }
  });

  it('refuses empty and over-long model names', () => {
    refused(() => validateModelName(''));
    refused(() => validateModelName('m'.repeat(257)));
    expect(validateModelName('m'.repeat(256))).toHaveLength(256);
  });

  it("normalises paths as Python's posixpath.normpath", () => {
    const cases: Array<[string, string]> = [
      ['', '.'],
      ['a/./b', 'a/b'],
      ['a/../b', 'b'],
      ['../a', '../a'],
      ['/../a', '/a'],
      ['//a', '//a'],
      ['///a//b/', '/a/b'],
      ['a/b/..', 'a'],
    ];
    for (const [input, expected] of cases) expect(normalisePosix(input), input).toBe(expected);
  });

  it('orders latest versions as MLflow: one per stage, stages by their lowest version', () => {
    const version = (number: number, stage: ModelVersion['currentStage']) =>
      ({ version: number, currentStage: stage }) as ModelVersion;
    const latest = latestPerStage([
      version(4, 'None'),
      version(1, 'Staging'),
      version(2, 'Production'),
      version(3, 'Staging'),
      version(5, 'Production'),
    ]);
    expect(latest.map((v) => [v.version, v.currentStage])).toEqual([
      [3, 'Staging'],
      [5, 'Production'],
      [4, 'None'],
    ]);
  });
});

describe('model version sources (handlers._validate_source)', () => {
  it('classifies runs:/ and models:/ sources', () => {
    expect(parseModelSource('runs:/abc123/model/sub')).toEqual({
      kind: 'runs',
      runId: 'abc123',
      artifactPath: 'model/sub',
    });
    expect(parseModelSource('runs:/abc123')).toEqual({ kind: 'runs', runId: 'abc123', artifactPath: '' });
    expect(parseModelSource('models:/churn/3')).toMatchObject({
      kind: 'models',
      name: 'churn',
      version: '3',
    });
    expect(parseModelSource('models:/churn@champion')).toMatchObject({ kind: 'models', alias: 'champion' });
    // MLflow 3: one segment without `@` is a logged model's id (`_parse_model_uri`).
    expect(parseModelSource('models:/m-0e1284e7189041b69d4a0ce5ef21b7fb')).toEqual({
      kind: 'logged-model',
      modelId: 'm-0e1284e7189041b69d4a0ce5ef21b7fb',
    });
    expect(loggedModelIdOf('models:/m-abc', undefined)).toBe('m-abc');
    expect(loggedModelIdOf('s3://b/m', 'm-def')).toBe('m-def');
    expect(loggedModelIdOf('models:/churn/1', undefined)).toBeUndefined();
    expect(loggedModelIdOf('models:/../x', undefined)).toBeUndefined();
    for (const source of [
      's3://bucket/key',
      'mlflow-artifacts:/1/abc/artifacts/model',
      'gs://b/k',
      'https://h/x',
    ]) {
      expect(parseModelSource(source)).toEqual({ kind: 'other' });
    }
  });

  it('refuses local paths, file URIs and relative path parts, also encoded', () => {
    for (const source of [
      '/tmp/model',
      'relative/model',
      'file:///tmp/model',
      'FILE:/tmp/x',
      'file://remote/tmp/model',
      's3://bucket/a/../b',
      's3://bucket/./a',
      's3://bucket',
      'mlflow-artifacts://host:5000/..%2f..%2fetc',
      'mlflow-artifacts:/1/x/%252e%252e/y',
      'http://host/api/2.0/mlflow-artifacts/artifacts%00',
      'runs:/',
      'runs://profile/abc/model',
      'models:/churn/Production',
      'models:/a/b/c',
      'models://host/m-abc',
      'models:/m-abc/../x',
    ]) {
      refused(() => parseModelSource(source));
    }
  });

  it('joins a run artifact URI and a path', () => {
    expect(runArtifactLocation('mlflow-artifacts:/1/r/artifacts', 'model')).toBe(
      'mlflow-artifacts:/1/r/artifacts/model',
    );
    expect(runArtifactLocation('mlflow-artifacts:/1/r/artifacts/', '/model')).toBe(
      'mlflow-artifacts:/1/r/artifacts/model',
    );
    expect(runArtifactLocation('s3://b/1/r/artifacts', '')).toBe('s3://b/1/r/artifacts');
  });
});
