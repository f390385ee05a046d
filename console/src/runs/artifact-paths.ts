/** Artifact paths and previews (pure: unit-tested in Node). */

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

/** Splits CSV text into rows (quoted fields with commas, doubled quotes and newlines inside quotes). */
export function parseCsv(text: string, separator = ',', maxRows = 200): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length && rows.length < maxRows; i++) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === separator) {
      row.push(field);
      field = '';
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += char;
  }
  if ((field !== '' || row.length > 0) && rows.length < maxRows) rows.push([...row, field]);
  return rows;
}
