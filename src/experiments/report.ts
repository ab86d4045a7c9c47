/**
 * Reports of a sweep: `reports/<sweep>.md` and `reports/<sweep>.html` put, for every row, the
 * published figure beside ours, and copy each run's small files (config, metrics, summary) to
 * `reports/<sweep>/<mode>/<row>/` so a committed report carries its evidence.
 *
 * Honesty rules, enforced by the column layout: a column headed "published" only ever holds the
 * published figure; our numbers (budgeted or not, on whatever data) sit in "this repo" columns,
 * with the epochs actually trained, the data label, the backend and machine beside them.
 */
import * as aq from 'arquero';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { escapeHtml, figureHtml, tableHtml } from '../viz/display';
import { barChart, lineChart, type Series } from '../viz/figure';
import { formatDuration } from '../util/progress';
import { readMetrics, writeFileAtomic } from '../train/run_files';
import { OUTCOME_FILE, readSummary } from './runner';
import { modeName, type Args, type Sweep } from './sweep';

/** Parameters and FLOPs of a row's model, computed without training it. */
export type ComplexityFn = (settings: Args) => Promise<{ params: number; flops: number } | null>;

/** One line of the report: a row of the sweep in one mode (full or budgeted). */
export interface ReportRow {
  id: string;
  label: string;
  mode: string;
  status: string;
  publishedParams: number | null;
  publishedFlops: number | null;
  publishedTop1: number | null;
  publishedFewerFlopsPct: number | null;
  params: number | null;
  flops: number | null;
  fewerFlopsPct: number | null;
  top1: number | null;
  finalTop1: number | null;
  epochsTrained: number | null;
  epochsPlanned: number | null;
  data: string | null;
  backend: string | null;
  machine: string | null;
  wallSeconds: number | null;
  epochSeconds: number | null;
  budgeted: boolean;
  /** Training images per epoch (maxTrain, or all 50,000). */
  trainImages: number | null;
  /** Test images evaluated (maxTest, or all 10,000). */
  testImages: number | null;
  /** Git commit the run's last attempt ran (from the runner's record), '+dirty' for uncommitted changes. */
  code: string | null;
  /** Per-epoch test accuracy (%) of the run, for the learning-curve chart. */
  curve: number[];
}

interface EpochRow { epoch: number; testAcc: number; epochSeconds?: number }

export interface ReportOptions {
  /** Where run folders are: `<runsDir>/<sweep>/<mode>/<row>`. Defaults to 'runs'. */
  runsDir?: string;
  /** Where reports go. Defaults to 'reports'. */
  outDir?: string;
  /** Parameters/FLOPs for rows that have no run yet. */
  complexity?: ComplexityFn;
  /** <script src> of plotly.js, relative to the HTML file. Defaults to the installed bundle. */
  plotlySrc?: string;
}

/** The modes (`full`, `budget-30min`, …) that have run folders for `sweep`. */
export function modesOnDisk(sweep: Sweep, runsDir: string): string[] {
  const dir = join(runsDir, sweep.name);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
}

