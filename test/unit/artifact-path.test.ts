import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidParameterError } from '../../shared/platform/errors.ts';
import {
  baseName,
  fileNameOf,
  joinPath,
  proxyPathOfArtifactUri,
  validateDirectoryPath,
  validateFilePath,
} from '../../shared/tracking/artifacts/artifact-path.ts';

function refused(check: () => unknown): string {
  try {
    check();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidParameterError);
    return (error as Error).message;
  }
  throw new Error('expected the path to be refused');
}

describe('artifact paths', () => {
  it.each([
    '0/abc/artifacts/model.pkl',
    '0/abc/artifacts/with space.txt',
    '0/abc/artifacts/ünïcødé/日本語.csv',
    '0/abc/artifacts/100%.txt',
    '0/abc/artifacts/a%20b.txt',
    '0/abc/artifacts/a+b=c&d.txt',
    "0/abc/artifacts/quote'and(paren)[bracket]{brace}~!@$^.txt",
    '0/abc/artifacts/..hidden/...three',
    '0/abc/artifacts/emoji 🚀.bin',
  ])('keeps %s exactly as sent', (path) => {
    expect(validateFilePath(path)).toBe(path);
  });

  it.each([
    ['..', "'..'"],
    ['0/../secret', "'..'"],
    ['a/..', "'..'"],
    ['a/./b', "'.'"],
    ['/etc/passwd', 'relative'],
    ['a//b', 'empty segment'],
    ['a/b/', 'empty segment'],
    ['a\\..\\b', 'backslash'],
    ['a#b', "'#'"],
    ['a/%2e%2e/b', "'..'"],
    ['a/%252e%252e/b', "'..'"],
    ['%2Fetc/passwd', 'relative'],
    ['a%5C..%5Cb', 'backslash'],
    ['a%23b', "'#'"],
    ['a\u0000b', 'control character'],
    ['a\nb', 'control character'],
    ['', 'empty'],
  ])('refuses %j (%s) with INVALID_PARAMETER_VALUE, as MLflow does for traversal', (path, reason) => {
    expect(refused(() => validateFilePath(path))).toContain(reason);
  });

  it('accepts up to 1024 UTF-8 bytes, the longest S3 key', () => {
    expect(validateFilePath('x'.repeat(1024))).toHaveLength(1024);
    expect(refused(() => validateFilePath('x'.repeat(1025)))).toContain('1024 bytes');
    // 513 two-byte characters: 1026 bytes, though only 513 characters.
    expect(refused(() => validateFilePath('é'.repeat(513)))).toContain('1024 bytes');
  });

  it('gives up on a path encoded more than ten times, as MLflow does', () => {
    let path = 'a';
    for (let i = 0; i < 12; i++) path = path.replace(/[a%]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);
    expect(refused(() => validateFilePath(path))).toContain('too many times');
  });

  it('reads directories with the root as empty and trailing slashes dropped', () => {
    expect(validateDirectoryPath(undefined)).toBe('');
    expect(validateDirectoryPath('')).toBe('');
    expect(validateDirectoryPath('0/abc/artifacts/')).toBe('0/abc/artifacts');
    expect(validateDirectoryPath('0/abc/artifacts//')).toBe('0/abc/artifacts');
    expect(refused(() => validateDirectoryPath('/'))).toContain('relative');
    expect(refused(() => validateDirectoryPath('0/../..'))).toContain("'..'");
  });

  it('names a multipart upload after the last segment of the client path, Windows paths too', () => {
    expect(fileNameOf('/tmp/xyz/model.bin')).toBe('model.bin');
    expect(fileNameOf('C:\\Users\\ana\\model weights.bin')).toBe('model weights.bin');
    expect(fileNameOf('model.bin')).toBe('model.bin');
    expect(refused(() => fileNameOf('/tmp/dir/'))).toContain('name a file');
    expect(refused(() => fileNameOf('/tmp/..'))).toContain("'..'");
  });

  it('joins and splits paths', () => {
    expect(joinPath('', 'a')).toBe('a');
    expect(joinPath('a', '')).toBe('a');
    expect(joinPath('a/b', 'c')).toBe('a/b/c');
    expect(baseName('a/b/c.txt')).toBe('c.txt');
    expect(baseName('c.txt')).toBe('c.txt');
  });

  it('reads the proxy path of a run artifact URI as MLflow does', () => {
    expect(proxyPathOfArtifactUri('mlflow-artifacts:/0/abc/artifacts')).toBe('0/abc/artifacts');
    expect(proxyPathOfArtifactUri('mlflow-artifacts://host:5000/7/abc/artifacts')).toBe('7/abc/artifacts');
    expect(proxyPathOfArtifactUri('mlflow-artifacts:///7/abc/artifacts/')).toBe('7/abc/artifacts');
    expect(
      proxyPathOfArtifactUri('https://mlflow.example.com/api/2.0/mlflow-artifacts/artifacts/3/r/artifacts'),
    ).toBe('3/r/artifacts');
    expect(proxyPathOfArtifactUri('mlflow-artifacts:/')).toBe('');
    expect(proxyPathOfArtifactUri('s3://other-bucket/0/abc/artifacts')).toBeUndefined();
    expect(() => proxyPathOfArtifactUri('mlflow-artifacts:/0/../../x')).toThrow(InvalidParameterError);
  });

  it('never accepts a path that escapes after any amount of percent-decoding (property)', () => {
    // An alphabet dense in the characters of traversal tricks: dots, slashes and their escapes.
    const alphabet = fc.constantFrom(
      '.',
      '/',
      '\\',
      '%',
      '2',
      '5',
      'e',
      'E',
      'f',
      'F',
      'c',
      'C',
      '#',
      'a',
      ' ',
    );
    fc.assert(
      fc.property(
        fc.array(alphabet, { minLength: 1, maxLength: 24 }).map((chars) => chars.join('')),
        (path) => {
          let accepted = false;
          try {
            validateFilePath(path);
            accepted = true;
          } catch (error) {
            expect(error).toBeInstanceOf(InvalidParameterError);
          }
          if (!accepted) return;
          let decoded = path;
          for (let round = 0; round < 12; round++) {
            expect(decoded.startsWith('/')).toBe(false);
            expect(decoded).not.toContain('\\');
            expect(decoded.split('/')).not.toContain('..');
            decoded = decoded.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
              try {
                return decodeURIComponent(run);
              } catch {
                return run;
              }
            });
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
