/**
 * SCConv's `recompute` option: the same outputs and the same gradients (input and every weight)
 * as the layer that keeps its activations, through tf.variableGrads and through the trainer's
 * frugalVariableGrads, and the option survives serialisation.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { SCConv, type SCConvLayerArgs } from '../../src/index';
import { createModel } from '../../src/models/registry';
import { parseTrainArgs } from '../../src/train/args';
import { frugalVariableGrads } from '../../src/train/backprop';
import { resolveConfig } from '../../src/train/config';
import { buildModel } from '../../src/train/train';

const recomputeFlags = (model: tf.LayersModel) => model.layers.filter((l) => l instanceof SCConv).map((l) => (l as SCConv).recompute);

/** max |a − b| / max(|b|, 1e-3), elementwise over the whole tensor. */
function relError(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.div(tf.abs(tf.sub(a, b)), tf.maximum(tf.abs(b), 1e-3))).dataSync()[0]);
}

type Grads = (f: () => tf.Scalar, vars: tf.Variable[]) => { value: tf.Scalar; grads: tf.NamedTensorMap };

/** Output, loss and gradients (by position: the input, then each weight) of one layer. */
function run(layer: SCConv, x: tf.Variable, r: tf.Tensor, grads: Grads) {
  const vars = [x, ...layer.trainableWeights.map((w) => w.read() as tf.Variable)];
  const out = tf.tidy(() => layer.apply(x) as tf.Tensor);
  const {value, grads: g} = grads(() => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, r)) as tf.Scalar, vars);
  return {out, value, grads: vars.map((v) => g[v.name])};
}

const variants: [string, SCConvLayerArgs][] = [
  ['SCConv (soft gate, pairwise fusion)', {groupNum: 2}],
  ['hard gate, global fusion, with the strided projection', {groupNum: 2, gate: 'hard', fusion: 'global', filters: 12, strides: 2}],
  ['parts sru (SRU + k×k conv)', {groupNum: 2, parts: 'sru'}],
  ['parts cru-sru', {groupNum: 2, parts: 'cru-sru'}],
];

describe('SCConv recompute (cpu)', () => {
  for (const [name, args] of variants) {
    for (const [how, grads] of [['tf.variableGrads', tf.variableGrads], ['frugalVariableGrads', frugalVariableGrads]] as [string, Grads][]) {
      it(`${name}: outputs and all gradients equal, ${how}`, () => {
        const x = tf.variable(tf.randomNormal([2, 6, 6, 8], 0, 1, 'float32', 21), true, `x_${name}_${how}`);
        const keep = new SCConv({...args});
        const recompute = new SCConv({...args, recompute: true});
        tf.dispose([keep.apply(x) as tf.Tensor, recompute.apply(x) as tf.Tensor]);
        keep.setWeights(keep.getWeights().map((w, i) => tf.randomNormal(w.shape, i % 2 ? 0.5 : 1, 0.3, 'float32', 30 + i)));
        recompute.setWeights(keep.getWeights());
        const r = tf.randomNormal(keep.computeOutputShape(x.shape) as number[], 0, 1, 'float32', 22);
        const before = tf.memory().numTensors;
        const a = run(keep, x, r, grads);
        const b = run(recompute, x, r, grads);
        assert.equal(b.grads.length, 1 + recompute.trainableWeights.length);
        assert.ok(relError(b.out, a.out) <= 1e-5, `output differs by ${relError(b.out, a.out)}`);
        assert.ok(relError(b.value, a.value) <= 1e-5);
        b.grads.forEach((g, i) => {
          assert.ok(g && a.grads[i], `gradient ${i} missing`);
          const e = relError(g, a.grads[i]);
          assert.ok(e <= 1e-5, `gradient of ${i === 0 ? 'the input' : recompute.trainableWeights[i - 1].name} differs by ${e}`);
        });
        tf.dispose([a.out, a.value, ...a.grads, b.out, b.value, ...b.grads]);
        assert.equal(tf.memory().numTensors, before, 'recompute leaks tensors');
        tf.dispose([x, r]);
        keep.dispose();
        recompute.dispose();
      });
    }
  }

  it('serialises the option and rejects a non-boolean', () => {
    const layer = new SCConv({recompute: true, groupNum: 2});
    assert.equal(layer.getConfig().recompute, true);
    const back = SCConv.fromConfig(SCConv, layer.getConfig()) as SCConv;
    assert.equal(back.recompute, true);
    assert.equal(new SCConv({}).getConfig().recompute, false);
    assert.throws(() => new SCConv({recompute: 'yes' as unknown as boolean}), /recompute to be true or false.*"yes"/);
  });

  it('reaches every SCConv of a model from the trainer flag --scconv-recompute and from the model registry', () => {
    const c = resolveConfig({...parseTrainArgs(['--scconv-recompute', '--depth', '8', '--width', '8']).config});
    assert.equal(c.scconvRecompute, true);
    assert.equal(resolveConfig({}).scconvRecompute, false);
    const trained = buildModel(c);
    assert.deepEqual(recomputeFlags(trained), [true, true, true]);
    const registered = createModel('resnet20_scconv', {scconv: {recompute: true}});
    assert.deepEqual(new Set(recomputeFlags(registered)), new Set([true]));
    assert.deepEqual(new Set(recomputeFlags(createModel('resnet20_scconv'))), new Set([false]));
    tf.dispose([trained, registered].flatMap((m) => m.weights.map((w) => w.read())));
  });
});

