/**
 * A plotly slider over precomputed frames: every frame's traces go into one figure, and each
 * slider step shows one frame's traces (`visible`) and its title and annotations. Nothing runs
 * on a kernel, so the slider works in an exported HTML page (a threshold t, a split ratio α, an
 * epoch).
 */
import { ValueError } from '../errors';
import { Figure } from './figure';

export interface SliderFrame {
  /** The step's label under the slider ("0.5", "epoch 3"). */
  label: string;
  figure: Figure;
}

export interface SliderOptions {
  /** Text before the current label ("t = "). Defaults to ''. */
  prefix?: string;
  /** The frame shown first. Defaults to 0. */
  active?: number;
}

const SLIDER_HEIGHT = 110; // px added below the plot for the slider and its labels

/** One figure that shows `frames[i]` when the slider is at step i; the layout (axes, size) is the active frame's. */
export function sliderFigure(frames: SliderFrame[], opts: SliderOptions = {}): Figure {
  if (frames.length === 0) throw new ValueError('sliderFigure expects at least one frame, but received none.');
  const active = opts.active ?? 0;
  if (!Number.isInteger(active) || active < 0 || active >= frames.length) {
    throw new ValueError(`sliderFigure expects active to be a frame index in [0, ${frames.length}), but received ${active}.`);
  }
  const owner = frames.flatMap((f, i) => f.figure.data.map(() => i)); // frame of each trace
  const data = frames.flatMap((f, i) => f.figure.data.map((t) => ({ ...t, visible: i === active })));
  const base = frames[active].figure.layout;
  const margin = { l: 60, r: 20, t: 80, b: 50, ...(base.margin as Record<string, number> | undefined) };
  const steps = frames.map((f, i) => ({
    label: f.label,
    method: 'update',
    args: [
      { visible: owner.map((o) => o === i) },
      { title: f.figure.layout.title ?? null, annotations: f.figure.layout.annotations ?? [], shapes: f.figure.layout.shapes ?? [] },
    ],
  }));
  const layout = {
    ...base,
    height: (typeof base.height === 'number' ? base.height : 360) + SLIDER_HEIGHT,
    margin: { ...margin, b: margin.b + SLIDER_HEIGHT },
    sliders: [{ active, steps, currentvalue: { prefix: opts.prefix ?? '', font: { size: 13 } }, pad: { t: 55 }, x: 0, len: 1, y: 0, yanchor: 'top' }],
  };
  return { data, layout };
}