/** Gather the report rows of a sweep from its run folders. */
export async function collectRows(sweep: Sweep, options: ReportOptions = {}): Promise<ReportRow[]> {
  const runsDir = options.runsDir ?? 'runs';
  const modes = modesOnDisk(sweep, runsDir);
  const rows: ReportRow[] = [];
  for (const mode of modes.length ? modes : [modeName(0)]) {
    for (const row of sweep.rows) {
      const runDir = join(runsDir, sweep.name, mode, row.id);
      const summary = readSummary(runDir);
      const metrics = readMetrics<EpochRow>(runDir);  // a torn last line is dropped with a warning; damage elsewhere is an error
      const config = readJson<Args>(join(runDir, 'config.json'));
      let params = finite(summary?.params);
      let flops = finite(summary?.flops);
      if ((params === null || flops === null) && options.complexity) {
        const c = await options.complexity({ ...sweep.defaults, ...row.args, ...(config ?? {}) });
        params = params ?? finite(c?.params);
        flops = flops ?? finite(c?.flops);
      }
      const last = metrics[metrics.length - 1];
      const bestOfMetrics = metrics.length ? Math.max(...metrics.map((m) => m.testAcc)) : null;
      const p = row.published ?? {};
      rows.push({
        id: row.id,
        label: row.label,
        mode,
        status: summary?.status ?? lastAttempt(runDir),
        publishedParams: p.params ?? null,
        publishedFlops: p.flops ?? null,
        publishedTop1: p.top1 ?? null,
        publishedFewerFlopsPct: p.fewerFlopsPct ?? null,
        params,
        flops,
        fewerFlopsPct: null,
        // No finished epoch means no accuracy (a summary's 0 then is a placeholder, not a measurement).
        top1: last ? pct(finite(summary?.bestTestAcc) ?? bestOfMetrics) : null,
        finalTop1: last ? pct(finite(summary?.finalTestAcc) ?? last.testAcc) : null,
        epochsTrained: finite(summary?.epochsTrained) ?? (last ? last.epoch : null),
        epochsPlanned: finite(summary?.epochsPlanned) ?? finite(config?.epochs as number),
        data: summary?.dataLabel ?? null,
        backend: summary?.backend ?? null,
        machine: summary?.machine ?? null,
        wallSeconds: finite(summary?.wallSeconds),
        epochSeconds: metrics.length ? median(metrics.map((m) => m.epochSeconds ?? NaN).filter(Number.isFinite)) : null,
        budgeted: mode !== 'full' || finite((config?.budgetMinutes as number) ?? 0) !== 0,
        trainImages: config ? (Number(config.maxTrain) > 0 ? Number(config.maxTrain) : 50000) : null,
        testImages: config ? (Number(config.maxTest) > 0 ? Number(config.maxTest) : 10000) : null,
        code: readJson<{ code?: string | null }>(join(runDir, OUTCOME_FILE))?.code ?? null,
        curve: metrics.map((m) => 100 * m.testAcc),
      });
    }
  }
  if (sweep.baseline) {
    for (const r of rows) {
      const base = rows.find((b) => b.id === sweep.baseline && b.mode === r.mode);
      if (base?.flops && r.flops !== null) r.fewerFlopsPct = 100 * (1 - r.flops / base.flops);
    }
  }
  return rows;
}

/** The report table (arquero), one column per published or measured quantity. */
export function reportTable(sweep: Sweep, rows: ReportRow[]): aq.ColumnTable {
  const cols: Record<string, unknown[]> = {
    Row: rows.map((r) => r.label),
    'Run (this repo)': rows.map((r) => (r.status === 'not run' ? '—' : describeMode(r.mode))),
    'Train images × epochs': rows.map((r) => (r.trainImages === null ? '—' : `${r.trainImages.toLocaleString('en-US')} × ${r.epochsPlanned ?? '?'}`)),
    'Params, published': rows.map((r) => millions(r.publishedParams)),
    'Params, this repo': rows.map((r) => withDiff(r.params, r.publishedParams)),
    'FLOPs, published': rows.map((r) => millions(r.publishedFlops)),
    'FLOPs, this repo': rows.map((r) => withDiff(r.flops, r.publishedFlops)),
  };
  if (sweep.baseline) {
    cols['Fewer FLOPs, published'] = rows.map((r) => (r.publishedFewerFlopsPct === null ? '—' : `${r.publishedFewerFlopsPct}%`));
    cols['Fewer FLOPs, this repo'] = rows.map((r) => (r.fewerFlopsPct === null ? '—' : `${r.fewerFlopsPct.toFixed(1)}%`));
  }
  Object.assign(cols, {
    'Top-1 %, published': rows.map((r) => (r.publishedTop1 === null ? '—' : r.publishedTop1.toFixed(2))),
    'Top-1 %, this repo (best)': rows.map((r) => (r.top1 === null ? '—' : `${r.top1.toFixed(2)}${r.budgeted ? ' †' : ''}`)),
    'Epochs, this repo': rows.map((r) => (r.epochsTrained === null ? '—' : `${r.epochsTrained}/${r.epochsPlanned ?? '?'}`)),
    'Data, this repo': rows.map((r) => r.data ?? '—'),
    'Backend · machine': rows.map((r) => (r.backend ? `${r.backend} · ${r.machine ?? '?'}` : '—')),
    'Wall time': rows.map((r) => (r.wallSeconds === null ? '—' : formatDuration(r.wallSeconds))),
    Code: rows.map((r) => r.code ?? '—'),
    's/epoch': rows.map((r) => (r.epochSeconds === null ? '—' : r.epochSeconds.toFixed(0))),
    Status: rows.map((r) => r.status),
  });
  return aq.table(cols);
}

