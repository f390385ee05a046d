import type { VNode } from 'preact';
import { AccessPage } from '../access/access-page.tsx';
import { signInNeeded } from '../api/client.ts';
import { SignIn } from '../auth/sign-in.tsx';
import { clearToken, readToken } from '../auth/token-store.ts';
import { ComparePage } from '../compare/compare-page.tsx';
import { EndpointPage } from '../endpoints/endpoint-page.tsx';
import { EndpointsPage } from '../endpoints/endpoints-page.tsx';
import { ExperimentPage } from '../experiments/experiment-page.tsx';
import { ExperimentsPage } from '../experiments/experiments-page.tsx';
import { ModelPage } from '../models/model-page.tsx';
import { ModelsPage } from '../models/models-page.tsx';
import { MonitorPage } from '../monitoring/monitor-page.tsx';
import { MonitorsPage } from '../monitoring/monitors-page.tsx';
import { ReportPage } from '../monitoring/report-page.tsx';
import { PipelineExecutionPage } from '../pipelines/execution-page.tsx';
import { PipelinesPage } from '../pipelines/pipelines-page.tsx';
import { RunPage } from '../runs/run-page.tsx';
import { TracePage } from '../traces/trace-page.tsx';
import { location, match, navigate } from './router.ts';

type Params = Record<string, string>;
const p = (params: Params, key: string) => params[key] as string;
const ROUTES: Array<[string, (params: Params) => VNode]> = [
  ['/experiments', () => <ExperimentsPage />],
  ['/experiments/:experimentId', (a) => <ExperimentPage experimentId={p(a, 'experimentId')} />],
  ['/experiments/:experimentId/compare', (a) => <ComparePage experimentId={p(a, 'experimentId')} />],
  [
    '/experiments/:experimentId/runs/:runId',
    (a) => <RunPage experimentId={p(a, 'experimentId')} runId={p(a, 'runId')} />,
  ],
  [
    '/experiments/:experimentId/traces/:traceId',
    (a) => <TracePage experimentId={p(a, 'experimentId')} traceId={p(a, 'traceId')} />,
  ],
  ['/models', () => <ModelsPage />],
  ['/models/:name', (a) => <ModelPage name={p(a, 'name')} />],
  ['/endpoints', () => <EndpointsPage />],
  ['/endpoints/:name', (a) => <EndpointPage name={p(a, 'name')} />],
  ['/monitors', () => <MonitorsPage />],
  ['/monitors/:name', (a) => <MonitorPage name={p(a, 'name')} />],
  ['/monitors/:name/reports/:runId', (a) => <ReportPage monitor={p(a, 'name')} runId={p(a, 'runId')} />],
  ['/pipelines', () => <PipelinesPage />],
  ['/pipelines/:execution', (a) => <PipelineExecutionPage execution={p(a, 'execution')} />],
  ['/access', () => <AccessPage />],
];

const SECTIONS = [
  ['/experiments', 'Experiments'],
  ['/models', 'Models'],
  ['/endpoints', 'Endpoints'],
  ['/monitors', 'Monitors'],
  ['/pipelines', 'Pipelines'],
  ['/access', 'Access'],
] as const;

export function App() {
  if (signInNeeded.value) return <SignIn />;
  const path = location.value.path;
  if (path === '/' || path === '') {
    queueMicrotask(() => navigate('/experiments', { replace: true }));
    return null;
  }
  let page = <NotFound path={path} />;
  for (const [pattern, render] of ROUTES) {
    const params = match(pattern, path);
    if (params) {
      page = <div key={path}>{render(params)}</div>;
      break;
    }
  }
  return (
    <div class="shell">
      <header class="topbar">
        <a href="/experiments" class="brand">
          <span class="logo">▲</span> Runway
        </a>
        <nav>
          {SECTIONS.map(([to, label]) => (
            <a href={to} class={path.startsWith(to) ? 'active' : ''} key={to}>
              {label}
            </a>
          ))}
        </nav>
        {readToken() ? (
          <button
            type="button"
            class="link"
            onClick={() => {
              clearToken();
              signInNeeded.value = true;
            }}
          >
            Sign out
          </button>
        ) : null}
      </header>
      <main class="content">{page}</main>
    </div>
  );
}

function NotFound({ path }: { path: string }) {
  return (
    <section class="page">
      <h1>Not found</h1>
      <p>
        Nothing is at <code>{path}</code>. <a href="/experiments">Experiments</a>
      </p>
    </section>
  );
}
