// The equity curve: one uPlot chart created once and fed new data as the curve grows.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { money } from './format.ts';

export interface EquityChartProps {
  points: { ts: number; equity: number }[];
  height?: number;
}

export function EquityChart({ points, height = 240 }: EquityChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      axes: [
        { stroke: '#64748b', grid: { stroke: '#eef2f7' }, ticks: { stroke: '#e2e8f0' } },
        { stroke: '#64748b', grid: { stroke: '#eef2f7' }, ticks: { stroke: '#e2e8f0' }, size: 70, values: (_u, vals) => vals.map((v) => money(v, 0)) },
      ],
      series: [{}, { label: 'Equity', stroke: '#2563eb', width: 2, fill: 'rgba(37, 99, 235, 0.08)', points: { show: false } }],
    };
    const u = new uPlot(opts, [[], []], el);
    plot.current = u;
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [height]);

  useEffect(() => {
    plot.current?.setData([points.map((p) => p.ts / 1000), points.map((p) => p.equity)]);
  }, [points]);

  return (
    <div class="chart" data-points={points.length}>
      <div ref={box} />
      {points.length === 0 && <p class="empty">No equity points yet.</p>}
    </div>
  );
}
