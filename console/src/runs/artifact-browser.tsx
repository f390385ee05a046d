import { useEffect, useState } from 'preact/hooks';
import { ApiError, fetchArtifact } from '../api/client.ts';
import { useApi } from '../api/use-api.ts';
import type { FileInfoWire } from '../api/wire.ts';
import { ErrorBox, Loading } from '../ui/common.tsx';
import { listArtifacts, parseCsv, previewKind, proxyPath } from './artifacts.ts';

/** Previews stop at 2 MiB: bigger files are for downloading. */
const MAX_PREVIEW_BYTES = 2 * 1024 * 1024;

/** A run's artifacts as a tree (folders listed as they open) with a preview of the chosen file. */
export function ArtifactBrowser({
  runId,
  artifactRoot,
  initial,
}: {
  runId: string;
  artifactRoot: string;
  initial?: string;
}) {
  const [chosen, setChosen] = useState<FileInfoWire | undefined>(
    initial ? { path: initial, is_dir: false } : undefined,
  );
  return (
    <div class="artifacts card">
      <div class="tree" data-testid="artifact-tree">
        <Folder runId={runId} path="" depth={0} chosen={chosen?.path} onChoose={setChosen} />
      </div>
      <div class="preview" data-testid="artifact-preview">
        {chosen ? (
          <Preview artifactRoot={artifactRoot} file={chosen} key={chosen.path} />
        ) : (
          <p class="muted">Choose a file to preview it.</p>
        )}
      </div>
    </div>
  );
}

function Folder({
  runId,
  path,
  depth,
  chosen,
  onChoose,
}: {
  runId: string;
  path: string;
  depth: number;
  chosen: string | undefined;
  onChoose: (file: FileInfoWire) => void;
}) {
  const listing = useApi(() => listArtifacts(runId, path), [runId, path]);
  const [open, setOpen] = useState<Set<string>>(new Set());
  if (listing.error) return <ErrorBox error={listing.error} />;
  if (listing.loading && !listing.data) return <Loading when />;
  if (depth === 0 && listing.data?.length === 0) return <p class="muted">No artifacts.</p>;
  return (
    <div style={{ paddingLeft: depth === 0 ? 0 : '12px' }}>
      {(listing.data ?? []).map((file) => {
        const name = file.path.split('/').pop();
        if (file.is_dir) {
          const isOpen = open.has(file.path);
          return (
            <div key={file.path}>
              <button
                type="button"
                onClick={() => {
                  const next = new Set(open);
                  if (isOpen) next.delete(file.path);
                  else next.add(file.path);
                  setOpen(next);
                }}
              >
                {isOpen ? '▾' : '▸'} {name}/
              </button>
              {isOpen ? (
                <Folder
                  runId={runId}
                  path={file.path}
                  depth={depth + 1}
                  chosen={chosen}
                  onChoose={onChoose}
                />
              ) : null}
            </div>
          );
        }
        return (
          <button
            type="button"
            key={file.path}
            class={chosen === file.path ? 'active' : ''}
            onClick={() => onChoose(file)}
          >
            {'  '}
            {name}
          </button>
        );
      })}
    </div>
  );
}

type Loaded =
  | { kind: 'image'; url: string }
  | { kind: 'text' | 'json' | 'mlmodel'; text: string }
  | { kind: 'csv'; rows: string[][] }
  | { kind: 'none' };

function Preview({ artifactRoot, file }: { artifactRoot: string; file: FileInfoWire }) {
  const [loaded, setLoaded] = useState<Loaded | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  const path = proxyPath(artifactRoot, file.path);
  const kind = previewKind(file.path);
  const tooBig = (file.file_size ?? 0) > MAX_PREVIEW_BYTES;
  useEffect(() => {
    if (!path || kind === 'none' || tooBig) return;
    let url: string | undefined;
    let current = true;
    fetchArtifact(path).then(
      async (blob) => {
        if (!current) return;
        if (kind === 'image') {
          url = URL.createObjectURL(blob);
          setLoaded({ kind, url });
          return;
        }
        const text = await blob.text();
        const rows = kind === 'csv' ? parseCsv(text, file.path.endsWith('.tsv') ? '\t' : ',') : undefined;
        // A file that is not valid CSV is shown as text.
        if (kind === 'csv') setLoaded(rows ? { kind, rows } : { kind: 'text', text });
        else if (kind === 'json') setLoaded({ kind, text: prettyJson(text) });
        else setLoaded({ kind, text });
      },
      (caught: unknown) =>
        current &&
        setError(caught instanceof ApiError ? caught : new ApiError(0, 'CONSOLE_ERROR', String(caught))),
    );
    return () => {
      current = false;
      if (url) URL.revokeObjectURL(url);
    };
  }, [path, kind, tooBig, file.path]);
  const download = path ? (
    <DownloadButton path={path} name={file.path.split('/').pop() ?? 'artifact'} />
  ) : null;
  return (
    <div>
      <div class="toolbar">
        <strong class="mono">{file.path}</strong>
        {file.file_size !== undefined ? (
          <span class="muted small">{file.file_size.toLocaleString()} bytes</span>
        ) : null}
        {download}
      </div>
      {!path ? (
        <p class="muted">
          This run's artifacts are not stored behind Runway's artifact proxy: read them with the MLflow
          client.
        </p>
      ) : null}
      {tooBig ? <p class="muted">Too large to preview; download it.</p> : null}
      {kind === 'none' && path ? <p class="muted">No preview for this kind of file.</p> : null}
      <ErrorBox error={error} />
      {loaded?.kind === 'image' ? <img src={loaded.url} alt={file.path} /> : null}
      {loaded && (loaded.kind === 'text' || loaded.kind === 'json' || loaded.kind === 'mlmodel') ? (
        <pre data-kind={loaded.kind}>{loaded.text}</pre>
      ) : null}
      {loaded?.kind === 'csv' ? <CsvTable rows={loaded.rows} /> : null}
    </div>
  );
}

function CsvTable({ rows }: { rows: string[][] }) {
  const [head, ...body] = rows;
  return (
    <table class="csv">
      <thead>
        <tr>
          {(head ?? []).map((cell, i) => (
            <th key={i}>{cell}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {body.map((row, r) => (
          <tr key={r}>
            {row.map((cell, i) => (
              <td class="mono" key={i}>
                {cell}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function DownloadButton({ path, name }: { path: string; name: string }) {
  const [error, setError] = useState<ApiError | undefined>();
  return (
    <>
      <button
        type="button"
        onClick={async () => {
          try {
            const url = URL.createObjectURL(await fetchArtifact(path));
            const anchor = document.createElement('a');
            anchor.href = url;
            anchor.download = name;
            anchor.click();
            setTimeout(() => URL.revokeObjectURL(url), 10_000);
          } catch (caught) {
            setError(caught instanceof ApiError ? caught : new ApiError(0, 'CONSOLE_ERROR', String(caught)));
          }
        }}
      >
        Download
      </button>
      <ErrorBox error={error} />
    </>
  );
}

function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
