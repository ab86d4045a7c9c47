/**
 * Make an HTML page exported by nbconvert readable offline (`npm run notebooks -- --html`):
 *
 * - equations: nbconvert leaves `$$…$$` and `$…$` as text for MathJax from a CDN, which an
 *   offline reader never gets. The page gets KaTeX instead, inlined (its script, auto-render and
 *   its CSS with the woff2 fonts as data: URLs), and renders the math of the markdown cells when
 *   it opens; the MathJax scripts are removed.
 * - stderr: tslab shows what a notebook prints on stderr (the tfjs start-up banner, progress) in
 *   Jupyter's error colours; here it is shown as plain, grey informational text. A failing cell
 *   fails the run anyway (notebook-runner.ts), so no error is hidden by this.
 * - links: `NN-name.ipynb` becomes `NN-name.html` (the exported sibling), and a relative link
 *   out of `notebooks/` (`../reports/alpha.md`) is rewritten relative to the HTML folder.
 */
import * as fs from 'fs';
import { createRequire } from 'module';
import * as path from 'path';
import { ValueError } from '../errors';

export interface KatexAssets {
  /** katex.min.css with its fonts inlined. */
  css: string;
  /** katex.min.js and contrib/auto-render.min.js. */
  js: string;
  autoRender: string;
}

/** KaTeX's files, resolved from `fromDir` (the repo root) as Node resolves packages (NODE_PATH included). */
export function readKatexAssets(fromDir: string = process.cwd()): KatexAssets {
  let dist: string;
  try {
    dist = path.dirname(createRequire(path.join(fromDir, 'index.js')).resolve('katex/dist/katex.min.js'));
  } catch {
    throw new ValueError(`readKatexAssets expects the katex package to be installed under ${fromDir}, but it was not found. Run npm install (katex is a dependency).`);
  }
  const css = fs.readFileSync(path.join(dist, 'katex.min.css'), 'utf8');
  return {
    css: inlineFonts(css, path.join(dist)),
    js: fs.readFileSync(path.join(dist, 'katex.min.js'), 'utf8'),
    autoRender: fs.readFileSync(path.join(dist, 'contrib', 'auto-render.min.js'), 'utf8'),
  };
}

/**
 * Each `src:` of an @font-face keeps only its woff2 source, as a data: URL (every browser that
 * runs the page reads woff2; the woff and ttf copies would triple the size).
 */
export function inlineFonts(css: string, dir: string): string {
  return css.replace(/src:([^;}]*)/g, (whole, sources: string) => {
    const woff2 = /url\(([^)]+\.woff2)\)\s*format\(["']?woff2["']?\)/.exec(sources);
    if (!woff2) return whole;
    const file = path.join(dir, woff2[1].replace(/^["']|["']$/g, ''));
    return `src:url(data:font/woff2;base64,${fs.readFileSync(file).toString('base64')}) format("woff2")`;
  });
}

/** JavaScript source that is safe inside a <script> element. */
const inScript = (js: string) => js.replace(/<\/script/gi, '<\\/script');

const RENDER = `document.addEventListener('DOMContentLoaded',function(){
  var cells=document.querySelectorAll('.jp-MarkdownCell .jp-RenderedMarkdown, .text_cell_render');
  for(var i=0;i<cells.length;i++){renderMathInElement(cells[i],{delimiters:[
    {left:'$$',right:'$$',display:true},{left:'\\\\[',right:'\\\\]',display:true},
    {left:'$',right:'$',display:false},{left:'\\\\(',right:'\\\\)',display:false}],throwOnError:false});}
});`;

const STDERR_STYLE = `[data-mime-type="application/vnd.jupyter.stderr"], .output_stderr {
  background: #f7f7f7 !important; color: #555 !important; font-size: 11px; }`;

export interface OfflineOptions {
  /** Folder of the notebooks (links out of it are rebased). */
  notebooksDir: string;
  /** Folder the HTML page is written to. */
  htmlDir: string;
}

/** The nbconvert page `html`, with offline equations, neutral stderr and working links (see the file comment). */
export function offlinePage(html: string, assets: KatexAssets, opts: OfflineOptions): string {
  if (!html.includes('</head>') || !html.includes('</body>')) {
    throw new ValueError(`offlinePage expects a whole HTML page (with </head> and </body>), but received ${JSON.stringify(html.slice(0, 60))}….`);
  }
  const withoutMathJax = html
    .replace(/<script[^>]*src="[^"]*mathjax[^"]*"[^>]*>\s*<\/script>/gi, '')
    .replace(/<script type="text\/x-mathjax-config">[\s\S]*?<\/script>/gi, '');
  const linked = withoutMathJax.replace(/href="([^"#:]+)((?:#[^"]*)?)"/g, (whole, target: string, hash: string) => {
    if (/^\d\d-[\w.-]+\.ipynb$/.test(target)) return `href="${target.replace(/\.ipynb$/, '.html')}${hash}"`;
    if (target.startsWith('../')) {
      const rebased = path.relative(opts.htmlDir, path.resolve(opts.notebooksDir, target)).split(path.sep).join('/');
      return `href="${rebased}${hash}"`;
    }
    return whole;
  });
  const head = `<style>${assets.css}</style>\n<style>${STDERR_STYLE}</style>\n</head>`;
  const body = `<script>${inScript(assets.js)}</script>\n<script>${inScript(assets.autoRender)}</script>\n<script>${RENDER}</script>\n</body>`;
  return linked.replace('</head>', () => head).replace(/<\/body>(?![\s\S]*<\/body>)/, () => body);
}
