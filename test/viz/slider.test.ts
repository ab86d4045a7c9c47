import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { barChart } from '../../src/viz/figure';
import { heatmapGrid } from '../../src/viz/heatmap-grid';
import { sliderFigure } from '../../src/viz/slider';

describe('sliderFigure', () => {
  const frame = (t: number) => ({
    label: String(t),
    figure: barChart([{ name: 'a', x: [0, 1], y: [t, 2 * t] }, { name: 'b', x: [0, 1], y: [1, 1] }], { title: `t = ${t}`, hlines: [{ y: t, label: 't' }] }),
  });

  it('holds every frame\'s traces and shows only the active frame\'s', () => {
    const fig = sliderFigure([frame(0.3), frame(0.5), frame(0.7)], { prefix: 't = ', active: 1 });
    assert.equal(fig.data.length, 6);
    assert.deepEqual(fig.data.map((t) => t.visible), [false, false, true, true, false, false]);
    assert.deepEqual(fig.data[2].y, [0.5, 1]);
    assert.deepEqual(fig.layout.title, { text: 't = 0.5', font: { size: 15 } });
    const [slider] = fig.layout.sliders as { active: number; steps: { label: string; args: [{ visible: boolean[] }, { title: { text: string }; shapes: { y0: number }[] }] }[]; currentvalue: { prefix: string } }[];
    assert.equal(slider.active, 1);
    assert.equal(slider.currentvalue.prefix, 't = ');
    assert.deepEqual(slider.steps.map((s) => s.label), ['0.3', '0.5', '0.7']);
    assert.deepEqual(slider.steps[2].args[0].visible, [false, false, false, false, true, true]);
    assert.equal(slider.steps[0].args[1].title.text, 't = 0.3');
    assert.equal(slider.steps[0].args[1].shapes[0].y0, 0.3);
  });

  it('makes room for the slider under a heatmap grid (whose panel titles are annotations)', () => {
    const grid = (v: number) => heatmapGrid([{ title: `p${v}`, z: [[v]] }]);
    const fig = sliderFigure([{ label: 'a', figure: grid(1) }, { label: 'b', figure: grid(2) }]);
    assert.equal(fig.layout.height, (grid(1).layout.height as number) + 110);
    assert.equal((fig.layout.margin as { b: number }).b, 10 + 110);
    const steps = (fig.layout.sliders as { steps: { args: [unknown, { annotations: { text: string }[] }] }[] }[])[0].steps;
    assert.equal(steps[1].args[1].annotations[0].text, 'p2');
  });

  it('names a bad input', () => {
    assert.throws(() => sliderFigure([]), /sliderFigure expects at least one frame, but received none/);
    assert.throws(() => sliderFigure([frame(1)], { active: 3 }), /active to be a frame index in \[0, 1\), but received 3/);
  });
});
