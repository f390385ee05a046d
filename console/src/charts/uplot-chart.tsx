import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

/**
 * One uPlot chart that follows its container's width. The chart is rebuilt when `options` or `data`
 * change (uPlot draws 100,000 points in a few milliseconds; rebuilding keeps this wrapper simple), and
 * each draw is measured (`performance.measure('runway:chart-draw')`) for the console benchmark.
 */
export function UPlotChart({
  options,
  data,
  height = 280,
}: {
  options: Omit<uPlot.Options, 'width' | 'height'>;
  data: uPlot.AlignedData;
  height?: number;
}) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    const started = performance.now();
    const chart = new uPlot(
      {
        ...options,
        width: Math.max(200, element.clientWidth),
        height,
        hooks: {
          ...options.hooks,
          draw: [
            ...(options.hooks?.draw ?? []),
            () => {
              performance.measure('runway:chart-draw', { start: started, end: performance.now() });
            },
          ],
        },
      },
      data,
      element,
    );
    const observer = new ResizeObserver(() => {
      const width = Math.max(200, element.clientWidth);
      if (Math.abs(width - chart.width) > 1) chart.setSize({ width, height });
    });
    observer.observe(element);
    return () => {
      observer.disconnect();
      chart.destroy();
    };
  }, [options, data, height]);
  return <div class="chart" ref={ref} />;
}
