import { api, fetchArtifact } from '../api/client.ts';
import type { FileInfoWire } from '../api/wire.ts';
import { proxyPath } from './artifact-paths.ts';

export { type PreviewKind, parseCsv, previewKind, proxyPath } from './artifact-paths.ts';

export async function listArtifacts(runId: string, path: string): Promise<FileInfoWire[]> {
  const answer = await api.get<{ files?: FileInfoWire[] }>('mlflow/artifacts/list', {
    run_id: runId,
    ...(path ? { path } : {}),
  });
  return (answer.files ?? []).sort(
    (a, b) => Number(b.is_dir) - Number(a.is_dir) || a.path.localeCompare(b.path),
  );
}

/** A small artifact's text (a report, a JSON file): fails as the API does when it is missing. */
export async function readArtifactText(artifactRoot: string, file: string): Promise<string> {
  const path = proxyPath(artifactRoot, file);
  if (!path)
    throw new Error(
      `The console reads artifacts through the proxy only; ${artifactRoot} is not served by it`,
    );
  return (await fetchArtifact(path)).text();
}
