/**
 * A grid of small image panels: heatmaps (importance maps, gates, masks) and RGB images
 * (the CIFAR-10 inputs they belong to) side by side, sharing one colour scale.
 */
import { ValueError } from '../errors';
import { Figure, Trace } from './figure';

/** One panel: `z` (rows of values, drawn as a heatmap) or `rgb` (rows of [r, g, b] in 0..255). */
export interface Panel {
  title?: string;
  z?: number[][];
  rgb?: number[][][];
}

export interface HeatmapGridOptions {
  /** Panels per row. Defaults to min(panels, 6). */
  columns?: number;
  /** Figure title. */
  title?: string;
  /** Colour range shared by every heatmap. Defaults to the data's min and max. */
  zmin?: number;
  zmax?: number;
  /** Plotly colour scale name. Defaults to 'Viridis'. */
  colorscale?: string;
  /** Centre the colour range on 0 (for a diverging scale such as 'RdBu'). Defaults to false. */
  symmetric?: boolean;
  /** Title of the shared colour bar. Defaults to ''. */
  colorbarTitle?: string;
  /** Size of one panel in px. Defaults to 150, shrunk so the figure fits `maxWidth`. */
  panelSize?: number;
  /** Widest the figure may be, in px. Defaults to 960 (a notebook column). */
  maxWidth?: number;
}

function range(panels: Panel[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of panels) for (const row of p.z ?? []) for (const v of row) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return Number.isFinite(lo) ? [lo, hi] : [0, 1];
}

/** Lay `panels` out on a grid; every heatmap uses one colour scale and one colour bar. */
export function heatmapGrid(panels: Panel[], opts: HeatmapGridOptions = {}): Figure {
  if (panels.length === 0) throw new ValueError('heatmapGrid expects at least one panel, but received none.');
  panels.forEach((p, i) => {
    if ((p.z == null) === (p.rgb == null)) {
      throw new ValueError(`heatmapGrid expects each panel to have exactly one of z or rgb, but panel ${i} has ${p.z ? 'both' : 'neither'}.`);
    }
  });
  const columns = opts.columns ?? Math.min(panels.length, 6);
  const rows = Math.ceil(panels.length / columns);
  const [lo, hi] = range(panels);
  const bound = Math.max(Math.abs(lo), Math.abs(hi));
  const zmin = opts.zmin ?? (opts.symmetric ? -bound : lo);
  const zmax = opts.zmax ?? (opts.symmetric ? bound : hi);
  const size = Math.min(opts.panelSize ?? 150, Math.floor(((opts.maxWidth ?? 960) - 140) / columns));
  const gap = 0.04;
  const w = (1 - gap * (columns - 1)) / columns;
  const h = (1 - gap * (rows - 1)) / rows;
  const layout: Record<string, unknown> = {
    title: opts.title ? { text: opts.title, font: { size: 15 } } : undefined,
    width: columns * size + 140,
    height: rows * (size + 24) + (opts.title ? 70 : 30),
    margin: { l: 10, r: 90, t: opts.title ? 60 : 30, b: 10 },
    font: { family: 'system-ui, -apple-system, Segoe UI, sans-serif', size: 11 },
    paper_bgcolor: '#fff',
    annotations: [] as unknown[],
  };
  const data: Trace[] = [];
  let firstHeatmap = true;
  panels.forEach((p, i) => {
    const r = Math.floor(i / columns);
    const c = i % columns;
    const suffix = i === 0 ? '' : String(i + 1);
    const x0 = c * (w + gap);
    const y1 = 1 - r * (h + gap);
    layout[`xaxis${suffix}`] = { domain: [x0, x0 + w], visible: false, anchor: `y${suffix}` };
    layout[`yaxis${suffix}`] = {
      domain: [y1 - h, y1], visible: false, anchor: `x${suffix}`, autorange: 'reversed', scaleanchor: `x${suffix}`,
    };
    if (p.title) {
      (layout.annotations as unknown[]).push({
        text: p.title, showarrow: false, xref: 'paper', yref: 'paper', x: x0 + w / 2, y: y1, yanchor: 'bottom', font: { size: 11 },
      });
    }
    const axes = { xaxis: `x${suffix}`, yaxis: `y${suffix}` };
    if (p.rgb) {
      data.push({ type: 'image', z: p.rgb, hoverinfo: 'skip', ...axes });
    } else {
      data.push({
        type: 'heatmap', z: p.z, zmin, zmax, colorscale: opts.colorscale ?? 'Viridis', showscale: firstHeatmap,
        colorbar: firstHeatmap ? { title: { text: opts.colorbarTitle ?? '' }, thickness: 12 } : undefined,
        hovertemplate: 'row %{y}, col %{x}: %{z:.3f}<extra></extra>', ...axes,
      });
      firstHeatmap = false;
    }
  });
  return { data, layout };
}