/** 'budget-15min_epochs=2,maxTrain=512' → 'budgeted, 15 min per row (epochs=2, maxTrain=512)'. */
export function describeMode(mode: string): string {
  const [base, set] = mode.split('_', 2);
  const m = /^budget-(.+)min$/.exec(base);
  const text = base === 'full' ? 'full recipe' : m ? `budgeted, ${m[1]} min per row` : base;
  return set ? `${text} (${set.replace(/,/g, ', ')})` : text;
}

/**
 * What the measured accuracies of one mode can and cannot say: two rows differ meaningfully only
 * when their gap exceeds twice the standard error of a difference of two test-set accuracies
 * (2·√2·√(p(1−p)/n) at the mean accuracy p over n test images).
 */
export function reading(rows: ReportRow[]): string[] {
  const out: string[] = [];
  for (const mode of [...new Set(rows.map((r) => r.mode))]) {
    const measured = rows.filter((r) => r.mode === mode && r.top1 !== null);
    const missing = rows.filter((r) => r.mode === mode && r.top1 === null && r.status !== 'not run');
    if (measured.length === 0) continue;
    const n = Math.min(...measured.map((r) => r.testImages ?? 10000));
    const p = measured.reduce((a, r) => a + r.top1!, 0) / measured.length / 100;
    const noise = 100 * 2 * Math.SQRT2 * Math.sqrt((p * (1 - p)) / n);
    const sorted = [...measured].sort((a, b) => b.top1! - a.top1!);
    const spread = sorted[0].top1! - sorted[sorted.length - 1].top1!;
    const order = sorted.map((r) => `${r.label} ${r.top1!.toFixed(1)}%`).join(' ≥ ');
    const verdict = measured.length < 2 ? 'a single row: nothing to rank.'
      : spread <= noise
        ? `the spread (${spread.toFixed(1)} points) is within test-set noise (±${noise.toFixed(1)} points for two rows at ${n.toLocaleString('en-US')} test images), so this run does not rank the variants.`
        : `the spread (${spread.toFixed(1)} points) exceeds test-set noise (±${noise.toFixed(1)} points at ${n.toLocaleString('en-US')} test images) for at least the top and bottom rows.`;
    const chance = p < 0.2 ? ' Accuracies are near chance (10%).' : '';
    const short = measured.filter((r) => r.epochsTrained !== null && r.epochsPlanned !== null && r.epochsTrained < r.epochsPlanned);
    const cut = short.length
      ? ` ${short.map((r) => `${r.label} stopped after ${r.epochsTrained} of ${r.epochsPlanned} epochs`).join(', ')}: not comparable with rows that trained every epoch.`
      : '';
    const none = missing.length ? ` No accuracy for ${missing.map((r) => r.label).join(', ')} (no epoch finished or the run failed).` : '';
    out.push(`Reading (${describeMode(mode)}): ${order}; ${verdict}${chance}${cut}${none}${publishedOrder(measured.filter((r) => !short.includes(r)), noise)}`);
  }
  return out;
}

/**
 * How this run's order compares with the published one, pair by pair: a pair agrees or is
 * reversed when our gap exceeds `noise`, and is a tie otherwise. Empty with < 2 published rows.
 * The caller leaves out rows cut short by the budget.
 */
function publishedOrder(measured: ReportRow[], noise: number): string {
  const both = measured.filter((r) => r.publishedTop1 !== null && r.publishedTop1 !== undefined)
    .sort((a, b) => b.publishedTop1! - a.publishedTop1!);
  if (both.length < 2) return '';
  let agree = 0, reversed = 0, ties = 0;
  for (let i = 0; i < both.length; i++) {
    for (let j = i + 1; j < both.length; j++) {
      const gap = both[i].top1! - both[j].top1!; // published: i above j
      if (Math.abs(gap) <= noise) ties++;
      else if (gap > 0) agree++;
      else reversed++;
    }
  }
  const order = both.map((r) => `${r.label} ${r.publishedTop1!.toFixed(2)}`).join(' > ');
  return ` Published order (${order}): of its ${agree + reversed + ties} pairs this run keeps ${agree}, reverses ${reversed}, and leaves ${ties} within noise.`;
}

