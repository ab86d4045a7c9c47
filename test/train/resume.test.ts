/**
 * Resume is exact: a run stopped mid-epoch (the path SIGINT/SIGTERM take) and resumed ends with
 * bit-identical weights, optimizer state and metrics to the same run done straight. Also: NaN stop
 * keeps the last good checkpoint; the budget stops with a resumable checkpoint.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, beforeEach, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import type { Cifar10 } from '../../src/data/cifar10';
import { loadCheckpoint } from '../../src/train/checkpoint';
import { train } from '../../src/train/train';
import { TEST_BACKENDS } from '../kernels/helpers';
import { checkpointArrays, metricsWithoutTimes, runDir, tinyConfig, tinyData } from './helpers';

let data: Cifar10;
before(async () => { data = await tinyData(); });

for (const backend of TEST_BACKENDS) describe(`on ${backend.name}`, { skip: backend.skip }, () => {
beforeEach(() => { tf.setBackend(backend.name); });

test('stopped mid-epoch and resumed == straight (weights, velocities, metrics), and a finished run refuses a restart', async () => {
  const straight = runDir();
  const s1 = await train(tinyConfig(straight), { data });
  assert.equal(s1.status, 'done');
  assert.equal(s1.epochsTrained, 2);
  assert.equal(s1.backend, backend.name);

  const split = runDir();
  let steps = 0;
  const s2 = await train(tinyConfig(split), { data, onStep: () => steps++, stopRequested: () => steps === 3 });
  assert.equal(s2.status, 'interrupted');
  const mid = loadCheckpoint(split);
  assert.deepEqual([mid.epoch, mid.step, mid.rng], [1, 1, { seed: 3, epoch: 1, step: 1 }]);
  const s3 = await train(tinyConfig(split), { data, resume: true });
  assert.equal(s3.status, 'done');

  assert.deepEqual(checkpointArrays(split), checkpointArrays(straight));
  assert.deepEqual(metricsWithoutTimes(split), metricsWithoutTimes(straight));
  assert.equal(s3.finalTestAcc, s1.finalTestAcc);
  await assert.rejects(train(tinyConfig(straight), { data }), /already holds a checkpoint\. Pass --resume/);
  await assert.rejects(train(tinyConfig(straight, { lr: 0.1 }), { data, resume: true }), /--resume expects lr to stay 0\.05/);
});

test('a NaN loss stops the run with a message and keeps the last good checkpoint', async () => {
  const run = runDir();
  let good: Float32Array | null = null;
  const s = await train(tinyConfig(run, { epochs: 3 }), {
    data,
    onEpoch: (row, model) => {
      if (row.epoch !== 1) return;
      good = checkpointArrays(run);
      const fc = model.getLayer('fc');
      fc.setWeights(fc.getWeights().map((w) => tf.fill(w.shape, NaN)));
    },
  });
  assert.equal(s.status, 'nan');
  assert.match(s.message, /loss became NaN at epoch 2, batch 1 .*last good checkpoint \(1 epochs\) is kept/);
  assert.equal(loadCheckpoint(run).epoch, 1);
  assert.deepEqual(checkpointArrays(run), good);
  assert.equal(JSON.parse(fs.readFileSync(path.join(run, 'summary.json'), 'utf8')).status, 'nan');
});

test('the budget stops with a resumable checkpoint and status budget', async () => {
  const run = runDir();
  const s = await train(tinyConfig(run, { budgetMinutes: 1e-6 }), { data });
  assert.equal(s.status, 'budget');
  const ck = loadCheckpoint(run);
  assert.deepEqual([ck.epoch, ck.step], [0, 1]);
  assert.ok(s.imagesPerSec > 0 && Number.isFinite(s.imagesPerSec)); // measured on the partial epoch
  assert.match(s.message, /the next batch .* would overrun --budget-minutes/);
});
});
