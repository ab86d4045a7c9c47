import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import * as aq from 'arquero';
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