/** The explanation printed under the table. */
function notes(sweep: Sweep, rows: ReportRow[]): string[] {
  const out = [
    `Published figures: ${sweep.source}${sweep.publishedRecipe ? ` (${sweep.publishedRecipe})` : ''}. ` +
      'Columns headed "published" hold only those figures; everything else was measured by this repository.',
    'Params and FLOPs (multiply-accumulates) of this repo are counted on the built model; the percentage is the difference from the published figure.',
    '"Top-1 %, this repo" is the best test accuracy over the epochs actually trained (see "Epochs"); † marks a budgeted run ' +
      '(a time limit per row and a shortened schedule), which is not comparable with a full 200-epoch published figure.',
  ];
  if (rows.some((r) => r.data?.includes('JPEG-75'))) {
    out.push('"CIFAR-10 (JPEG-75 copy)" rows were trained and tested on a lossy copy of CIFAR-10 (pixels decoded from JPEG quality 75), not on the official files.');
  }
  if (sweep.budget?.note && rows.some((r) => r.budgeted)) {
    out.push(`Budgeted mode, as the sweep file sets it: ${sweep.budget.note} Settings in brackets in the "Run" column replaced these defaults for that run.`);
  }
  if (sweep.note) out.push(sweep.note);
  return out;
}

/** Write `<outDir>/<sweep>.md`, `<outDir>/<sweep>.html` and the runs' small files; returns the paths. */
export async function writeReport(sweep: Sweep, options: ReportOptions = {}): Promise<{ markdown: string; html: string; rows: ReportRow[] }> {
  const outDir = options.outDir ?? 'reports';
  const runsDir = options.runsDir ?? 'runs';
  const rows = await collectRows(sweep, options);
  const table = reportTable(sweep, rows);
  mkdirSync(outDir, { recursive: true });
  const copied = copyRunFiles(sweep, rows, runsDir, outDir);
  const generated = `Generated by \`npm run tables -- --report ${sweep.name}\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC.`;

  const md = [
    `# ${sweep.title}`,
    '',
    generated,
    '',
    table.toMarkdown(),
    ...reading(rows).map((n) => `**${n.replace(/:/, ':**')}`),
    '',
    ...notes(sweep, rows).map((n) => `- ${n}`),
    '',
    ...failures(rows),
    copied.length ? `Run files (config.json, metrics.jsonl, summary.json, train.log) are in \`${sweep.name}/\` next to this report.` : '',
    '',
  ].join('\n');
  const markdown = join(outDir, `${sweep.name}.md`);
  writeFileAtomic(markdown, md);

  const plotlySrc = options.plotlySrc ?? relative(outDir, join('node_modules', 'plotly.js-dist-min', 'plotly.min.js'));
  const html = join(outDir, `${sweep.name}.html`);
  writeFileAtomic(html, [
    '<!doctype html><html><head><meta charset="utf-8">',
    `<title>${escapeHtml(sweep.title)}</title>`,
    `<script src="${escapeHtml(plotlySrc)}"></script>`,
    // Opened away from the repo (no node_modules/ beside it): fall back to the same version on plotly's CDN.
    `<script>window.Plotly||document.write('<script src="https://cdn.plot.ly/plotly-${plotlyVersion()}.min.js"><\\/script>')</script>`,
    '<style>body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1200px;margin:24px auto;padding:0 16px;color:#222}li{margin:4px 0}</style>',
    '</head><body>',
    `<h1>${escapeHtml(sweep.title)}</h1>`,
    `<p>${escapeHtml(generated)}</p>`,
    tableHtml(table, { limit: 1000 }),
    ...reading(rows).map((n) => `<p><b>${escapeHtml(n.slice(0, n.indexOf(':') + 1))}</b>${escapeHtml(n.slice(n.indexOf(':') + 1))}</p>`),
    `<ul>${notes(sweep, rows).map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>`,
    ...charts(sweep, rows).map((fig, i) => figureHtml(fig, `${sweep.name}-chart-${i}`)),
    '</body></html>',
  ].join('\n'));
  return { markdown, html, rows };
}

