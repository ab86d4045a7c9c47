/** A model holding every custom layer saves through tf.io and reloads with identical outputs. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { CRU, GhostConv, GroupedConv2D, GroupNorm, OctaveConv, SCConv, SRU } from '../../src/index';

function everyLayerModel(): tf.LayersModel {
  const input = tf.input({shape: [8, 8, 16]});
  let y = new GroupNorm({groups: 4}).apply(input) as tf.SymbolicTensor;
  y = new SRU({gate: 'hard', threshold: 0.5}).apply(y) as tf.SymbolicTensor;
  y = new CRU({alpha: 0.25, fusion: 'global'}).apply(y) as tf.SymbolicTensor;
  y = new SCConv({groupNum: 2, gate: 'soft', fusion: 'pairwise'}).apply(y) as tf.SymbolicTensor;
  y = new SCConv({filters: 32, strides: 2}).apply(y) as tf.SymbolicTensor;
  y = new GroupedConv2D({filters: 32, groups: 4, useBias: true}).apply(y) as tf.SymbolicTensor;
  y = new GhostConv({filters: 32}).apply(y) as tf.SymbolicTensor;
  y = new OctaveConv({filters: 16}).apply(y) as tf.SymbolicTensor;
  return tf.model({inputs: input, outputs: y});
}

describe('save / load round trip', () => {
  it('reloads a model with every custom layer and gives identical outputs', async () => {
    const model = everyLayerModel();
    // Non-default GN parameters so the gates are not at their initial values.
    for (const w of model.weights.filter((v) => /gamma|beta/.test(v.name))) {
      w.write(tf.randomUniform(w.shape as number[], 0.2, 1.5, 'float32', 1));
    }
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
    }));
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
    const x = tf.randomNormal([2, 8, 8, 16], 0, 1, 'float32', 2);
    const [a, b] = [model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor];
    assert.deepEqual(b.shape, [2, 4, 4, 16]);
    assert.deepEqual(Array.from(b.dataSync()), Array.from(a.dataSync()));
    assert.equal(loaded.countParams(), model.countParams());
    const classes = loaded.layers.map((l) => l.getClassName());
    for (const c of ['SCConvGroupNorm', 'SCConvSRU', 'SCConvCRU', 'SCConv', 'SCConvGroupedConv2D', 'SCConvGhostConv', 'SCConvOctaveConv']) {
      assert.ok(classes.includes(c), `${c} in ${classes}`);
    }
  });
});
