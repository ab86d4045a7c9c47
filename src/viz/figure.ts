/**
 * Plotly figure specs as plain data: builders return `{ data, layout }` and never render.
 *
 * The notebooks hand a spec to `NotebookDisplay#plot`; anything else that speaks plotly.js
 * (a web page, `Plotly.newPlot`) can draw the same object.
 */

/** One plotly trace (a bar series, a heatmap, ...). */
export type Trace = Record<string, unknown>;

/** A plotly figure: traces plus layout. */
export interface Figure {
  data: Trace[];
  layout: Record<string, unknown>;
}

/** A named series of points, shared by the bar, line and scatter builders. */
export interface Series {
  name?: string;
  x: Array<number | string>;
  y: number[];
  /** Hover text per point. */
  text?: string[];
}

/** Titles shared by every builder. */
export interface ChartOptions {
  title?: string;
  xTitle?: string;
  yTitle?: string;
  /** Height in px. Defaults to 360. */
  height?: number;
  /** Log-scale y axis. Defaults to false. */
  logY?: boolean;
  /** Dashed horizontal reference lines (a chance level, an average), labelled at the right. */
  hlines?: Array<{ y: number; label?: string }>;
}

/** The palette of every chart (colour-blind-safe, Okabe-Ito). */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#F0E442', '#000000'];

/** The layout every builder starts from. */
export function baseLayout(opts: ChartOptions): Record<string, unknown> {
  return {
    title: opts.title ? { text: opts.title, font: { size: 15 } } : undefined,
    height: opts.height ?? 360,
    margin: { l: 60, r: 20, t: opts.title ? 80 : 40, b: 50 },
    xaxis: { title: { text: opts.xTitle ?? '' }, automargin: true },
    yaxis: { title: { text: opts.yTitle ?? '' }, type: opts.logY ? 'log' : 'linear', automargin: true },
    // Above the plot area, under the title: never on top of the x-axis title.
    legend: { orientation: 'h', x: 0, y: 1.0, xanchor: 'left', yanchor: 'bottom' },
    font: { family: 'system-ui, -apple-system, Segoe UI, sans-serif', size: 12 },
    plot_bgcolor: '#fff',
    paper_bgcolor: '#fff',
    shapes: (opts.hlines ?? []).map((h) => ({
      type: 'line', xref: 'paper', x0: 0, x1: 1, y0: h.y, y1: h.y, line: { dash: 'dash', color: '#555', width: 1 },
    })),
    annotations: (opts.hlines ?? []).filter((h) => h.label).map((h) => ({
      xref: 'paper', x: 1, y: h.y, text: h.label, showarrow: false, xanchor: 'right', yanchor: 'bottom', font: { size: 11, color: '#555' },
    })),
  };
}

/** Legend of `n` series: one row above the plot when few, else a column at the right (a wrapped row would run into the title). */
function placeLegend(layout: Record<string, unknown>, n: number): void {
  layout.showlegend = n > 1;
  if (n > 5) layout.legend = { orientation: 'v', x: 1.02, y: 1, xanchor: 'left', yanchor: 'top' };
}

function seriesTraces(series: Series[], type: string, extra: (i: number) => Trace): Trace[] {
  return series.map((s, i) => ({
    type,
    name: s.name ?? `series ${i + 1}`,
    x: s.x,
    y: s.y,
    text: s.text,
    marker: { color: PALETTE[i % PALETTE.length] },
    ...extra(i),
  }));
}

/** Grouped bar chart, one bar series per entry. */
export function barChart(series: Series[], opts: ChartOptions = {}): Figure {
  const layout = baseLayout(opts);
  layout.barmode = 'group';
  placeLegend(layout, series.length);
  return { data: seriesTraces(series, 'bar', () => ({})), layout };
}

/** Line chart (learning curves, sweeps), markers on each point. */
export function lineChart(series: Series[], opts: ChartOptions = {}): Figure {
  const layout = baseLayout(opts);
  placeLegend(layout, series.length);
  return {
    data: seriesTraces(series, 'scatter', (i) => ({ mode: 'lines+markers', line: { color: PALETTE[i % PALETTE.length], width: 2, dash: i < PALETTE.length ? 'solid' : 'dot' } })),
    layout,
  };
}

/** Scatter chart, one marker colour per series; `text` shows on hover. */
export function scatterChart(series: Series[], opts: ChartOptions = {}): Figure {
  const layout = baseLayout(opts);
  placeLegend(layout, series.length);
  return { data: seriesTraces(series, 'scatter', () => ({ mode: 'markers', hoverinfo: 'x+y+text+name' })), layout };
}
