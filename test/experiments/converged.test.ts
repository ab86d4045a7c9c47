/**
 * The converged-run report: run folders in, tables and a learning-curve figure out.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { accuracyAtTime, equalEpochTable, equalTimeTable, learningCurves, readConvergedRuns, runTable, speedKept, writeConvergedReport } from '../../src/experiments/converged';
import { tempDir } from '../data/fixtures';

/** A run folder with `epochs` metrics rows (test accuracy base + 1% per epoch, 100 s per epoch). */
function fakeRun(runs: string, id: string, conv: string, epochs: number, base: number, done: boolean, speed = (e: number) => 400,
  planned = 40): void {
  const dir = path.join(runs, id);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ depth: 20, conv, seed: 0, epochs: planned }));
  fs.writeFileSync(path.join(dir, 'metrics.jsonl'), Array.from({ length: epochs }, (_, i) => JSON.stringify({
    epoch: i + 1, testAcc: base + 0.01 * i, trainAcc: base, trainLoss: 1 / (i + 1), imagesPerSec: speed(i + 1), wallSeconds: 100 * (i + 1),
  }) + '\n').join(''));
  fs.writeFileSync(path.join(dir, 'summary.json'), JSON.stringify({ status: done ? 'done' : 'interrupted', params: 272474, flops: 40813184, dataLabel: 'CIFAR-10 (JPEG-75 copy)', machine: 'm', backend: 'native' }));
  fs.writeFileSync(path.join(dir, 'commit.txt'), 'abc123\n');
}

test('runs are read plain network first; tables compare at equal epochs and equal wall-clock time', () => {
  const runs = tempDir('scconv-converged-');
  fakeRun(runs, 'b', 'scconv', 6, 0.4, false, (e) => (e === 2 ? 200 : 220));
  fakeRun(runs, 'a', 'standard', 40, 0.5, true);
  const read = readConvergedRuns(runs);
  assert.deepEqual(read.map((r) => r.config.conv), ['standard', 'scconv']);
  assert.equal(speedKept(read[1]), 1.1); // epoch 6: 220 against epoch 2's 200
  assert.equal(accuracyAtTime(read[0], 350)?.epoch, 3);
  const table = runTable(read);
  assert.match(table, /\| ResNet-20 \| 0 \| 40\/40 \| 89\.00% \| 89\.00% \| 0\.272M \| 40\.8M \| 400 \| 100% \| 1:06 \| done \| 91\.2% \|/);
  assert.match(table, /\| SCConv-ResNet-20 \| 0 \| 6\/40 \| 45\.00% .* interrupted: resumable \(--resume\) \| 93\.7% \|/);
  assert.match(equalEpochTable(read), /\| 5 \| 54\.00% \| 44\.00% \|\n\| 6 \| 55\.00% \| 45\.00% \|$/);
  assert.match(equalTimeTable(read), /\| 0:10 \| 55\.00% \(epoch 6\) \| 45\.00% \(epoch 6\) \|$/);
  assert.equal(learningCurves(read).data.length, 6); // test acc, train acc, loss per run
});

test('writeConvergedReport writes Markdown and HTML with the notes, the lead in bold', () => {
  const root = tempDir('scconv-converged-');
  const runsDir = path.join(root, 'converged', 'runs');
  fakeRun(runsDir, 'a', 'standard', 3, 0.5, false);
  writeConvergedReport({ runsDir, outDir: root, notes: ['What this shows: little.', '## Recipe', 'Chosen by one run.'] });
  const md = fs.readFileSync(path.join(root, 'converged.md'), 'utf8');
  assert.match(md, /\*\*What this shows: little\.\*\*/);
  assert.match(md, /## Recipe\n\nChosen by one run\./);
  assert.match(md, /Code: commit abc123/);
  const html = fs.readFileSync(path.join(root, 'converged.html'), 'utf8');
  assert.match(html, /<h2>Recipe<\/h2>/);
  assert.match(html, /id="converged-curves"/);
  assert.doesNotMatch(md, /Probes/);
});

test('writeConvergedReport reports probe runs (the same recipe, longer) in their own tables and figure', () => {
  const root = tempDir('scconv-converged-');
  const runsDir = path.join(root, 'converged', 'runs'), probesDir = path.join(root, 'converged', 'probes');
  fakeRun(runsDir, 'a', 'standard', 40, 0.5, true);
  fakeRun(probesDir, 'p1', 'standard', 80, 0.5, true, () => 400, 80);
  fakeRun(probesDir, 'p2', 'scconv', 62, 0.4, false, () => 400, 80);
  writeConvergedReport({ runsDir, probesDir, outDir: root, notes: ['Lead.'] });
  const md = fs.readFileSync(path.join(root, 'converged.md'), 'utf8');
  assert.match(md, /the 80-epoch probes in converged\/probes\/\./);
  assert.match(md, /only --conv and --seed differ; the probes also --epochs 80\)/);
  assert.match(md, /## Probes: the same recipe for 80 epochs \(not in the tables above\)\n\n\| model[^\n]*\n[^\n]*\n\| ResNet-20 \| 0 \| 80\/80 \| 129\.00% /);
  assert.match(md, /\| SCConv-ResNet-20 \| 0 \| 62\/80 \| /);
  assert.match(md, /## Probes at equal epochs \(test accuracy\)\n\n[^\n]*\n[^\n]*\n\| 1 \| 50\.00% \| 40\.00% \|[\s\S]*\| 60 \| 109\.00% \| 99\.00% \|\n\| 62 \| 111\.00% \| 101\.00% \|\n/);
  const html = fs.readFileSync(path.join(root, 'converged.html'), 'utf8');
  assert.match(html, /id="converged-probe-curves"/);
});
