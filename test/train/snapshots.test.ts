/**
 * Per-epoch snapshots (snapshots.ts): the trainer's snapshots.jsonl against a direct computation
 * (each layer's input from its own tap, the SRU gates from the free functions, counts in plain
 * loops), resume truncation, the config switch, and the line size for SCConv-ResNet-20.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { SCConv } from '../../src/layers/scconv';
import { sruGates } from '../../src/layers/sru';
import { createResNet } from '../../src/models/resnet';
import { appendSnapshot, importanceMaps, probeBatch, PROBE_IMAGES, readSnapshots, SNAPSHOTS_FILE, type EpochSnapshot } from '../../src/train/snapshots';
import { train } from '../../src/train/train';
import { tempDir } from '../data/fixtures';
import { runDir, tinyConfig, tinyData } from './helpers';

/** The snapshot of `model` on `x`, computed without snapshots.ts or monitor.ts. */
function direct(model: tf.LayersModel, x: tf.Tensor4D, epoch: number): EpochSnapshot {
  const scconvs = model.layers.filter((l) => l instanceof SCConv) as SCConv[];
  const input = (l: SCConv) => tf.model({ inputs: model.inputs, outputs: l.input as tf.SymbolicTensor }).predict(x) as tf.Tensor4D;
  const sru = scconvs.map((l) => {
    const gamma = Array.from(l.sru.gamma!.read().dataSync());
    const sum = gamma.reduce((a, v) => a + v, 0);
    const t = l.sru.options.threshold;
    const w = sruGates(input(l), { gamma: l.sru.gamma!.read(), beta: l.sru.beta!.read() }, l.sru.options).w.arraySync();
    const c = gamma.length;
    const maps = w.map((img) => img.map((row) => row.map((px) => px.filter((v) => v > t).length / c)));
    const informative = gamma.map((_, ch) => {
      const all = w.flatMap((img) => img.flatMap((row) => row.map((px) => px[ch])));
      return all.filter((v) => v > t).length / all.length;
    });
    return { layer: l.name, threshold: t, height: w[0].length, width: w[0][0].length, gamma, wGamma: gamma.map((g) => g / sum), informative, maps };
  });
  const cru = scconvs.map((l) => {
    const { beta1, beta2 } = l.betas(input(l));
    const mean = (b: tf.Tensor) => Array.from(b.mean([0, 1, 2]).dataSync());
    return { layer: l.name, beta1: mean(beta1), beta2: mean(beta2) };
  });
  return { epoch, images: x.shape[0], sru, cru };
}

/** Equal up to the 4 significant digits the file keeps. */
function close(actual: unknown, expected: unknown, where: string): void {
  if (typeof expected === 'number') {
    assert.ok(Math.abs((actual as number) - expected) <= 5e-4 * Math.max(Math.abs(expected), 1e-6) + 1e-9, `${where}: ${actual} vs ${expected}`);
  } else if (Array.isArray(expected)) {
    assert.equal((actual as unknown[]).length, expected.length, `${where}: length`);
    expected.forEach((e, i) => close((actual as unknown[])[i], e, `${where}[${i}]`));
  } else if (expected && typeof expected === 'object') {
    assert.deepEqual(Object.keys(actual as object).sort(), Object.keys(expected).sort(), `${where}: keys`);
    for (const [k, e] of Object.entries(expected)) close((actual as Record<string, unknown>)[k], e, `${where}.${k}`);
  } else {
    assert.equal(actual, expected, where);
  }
}

test('snapshots.jsonl: one line per epoch, equal to a direct computation on the first 4 test images', async () => {
  const data = await tinyData();
  const run = runDir();
  const expected: EpochSnapshot[] = [];
  const probe = probeBatch(data.test);
  assert.equal(probe.x.shape[0], PROBE_IMAGES);
  await train(tinyConfig(run, { width: 8, conv: 'scconv', epochs: 2 }), {
    data, onEpoch: (row, model) => { expected.push(direct(model, probe.x, row.epoch)); },
  });
  const got = readSnapshots(run);
  assert.deepEqual(got.map((s) => s.epoch), [1, 2]);
  assert.deepEqual(got[0].sru.map((s) => [s.layer, s.height, s.width, s.gamma.length]),
    [['s1b1_conv2', 32, 32, 8], ['s2b1_conv2', 16, 16, 16], ['s3b1_conv2', 8, 8, 32]]);
  close(got, expected, 'snapshots');
  // The maps are exact (uint8 channel counts), the maps differ between images and β between epochs (checks that can fail).
  assert.deepEqual(got[1].sru[0].maps, expected[1].sru[0].maps);
  assert.notDeepEqual(got[1].sru[0].maps[0], got[1].sru[0].maps[1]);
  assert.notDeepEqual(got[0].cru[0].beta1, got[1].cru[0].beta1);
  tf.dispose([probe.x, probe.y]);
});

