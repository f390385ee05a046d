import { render } from 'preact';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { loadConfig } from './api/client.ts';
import { App } from './app/app.tsx';

await loadConfig();
render(<App />, document.getElementById('app') as HTMLElement);
