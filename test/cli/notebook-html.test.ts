import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { inlineFonts, offlinePage, readKatexAssets } from '../../src/cli/notebook-html';

const PAGE = `<html><head>
<script src="https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/latest.js?config=TeX-AMS_CHTML-full,Safe"> </script>
<script type="text/x-mathjax-config">
init_mathjax = function() { MathJax.Hub.Config({}); }
</script>
</head><body>
<div class="jp-MarkdownCell"><div class="jp-RenderedMarkdown"><p>$$y = x \\tag{1}$$ see <a href="02-sru.ipynb#sec">2</a>,
<a href="README.md">index</a>, <a href="../reports/alpha.md">report</a>, <a href="https://example.org/a.ipynb">web</a></p></div></div>
</body></html>`;

describe('offlinePage', () => {
  const assets = { css: '.katex{}', js: 'window.katex={};', autoRender: 'window.renderMathInElement=function(){};' };
  const root = path.resolve('/repo');
  const out = offlinePage(PAGE, assets, { notebooksDir: path.join(root, 'notebooks'), htmlDir: path.join(root, 'build', 'notebooks', 'html') });

  it('drops MathJax and inlines KaTeX, rendering the markdown cells on load', () => {
    assert.doesNotMatch(out, /mathjax/i);
    assert.match(out, /<style>\.katex\{\}<\/style>[\s\S]*<\/head>/);
    assert.match(out, /<script>window\.katex=\{\};<\/script>\n<script>window\.renderMathInElement=function\(\)\{\};<\/script>\n<script>document\.addEventListener\('DOMContentLoaded'[\s\S]*renderMathInElement\(cells\[i\][\s\S]*<\/script>\n<\/body>/);
    assert.match(out, /\$\$y = x \\tag\{1\}\$\$/); // the TeX itself is left for KaTeX
  });

  it('styles stderr as information and rewrites links to the exported pages and the repo', () => {
    assert.match(out, /\[data-mime-type="application\/vnd\.jupyter\.stderr"\][^}]*color: #555/);
    assert.match(out, /href="02-sru\.html#sec"/);
    assert.match(out, /href="README\.md"/);
    assert.match(out, /href="\.\.\/\.\.\/\.\.\/reports\/alpha\.md"/);
    assert.match(out, /href="https:\/\/example\.org\/a\.ipynb"/);
  });

  it('keeps a </script> inside the inlined code from closing its element', () => {
    const page = offlinePage(PAGE, { ...assets, js: 'var s="</script>";' }, { notebooksDir: '/a', htmlDir: '/b' });
    assert.match(page, /var s="<\\\/script>";/);
  });

  it('names a page that is not a whole HTML document', () => {
    assert.throws(() => offlinePage('<p>hi</p>', assets, { notebooksDir: '/a', htmlDir: '/b' }), /offlinePage expects a whole HTML page \(with <\/head> and <\/body>\), but received "<p>hi<\/p>"/);
  });
});

describe('inlineFonts', () => {
  it('keeps only the woff2 source of each @font-face, as a data: URL', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fonts-'));
    fs.mkdirSync(path.join(dir, 'fonts'));
    fs.writeFileSync(path.join(dir, 'fonts', 'A.woff2'), Buffer.from([1, 2, 3]));
    const css = '@font-face{font-family:A;src:url(fonts/A.woff2) format("woff2"),url(fonts/A.woff) format("woff"),url(fonts/A.ttf) format("truetype")}.x{color:red}';
    assert.equal(inlineFonts(css, dir), '@font-face{font-family:A;src:url(data:font/woff2;base64,AQID) format("woff2")}.x{color:red}');
  });
});

describe('readKatexAssets', () => {
  it('reads the installed katex (a dependency): script, auto-render, and CSS without font files', () => {
    const a = readKatexAssets();
    assert.match(a.js, /renderToString/);
    assert.match(a.autoRender, /renderMathInElement/);
    assert.match(a.css, /data:font\/woff2;base64,/);
    assert.doesNotMatch(a.css, /url\(fonts\//);
    assert.ok(a.css.length < 600_000, `${a.css.length} characters of CSS`);
  });
});
