import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import * as aq from 'arquero';

import { figureHtml, NotebookDisplay, readPlotlyBundle, scriptJson, tableHtml } from '../../src/viz/display';
import { barChart } from '../../src/viz/figure';

const fig = barChart([{ x: ['a</script>'], y: [1] }]);

describe('NotebookDisplay', () => {
  it('sends the plotly bundle with the first plot only', () => {
    const out: string[] = [];
    let reads = 0;
    const show = new NotebookDisplay({ html: (s) => out.push(s) }, () => (reads++, '/*BUNDLE*/'), 'test');
    show.plot(fig);
    show.plot(fig);
    show.plot(fig);
    assert.equal(reads, 1);
    assert.equal(out.length, 3);
    assert.deepEqual(out.map((s) => s.split('/*BUNDLE*/').length - 1), [1, 0, 0]);
    // distinct div ids, each drawn by its own script
    assert.deepEqual(out.map((s) => /<div id="([^"]+)"/.exec(s)![1]), ['scconv-plot-test-1', 'scconv-plot-test-2', 'scconv-plot-test-3']);
    assert.ok(out.every((s) => s.includes('Plotly.newPlot')));
  });

  it('shows markdown through the sink, or escaped when it has no markdown', () => {
    const md: string[] = [];
    const html: string[] = [];
    new NotebookDisplay({ html: (s) => html.push(s), markdown: (s) => md.push(s) }, () => '').markdown('**x**');
    new NotebookDisplay({ html: (s) => html.push(s) }, () => '').markdown('a < b');
    assert.deepEqual(md, ['**x**']);
    assert.deepEqual(html, ['<pre>a &lt; b</pre>']);
  });
});

describe('figureHtml', () => {
  it('never closes its script early, whatever the data holds', () => {
    const html = figureHtml(fig, 'p1', null);
    assert.equal(html.split('</script>').length - 1, 1);
    assert.ok(html.includes('a\\u003c/script>'));
    assert.equal(JSON.parse(scriptJson('x</y\u2028').replace(/\\u003c/g, '<')), 'x</y\u2028');
  });

  it('uses the layout height for the div', () => {
    assert.match(figureHtml(barChart([], { height: 222 }), 'p', null), /height:222px/);
  });

  it('reads the real plotly bundle, which sets window.Plotly', () => {
    const bundle = readPlotlyBundle();
    assert.ok(bundle.length > 1_000_000);
    assert.ok(bundle.includes('window.Plotly'));
    assert.ok(!bundle.includes('</script'));
  });
});

describe('tableHtml', () => {
  it('renders an arquero table with caption, digits and a cut note', () => {
    const t = aq.table({ channel: [0, 1, 2], gamma: [0.123456, 1.5, 2] });
    const html = tableHtml(t, { caption: 'γ <per channel>', digits: 2, limit: 2 });
    assert.match(html, /<figcaption[^>]*>γ &lt;per channel&gt;<\/figcaption>/);
    assert.match(html, /0\.12/);
    assert.doesNotMatch(html, /0\.1235/);
    assert.match(html, /2 of 3 rows shown/);
    assert.equal((html.match(/<tr/g) ?? []).length, 3); // header + 2 rows
  });
});
