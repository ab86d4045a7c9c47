/**
 * SCConv gradients (autodiff through SRU's gates, CRU's convs and fusion) agree with central
 * finite differences on a small case, for both gates and both fusions.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { GhostConv, GroupedConv2D, GroupNorm, OctaveConv, SCConv } from '../../src/index';
import { TEST_BACKENDS } from '../kernels/helpers';

const EPS = 1e-2;

/** The gate mask [w > t] as a string, to detect perturbations that flip a gate. */
const maskOf = (layer: SCConv, x: tf.Tensor4D): string =>
  tf.tidy(() => Array.from(tf.step(tf.sub(layer.gates(x).w, 0.5)).dataSync()).join(''));

for (const backend of TEST_BACKENDS) describe(`SCConv gradients (${backend.name})`, { skip: backend.skip }, () => {
  before(() => tf.setBackend(backend.name));
  after(() => tf.setBackend('cpu'));
  for (const [gate, fusion] of [['soft', 'pairwise'], ['hard', 'global']] as const) {
    it(`match numerical gradients (gate ${gate}, fusion ${fusion})`, () => {
      const x = tf.variable(tf.randomNormal([2, 4, 4, 8], 0, 1, 'float32', 11)) as unknown as tf.Tensor4D;
      const xVar = x as unknown as tf.Variable;
      const r = tf.randomNormal([2, 4, 4, 8], 0, 1, 'float32', 12);
      const layer = new SCConv({groupNum: 2, gate, fusion});
      tf.dispose(layer.apply(x) as tf.Tensor);
      layer.sru.gamma!.write(tf.tensor1d([0.3, 1.4, 0.8, 1.1, 0.5, 1.3, 0.9, 0.6]));
      layer.cru.gwcBias!.write(tf.randomNormal([8], 0, 0.3, 'float32', 13) as tf.Tensor1D);
      const loss = () => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, r)) as tf.Scalar;
      const {grads} = tf.variableGrads(loss);
      let checked = 0;
      // Every weight, and the input (its gradient feeds the layers before).
      const targets = [
        ...layer.trainableWeights.map((w) => ({name: w.name, read: () => w.read(), write: (t: tf.Tensor) => w.write(t)})),
        {name: xVar.name, read: () => xVar as tf.Tensor, write: (t: tf.Tensor) => xVar.assign(t)},
      ];
      for (const v of targets) {
        const g = grads[v.name].dataSync();
        const base = v.read().clone();
        const flat = base.dataSync();
        // A few coordinates per variable, spread over the tensor.
        for (const i of [0, Math.floor(flat.length / 2), flat.length - 1]) {
          const at = (delta: number) => {
            const p = flat.slice();
            p[i] += delta;
            v.write(tf.tensor(p, base.shape));
            return tf.tidy(() => loss().dataSync()[0]);
          };
          // The gates are piecewise: shrink the step until neither side flips a gate.
          const mask = maskOf(layer, x);
          let eps = EPS;
          let numeric = NaN;
          for (; eps > 1e-4; eps /= 2) {
            const plus = at(eps);
            const same = maskOf(layer, x) === mask;
            const minus = at(-eps);
            if (same && maskOf(layer, x) === mask) {
              numeric = (plus - minus) / (2 * eps);
              break;
            }
          }
          v.write(base.clone());
          assert.ok(!Number.isNaN(numeric), `${v.name}[${i}]: every step down to 1e-4 flips a gate`);
          const tol = 5e-3 * Math.max(1, Math.abs(numeric)) * (EPS / eps);
          assert.ok(Math.abs(g[i] - numeric) < tol, `${v.name}[${i}]: autodiff ${g[i]} vs numeric ${numeric}`);
          checked++;
        }
        base.dispose();
      }
      assert.equal(checked, 3 * 9);
      // The soft gate passes gradient to γ through w (the sigmoid map); it must not vanish.
      if (gate === 'soft') assert.ok(tf.max(tf.abs(grads[layer.sru.gamma!.name])).dataSync()[0] > 1e-4);
      tf.dispose([grads, xVar] as tf.TensorContainer);
    });
  }
});

