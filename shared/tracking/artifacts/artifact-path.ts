import { InvalidParameterError } from '../../platform/errors.ts';
import { MAX_PATH_BYTES } from './model.ts';

/**
 * Artifact paths as the proxy accepts them. A path names a file or directory below the artifact root,
 * `/`-separated, exactly as the client sent it (after the one URL decoding HTTP implies): spaces,
 * unicode, `%` and `+` are kept as they are, so every name a client logs comes back unchanged.
 *
 * Refused with 400 INVALID_PARAMETER_VALUE, as MLflow's `validate_path_is_safe` does: `..`, absolute
 * paths, `#`, and the same after further percent-decoding (MLflow decodes until stable, so `%2e%2e`
 * is `..`). Refused besides, because they are never what a client means and turn into odd keys or
 * listings: empty and `.` segments, backslashes (a separator to Windows clients), control characters
 * and paths longer than S3's 1024-byte keys.
 */

const ENCODED_RUN = /(?:%[0-9A-Fa-f]{2})+/g;
/** MLflow gives up decoding after 10 rounds; so do we, refusing the path. */
const MAX_DECODE_ROUNDS = 10;

/** How a route uses an artifact path: a file (upload, download, multipart upload) or a directory (listing, delete). */
export type ArtifactPathKind = 'file' | 'directory';

/**
 * Why `path` is not a safe artifact path, or `undefined` when it is: the one check of artifact paths,
 * which every artifact route makes before it reads or writes anything (through
 * {@link validateFilePath} and {@link validateDirectoryPath}, or on its own at the edge, e.g. a
 * front that routes uploads straight to storage). Pure: no I/O, no exception.
 *
 * `path` is the path as the route received it, after the one URL decoding HTTP implies (a raw
 * request path is decoded once first). Refused, in the form sent and in every further
 * percent-decoding of it (so `%2e%2e`, `%252e%252e`, `..%2f` and `%5c` are caught):
 * - a `.` or `..` segment, a backslash (a separator to Windows, so `..\x` is a traversal too),
 *   a leading `/` (absolute) and `#`, as MLflow's `validate_path_is_safe`;
 * - empty segments (`a//b`, a trailing `/` on a file), control characters, more than 1024 UTF-8
 *   bytes (S3's longest key), and more than ten rounds of encoding.
 *
 * For a `directory`, `undefined` and `''` are the artifact root and trailing slashes are allowed.
 * @returns the reason, worded to follow "Invalid path '<path>': ", or `undefined` for a safe path
 */
export function artifactPathProblem(path: string | undefined, kind: ArtifactPathKind): string | undefined {
  if (kind === 'directory') {
    if (path === undefined || path === '') return undefined;
    if (path.startsWith('/')) return 'it must be relative, not start with /';
    const trimmed = path.replace(/\/+$/, '');
    return trimmed === '' ? undefined : pathProblem(trimmed);
  }
  if (path === undefined || path === '') return 'it is empty';
  return pathProblem(path);
}

/** Validates the path of a file (upload, download, multipart upload) and returns it unchanged. */
export function validateFilePath(path: string): string {
  const problem = artifactPathProblem(path, 'file');
  if (problem !== undefined) throw invalidPath(path, problem);
  return path;
}

/**
 * Validates a directory path (listing, delete) and returns it without its trailing slashes; `''` (or
 * no path at all) is the artifact root.
 */
export function validateDirectoryPath(path: string | undefined): string {
  const problem = artifactPathProblem(path, 'directory');
  if (problem !== undefined) throw invalidPath(path ?? '', problem);
  return (path ?? '').replace(/\/+$/, '');
}

/**
 * The name of the file a multipart upload creates: the last segment of the `path` the client sends
 * in the body, which MLflow's client fills with its local file path (`/tmp/x/model.bin`, or
 * `C:\x\model.bin` on Windows: MLflow's server would keep the whole Windows path as the name).
 */
export function fileNameOf(clientPath: string): string {
  const name = clientPath.split(/[/\\]/).pop() ?? '';
  if (name === '') throw invalidPath(clientPath, 'it must name a file');
  return validateFilePath(name);
}

/** Joins a directory (`''` is the root) and a relative path. */
export function joinPath(directory: string, relative: string): string {
  if (directory === '') return relative;
  return relative === '' ? directory : `${directory}/${relative}`;
}

/** The last segment of a path (a file's name). */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * The proxy path of an artifact URI, as MLflow's `_get_proxied_run_artifact_destination_path` reads
 * it: the path of `mlflow-artifacts:/0/<run>/artifacts` (also with an authority,
 * `mlflow-artifacts://host/...`), or what follows `/api/2.0/mlflow-artifacts/artifacts/` in an HTTP(S)
 * URL; `undefined` for any other scheme (stored elsewhere than behind this proxy).
 */
export function proxyPathOfArtifactUri(uri: string): string | undefined {
  const proxied = /^mlflow-artifacts:(?:\/\/[^/]*)?(.*)$/i.exec(uri);
  const http = /^https?:\/\/[^/]*(?:\/.*?)?\/api\/2\.0\/mlflow-artifacts\/artifacts\/(.*)$/i.exec(uri);
  const path = proxied?.[1] ?? http?.[1];
  return path === undefined ? undefined : validateDirectoryPath(path.replace(/^\/+/, ''));
}

function pathProblem(path: string): string | undefined {
  if (hasControlCharacter(path)) return 'it contains a control character';
  if (Buffer.byteLength(path, 'utf8') > MAX_PATH_BYTES) return `it is longer than ${MAX_PATH_BYTES} bytes`;
  const asSent = formProblem(path);
  if (asSent !== undefined) return asSent;
  if (path.split('/').includes('')) return 'it contains an empty segment (// or a trailing /)';
  let decoded = path;
  for (let round = 0; ; round++) {
    const next = decodeOnce(decoded);
    if (next === decoded) return undefined;
    if (round === MAX_DECODE_ROUNDS) return 'it is percent-encoded too many times';
    decoded = next;
    const problem = formProblem(decoded);
    if (problem !== undefined) return problem;
  }
}

/** The rules that hold for the path as sent and for every decoding of it. */
function formProblem(form: string): string | undefined {
  if (form.startsWith('/')) return 'it must be relative, not start with /';
  if (form.includes('\\')) return 'it contains a backslash';
  if (form.includes('#')) return "it contains '#'";
  if (form.split('/').some((segment) => segment === '.' || segment === '..')) {
    return "it contains a '.' or '..' segment";
  }
  return undefined;
}

/** One round of percent-decoding that leaves malformed sequences alone (`100%.txt` stays). */
function decodeOnce(text: string): string {
  return text.replace(ENCODED_RUN, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}

/** True when `text` holds an ASCII control character (C0 or DEL), which no artifact name needs. */
export function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

function invalidPath(path: string, reason: string): InvalidParameterError {
  return new InvalidParameterError(`Invalid path '${preview(path)}': ${reason}`);
}

/** Client text shortened to 200 characters and stripped of control characters, for error messages. */
export function preview(text: string): string {
  const short = text.length > 200 ? `${text.slice(0, 197)}...` : text;
  return [...short].map((c) => (hasControlCharacter(c) ? '?' : c)).join('');
}
