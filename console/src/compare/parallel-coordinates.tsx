import { useEffect, useRef } from 'preact/hooks';
import { colorOf } from '../charts/series.ts';
import { formatNumber } from '../ui/format.ts';
import { type Axis, normalise } from './axes.ts';

const HEIGHT = 340;
const PAD = { top: 28, bottom: 28, left: 60, right: 60 };

/** Parallel coordinates on one canvas: an axis per param or metric, a line per run. */
export function ParallelCoordinates({ axes, runNames }: { axes: Axis[]; runNames: string[] }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current;
    if (!canvas) return;
    const draw = () => {
      const width = canvas.parentElement?.clientWidth ?? 800;
      const ratio = window.devicePixelRatio || 1;
      canvas.width = width * ratio;
      canvas.height = HEIGHT * ratio;
      canvas.style.width = `${width}px`;
      canvas.style.height = `${HEIGHT}px`;
      const ctx = canvas.getContext('2d');
      if (!ctx || axes.length < 2) return;
      ctx.scale(ratio, ratio);
      ctx.clearRect(0, 0, width, HEIGHT);
      const span = (width - PAD.left - PAD.right) / (axes.length - 1);
      const xOf = (i: number) => PAD.left + i * span;
      const yOf = (axis: Axis, position: number) =>
        PAD.top + (1 - normalise(axis, position)) * (HEIGHT - PAD.top - PAD.bottom);
      ctx.font = '12px system-ui, sans-serif';
      ctx.textAlign = 'center';
      axes.forEach((axis, i) => {
        ctx.strokeStyle = '#9ca3af';
        ctx.lineWidth = 1;
        ctx.beginPath();
        ctx.moveTo(xOf(i), PAD.top);
        ctx.lineTo(xOf(i), HEIGHT - PAD.bottom);
        ctx.stroke();
        ctx.fillStyle = '#1d2330';
        ctx.fillText(axis.label, xOf(i), 12);
        ctx.fillStyle = '#687285';
        const top = axis.categories
          ? (axis.categories[axis.categories.length - 1] ?? '')
          : formatNumber(axis.max);
        const bottom = axis.categories ? (axis.categories[0] ?? '') : formatNumber(axis.min);
        ctx.fillText(top, xOf(i), PAD.top - 3);
        ctx.fillText(bottom, xOf(i), HEIGHT - PAD.bottom + 16);
      });
      runNames.forEach((_name, run) => {
        ctx.strokeStyle = colorOf(run);
        ctx.lineWidth = 2;
        ctx.globalAlpha = 0.8;
        ctx.beginPath();
        let drawing = false;
        axes.forEach((axis, i) => {
          const position = axis.positions[run];
          if (position === null || position === undefined) {
            drawing = false;
            return;
          }
          if (drawing) ctx.lineTo(xOf(i), yOf(axis, position));
          else ctx.moveTo(xOf(i), yOf(axis, position));
          drawing = true;
        });
        ctx.stroke();
        ctx.globalAlpha = 1;
      });
    };
    draw();
    const observer = new ResizeObserver(draw);
    if (canvas.parentElement) observer.observe(canvas.parentElement);
    return () => observer.disconnect();
  }, [axes, runNames]);
  return (
    <div>
      <canvas ref={ref} data-testid="parallel-coordinates" />
      <div class="actions small">
        {runNames.map((name, i) => (
          <span key={name + i}>
            <span class="legend-swatch" style={{ background: colorOf(i) }} />
            {name}
          </span>
        ))}
      </div>
    </div>
  );
}
