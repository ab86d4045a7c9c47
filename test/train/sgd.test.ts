import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { SgdMomentum } from '../../src/train/sgd';

test('SGD momentum + coupled weight decay matches torch.optim.SGD arithmetic, by hand', async () => {
  // w = [1, -2] decays (a kernel), b = [0.5] does not (a bias). μ = 0.9, λ = 0.1, lr = 0.5.
  const w = tf.variable(tf.tensor1d([1, -2]));
  const b = tf.variable(tf.tensor1d([0.5]));
  const opt = new SgdMomentum([{ name: 'w', variable: w, decay: true }, { name: 'b', variable: b, decay: false }], 0.9, 0.1);
  // step 1: g_w = [0.2, 0.4] + 0.1·[1, -2] = [0.3, 0.2]; v = g; w = [1 - 0.15, -2 - 0.1] = [0.85, -2.1]
  //         g_b = [1]; v_b = [1]; b = 0.5 - 0.5 = 0
  opt.step([tf.tensor1d([0.2, 0.4]), tf.tensor1d([1])], 0.5);
  assert.deepEqual([...w.dataSync()].map((v) => +v.toFixed(6)), [0.85, -2.1]);
  assert.deepEqual([...b.dataSync()].map((v) => +v.toFixed(6)), [0]);
  // step 2 (lr 0.1): g_w = [0, 0] + 0.1·[0.85, -2.1] = [0.085, -0.21]; v = 0.9·[0.3, 0.2] + g = [0.355, -0.03]
  //         w = [0.85 - 0.0355, -2.1 + 0.003] = [0.8145, -2.097]; v_b = 0.9 + 2 = 2.9; b = 0 - 0.29
  opt.step([tf.tensor1d([0, 0]), tf.tensor1d([2])], 0.1);
  assert.deepEqual([...w.dataSync()].map((v) => +v.toFixed(5)), [0.8145, -2.097]);
  assert.deepEqual([...b.dataSync()].map((v) => +v.toFixed(5)), [-0.29]);
  const state = await opt.state();
  assert.deepEqual(state.velocities.map((v) => [...v.values].map((x) => +x.toFixed(5))), [[0.355, -0.03], [2.9]]);

  // The state round-trips into a fresh optimizer exactly.
  const opt2 = new SgdMomentum([{ name: 'w', variable: w, decay: true }, { name: 'b', variable: b, decay: false }], 0.9, 0.1);
  opt2.loadState(state);
  assert.deepEqual((await opt2.state()).velocities.map((v) => [...v.values]), state.velocities.map((v) => [...v.values]));
  assert.throws(() => opt2.loadState({ ...state, velocities: state.velocities.slice(1) }), /expects 2 velocities, but received 1/);
  // A null gradient (weight not used this step) leaves the weight and its velocity alone, like PyTorch.
  opt.step([tf.tensor1d([1, 1]), null], 0.1);
  assert.deepEqual([...b.dataSync()].map((v) => +v.toFixed(5)), [-0.29]);
  assert.deepEqual([...(await opt.state()).velocities[1].values].map((x) => +x.toFixed(5)), [2.9]);
});
