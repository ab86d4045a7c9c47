import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectRows, describeMode, reading, reportTable, writeReport, type ReportRow } from '../../src/experiments/report';
import { checkSweep, loadSweep, planSweep } from '../../src/experiments/sweep';

const SWEEP = checkSweep({
  name: 'mini', title: 'Mini table', source: 'Paper X, Table 9', publishedRecipe: '200 epochs on official CIFAR-10',
  baseline: 'base', defaults: { epochs: 200 }, budget: { args: { epochs: 2 }, note: 'two epochs' },
  rows: [
    { id: 'base', label: 'Base', args: { conv: 'standard' }, published: { params: 1000, flops: 2000000, top1: 93.27 } },
    { id: 'sc', label: 'SC', args: { conv: 'scconv' }, published: { params: 600, flops: 1250000, top1: 94.12, fewerFlopsPct: 37 } },
  ],
}, 'test');

/** A finished budgeted run folder, as the trainer writes it. */
function fakeRun(dir: string, acc: number[], summary: object) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ epochs: 2, budgetMinutes: 5 }));
  writeFileSync(join(dir, 'metrics.jsonl'), acc.map((a, i) => JSON.stringify({ epoch: i + 1, testAcc: a, epochSeconds: 30 + i }) + '\n').join(''));
  writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary));
}

