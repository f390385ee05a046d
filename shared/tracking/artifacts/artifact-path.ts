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

/** Validates the path of a file (upload, download, multipart upload) and returns it unchanged. */
export function validateFilePath(path: string): string {
  if (path === '') throw invalidPath(path, 'it is empty');
  checkPath(path);
  return path;
}

/**
 * Validates a directory path (listing, delete) and returns it without its trailing slashes; `''` (or
 * no path at all) is the artifact root.
 */
export function validateDirectoryPath(path: string | undefined): string {
  if (path === undefined || path === '') return '';
  if (path.startsWith('/')) throw invalidPath(path, 'it must be relative, not start with /');
  const trimmed = path.replace(/\/+$/, '');
  if (trimmed !== '') checkPath(trimmed);
  return trimmed;
}

/**
 * The name of the file a multipart upload creates: the last segment of the `path` the client sends
 * in the body, which MLflow's client fills with its local file path (`/tmp/x/model.bin`, or
 * `C:\x\model.bin` on Windows: MLflow's server would keep the whole Windows path as the name).
 */
export function fileNameOf(clientPath: string): string {
  const name = clientPath.split(/[/\\]/).pop() ?? '';
  if (name === '') throw invalidPath(clientPath, 'it must name a file');
  checkPath(name);
  return name;
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

function checkPath(path: string): void {
  if (hasControlCharacter(path)) throw invalidPath(path, 'it contains a control character');
  if (Buffer.byteLength(path, 'utf8') > MAX_PATH_BYTES) {
    throw invalidPath(path, `it is longer than ${MAX_PATH_BYTES} bytes`);
  }
  checkForm(path, path);
  if (path.split('/').includes('')) {
    throw invalidPath(path, 'it contains an empty segment (// or a trailing /)');
  }
  let decoded = path;
  for (let round = 0; ; round++) {
    const next = decodeOnce(decoded);
    if (next === decoded) return;
    if (round === MAX_DECODE_ROUNDS) throw invalidPath(path, 'it is percent-encoded too many times');
    decoded = next;
    checkForm(path, decoded);
  }
}

/** The rules that hold for the path as sent and for every decoding of it. */
function checkForm(original: string, form: string): void {
  if (form.startsWith('/')) throw invalidPath(original, 'it must be relative, not start with /');
  if (form.includes('\\')) throw invalidPath(original, 'it contains a backslash');
  if (form.includes('#')) throw invalidPath(original, "it contains '#'");
  if (form.split('/').some((segment) => segment === '.' || segment === '..')) {
    throw invalidPath(original, "it contains a '.' or '..' segment");
  }
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
