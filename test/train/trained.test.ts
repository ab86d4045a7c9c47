/**
 * loadTrained: trained networks by name. A registry entry loads the run folder's final checkpoint
 * into the model of its config; the models shipped in reports/converged/ reproduce the accuracy
 * recorded with them on a fixed slice of the CIFAR-10 test set.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, test } from 'node:test';
import { batches } from '../../src/data/batches';
import { loadCifar10, type Cifar10 } from '../../src/data/cifar10';
import { loadNativeAddon } from '../../src/kernels/native_addon';
import { NATIVE_BACKEND_NAME, registerNativeBackend } from '../../src/kernels/native_backend';
import { loadCheckpoint } from '../../src/train/checkpoint';
import { evaluate } from '../../src/train/step';
import { train } from '../../src/train/train';
import { listTrained, loadTrained } from '../../src/train/trained';
import { notebookEnv } from '../../src/viz/notebook-env';
import * as tf from '@tensorflow/tfjs';
import { runDir, tinyConfig, tinyData } from './helpers';

let data: Cifar10;
before(async () => { data = await tinyData(); });

/** A registry in a temp folder with one entry for `run`. */
function registry(run: string): string {
  const index = path.join(path.dirname(run), 'trained.json');
  fs.writeFileSync(index, JSON.stringify({ tiny: { run: path.basename(run), slice: { images: 8, correct: 3, data: 'tiny' }, testAcc: 0.5 } }));
  return index;
}

test('loadTrained loads the final checkpoint into the model of its config, with metrics and a card', async () => {
  const run = runDir();
  await train(tinyConfig(run, { conv: 'scconv', width: 8 }), { data });
  const t = await loadTrained('tiny', { index: registry(run) });
  const ckpt = loadCheckpoint(run);
  assert.equal(t.config.conv, 'scconv');
  assert.equal(t.model.weights.length, ckpt.weights.length);
  t.model.weights.forEach((w, i) => assert.deepEqual(w.read().dataSync(), ckpt.weights[i].values, w.name));
  assert.equal(t.metrics.length, 2);
  assert.deepEqual([t.card.epochsTrained, t.card.epochsPlanned, t.card.testAcc, t.card.slice.correct], [2, 2, t.metrics[1].testAcc, 3]);
  t.model.dispose();
});

test('loadTrained names the valid models and refuses a checkpoint that does not fit its config', async () => {
  const run = runDir();
  await train(tinyConfig(run), { data });
  const index = registry(run);
  await assert.rejects(loadTrained('nope', { index }), /loadTrained expects one of tiny, but received "nope"/);
  const config = JSON.parse(fs.readFileSync(path.join(run, 'checkpoint', 'state.json'), 'utf8'));
  config.config.width = 8;
  fs.writeFileSync(path.join(run, 'checkpoint', 'state.json'), JSON.stringify(config));
  await assert.rejects(loadTrained('tiny', { index }), /to fit the model of its config\.json/);
});

// The shipped models, on the CIFAR-10 copy they were measured on (CI has it beside the clone).
const source = notebookEnv().dataSource;
const shipped = fs.existsSync(path.join('reports', 'converged', 'trained.json')) ? listTrained() : [];
const addon = loadNativeAddon().addon;
test('every shipped model reproduces its recorded accuracy on the fixed test slice', {
  skip: !source ? 'no CIFAR-10 copy (set SCCONV_DATA to the copy named in reports/converged/trained.json)' : !addon ? 'the native backend is not built' : false,
}, async () => {
  assert.ok(shipped.length >= 1, 'reports/converged/trained.json lists no model');
  registerNativeBackend(addon!, 2);
  const previous = tf.getBackend();
  await tf.setBackend(NATIVE_BACKEND_NAME);
  const cifar = await loadCifar10({ source, download: false, onProgress: () => {} });
  try {
    for (const name of shipped) {
      const { model, card } = await loadTrained(name);
      assert.equal(cifar.label, card.slice.data, `${name} was measured on ${card.slice.data}`);
      const acc = await evaluate(model, batches(cifar.test, { batchSize: 500, limit: card.slice.images }));
      // Recorded on the native backend too; one image may flip where two logits tie to float32 rounding.
      assert.ok(Math.abs(Math.round(acc * card.slice.images) - card.slice.correct) <= 1,
        `${name}: ${Math.round(acc * card.slice.images)}/${card.slice.images} correct, recorded ${card.slice.correct}`);
      model.dispose();
    }
  } finally {
    await tf.setBackend(previous);
  }
});
