/**
 * Show figures and tables in a notebook (tslab) so that they also render in an exported
 * HTML file, offline.
 *
 * The first plot of a kernel session carries the minified plotly.js bundle inline
 * (about 4.8 MB); later plots reuse `window.Plotly`, so a notebook holds one bundle
 * however many figures it draws.
 *
 *     import * as tslab from 'tslab';
 *     const show = new NotebookDisplay(tslab.display);
 *     show.plot(barChart([{ x, y }]));
 *     show.table(aq.table({ channel, gamma }), { caption: 'Per-channel statistics' });
 */
import * as fs from 'fs';
import { createRequire } from 'module';
import * as path from 'path';

import { ValueError } from '../errors';
import { Figure } from './figure';

/** Where output goes: tslab's `display` (or a fake in tests). */
export interface HtmlSink {
  html(s: string): void;
  markdown?(s: string): void;
}

/** Anything with arquero's `toHTML` (a ColumnTable). */
export interface HtmlTable {
  toHTML(options?: Record<string, unknown>): string;
  numRows(): number;
}

/** The text of plotly.js-dist-min's bundle, resolved from `fromDir` (the repo root in notebooks). */
export function readPlotlyBundle(fromDir: string = process.cwd()): string {
  let file: string;
  try {
    file = createRequire(path.join(fromDir, 'index.js')).resolve('plotly.js-dist-min');
  } catch {
    throw new ValueError(`readPlotlyBundle expects plotly.js-dist-min to be installed under ${fromDir}, but it was not found. Run npm install.`);
  }
  return fs.readFileSync(file, 'utf8');
}

/** JSON that is safe inside a <script> element. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/**
 * The HTML for one figure: a div and a script that draws into it. With `bundle`, the
 * plotly.js source is included first (shadowing CommonJS globals so it sets window.Plotly).
 */
export function figureHtml(fig: Figure, id: string, bundle: string | null = null): string {
  const height = typeof fig.layout.height === 'number' ? `${fig.layout.height}px` : '360px';
  const lib = bundle == null ? '' : `<script>(function(){var module=undefined,exports=undefined,define=undefined;\n${bundle}\n})();</script>\n`;
  const draw =
    `<script>(function(){var el=document.getElementById(${scriptJson(id)});var fig=${scriptJson(fig)};` +
    'if(window.Plotly){window.Plotly.newPlot(el,fig.data,fig.layout,{responsive:true,displaylogo:false});}' +
    `else{el.textContent='plotly.js is not loaded: restart the kernel and run the notebook from the top.';}})();</script>`;
  return `${lib}<div id="${id}" class="scconv-plot" style="width:100%;max-width:980px;height:${height}"></div>\n${draw}`;
}

/** Styles for tables: compact, right-aligned numbers, zebra rows. */
const TABLE_STYLE = {
  table: 'border-collapse:collapse;font-size:12px;font-variant-numeric:tabular-nums;',
  th: 'border-bottom:1px solid #444;padding:3px 8px;',
  td: 'padding:2px 8px;border-bottom:1px solid #eee;',
};

export interface TableOptions {
  /** Caption above the table. */
  caption?: string;
  /** Most fractional digits shown for numbers. Defaults to 4. */
  digits?: number;
  /** Most rows shown. Defaults to 50. */
  limit?: number;
}

/** An arquero table as an HTML <figure>, with a caption and a row-count note when cut. */
export function tableHtml(table: HtmlTable, opts: TableOptions = {}): string {
  const limit = opts.limit ?? 50;
  const body = table.toHTML({ limit, maxdigits: opts.digits ?? 4, style: TABLE_STYLE });
  const more = table.numRows() > limit ? `<div style="font-size:11px;color:#666">${limit} of ${table.numRows()} rows shown</div>` : '';
  const caption = opts.caption ? `<figcaption style="font-weight:600;margin-bottom:4px">${escapeHtml(opts.caption)}</figcaption>` : '';
  return `<figure style="margin:6px 0">${caption}${body}${more}</figure>`;
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Plots and tables for one notebook kernel: the plotly bundle goes out with the first plot only. */
export class NotebookDisplay {
  private bundleSent = false;
  private count = 0;
  private readonly session: string;

  constructor(
    private readonly sink: HtmlSink,
    private readonly bundle: () => string = () => readPlotlyBundle(),
    session?: string,
  ) {
    // Div ids must not collide between notebooks open in one JupyterLab page.
    this.session = session ?? Math.random().toString(36).slice(2, 8);
  }

  /** Draw a plotly figure. */
  plot(fig: Figure): void {
    const id = `scconv-plot-${this.session}-${++this.count}`;
    const lib = this.bundleSent ? null : this.bundle();
    this.sink.html(figureHtml(fig, id, lib));
    this.bundleSent = true;
  }

  /** Show an arquero table. */
  table(table: HtmlTable, opts: TableOptions = {}): void {
    this.sink.html(tableHtml(table, opts));
  }

  /** Show Markdown (a computed conclusion, a verdict); falls back to escaped HTML. */
  markdown(text: string): void {
    if (this.sink.markdown) this.sink.markdown(text);
    else this.sink.html(`<pre>${escapeHtml(text)}</pre>`);
  }
}
