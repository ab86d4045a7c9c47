import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { createModel, listModels } from '../../src/models/registry';
import { createResNet } from '../../src/models/resnet';
import { ZeroPadShortcut } from '../../src/models/shortcut';

const trainable = (m: tf.LayersModel) => m.trainableWeights.reduce((s, w) => s + (w.shape as number[]).reduce((a, b) => a * b, 1), 0);

test('CIFAR ResNet parameter counts: He et al. ResNet-20/56 (0.27M / 0.85M with the parameter-free shortcut A)', () => {
  // Hand count for depth 6n+2, shortcut A: 3×3 convs 432 + n·(2·2304) + (4608 + (2n-1)·9216) + (18432 + (2n-1)·36864),
  // BatchNorm γ/β 2·16·(2n+1) + 2·32·2n + 2·64·2n, fc 650. Shortcut B adds 1×1 convs 512 + 2048 and their BN 64 + 128.
  const count = (n: number, b: boolean) => 432 + n * 4608 + 4608 + (2 * n - 1) * 9216 + 18432 + (2 * n - 1) * 36864
    + 32 * (2 * n + 1) + 64 * 2 * n + 128 * 2 * n + 650 + (b ? 2752 : 0);
  for (const [depth, n] of [[20, 3], [56, 9]]) {
    for (const shortcut of ['A', 'B'] as const) {
      const m = createResNet({ depth, shortcut });
      assert.equal(trainable(m), count(n, shortcut === 'B'), `resnet${depth} ${shortcut}`);
      m.dispose();
    }
  }
  assert.equal(count(3, false), 269722); // 0.27M (He et al. Table 6)
  assert.equal(count(9, false), 853018); // 0.85M
});

test('forward shapes, seeded init is reproducible, registry and errors', () => {
  const a = createResNet({ depth: 8, width: 4, shortcut: 'A', seed: 0 }); // seed 0 is a seed too
  const b = createResNet({ depth: 8, width: 4, shortcut: 'A', seed: 0 });
  const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 5);
  const ya = a.predict(x) as tf.Tensor;
  assert.deepEqual(ya.shape, [2, 10]);
  assert.deepEqual([...ya.dataSync()], [...(b.predict(x) as tf.Tensor).dataSync()]);
  assert.ok(listModels().includes('resnet56_scconv') && listModels().includes('resnet20'));
  assert.throws(() => createModel('resnet57'), /createModel expects one of .*resnet56_scconv.*, but received "resnet57"/);
  assert.throws(() => createResNet({ depth: 21 }), /depth = 6n \+ 2 .*but received 21/);
  assert.throws(() => createResNet({ placement: 'first' as 'second' }), /placement one of second, both/);
  assert.throws(() => createResNet({ conv: 'dense' as 'standard' }), /conv one of standard, scconv, ghost, octave/);
});

test('shortcut A subsamples by 2 and zero-pads channels evenly on both sides', () => {
  const x = tf.tensor4d(Array.from({ length: 16 * 2 }, (_, i) => i + 1), [1, 4, 4, 2]);
  const y = new ZeroPadShortcut({ filters: 4, strides: 2 }).apply(x) as tf.Tensor4D;
  assert.deepEqual(y.shape, [1, 2, 2, 4]);
  const v = y.arraySync()[0];
  assert.deepEqual(v[0][0], [0, 1, 2, 0]); // pixel (0,0) = channels [1, 2], padded 1 + 1
  assert.deepEqual(v[1][1], [0, 21, 22, 0]); // pixel (2,2) → index (2·4 + 2)·2 = 20
});

test('SCConv-ResNet replaces the second conv of each block; "both" also the first', () => {
  const second = createModel('resnet20_scconv', { width: 16 });
  const both = createResNet({ depth: 20, conv: 'scconv', placement: 'both' });
  const kinds = (m: tf.LayersModel) => m.layers.filter((l) => /conv[12]$/.test(l.name)).map((l) => `${l.name}:${l.getClassName()}`);
  assert.ok(kinds(second).every((k) => (k.includes('conv2') ? k.endsWith(':SCConv') : k.endsWith(':Conv2D'))));
  assert.ok(kinds(both).every((k) => k.endsWith(':SCConv')));
  assert.deepEqual((both.predict(tf.zeros([1, 32, 32, 3])) as tf.Tensor).shape, [1, 10]);
});