function charts(sweep: Sweep, rows: ReportRow[]) {
  const figs = [];
  const labels = sweep.rows.map((r) => r.label);
  const acc: Series[] = [];
  if (sweep.rows.some((r) => r.published?.top1 != null)) {
    acc.push({ name: `published${sweep.publishedRecipe ? ` (${sweep.publishedRecipe})` : ''}`, x: labels, y: sweep.rows.map((r) => r.published?.top1 ?? NaN) });
  }
  for (const mode of [...new Set(rows.map((r) => r.mode))]) {
    const ours = rows.filter((r) => r.mode === mode);
    if (ours.every((r) => r.top1 === null)) continue;
    const data = [...new Set(ours.map((r) => r.data).filter(Boolean))].join(', ');
    acc.push({
      name: `this repo, ${describeMode(mode)}${data ? `, ${data}` : ''}`,
      x: ours.map((r) => r.label),
      y: ours.map((r) => r.top1 ?? NaN),
      text: ours.map((r) => (r.epochsTrained === null ? '' : `${r.epochsTrained}/${r.epochsPlanned ?? '?'} epochs`)),
    });
  }
  if (acc.length) figs.push(barChart(acc, { title: 'Top-1 test accuracy: published vs this repo', yTitle: 'top-1 %' }));
  const curves: Series[] = rows.filter((r) => r.curve.length).map((r) => ({
    name: `${r.label} (${r.mode})`, x: r.curve.map((_, i) => i + 1), y: r.curve,
  }));
  if (curves.length) figs.push(lineChart(curves, { title: 'Test accuracy per epoch (this repo)', xTitle: 'epoch', yTitle: 'top-1 %' }));
  const firstMode = rows.filter((r) => r.mode === rows[0]?.mode);
  const cx = (pick: (r: ReportRow) => number | null) => firstMode.map((r) => (pick(r) ?? NaN) / 1e6);
  figs.push(barChart([
    { name: 'params, published (M)', x: labels, y: sweep.rows.map((r) => (r.published?.params ?? NaN) / 1e6) },
    { name: 'params, this repo (M)', x: firstMode.map((r) => r.label), y: cx((r) => r.params) },
  ], { title: 'Parameters (millions)', yTitle: 'M' }));
  figs.push(barChart([
    { name: 'FLOPs, published (M)', x: labels, y: sweep.rows.map((r) => (r.published?.flops ?? NaN) / 1e6) },
    { name: 'FLOPs, this repo (M)', x: firstMode.map((r) => r.label), y: cx((r) => r.flops) },
  ], { title: 'FLOPs, multiply-accumulates (millions)', yTitle: 'M' }));
  return figs;
}

function failures(rows: ReportRow[]): string[] {
  const bad = rows.filter((r) => r.status !== 'done' && r.status !== 'budget' && r.status !== 'not run');
  if (!bad.length) return [];
  return ['Rows without a finished run:', '', ...bad.map((r) => `- ${r.label} (${r.mode}): ${r.status}`), ''];
}

/** Copy config.json, metrics.jsonl, summary.json and train.log of every run into the report folder. */
function copyRunFiles(sweep: Sweep, rows: ReportRow[], runsDir: string, outDir: string): string[] {
  const copied: string[] = [];
  for (const r of rows) {
    const from = join(runsDir, sweep.name, r.mode, r.id);
    for (const f of ['config.json', 'metrics.jsonl', 'summary.json', 'train.log', OUTCOME_FILE]) {
      if (!existsSync(join(from, f))) continue;
      const to = join(outDir, sweep.name, r.mode, r.id);
      mkdirSync(to, { recursive: true });
      copyFileSync(join(from, f), join(to, f));
      copied.push(join(to, f));
    }
  }
  return copied;
}

/** The installed plotly.js version (for the CDN fallback), or 'latest'. */
function plotlyVersion(): string {
  return readJson<{ version: string }>(join('node_modules', 'plotly.js-dist-min', 'package.json'))?.version ?? 'latest';
}

/** Status of a row without summary.json: the runner's record of its last attempt, if any. */
function lastAttempt(runDir: string): string {
  if (!existsSync(runDir)) return 'not run';
  const outcome = readJson<{ status: string; message: string }>(join(runDir, OUTCOME_FILE));
  return outcome ? `${outcome.status}: ${outcome.message} (see train.log)` : 'no summary: killed or still running (see train.log)';
}

function readJson<T>(file: string): T | null {
  try {
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : null;
  } catch {
    return null;
  }
}

function finite(v: number | null | undefined): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function pct(v: number | null): number | null {
  return v === null ? null : 100 * v;
}

function median(xs: number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** 860000 → '0.86M'. */
function millions(v: number | null): string {
  return v === null ? '—' : `${(v / 1e6).toFixed(2)}M`;
}

/** '0.85M (−1.2%)' against the published figure. */
function withDiff(v: number | null, published: number | null): string {
  if (v === null) return '—';
  if (published === null) return millions(v);
  const d = (100 * (v - published)) / published;
  return `${millions(v)} (${d >= 0 ? '+' : '−'}${Math.abs(d).toFixed(1)}%)`;
}

