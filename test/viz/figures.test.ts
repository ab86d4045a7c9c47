import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { barChart, lineChart, PALETTE, scatterChart } from '../../src/viz/figure';
import { heatmapGrid } from '../../src/viz/heatmap-grid';

import { cifarRgb } from '../../src/viz/cifar-image';

describe('figure builders', () => {
  it('builds one bar trace per series with the palette and titles', () => {
    const fig = barChart(
      [{ name: 'γ', x: [0, 1, 2], y: [1, 2, 3] }, { name: 'w_γ', x: [0, 1, 2], y: [0.1, 0.2, 0.7] }],
      { title: 'T', xTitle: 'channel', yTitle: 'value' },
    );
    assert.equal(fig.data.length, 2);
    assert.deepEqual(fig.data.map((t) => t.type), ['bar', 'bar']);
    assert.deepEqual(fig.data.map((t) => (t.marker as { color: string }).color), PALETTE.slice(0, 2));
    assert.deepEqual(fig.data[1].y, [0.1, 0.2, 0.7]);
    assert.equal(fig.layout.barmode, 'group');
    assert.equal(fig.layout.showlegend, true);
    assert.deepEqual(fig.layout.title, { text: 'T', font: { size: 15 } });
    assert.equal((fig.layout.xaxis as { title: { text: string } }).title.text, 'channel');
  });

  it('gives lines markers and scatters markers only, and is deterministic', () => {
    const s = [{ x: [1, 2], y: [3, 4] }];
    assert.equal(lineChart(s).data[0].mode, 'lines+markers');
    assert.equal(scatterChart(s).data[0].mode, 'markers');
    assert.equal(lineChart(s).data[0].name, 'series 1');
    assert.equal(lineChart(s).layout.showlegend, false);
    assert.equal((lineChart(s, { logY: true }).layout.yaxis as { type: string }).type, 'log');
    assert.deepEqual(JSON.stringify(lineChart(s)), JSON.stringify(lineChart(s)));
  });

  it('puts a long legend in a column at the right and dots the lines once the palette repeats', () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `layer ${i}`, x: [0, 1], y: [i, i] }));
    assert.equal((lineChart(many(5)).layout.legend as { orientation: string }).orientation, 'h');
    const fig = lineChart(many(PALETTE.length + 1));
    assert.deepEqual(fig.layout.legend, { orientation: 'v', x: 1.02, y: 1, xanchor: 'left', yanchor: 'top' });
    assert.deepEqual(fig.data.map((t) => (t.line as { dash: string }).dash), [...PALETTE.map(() => 'solid'), 'dot']);
    assert.equal((barChart(many(6)).layout.legend as { orientation: string }).orientation, 'v');
  });
});

describe('heatmapGrid', () => {
  it('lays panels on a grid with one shared colour scale and one colour bar', () => {
    const z = (v: number) => [[v, v + 1], [v + 2, v + 3]];
    const fig = heatmapGrid([{ title: 'a', z: z(0) }, { title: 'b', z: z(5) }, { rgb: [[[255, 0, 0]]] }], { columns: 2 });
    assert.equal(fig.data.length, 3);
    assert.deepEqual(fig.data.map((t) => t.type), ['heatmap', 'heatmap', 'image']);
    // shared range over all heatmaps: 0 .. 8
    assert.deepEqual(fig.data.slice(0, 2).map((t) => [t.zmin, t.zmax]), [[0, 8], [0, 8]]);
    assert.deepEqual(fig.data.map((t) => t.showscale), [true, false, undefined]);
    assert.deepEqual(fig.data.map((t) => [t.xaxis, t.yaxis]), [['x', 'y'], ['x2', 'y2'], ['x3', 'y3']]);
    // panel 3 starts the second row: same x domain as panel 1, lower y domain
    const ax = (k: string) => fig.layout[k] as { domain: number[] };
    assert.deepEqual(ax('xaxis3').domain, ax('xaxis').domain);
    assert.ok(ax('yaxis3').domain[1] < ax('yaxis').domain[0]);
    assert.equal((fig.layout.annotations as unknown[]).length, 2);
  });

  it('honours an explicit colour range', () => {
    const fig = heatmapGrid([{ z: [[0.2]] }], { zmin: 0, zmax: 1 });
    assert.deepEqual([fig.data[0].zmin, fig.data[0].zmax], [0, 1]);
  });

  it('rejects empty grids and panels without exactly one of z and rgb', () => {
    assert.throws(() => heatmapGrid([]), /heatmapGrid expects at least one panel, but received none/);
    assert.throws(() => heatmapGrid([{ title: 'x' }]), /exactly one of z or rgb, but panel 0 has neither/);
    assert.throws(() => heatmapGrid([{ z: [[1]], rgb: [[[1, 2, 3]]] }]), /panel 0 has both/);
  });
});

describe('cifarRgb', () => {
  it('reads the CHW planes of one image into rows of [r, g, b]', () => {
    const images = new Uint8Array(2 * 3072);
    // image 1, pixel (y=2, x=5): r=10, g=20, b=30
    const p = 3072 + 2 * 32 + 5;
    images[p] = 10;
    images[p + 1024] = 20;
    images[p + 2048] = 30;
    const rgb = cifarRgb({ images, count: 2 }, 1);
    assert.equal(rgb.length, 32);
    assert.equal(rgb[0].length, 32);
    assert.deepEqual(rgb[2][5], [10, 20, 30]);
    assert.deepEqual(rgb[5][2], [0, 0, 0]);
    assert.throws(() => cifarRgb({ images, count: 2 }, 2), /cifarRgb expects an image index in \[0, 2\), but received 2/);
  });
});

describe('reference lines', () => {
  it('draws each hline as a dashed paper-wide shape, labelled when a label is given', () => {
    const fig = barChart([{ x: [0], y: [1] }], { hlines: [{ y: 0.1, label: 'chance' }, { y: 0.5 }] });
    const shapes = fig.layout.shapes as Array<{ y0: number; line: { dash: string } }>;
    assert.deepEqual(shapes.map((s) => [s.y0, s.line.dash]), [[0.1, 'dash'], [0.5, 'dash']]);
    assert.deepEqual((fig.layout.annotations as Array<{ text: string }>).map((a) => a.text), ['chance']);
  });
});

describe('heatmapGrid size', () => {
  it('shrinks panels so that the figure fits maxWidth', () => {
    const panels = Array.from({ length: 10 }, () => ({ z: [[1]] }));
    assert.equal(heatmapGrid(panels, { columns: 10, panelSize: 150 }).layout.width, 960);
    assert.equal(heatmapGrid(panels, { columns: 2, panelSize: 150 }).layout.width, 2 * 150 + 140);
    assert.equal(heatmapGrid(panels, { columns: 10, maxWidth: 640 }).layout.width, 10 * 50 + 140);
  });
});

describe('heatmapGrid symmetric range', () => {
  it('centres the colour range on 0 when asked', () => {
    const fig = heatmapGrid([{ z: [[-2, 5]] }], { symmetric: true, colorscale: 'RdBu' });
    assert.deepEqual([fig.data[0].zmin, fig.data[0].zmax, fig.data[0].colorscale], [-5, 5, 'RdBu']);
    assert.deepEqual([heatmapGrid([{ z: [[-2, 5]] }]).data[0].zmin], [-2]);
  });
});