test('snapshots on resume: a line written after the last checkpoint is replaced; snapshots: false writes none', async () => {
  const data = await tinyData();
  const run = runDir();
  const config = tinyConfig(run, { width: 8, conv: 'scconv', epochs: 2 });
  await assert.rejects(train(config, { data, onEpoch: () => { throw new Error('crash'); } }), /crash/);
  const file = path.join(run, SNAPSHOTS_FILE);
  const first = fs.readFileSync(file, 'utf8');
  fs.appendFileSync(file, JSON.stringify({ epoch: 2, images: 4, sru: [], cru: [] }) + '\n'); // killed before epoch 2's checkpoint
  await train(config, { data, resume: true });
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
  assert.equal(lines.length, 2);
  assert.equal(lines[0] + '\n', first);
  assert.equal(readSnapshots(run)[1].sru.length, 3);

  const off = runDir();
  await train(tinyConfig(off, { width: 8, conv: 'scconv', epochs: 1, snapshots: false }), { data });
  assert.ok(!fs.existsSync(path.join(off, SNAPSHOTS_FILE)));
  assert.deepEqual(readSnapshots(off), []);
  await assert.rejects(train({ ...config, snapshots: false }, { data, resume: true }), /--resume expects snapshots to stay true/);
});

test('a snapshot of SCConv-ResNet-20 (9 SRUs, 4 images) stays under 30 KB a line', async () => {
  const model = createResNet({ depth: 20, width: 16, conv: 'scconv', seed: 0 });
  // Trained-looking γ and β (not the initial 1 and 0, which print short), so the numbers take their full 4 digits.
  for (const l of model.layers) if (l instanceof SCConv) {
    const c = l.sru.gamma!.read().size;
    l.sru.gamma!.write(tf.randomUniform([c], 0.2, 1.5, 'float32', 2));
    l.sru.beta!.write(tf.randomNormal([c], 0, 0.3, 'float32', 3));
  }
  const x = tf.randomNormal([PROBE_IMAGES, 32, 32, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  const dir = tempDir('scconv-snap-');
  await appendSnapshot(dir, model, x, 1);
  const bytes = fs.statSync(path.join(dir, SNAPSHOTS_FILE)).size;
  const [s] = readSnapshots(dir);
  assert.equal(s.sru.length, 9);
  assert.equal(s.cru.length, 9);
  console.log(`SCConv-ResNet-20 snapshot line: ${bytes} bytes`);
  assert.ok(bytes < 30_000, `${bytes} bytes`);
});

test('importanceMaps: every SRU\'s w, equal to the free-function gates on the layer\'s own tapped input', async () => {
  const model = createResNet({ depth: 8, width: 8, conv: 'scconv', seed: 0 });
  for (const l of model.layers) if (l instanceof SCConv) l.sru.gamma!.write(tf.randomUniform([l.sru.gamma!.read().size], 0.2, 1.5, 'float32', 4));
  const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
  const maps = await importanceMaps(model, x);
  const scconvs = model.layers.filter((l) => l instanceof SCConv) as SCConv[];
  assert.deepEqual(maps.map((m) => [m.layer, ...m.shape]), [['s1b1_conv2', 2, 32, 32, 8], ['s2b1_conv2', 2, 16, 16, 16], ['s3b1_conv2', 2, 8, 8, 32]]);
  for (const [i, l] of scconvs.entries()) {
    const input = tf.model({ inputs: model.inputs, outputs: l.input as tf.SymbolicTensor }).predict(x) as tf.Tensor4D;
    const w = sruGates(input, { gamma: l.sru.gamma!.read(), beta: l.sru.beta!.read() }, l.sru.options).w.dataSync();
    assert.equal(maps[i].w.length, w.length);
    assert.ok(maps[i].w.every((v, k) => Math.abs(v - w[k]) < 1e-5), `${l.name}: w differs from sruGates`);
  }
  assert.deepEqual(await importanceMaps(createResNet({ depth: 8, width: 8, conv: 'standard', seed: 0 }), x), []);
  tf.dispose(x);
});
