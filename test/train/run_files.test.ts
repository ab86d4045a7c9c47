import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import * as aq from 'arquero';
import { DataError } from '../../src/errors';
import { appendMetrics, readMetrics, truncateMetrics } from '../../src/train/run_files';
import { runDir } from './helpers';

test('metrics.jsonl: appended rows, read back by readMetrics and by arquero (ndjson), truncated on resume', async () => {
  const run = runDir();
  fs.mkdirSync(run, { recursive: true });
  for (let epoch = 1; epoch <= 3; epoch++) appendMetrics(run, { epoch, testAcc: epoch / 10, betas: { s1b1_conv2: [0.4, 0.6] } });
  const file = path.join(run, 'metrics.jsonl');
  const table = await aq.loadJSON(file, { type: 'ndjson' });
  assert.deepEqual(table.array('epoch'), [1, 2, 3]);
  assert.deepEqual(table.array('testAcc'), [0.1, 0.2, 0.3]);
  truncateMetrics(run, 2); // a checkpoint at epoch 2: epoch 3's row will be logged again
  assert.deepEqual(readMetrics<{ epoch: number }>(run).map((r) => r.epoch), [1, 2]);
});

test('a torn last line of metrics.jsonl (a kill mid-append) is dropped with a warning; resume rewrites the file whole', () => {
  const run = runDir();
  fs.mkdirSync(run, { recursive: true });
  appendMetrics(run, { epoch: 1, testAcc: 0.1 });
  const file = path.join(run, 'metrics.jsonl');
  fs.appendFileSync(file, '{"epoch":2,"testA'); // the kill
  const warnings: string[] = [];
  assert.deepEqual(readMetrics<{ epoch: number }>(run, (w) => warnings.push(w)).map((r) => r.epoch), [1]);
  assert.equal(warnings.length, 1);
  assert.ok(warnings[0].startsWith(file) && warnings[0].includes('dropped its last line'), warnings[0]);
  truncateMetrics(run, 1, () => {});
  assert.equal(fs.readFileSync(file, 'utf8'), '{"epoch":1,"testAcc":0.1}\n');
  appendMetrics(run, { epoch: 2, testAcc: 0.2 }); // lands on a line of its own
  assert.deepEqual(readMetrics<{ epoch: number }>(run, assert.fail).map((r) => r.epoch), [1, 2]);

  // a complete last row without its newline is kept, and the newline restored before the next append
  fs.writeFileSync(file, '{"epoch":1}\n{"epoch":2}');
  truncateMetrics(run, 2, assert.fail);
  assert.equal(fs.readFileSync(file, 'utf8'), '{"epoch":1}\n{"epoch":2}\n');
});

test('a bad line before the last one is a DataError naming the file and the line', () => {
  const run = runDir();
  fs.mkdirSync(run, { recursive: true });
  const file = path.join(run, 'metrics.jsonl');
  fs.writeFileSync(file, '{"epoch":1}\n{"epo\n{"epoch":3}\n');
  assert.throws(() => readMetrics(run, () => {}), (e: Error) => e instanceof DataError && e.message.includes(file) && /line 2 does not parse/.test(e.message));
  assert.throws(() => truncateMetrics(run, 3, () => {}), /line 2 does not parse/);
  assert.equal(fs.readFileSync(file, 'utf8'), '{"epoch":1}\n{"epo\n{"epoch":3}\n'); // left as it was
});
