/**
 * The converged-run report: `reports/converged.md` and `reports/converged.html`, built from the run
 * folders under `reports/converged/runs/` (each a plain trainer run folder: config.json,
 * metrics.jsonl, summary.json when finished, checkpoint/, train.log, commit.txt).
 *
 * It compares the arms of one recipe (configs/converge.json) at equal epochs and at equal
 * wall-clock time, shows their learning curves in one plot, and puts the published figures in
 * columns of their own: the numbers of this repo are never mixed into them.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { countFlops, countParams } from '../analysis/complexity';
import type { TrainConfig } from '../train/config';
import { readMetrics, writeFileAtomic } from '../train/run_files';
import { buildModel, type EpochMetrics, type TrainSummary } from '../train/train';
import { escapeHtml, figureHtml } from '../viz/display';
import { PALETTE, baseLayout, type Figure, type Trace } from '../viz/figure';

/** Published CIFAR-10 figures for the models of this report, each with its source. */
export const PUBLISHED: Record<string, { blog?: { top1: number; params: number; flops: number; source: string }; paper?: string }> = {
  standard: {
    blog: { top1: 91.2, params: 0.27e6, flops: 0.041e9, source: 'seed blog, ResNet-20 table (T4 GPU, batch 128; recipe as the paper)' },
    paper: 'no ResNet-20 row; ResNet-56: 93.27% (Table 2, 200 epochs, official CIFAR-10)',
  },
  scconv: {
    blog: { top1: 93.7, params: 0.19e6, flops: 0.028e9, source: 'seed blog, ResNet-20 table' },
    paper: 'no ResNet-20 row; SCConv-ResNet-56: 94.12% (Table 2)',
  },
};

export interface ConvergedRun {
  id: string;
  dir: string;
  config: TrainConfig;
  metrics: EpochMetrics[];
  summary: TrainSummary | null;
  commit: string | null;
  params: number;
  macs: number;
}

const label = (c: TrainConfig) => `${c.conv === 'standard' ? '' : `${c.conv === 'scconv' ? 'SCConv' : c.conv}-`}ResNet-${c.depth}`;
const pct = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '—' : `${(100 * v).toFixed(2)}%`);
const hm = (s: number) => `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}`;

function readJson<T>(file: string): T | null {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : null;
}

/** Every run folder under `runsDir` that has a config.json, sorted by model then seed. */
export function readConvergedRuns(runsDir: string): ConvergedRun[] {
  if (!existsSync(runsDir)) return [];
  const runs = readdirSync(runsDir, { withFileTypes: true }).filter((d) => d.isDirectory()).flatMap((d) => {
    const dir = join(runsDir, d.name);
    const config = readJson<TrainConfig>(join(dir, 'config.json'));
    if (!config) return [];
    const summary = readJson<TrainSummary>(join(dir, 'summary.json'));
    const commitFile = join(dir, 'commit.txt');
    let { params, flops: macs } = summary ?? { params: NaN, flops: NaN };
    if (!summary) {
      const model = buildModel(config);
      [params, macs] = [countParams(model), countFlops(model, [32, 32, 3])];
      model.dispose();
    }
    return [{
      id: d.name, dir, config, metrics: readMetrics<EpochMetrics>(dir), summary, params, macs,
      commit: existsSync(commitFile) ? readFileSync(commitFile, 'utf8').trim() : null,
    }];
  });
  const order = (c: TrainConfig) => (c.conv === 'standard' ? 0 : 1); // the plain network first, then the conv it is compared with
  return runs.sort((a, b) => a.config.depth - b.config.depth || order(a.config) - order(b.config) ||
    a.config.conv.localeCompare(b.config.conv) || a.config.seed - b.config.seed);
}

/** Last epoch's training images/s as a share of the second epoch's (the long-run speed check). */
export function speedKept(run: ConvergedRun): number | undefined {
  const second = run.metrics.find((m) => m.epoch === 2), last = run.metrics.at(-1);
  return second && last && last.epoch > 2 ? last.imagesPerSec / second.imagesPerSec : undefined;
}

/** Test accuracy of `run` after the last epoch that ended within `seconds` of wall-clock time. */
export function accuracyAtTime(run: ConvergedRun, seconds: number): EpochMetrics | undefined {
  return run.metrics.filter((m) => m.wallSeconds <= seconds).at(-1);
}

/** 'done', or how far an unfinished run got and that it can be resumed. */
function status(r: ConvergedRun): string {
  if (r.summary?.status === 'done') return 'done';
  return r.metrics.length ? `${r.summary?.status ?? 'running'}: resumable (--resume)` : 'not started';
}

