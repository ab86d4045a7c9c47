/**
 * npm start: the project's main job, a budgeted standard-vs-SCConv comparison.
 *
 * Trains ResNet-20 with standard 3×3 convs and SCConv-ResNet-20 (SCConv in the second conv of
 * every block, the paper's placement) with the same recipe, seed and data, one after the other,
 * each within half of --budget-minutes, on the first --max-train training images (a subset, so a
 * CPU finishes in minutes; pass --max-train 0 --epochs 200 --budget-minutes 0 for the full
 * paper run), then prints a table and writes it to OUT/report.md.
 *
 * Data: --data PATH, else $SCCONV_DATA, else data/ (downloaded there if missing). Runs land in
 * OUT/standard and OUT/scconv (default OUT = runs/start). Running it again continues unfinished
 * runs from their checkpoints and reprints the report of finished ones: no work is ever redone.
 * Every train flag is accepted except --conv and --resume; --restart starts both runs over.
 */
import * as path from 'node:path';
import { initBackend } from '../backend';
import { runCli } from './run_cli';
import { loadCifar10 } from '../data/cifar10';
import { ValueError } from '../errors';
import { writeFileAtomic } from '../train/run_files';
import type { TrainSummary } from '../train/train';
import { helpText, parseTrainArgs } from '../train/args';
import { runTrain } from './train';

/**
 * What `npm start` trains unless told otherwise: 4 epochs over 10,000 training images, tested on all
 * 10,000 test images, about 5 minutes for both models on a 2-core CPU with the native backend
 * (15-minute cap): long enough to learn well above chance, short enough to wait for.
 */
export const START_DEFAULTS = { depth: 20, epochs: 4, maxTrain: 10000, maxTest: 0, budgetMinutes: 15, schedule: 'cosine' as const };

const CONVS = [
  { conv: 'standard' as const, label: 'ResNet' },
  { conv: 'scconv' as const, label: 'SCConv-ResNet' },
];

const pct = (v: number) => (Number.isFinite(v) ? `${(100 * v).toFixed(1)}%` : '-');
const minutes = (s: number) => `${Math.floor(s / 60)}:${String(Math.round(s % 60)).padStart(2, '0')}`;

/** The comparison as a Markdown table (also printed). */
export function reportTable(rows: { label: string; s: TrainSummary }[]): string {
  const head = '| model | params | MFLOPs | epochs | best test acc | final test acc | train img/s (this run) | time | status |';
  const line = '|---|---:|---:|---:|---:|---:|---:|---:|---|';
  const fixed = (v: number, digits: number) => (Number.isFinite(v) ? v.toFixed(digits) : '-');
  const body = rows.map(({ label, s }) => {
    const best = s.epochsTrained > 0 ? s.bestTestAcc : NaN; // no finished epoch, no accuracy
    return `| ${label} | ${fixed(s.params / 1e6, 3)}M | ${fixed(s.flops / 1e6, 2)} | ${s.epochsTrained}/${s.epochsPlanned} | ${pct(best)} | ${pct(s.finalTestAcc)} | ${fixed(s.imagesPerSec, 1)} | ${minutes(s.wallSeconds)} | ${s.status} |`;
  });
  return [head, line, ...body].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const args = parseTrainArgs(argv);
  if (args.help) {
    console.log(`usage: npm start -- [train flags]   (defaults: ${JSON.stringify(START_DEFAULTS)}, --out runs/start)\n${helpText()}`);
    return 0;
  }
  if (args.config.conv || args.resume) throw new ValueError('npm start expects no --conv and no --resume (it trains both convs and always continues unfinished runs), but received one. Use npm run train for a single conv.');
  const base = args.config.out || path.join('runs', 'start');
  const config = { ...START_DEFAULTS, ...args.config };
  const backend = await initBackend({ backend: config.backend || undefined });
  const data = await loadCifar10({ source: config.data || undefined });
  const subset = config.maxTrain > 0 ? `the first ${Math.min(config.maxTrain, data.train.count)} of ${data.train.count} training images` : `all ${data.train.count} training images`;
  const testSet = config.maxTest > 0 ? `the first ${Math.min(config.maxTest, data.test.count)} test images` : `all ${data.test.count} test images`;
  console.error(`npm start: ResNet-${config.depth} standard vs SCConv on ${data.label}, ${subset} (a subset for a quick run), ${testSet}, ${config.epochs} epochs, ` +
    `${config.budgetMinutes ? `budget ${config.budgetMinutes} min in all` : 'no budget'}, backend ${backend.name}`);

  const rows: { label: string; s: TrainSummary; out: string }[] = [];
  for (const { conv, label } of CONVS) {
    const out = path.join(base, conv);
    console.error(`\n== ${label}-${config.depth} → ${out}`);
    const s = await runTrain({ ...config, conv, out, budgetMinutes: config.budgetMinutes / CONVS.length }, { resume: !args.restart, restart: args.restart, data });
    rows.push({ label: `${label}-${config.depth}`, s, out });
    if (s.status === 'interrupted' || s.status === 'nan') break;
  }
  const table = reportTable(rows);
  const title = `ResNet-${config.depth}: standard vs SCConv on ${data.label} — ${subset}, ${testSet}, up to ${config.epochs} epochs, backend ${backend.name}, ${new Date().toISOString().slice(0, 10)}`;
  const report = `# ${title}\n\n${table}\n\nA short run on a subset: it shows the pipeline and the cost of each model, not the paper's accuracy (200 epochs on all 50,000 images).\n`;
  writeFileAtomic(path.join(base, 'report.md'), report);
  console.log(`\n${title}\n\n${table}\n`);
  console.log(`results: ${rows.map((r) => path.resolve(r.out)).join(', ')} (config.json, metrics.jsonl, summary.json, checkpoint/)`);
  console.log(`report:  ${path.resolve(base, 'report.md')}`);
  if (rows.some((r) => r.s.status === 'budget')) console.log('A run stopped at its share of the budget: run npm start again (same flags) to continue it, or raise --budget-minutes.');
  return rows.some((r) => r.s.status === 'nan') ? 1 : rows.some((r) => r.s.status === 'interrupted') ? 130 : 0;
}

if (process.argv[1] && /cli[\\/]main\.ts$/.test(process.argv[1])) runCli(main);
