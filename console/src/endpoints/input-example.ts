import { api, fetchArtifact } from '../api/client.ts';
import { proxyPath } from '../runs/artifacts.ts';

const EXAMPLE = 'serving_input_example.json';

/**
 * The served version's input example as a request body: the model directory's
 * `serving_input_example.json` (what `mlflow.*.log_model(input_example=...)` writes), found through
 * the version's download URI. Undefined when the model has none.
 */
export async function inputExampleOf(modelName: string, version: string): Promise<string | undefined> {
  const { artifact_uri } = await api.get<{ artifact_uri: string }>('mlflow/model-versions/get-download-uri', {
    name: modelName,
    version,
  });
  const directory = proxyPath(artifact_uri, '');
  if (!directory) return undefined;
  // List first: asking for a file that is not there would be a 404 in the browser's console.
  const listing = await api.get<{ files?: Array<{ path: string }> }>('mlflow-artifacts/artifacts', {
    path: directory,
  });
  if (!(listing.files ?? []).some((file) => file.path === EXAMPLE)) return undefined;
  const path = `${directory}/${EXAMPLE}`;
  try {
    return JSON.stringify(JSON.parse(await (await fetchArtifact(path)).text()), null, 2);
  } catch {
    return undefined;
  }
}