/** The per-run table (Markdown). */
export function runTable(runs: ConvergedRun[]): string {
  const rows = runs.map((r) => {
    const best = r.metrics.reduce((b, m) => Math.max(b, m.testAcc), 0);
    const speeds = r.metrics.map((m) => m.imagesPerSec).sort((a, b) => a - b);
    const kept = speedKept(r);
    const pub = PUBLISHED[r.config.conv];
    return `| ${label(r.config)} | ${r.config.seed} | ${r.metrics.length}/${r.config.epochs} | ${pct(r.metrics.at(-1)?.testAcc)} | ${pct(best)} | ` +
      `${(r.params / 1e6).toFixed(3)}M | ${(r.macs / 1e6).toFixed(1)}M | ${speeds.length ? speeds[speeds.length >> 1].toFixed(0) : '—'} | ` +
      `${kept === undefined ? '—' : `${(100 * kept).toFixed(0)}%`} | ${r.metrics.length ? hm(r.metrics.at(-1)!.wallSeconds) : '—'} | ` +
      `${status(r)} | ${pub?.blog ? `${pub.blog.top1}%` : '—'} | ${pub?.paper ?? '—'} |`;
  });
  return ['| model | seed | epochs | final test acc | best test acc | params | MACs | median train img/s | last ÷ 2nd epoch img/s | wall h:mm | status | published: seed blog (ResNet-20) | published: paper |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|', ...rows].join('\n');
}

/** Test accuracy of every run at the same epochs (those all runs of a seed have reached). */
export function equalEpochTable(runs: ConvergedRun[], marks = [1, 5, 10, 20, 30, 40]): string {
  const reached = Math.min(...runs.map((r) => r.metrics.length));
  const epochs = [...new Set([...marks.filter((e) => e <= reached), reached])].filter((e) => e > 0);
  if (!epochs.length) return '';
  return [`| epoch | ${runs.map((r) => `${label(r.config)} s${r.config.seed}`).join(' | ')} |`, `|---:|${runs.map(() => '---:').join('|')}|`,
    ...epochs.map((e) => `| ${e} | ${runs.map((r) => pct(r.metrics.find((m) => m.epoch === e)?.testAcc)).join(' | ')} |`)].join('\n');
}

/** Test accuracy of every run after the same wall-clock times (each arm's own machine time). */
export function equalTimeTable(runs: ConvergedRun[]): string {
  const shortest = Math.min(...runs.map((r) => r.metrics.at(-1)?.wallSeconds ?? 0));
  if (!(shortest > 0)) return '';
  const times = [0.25, 0.5, 0.75, 1].map((f) => f * shortest);
  return [`| wall-clock | ${runs.map((r) => `${label(r.config)} s${r.config.seed}`).join(' | ')} |`, `|---:|${runs.map(() => '---:').join('|')}|`,
    ...times.map((t) => `| ${hm(t)} | ${runs.map((r) => {
      const m = accuracyAtTime(r, t);
      return m ? `${pct(m.testAcc)} (epoch ${m.epoch})` : '—';
    }).join(' | ')} |`)].join('\n');
}

/** Learning curves of every run in one plot: test and train accuracy (left axis), training loss (right axis). */
export function learningCurves(runs: ConvergedRun[]): Figure {
  const data: Trace[] = runs.flatMap((r, i) => {
    const x = r.metrics.map((m) => m.epoch), color = PALETTE[i % PALETTE.length], name = `${label(r.config)} seed ${r.config.seed}`;
    return [
      { type: 'scatter', mode: 'lines+markers', name: `${name}: test acc`, x, y: r.metrics.map((m) => 100 * m.testAcc), line: { color, width: 2 } },
      { type: 'scatter', mode: 'lines', name: `${name}: train acc`, x, y: r.metrics.map((m) => 100 * m.trainAcc), line: { color, width: 1, dash: 'dot' } },
      { type: 'scatter', mode: 'lines', name: `${name}: train loss`, x, y: r.metrics.map((m) => m.trainLoss), yaxis: 'y2', line: { color, width: 1, dash: 'dash' } },
    ];
  });
  const layout = baseLayout({ title: 'Learning curves: accuracy (left) and training loss (right, dashed)', xTitle: 'epoch', yTitle: 'accuracy %', height: 480 });
  layout.yaxis2 = { title: { text: 'training loss' }, overlaying: 'y', side: 'right', rangemode: 'tozero' };
  layout.margin = { l: 60, r: 60, t: 110, b: 50 };
  return { data, layout };
}

export interface ConvergedReportOptions {
  runsDir?: string;
  /** Run folders of the same recipe run longer, reported apart (default: `probes` beside runsDir; reports/converged/probes: 80 epochs). */
  probesDir?: string;
  outDir?: string;
  /**
   * Paragraphs written by whoever ran the runs (reports/converged/notes.md): what the numbers show
   * and what they do not, and how the recipe was chosen. The first paragraph is set in bold.
   */
  notes: string[];
}

