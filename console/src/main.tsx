import { render } from 'preact';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { App } from './app/app.tsx';

render(<App />, document.getElementById('app') as HTMLElement);