describe('SCConv and the other custom layers train', () => {
  it('train end to end: a few Adam steps on a tiny SCConv model (adapter included) lower the loss', () => {
    const input = tf.input({shape: [6, 6, 16]});
    const mid = new SCConv({groupNum: 4}).apply(input) as tf.SymbolicTensor;
    // The channel/stride adapter must train too (every op on its path needs a gradient).
    const y = new SCConv({filters: 32, strides: 2, gate: 'hard', fusion: 'global'}).apply(mid) as tf.SymbolicTensor;
    const pooled = tf.layers.globalAveragePooling2d({}).apply(y) as tf.SymbolicTensor;
    const model = tf.model({inputs: input, outputs: tf.layers.dense({units: 3}).apply(pooled) as tf.SymbolicTensor});
    const x = tf.randomNormal([8, 6, 6, 16], 0, 1, 'float32', 21);
    const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32'), 3);
    const opt = tf.train.adam(0.01);
    const loss = () => tf.losses.softmaxCrossEntropy(labels, model.apply(x) as tf.Tensor) as tf.Scalar;
    const first = tf.tidy(() => loss().dataSync()[0]);
    for (let i = 0; i < 20; i++) tf.dispose(opt.minimize(loss, true) ?? undefined);
    const last = tf.tidy(() => loss().dataSync()[0]);
    assert.ok(last < 0.8 * first, `loss ${first} → ${last}`);
  });

  it("OctaveConv: a batch's input gradient equals each image's own (no mixing across the batch)", () => {
    // Guards the upsampling gradient: tfjs-backend-cpu's ResizeNearestNeighborGrad mixes images.
    const layer = new OctaveConv({filters: 8});
    const x = tf.randomNormal([3, 4, 4, 8], 0, 1, 'float32', 41) as tf.Tensor4D;
    const r = tf.randomNormal([3, 4, 4, 8], 0, 1, 'float32', 42);
    const grad = (xs: tf.Tensor, rs: tf.Tensor) => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(layer.apply(t) as tf.Tensor, rs)))(xs);
    const whole = grad(x, r).arraySync() as number[][][][];
    for (let i = 0; i < 3; i++) {
      const own = grad(tf.slice(x, [i], [1]), tf.slice(r, [i], [1])).arraySync() as number[][][][];
      const a = whole[i].flat(2), b = own[0].flat(2);
      assert.ok(a.every((v, j) => Math.abs(v - b[j]) < 1e-5), `image ${i}: batch gradient differs from its own`);
    }
  });

  it('every custom layer trains, and training steps leak no tensors', () => {
    const input = tf.input({shape: [8, 8, 16]});
    let y = new SCConv().apply(input) as tf.SymbolicTensor;
    y = new SCConv({filters: 32, strides: 2, gate: 'hard', fusion: 'global'}).apply(y) as tf.SymbolicTensor;
    y = new GhostConv({filters: 32, strides: 2}).apply(y) as tf.SymbolicTensor;
    y = new OctaveConv({filters: 32}).apply(y) as tf.SymbolicTensor;
    y = new GroupedConv2D({filters: 32, groups: 4}).apply(y) as tf.SymbolicTensor;
    y = new GroupNorm().apply(y) as tf.SymbolicTensor;
    const pooled = tf.layers.globalAveragePooling2d({}).apply(y) as tf.SymbolicTensor;
    const model = tf.model({inputs: input, outputs: tf.layers.dense({units: 3}).apply(pooled) as tf.SymbolicTensor});
    const x = tf.randomNormal([4, 8, 8, 16], 0, 1, 'float32', 31);
    const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 0], 'int32'), 3);
    const opt = tf.train.momentum(0.05, 0.9);
    const step = () => tf.dispose(opt.minimize(() =>
      tf.losses.softmaxCrossEntropy(labels, model.apply(x, {training: true}) as tf.Tensor) as tf.Scalar, true) ?? undefined);
    step();  // creates the optimizer's momentum slots
    const before = tf.memory().numTensors;
    const weightsBefore = model.getWeights().map((w) => w.dataSync().slice());
    step();
    step();
    assert.equal(tf.memory().numTensors, before);
    const still = model.weights.filter((w, i) => tf.util.arraysEqual(Array.from(w.read().dataSync()), Array.from(weightsBefore[i])))
      .map((w) => w.name);
    // Every weight gets a gradient and moves, except the hard-gated SRU's γ, β: binary masks pass
    // no gradient, so with gate 'hard' GroupNorm's affine parameters do not learn.
    const hard = (model.layers[2] as SCConv).sru;
    assert.deepEqual(still.sort(), [hard.gamma!.name, hard.beta!.name].sort());
  });
});

