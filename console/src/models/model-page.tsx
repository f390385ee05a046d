import { useState } from 'preact/hooks';
import { PIPELINE_TAGS } from '../../../shared/pipelines/tags.ts';
import { ApiError, api } from '../api/client.ts';
import { useApi } from '../api/use-api.ts';
import type { EndpointWire, ModelVersionWire, RegisteredModelWire, RunWire } from '../api/wire.ts';
import { href } from '../app/router.ts';
import { executionNameOf } from '../pipelines/execution-names.ts';
import { Card, Confirm, ErrorBox, formatTime, Loading, Page } from '../ui/common.tsx';

const STAGES = ['None', 'Staging', 'Production', 'Archived'] as const;

/** A registered model: versions with their stages and aliases, lineage, and promotion. */
export function ModelPage({ name }: { name: string }) {
  const model = useApi(
    () => api.get<{ registered_model: RegisteredModelWire }>('mlflow/registered-models/get', { name }),
    [name],
  );
  const versions = useApi(
    () =>
      api.get<{ model_versions?: ModelVersionWire[] }>('mlflow/model-versions/search', {
        filter: `name='${name.replace(/'/g, "\\'")}'`,
        max_results: 1000,
        order_by: 'version_number DESC',
      }),
    [name],
  );
  const endpoints = useApi(
    () => api.get<{ endpoints?: EndpointWire[] }>('runway/endpoints', { model_name: name }),
    [name],
  );
  const [change, setChange] = useState<Change | undefined>();
  const reload = () => {
    model.reload();
    versions.reload();
    endpoints.reload();
  };
  const data = model.data?.registered_model;
  return (
    <Page
      title={
        <>
          {name}
          <span class="sub">registered model</span>
        </>
      }
    >
      <ErrorBox error={model.error ?? versions.error} />
      <Loading when={model.loading && !model.data} />
      {data ? (
        <div class="grid">
          <Card title="Aliases">
            {(data.aliases ?? []).length === 0 ? <p class="muted">No aliases.</p> : null}
            <table>
              <tbody>
                {(data.aliases ?? []).map((alias) => (
                  <tr key={alias.alias}>
                    <td class="mono">@{alias.alias}</td>
                    <td>version {alias.version}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {data.description ? <p>{data.description}</p> : null}
          </Card>
          <Card title="Endpoints serving it">
            <ErrorBox error={endpoints.error} />
            {(endpoints.data?.endpoints ?? []).length === 0 ? <p class="muted">None.</p> : null}
            <table>
              <tbody>
                {(endpoints.data?.endpoints ?? []).map((endpoint) => (
                  <tr key={endpoint.name}>
                    <td>
                      <a href={href('endpoints', endpoint.name)}>{endpoint.name}</a>
                    </td>
                    <td>follows {followsText(endpoint)}</td>
                    <td>serves v{endpoint.traffic.primary?.version ?? '–'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Card>
        </div>
      ) : null}
      <div class="card">
        <h2>Versions</h2>
        <table data-testid="versions">
          <thead>
            <tr>
              <th>Version</th>
              <th>Stage</th>
              <th>Aliases</th>
              <th>Lineage: run, dataset, pipeline</th>
              <th>Created</th>
              <th>Promote</th>
            </tr>
          </thead>
          <tbody>
            {(versions.data?.model_versions ?? []).map((version) => (
              <tr key={version.version}>
                <td>v{version.version}</td>
                <td>{version.current_stage}</td>
                <td class="mono">{(version.aliases ?? []).map((a) => `@${a}`).join(' ')}</td>
                <td>
                  <Lineage version={version} />
                </td>
                <td>{formatTime(version.creation_timestamp)}</td>
                <td>
                  <Promote version={version} onChange={setChange} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {change ? (
        <ConfirmChange
          change={change}
          endpoints={endpoints.data?.endpoints ?? []}
          onDone={() => {
            setChange(undefined);
            reload();
          }}
          onCancel={() => setChange(undefined)}
        />
      ) : null}
    </Page>
  );
}

type Change =
  | { kind: 'alias'; name: string; version: string; alias: string }
  | { kind: 'stage'; name: string; version: string; stage: string };

function followsText(endpoint: EndpointWire): string {
  return 'alias' in endpoint.follows ? `@${endpoint.follows.alias}` : `stage ${endpoint.follows.stage}`;
}

/** The endpoints a change will deploy to: those following that alias or stage. */
export function endpointsMoved(change: Change, endpoints: EndpointWire[]): EndpointWire[] {
  return endpoints.filter((endpoint) =>
    change.kind === 'alias'
      ? 'alias' in endpoint.follows && endpoint.follows.alias === change.alias
      : 'stage' in endpoint.follows && endpoint.follows.stage === change.stage,
  );
}

function Promote({ version, onChange }: { version: ModelVersionWire; onChange: (change: Change) => void }) {
  const [alias, setAlias] = useState('');
  return (
    <div class="actions">
      <form
        class="actions"
        onSubmit={(event) => {
          event.preventDefault();
          if (alias.trim())
            onChange({ kind: 'alias', name: version.name, version: version.version, alias: alias.trim() });
        }}
      >
        <input
          size={10}
          placeholder="alias"
          aria-label={`alias for version ${version.version}`}
          value={alias}
          onInput={(event) => setAlias(event.currentTarget.value)}
        />
        <button type="submit" disabled={!alias.trim()}>
          Set alias
        </button>
      </form>
      <select
        aria-label={`stage of version ${version.version}`}
        value={version.current_stage}
        onChange={(event) =>
          onChange({
            kind: 'stage',
            name: version.name,
            version: version.version,
            stage: event.currentTarget.value,
          })
        }
      >
        {STAGES.map((stage) => (
          <option key={stage}>{stage}</option>
        ))}
      </select>
    </div>
  );
}

function ConfirmChange({
  change,
  endpoints,
  onDone,
  onCancel,
}: {
  change: Change;
  endpoints: EndpointWire[];
  onDone: () => void;
  onCancel: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  const moved = endpointsMoved(change, endpoints);
  const what = change.kind === 'alias' ? `alias @${change.alias}` : `stage ${change.stage}`;
  const confirm = async () => {
    setBusy(true);
    try {
      if (change.kind === 'alias') {
        await api.post('mlflow/registered-models/alias', {
          name: change.name,
          alias: change.alias,
          version: change.version,
        });
      } else {
        await api.post('mlflow/model-versions/transition-stage', {
          name: change.name,
          version: change.version,
          stage: change.stage,
          archive_existing_versions: false,
        });
      }
      onDone();
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : new ApiError(0, 'CONSOLE_ERROR', String(caught)));
      setBusy(false);
    }
  };
  return (
    <Confirm
      title={`Set ${what} to version ${change.version}?`}
      confirmLabel={
        moved.length > 0
          ? `Set and deploy to ${moved.length} endpoint${moved.length > 1 ? 's' : ''}`
          : `Set ${what}`
      }
      onConfirm={confirm}
      onCancel={onCancel}
      busy={busy}
    >
      {moved.length === 0 ? (
        <p>No endpoint follows {what}: nothing will be deployed.</p>
      ) : (
        <div data-testid="deploy-targets">
          <p>
            This deploys {change.name} version {change.version} to:
          </p>
          <ul>
            {moved.map((endpoint) => (
              <li key={endpoint.name}>
                <strong>{endpoint.name}</strong> (now v{endpoint.traffic.primary?.version ?? 'none'}; canary
                steps {endpoint.rollout_policy.traffic_steps.join('% → ')}%, rolled back above{' '}
                {endpoint.rollout_policy.max_error_rate * 100}% errors or{' '}
                {endpoint.rollout_policy.max_latency_ms} ms p99)
              </li>
            ))}
          </ul>
        </div>
      )}
      <ErrorBox error={error} />
    </Confirm>
  );
}

/** Where a version came from: its run (and experiment), the dataset it was trained on, the pipeline execution. */
function Lineage({ version }: { version: ModelVersionWire }) {
  const tags = new Map((version.tags ?? []).map((tag) => [tag.key, tag.value]));
  const run = useApi(
    () =>
      version.run_id
        ? api.get<{ run: RunWire }>('mlflow/runs/get', { run_id: version.run_id })
        : Promise.resolve(undefined),
    [version.run_id],
  );
  const info = run.data?.run.info;
  const digest =
    tags.get(PIPELINE_TAGS.datasetDigest) ?? run.data?.run.inputs.dataset_inputs?.[0]?.dataset.digest;
  const execution = tags.get(PIPELINE_TAGS.executionArn);
  return (
    <div class="small">
      {info ? (
        <div>
          run{' '}
          <a href={href('experiments', info.experiment_id, 'runs', info.run_id)}>
            {info.run_name || info.run_id}
          </a>
        </div>
      ) : version.run_id ? (
        <div class="mono">run {version.run_id}</div>
      ) : (
        <div class="muted">no run</div>
      )}
      {digest ? (
        <div class="mono" title={digest}>
          dataset {digest.slice(0, 12)}
        </div>
      ) : null}
      {execution ? (
        <div>
          pipeline <a href={href('pipelines', executionNameOf(execution))}>{executionNameOf(execution)}</a>
        </div>
      ) : null}
    </div>
  );
}
