// Charts of a row's history with uPlot: a sparkline in a table cell, or a small chart with axes.
// Each chart is an image to assistive technology, described by its latest value.
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { Point } from "./api";

type Field = "success" | "rps" | "p50" | "p95" | "p99";

const COLORS: Record<Field, string> = { success: "#0a6b2f", rps: "#0b57d0", p50: "#0b57d0", p95: "#8a4b00", p99: "#a0102a" };
const LABELS: Record<Field, string> = { success: "success %", rps: "RPS", p50: "p50 ms", p95: "p95 ms", p99: "p99 ms" };

function columns(points: Point[], fields: Field[]): uPlot.AlignedData {
  const xs = points.map((p) => p.t / 1000);
  const ys = fields.map((f) => points.map((p) => (p[f] === null ? null : f === "success" ? (p[f] as number) * 100 : (p[f] as number))));
  return [xs, ...ys] as uPlot.AlignedData;
}

export function Chart(props: { points: Point[]; fields: Field[]; label: string; width?: number; height?: number; spark?: boolean }) {
  const el = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const { points, fields, spark } = props;
  const width = props.width ?? (spark ? 120 : 420);
  const height = props.height ?? (spark ? 32 : 160);
  const key = fields.join(",") + (spark ? "s" : "");

  useEffect(() => {
    if (!el.current) return;
    const opts: uPlot.Options = {
      width,
      height,
      legend: { show: !spark },
      cursor: spark ? { show: false } : { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      axes: spark ? [{ show: false }, { show: false }] : [{ stroke: "#333", grid: { stroke: "#e5e5e5" } }, { stroke: "#333", grid: { stroke: "#e5e5e5" }, size: 50 }],
      series: [{}, ...fields.map((f) => ({ label: LABELS[f], stroke: COLORS[f], width: spark ? 1.5 : 2, spanGaps: false, points: { show: points.length < 3 } }))],
    };
    plot.current = new uPlot(opts, columns(points, fields), el.current);
    return () => {
      plot.current?.destroy();
      plot.current = null;
    };
    // Rebuilt only when its shape changes; data updates go through setData below.
  }, [key, width, height]);

  useEffect(() => {
    plot.current?.setData(columns(points, fields));
  }, [points]);

  const last = points[points.length - 1];
  const latest = fields.map((f) => `${LABELS[f]} ${last?.[f] === null || last === undefined ? "no data" : f === "success" ? ((last[f] as number) * 100).toFixed(2) : (last[f] as number).toFixed(f === "rps" ? 1 : 0)}`).join(", ");
  return <div class={spark ? "chart spark" : "chart"} ref={el} role="img" aria-label={`${props.label}: ${points.length} points; latest ${latest}`} data-points={points.length} />;
}