/** Write `<outDir>/converged.md` and `.html`; returns the runs read. */
export function writeConvergedReport(opts: ConvergedReportOptions): ConvergedRun[] {
  const runsDir = opts.runsDir ?? join('reports', 'converged', 'runs');
  const outDir = opts.outDir ?? 'reports';
  const runs = readConvergedRuns(runsDir);
  const probesDir = opts.probesDir ?? join(dirname(runsDir), 'probes');
  const probes = readConvergedRuns(probesDir);
  const probeEpochs = [...new Set(probes.map((r) => r.config.epochs))].join(' and ');
  const data = [...new Set(runs.map((r) => r.summary?.dataLabel ?? 'CIFAR-10 (JPEG-75 copy)'))].join(', ');
  const machine = [...new Set(runs.map((r) => r.summary?.machine).filter(Boolean))].join('; ') || 'see each run\'s train.log';
  const backends = [...new Set(runs.map((r) => r.summary?.backend).filter(Boolean))].join(', ') || 'native (see train.log)';
  const commits = [...new Set([...runs, ...probes].map((r) => r.commit).filter(Boolean))].join(', ') || 'see commit.txt';
  const title = `Converged CIFAR-10 runs: ResNet-20 vs SCConv-ResNet-20, one recipe — ${data}`;
  const facts = [
    `Data: ${data}, all 50,000 training images, all 10,000 test images.`,
    `Recipe: configs/converge.json (every arm identical; only --conv and --seed differ${probes.length ? `; the probes also --epochs ${probeEpochs}` : ''}).`,
    `Machine: ${machine}. Backend: ${backends}. Code: commit ${commits}.`,
    `Run folders (config, metrics.jsonl, snapshots.jsonl, checkpoint, train.log): ${relative(outDir, runsDir)}/ beside this report` +
      (probes.length ? `; the ${probeEpochs}-epoch probes in ${relative(outDir, probesDir)}/.` : '.'),
    'Published columns hold the published figures only (official CIFAR-10, 200 epochs, GPU); ours are in the other columns.',
  ];
  const sections: [string, string][] = [
    ['Runs', runTable(runs)],
    ['At equal epochs (test accuracy)', equalEpochTable(runs)],
    ['At equal wall-clock time (test accuracy after the last epoch that ended by then, each on this machine)', equalTimeTable(runs)],
    ...(probes.length ? [
      [`Probes: the same recipe for ${probeEpochs} epochs (not in the tables above)`, runTable(probes)],
      [`Probes at equal epochs (test accuracy)`, equalEpochTable(probes, [1, 10, 20, 40, 60, 70, 80])],
    ] as [string, string][] : []),
  ];
  const [lead, ...rest] = opts.notes;
  const md = [`# ${title}`, '', ...facts.map((f) => `- ${f}`), '', ...(lead ? [`**${lead}**`, ''] : []),
    ...sections.flatMap(([h, t]) => (t ? [`## ${h}`, '', t, ''] : [])),
    ...rest.flatMap((p) => [p, '']), `Learning curves${probes.length ? ' (runs and probes)' : ''}: reports/converged.html.`, ''].join('\n');
  writeFileAtomic(join(outDir, 'converged.md'), md);
  const plotly = relative(outDir, join('node_modules', 'plotly.js-dist-min', 'plotly.min.js'));
  const cells = (line: string) => line.slice(1, -1).split(' | ').map((c) => c.trim());
  const mdTable = (t: string) => {
    const [head, , ...body] = t.split('\n');
    const row = (line: string, tag: string) => `<tr>${cells(line).map((c) => `<${tag}>${escapeHtml(c)}</${tag}>`).join('')}</tr>`;
    return `<table>${row(head, 'th')}${body.map((l) => row(l, 'td')).join('')}</table>`;
  };
  writeFileAtomic(join(outDir, 'converged.html'), ['<!doctype html><html><head><meta charset="utf-8">', `<title>${escapeHtml(title)}</title>`,
    `<script src="${escapeHtml(plotly)}"></script>`,
    '<style>body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1200px;margin:24px auto;padding:0 16px;color:#222}' +
      'table{border-collapse:collapse;font-size:13px;font-variant-numeric:tabular-nums}th,td{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right}th{border-bottom:1px solid #444}</style></head><body>',
    `<h1>${escapeHtml(title)}</h1>`, `<ul>${facts.map((f) => `<li>${escapeHtml(f)}</li>`).join('')}</ul>`,
    ...(lead ? [`<p><b>${escapeHtml(lead)}</b></p>`] : []),
    figureHtml(learningCurves(runs), 'converged-curves'),
    ...(probes.length ? [figureHtml(learningCurves(probes), 'converged-probe-curves')] : []),
    ...sections.flatMap(([h, t]) => (t ? [`<h2>${escapeHtml(h)}</h2>`, mdTable(t)] : [])),
    ...rest.map((p) => (p.startsWith('## ') ? `<h2>${escapeHtml(p.slice(3))}</h2>` : `<p>${escapeHtml(p)}</p>`)), '</body></html>'].join('\n'));
  return runs;
}
