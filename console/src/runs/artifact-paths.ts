/** Artifact paths and previews (pure: unit-tested in Node). */
import { CsvError, records } from '../../../shared/pipelines/dataset/csv.ts';

const PROXY_SCHEME = 'mlflow-artifacts:';

/**
 * The proxy path (`mlflow-artifacts:/<path>`) of a file under an artifact root, or undefined for a
 * root the proxy does not serve (an `s3://` location the client wrote to directly).
 */
export function proxyPath(artifactRoot: string, file: string): string | undefined {
  if (!artifactRoot.startsWith(PROXY_SCHEME)) return undefined;
  const root = artifactRoot.slice(PROXY_SCHEME.length).replace(/^\/+/, '').replace(/\/+$/, '');
  return file ? `${root}/${file}` : root;
}

export type PreviewKind = 'image' | 'json' | 'csv' | 'mlmodel' | 'text' | 'none';

const TEXT = /\.(txt|log|md|ya?ml|py|toml|cfg|ini|sh|r|sql|html|xml|conda|requirements)$/i;

export function previewKind(path: string): PreviewKind {
  const name = path.split('/').pop() ?? path;
  if (name === 'MLmodel') return 'mlmodel';
  if (/\.(png|jpe?g|gif|svg|webp|bmp)$/i.test(name)) return 'image';
  if (/\.json$/i.test(name)) return 'json';
  if (/\.(csv|tsv)$/i.test(name)) return 'csv';
  if (TEXT.test(name) || /^(requirements\.txt|python_env\.yaml|conda\.yaml|Dockerfile|LICENSE)$/i.test(name))
    return 'text';
  return 'none';
}

/**
 * The first `maxRows` records of a CSV (or, with a tab separator, TSV) file, read by the pipelines'
 * own RFC 4180 reader; undefined when the file is not valid CSV (the preview then shows its text).
 */
export function parseCsv(text: string, separator = ',', maxRows = 200): string[][] | undefined {
  try {
    return records(text, separator).slice(0, maxRows);
  } catch (error) {
    if (error instanceof CsvError) return undefined;
    throw error;
  }
}