test('report rows: published figures beside ours, budgeted runs marked, FLOP savings against the baseline', async () => {
  const runs = mkdtempSync(join(tmpdir(), 'scconv-report-'));
  const [base, sc] = planSweep(SWEEP, { runsDir: runs, budgetMinutes: 5 });
  const common = { epochsPlanned: 2, dataLabel: 'CIFAR-10 (JPEG-75 copy)', backend: 'wasm', machine: 'CPU x2', wallSeconds: 75 };
  fakeRun(base.runDir, [0.31, 0.42], { status: 'budget', epochsTrained: 2, bestTestAcc: 0.42, finalTestAcc: 0.42, params: 1010, flops: 2000000, ...common });
  fakeRun(sc.runDir, [0.35], { status: 'budget', epochsTrained: 1, bestTestAcc: 0.35, finalTestAcc: 0.35, params: 590, flops: 1300000, ...common });
  const rows = await collectRows(SWEEP, { runsDir: runs });
  assert.equal(rows.length, 2);
  assert.equal(rows[1].fewerFlopsPct, 35);
  assert.deepEqual(rows[0].curve.map((v) => Math.round(v)), [31, 42]);
  const t = reportTable(SWEEP, rows).objects() as Record<string, string>[];
  assert.equal(t[0]['Top-1 %, published'], '93.27');
  assert.equal(t[0]['Top-1 %, this repo (best)'], '42.00 †');
  assert.equal(t[1]['Epochs, this repo'], '1/2');
  assert.equal(t[1]['Params, published'], '0.00M');
  assert.equal(t[0]['Params, this repo'], '0.00M (+1.0%)');
  assert.equal(t[1]['FLOPs, this repo'], '1.30M (+4.0%)');
  assert.equal(t[1]['Fewer FLOPs, published'], '37%');
  assert.equal(t[1]['Fewer FLOPs, this repo'], '35.0%');
  assert.equal(t[0]['Data, this repo'], 'CIFAR-10 (JPEG-75 copy)');
  assert.equal(t[0]['Run (this repo)'], 'budgeted, 5 min per row');
  assert.equal(t[0]['Train images × epochs'], '50,000 × 2');
  assert.equal(t[0]['Backend · machine'], 'wasm · CPU x2');
  assert.equal(t[0]['s/epoch'], '31');
  // No measured number ever lands in a "published" column.
  for (const r of t) for (const [k, v] of Object.entries(r)) if (k.includes('published')) assert.ok(!v.includes('†') && !['42.00', '35.00'].includes(v));

  const out = mkdtempSync(join(tmpdir(), 'scconv-reports-'));
  const { markdown, html } = await writeReport(SWEEP, { runsDir: runs, outDir: out });
  const md = readFileSync(markdown, 'utf8');
  assert.match(md, /^# Mini table/);
  assert.match(md, /\|Row\|Run \(this repo\)\|Train images × epochs\|Params, published\|/);
  assert.match(md, /Published figures: Paper X, Table 9 \(200 epochs on official CIFAR-10\)/);
  assert.match(md, /JPEG-75 copy\)" rows were trained and tested on a lossy copy/);
  assert.match(md, /Budgeted mode, as the sweep file sets it: two epochs/);
  const page = readFileSync(html, 'utf8');
  assert.match(page, /<script src="[^"]*node_modules\/plotly\.js-dist-min\/plotly\.min\.js"><\/script>/);
  assert.equal((page.match(/class="scconv-plot"/g) ?? []).length, 4); // accuracy, curves, params, FLOPs
  assert.ok(page.includes('Top-1 test accuracy: published vs this repo'));
  assert.ok(existsSync(join(out, 'mini', 'budget-5min', 'sc', 'metrics.jsonl')));
});

test('rows never run still show published figures and computed complexity', async () => {
  const runs = mkdtempSync(join(tmpdir(), 'scconv-report-'));
  const rows = await collectRows(SWEEP, { runsDir: runs, complexity: async (s) => (s.conv === 'scconv' ? { params: 610, flops: 1260000 } : { params: 1000, flops: 2000000 }) });
  assert.deepEqual(rows.map((r) => [r.mode, r.status, r.params, r.top1]), [['full', 'not run', 1000, null], ['full', 'not run', 610, null]]);
  // A budget that ran out inside the first epoch: the summary's accuracy 0 is no measurement.
  const [p] = planSweep(SWEEP, { runsDir: runs, budgetMinutes: 1 });
  mkdirSync(p.runDir, { recursive: true });
  writeFileSync(join(p.runDir, 'summary.json'), JSON.stringify({ status: 'budget', epochsTrained: 0, epochsPlanned: 2, bestTestAcc: 0 }));
  const cut = (await collectRows(SWEEP, { runsDir: runs })).find((r) => r.mode === 'budget-1min' && r.id === 'base')!;
  assert.equal(cut.top1, null);
  assert.equal(reportTable(SWEEP, [cut]).get('Top-1 %, this repo (best)', 0), '—');
  assert.equal(rows[1].fewerFlopsPct, 37);
  assert.equal(reportTable(SWEEP, rows).get('Run (this repo)', 0), '—');
});

test('the shipped sweeps load, and carry the published figures of the issue', () => {
  const t2 = loadSweep('table2');
  const byId = Object.fromEntries(t2.rows.map((r) => [r.id, r.published]));
  assert.deepEqual(byId['resnet56'], { params: 860000, flops: 126840000, top1: 93.27 });
  assert.deepEqual(byId['scconv-resnet56'], { params: 520000, flops: 79550000, top1: 94.12 });
  assert.deepEqual(byId['ghost-resnet56'], { params: 450000, flops: 68350000, top1: 92.35 });
  assert.deepEqual(byId['octave-resnet56'], { params: 620000, flops: null, top1: 93.11 });
  const alpha = loadSweep('alpha');
  assert.deepEqual(alpha.rows.filter((r) => r.published).map((r) => [r.args.alpha, r.published!.top1, r.published!.fewerFlopsPct]), [[0.25, 92.3, 42], [0.5, 93.7, 38], [0.75, 93.9, 32]]);
  assert.deepEqual(loadSweep('seed-resnet20').rows.map((r) => r.args.conv), ['standard', 'scconv', 'ghost', 'octave']);
  assert.deepEqual(loadSweep('ablation').rows.map((r) => r.args.scconvParts ?? r.args.conv ?? 'sru-cru'), ['standard', 'sru', 'cru', 'sru-cru', 'cru-sru', 'parallel']);
});

test("every shipped sweep row is a valid train command (the train CLI's own parser)", async () => {
  const { parseTrainArgs } = await import('../../src/train/args');
  for (const name of ['table2', 'seed-resnet20', 'alpha', 'ablation']) {
    for (const budgetMinutes of [0, 20]) {
      for (const plan of planSweep(loadSweep(name), { budgetMinutes })) {
        const { config } = parseTrainArgs(plan.args);
        assert.equal(config.out, plan.runDir);
        assert.equal(config.budgetMinutes, budgetMinutes || undefined);
      }
    }
  }
});

test('mode folders name the budget and the overrides that change the experiment', () => {
  const [p] = planSweep(SWEEP, { budgetMinutes: 15, overrides: { maxTrain: 512, epochs: 2, data: '/x.tar.gz' } });
  assert.equal(p.mode, 'budget-15min_epochs=2,maxTrain=512');
  assert.equal(describeMode(p.mode), 'budgeted, 15 min per row (epochs=2, maxTrain=512)');
  assert.equal(describeMode('full'), 'full recipe');
  assert.equal(planSweep(SWEEP, { overrides: { backend: 'wasm' } })[0].mode, 'full');
});

test('the reading says whether accuracy gaps exceed test-set noise', () => {
  const row = (label: string, top1: number | null, testImages: number): ReportRow => ({ label, top1, testImages, mode: 'full', status: top1 === null ? 'budget' : 'done' } as ReportRow);
  const [noisy] = reading([row('A', 11, 500), row('B', 8.2, 500), row('C', null, 500)]);
  // p = 0.096, n = 500: 2·√2·√(p(1−p)/n) = 3.7 points > spread 2.8
  assert.match(noisy, /^Reading \(full recipe\): A 11\.0% ≥ B 8\.2%; the spread \(2\.8 points\) is within test-set noise \(±3\.7 points for two rows at 500 test images\), so this run does not rank the variants\. Accuracies are near chance \(10%\)\. No accuracy for C/);
  const [clear] = reading([row('A', 93, 10000), row('B', 91, 10000)]);
  assert.match(clear, /the spread \(2\.0 points\) exceeds test-set noise \(±0\.8 points at 10,000 test images\)/);
});

test('the reading names rows cut short by the budget and compares the order with the published one', () => {
  const row = (label: string, top1: number, publishedTop1: number | null, epochsTrained = 10): ReportRow =>
    ({ label, top1, publishedTop1, testImages: 10000, epochsTrained, epochsPlanned: 10, mode: 'full', status: 'done' } as ReportRow);
  // noise at p ≈ 0.7, n = 10,000: ±1.3 points
  const [text] = reading([row('A', 70, 93.3), row('S', 65, 94.1, 7), row('G', 70.5, 92.4), row('X', 60, null)]);
  assert.match(text, /S stopped after 7 of 10 epochs: not comparable with rows that trained every epoch\./);
  // S was cut short, so it is left out of the comparison; A vs G is within noise.
  assert.match(text, /Published order \(A 93\.30 > G 92\.40\): of its 1 pairs this run keeps 0, reverses 0, and leaves 1 within noise\.$/);
  const [full] = reading([row('A', 70, 93.3), row('S', 65, 94.1), row('G', 70.5, 92.4)]);
  // Published S > A > G. Here S < A (reversed), S < G (reversed), A vs G within noise (tie).
  assert.match(full, /Published order \(S 94\.10 > A 93\.30 > G 92\.40\): of its 3 pairs this run keeps 0, reverses 2, and leaves 1 within noise\.$/);
  const [single] = reading([row('A', 70, 93.3), row('X', 60, null)]);
  assert.doesNotMatch(single, /Published order/);
});

test('report rows: a torn last metrics line is dropped with a warning; a damaged middle line is an error naming the file', async () => {
  const runs = mkdtempSync(join(tmpdir(), 'scconv-report-torn-'));
  const [base] = planSweep(SWEEP, { runsDir: runs, budgetMinutes: 5 });
  fakeRun(base.runDir, [0.31, 0.42], { status: 'budget', epochsTrained: 2 });
  const file = join(base.runDir, 'metrics.jsonl');
  const good = readFileSync(file, 'utf8');
  writeFileSync(file, good + '{"epoch":3,"testA');  // a kill mid-append
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (line: string) => warnings.push(line);
  try {
    const rows = await collectRows(SWEEP, { runsDir: runs });
    assert.deepEqual(rows[0].curve.map((v) => Math.round(v)), [31, 42]);
  } finally {
    console.warn = warn;
  }
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /dropped its last line/);
  const [first, second] = good.trim().split('\n');
  writeFileSync(file, `${first}\n{"epoch":2,"te\n${second}\n`);
  await assert.rejects(collectRows(SWEEP, { runsDir: runs }), (e: Error) => e.message.includes(file) && /line 2 does not parse/.test(e.message));
});
