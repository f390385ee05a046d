import { InvalidParameterError } from '../platform/errors.ts';
import { normalisePosix } from './model.ts';

/**
 * A model version's `source`, checked as MLflow's server checks it (`handlers._validate_source`) and
 * classified so the service can resolve where the files are.
 */
export type ModelSource =
  | { kind: 'runs'; runId: string; artifactPath: string }
  | { kind: 'models'; name: string; version: string | undefined; alias: string | undefined }
  /** MLflow 3's `models:/<model_id>`: a logged model, whose files are at its artifact location. */
  | { kind: 'logged-model'; modelId: string }
  | { kind: 'other' };

/** The parts of a URI as Python's `urllib.parse.urlparse` splits them (what MLflow inspects). */
interface ParsedUri {
  scheme: string;
  netloc: string;
  path: string;
}

/**
 * Validates `source` and says what it points at.
 *
 * - Local paths and `file:` URIs are refused: MLflow's server only accepts a local path inside the
 *   run's local artifact directory, and Runway's runs never have one (their artifacts are
 *   `mlflow-artifacts:/` URIs); `file:` URIs are refused by MLflow's server by default.
 * - Relative path parts (`..`, `.`, `//`, also percent-encoded, and NUL) are refused, so a source
 *   cannot reach outside the place it names.
 */
export function parseModelSource(source: string): ModelSource {
  const parsed = urlParse(source);
  if (parsed.scheme === '' || parsed.scheme === 'file') {
    throw new InvalidParameterError(
      `Invalid model version source: '${source}'. Local paths and file:// URIs cannot be model version sources on this server; use the run's artifact URI (runs:/<run_id>/<path>) or an object store URI.`,
    );
  }
  refuseRelativePaths(source);
  if (parsed.scheme === 'runs') {
    const [runId = '', ...rest] = parsed.path.replace(/^\/+/, '').split('/');
    if (parsed.netloc !== '' || runId === '') {
      throw new InvalidParameterError(
        `Invalid model version source: '${source}'. A runs URI looks like runs:/<run_id>/<artifact path>.`,
      );
    }
    return { kind: 'runs', runId, artifactPath: rest.join('/') };
  }
  if (parsed.scheme === 'models') {
    // As MLflow's `_parse_model_uri`: models:/<name>/<version>, models:/<name>@<alias>, and MLflow 3's
    // models:/<model_id> (one segment without `@`).
    const path = parsed.path.replace(/^\/+/, '');
    const at = /^([^/]+)@([\w-]+)$/.exec(path);
    if (at) return { kind: 'models', name: at[1] as string, version: undefined, alias: at[2] };
    const numbered = /^([^/]+)\/(\d+)$/.exec(path);
    if (numbered)
      return { kind: 'models', name: numbered[1] as string, version: numbered[2], alias: undefined };
    if (parsed.netloc === '' && /^[^/@]+$/.test(path)) return { kind: 'logged-model', modelId: path };
    throw new InvalidParameterError(
      `Invalid model version source: '${source}'. A models URI looks like models:/<model_id>, models:/<name>/<version> or models:/<name>@<alias>.`,
    );
  }
  return { kind: 'other' };
}

/**
 * The logged model a version comes from, as MLflow 3.11's `_register_model` and server read it: the
 * `model_id` parameter, else the id in a `models:/<model_id>` source; `undefined` for neither.
 */
export function loggedModelIdOf(source: string, modelId: string | undefined): string | undefined {
  if (modelId) return modelId;
  if (!/^models:/i.test(source)) return undefined;
  try {
    const parsed = parseModelSource(source);
    return parsed.kind === 'logged-model' ? parsed.modelId : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Where a stored version's files are, for everything that reads them without asking the registry API
 * (the deploy state machine, the reconciler, the pipelines): the location its source was resolved to
 * when the version was created (a `runs:/` source's run artifacts, a `models:/<model_id>` source's
 * logged model, a `models:/<name>/<n>` source's version), else the source itself.
 */
export function versionFilesLocation(version: {
  storageLocation?: string | undefined;
  source: string;
}): string {
  return version.storageLocation ?? version.source;
}

/** Joins a run's artifact URI and a path inside it, as MLflow's `append_to_uri_path`. */
export function runArtifactLocation(artifactUri: string, artifactPath: string): string {
  if (artifactPath === '') return artifactUri;
  return `${artifactUri.replace(/\/+$/, '')}/${artifactPath.replace(/^\/+/, '')}`;
}

/** MLflow's `_validate_non_local_source_contains_relative_paths`, on a POSIX server. */
function refuseRelativePaths(source: string): void {
  let decoded = source;
  for (;;) {
    const next = unquotePlus(decoded);
    if (next === decoded) break;
    decoded = next;
  }
  const path = urlParse(decoded).path.replace(/\/+$/, '').replace(/\/+/g, '/');
  // Python resolves a relative path against the working directory, so it never equals itself.
  if (path.includes('\0') || !path.startsWith('/') || normalisePosix(path) !== path) {
    throw new InvalidParameterError(
      `Invalid model version source: '${source}'. If supplying a source as an http, https, local file path, ftp, objectstore, or mlflow-artifacts uri, an absolute path must be provided without relative path references present. Please provide an absolute path.`,
    );
  }
}

/** Python's `urllib.parse.unquote_plus`: `+` is a space and invalid escapes stay as they are. */
function unquotePlus(text: string): string {
  return text.replace(/\+/g, ' ').replace(/(?:%[0-9a-fA-F]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      // Not UTF-8: Python replaces the bytes; only the path shape matters here.
      return run.replace(/%([0-9a-fA-F]{2})/g, (_escape, hex: string) =>
        String.fromCharCode(parseInt(hex, 16)),
      );
    }
  });
}

function urlParse(uri: string): ParsedUri {
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(uri);
  let rest = scheme ? uri.slice(scheme[0].length) : uri;
  let netloc = '';
  if (rest.startsWith('//')) {
    const end = rest.slice(2).search(/[/?#]/);
    netloc = end < 0 ? rest.slice(2) : rest.slice(2, end + 2);
    rest = end < 0 ? '' : rest.slice(end + 2);
  }
  const path = rest.split(/[?#]/, 1)[0] ?? '';
  return { scheme: scheme ? (scheme[1] as string).toLowerCase() : '', netloc, path };
}
