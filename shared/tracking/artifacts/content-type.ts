/**
 * The `content-type` and `content-disposition` of a downloaded artifact, as MLflow's server sends
 * them (`_response_with_file_attachment_headers` with `_guess_mime_type`): MLflow's text formats are
 * `text/plain` so they display in the UI, other names get the type Python's `mimetypes` knows for
 * their extension, and everything else is `application/octet-stream`.
 */

/** MLflow's `get_text_extensions()`: matched case-sensitively, the last two are whole file names. */
const TEXT_EXTENSIONS = new Set([
  'txt',
  'log',
  'err',
  'cfg',
  'conf',
  'cnf',
  'cf',
  'ini',
  'properties',
  'prop',
  'hocon',
  'toml',
  'yaml',
  'yml',
  'xml',
  'json',
  'js',
  'py',
  'py3',
  'csv',
  'tsv',
  'md',
  'rst',
  'MLmodel',
  'MLproject',
]);

/**
 * Python's built-in `mimetypes` table for the formats artifacts come in (not the host's
 * `/etc/mime.types`, which varies between machines and would make answers differ between hosts).
 */
const TYPES: Readonly<Record<string, string>> = {
  avi: 'video/x-msvideo',
  avif: 'image/avif',
  bin: 'application/octet-stream',
  bmp: 'image/bmp',
  css: 'text/css',
  csv: 'text/csv',
  doc: 'application/msword',
  eps: 'application/postscript',
  gif: 'image/gif',
  h5: 'application/x-hdf5',
  htm: 'text/html',
  html: 'text/html',
  ico: 'image/vnd.microsoft.icon',
  jpe: 'image/jpeg',
  jpeg: 'image/jpeg',
  jpg: 'image/jpeg',
  json: 'application/json',
  md: 'text/markdown',
  mov: 'video/quicktime',
  mp3: 'audio/mpeg',
  mp4: 'video/mp4',
  mpeg: 'video/mpeg',
  mpg: 'video/mpeg',
  pdf: 'application/pdf',
  png: 'image/png',
  ppt: 'application/vnd.ms-powerpoint',
  ps: 'application/postscript',
  py: 'text/x-python',
  sh: 'application/x-sh',
  svg: 'image/svg+xml',
  tar: 'application/x-tar',
  tif: 'image/tiff',
  tiff: 'image/tiff',
  tsv: 'text/tab-separated-values',
  txt: 'text/plain',
  wasm: 'application/wasm',
  wav: 'audio/x-wav',
  webm: 'video/webm',
  webp: 'image/webp',
  xls: 'application/vnd.ms-excel',
  xml: 'text/xml',
  zip: 'application/zip',
};

/** Compression suffixes `mimetypes` strips before looking the type up (`a.csv.gz` is text/csv). */
const ENCODINGS = new Set(['gz', 'z', 'bz2', 'xz', 'br']);
/** `mimetypes.suffix_map`: short forms of `.tar.<compression>`. */
const SUFFIXES: Readonly<Record<string, string>> = {
  tgz: 'tar',
  taz: 'tar',
  tz: 'tar',
  tbz2: 'tar',
  txz: 'tar',
};

/** The content type MLflow's server answers a download of `fileName` with. */
export function guessContentType(fileName: string): string {
  const dot = fileName.lastIndexOf('.');
  const extension = dot > 0 ? fileName.slice(dot + 1) : '';
  // MLflow looks the whole name up when there is no extension (MLmodel, MLproject).
  if (TEXT_EXTENSIONS.has(extension === '' ? fileName : extension)) return 'text/plain';
  if (extension === '') return 'application/octet-stream';
  return typeOfExtensions(fileName.toLowerCase().split('.').slice(1)) ?? 'application/octet-stream';
}

function typeOfExtensions(extensions: string[]): string | undefined {
  let last = extensions.pop();
  if (last === undefined) return undefined;
  last = SUFFIXES[last] ?? last;
  if (ENCODINGS.has(last)) {
    const inner = extensions.pop();
    return inner === undefined ? undefined : TYPES[SUFFIXES[inner] ?? inner];
  }
  return TYPES[last];
}

/** RFC 7230 `token` characters: such a name goes into the header bare, as MLflow writes it. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * `attachment; filename=<name>` as MLflow sends it (always an attachment, so a browser never renders
 * an artifact as a page of the API's origin). Names that are not a plain token (spaces, unicode,
 * quotes) are quoted with an ASCII fallback and given in full as RFC 6266 `filename*`, which MLflow
 * leaves broken: HTTP header values cannot carry raw unicode.
 */
export function attachmentDisposition(fileName: string): string {
  if (TOKEN.test(fileName)) return `attachment; filename=${fileName}`;
  const fallback = fileName.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const encoded = encodeURIComponent(fileName).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
