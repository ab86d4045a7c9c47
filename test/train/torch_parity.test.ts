/**
 * Training-step parity with PyTorch: from the same initial weights and batches, 20 steps of
 * `trainStep` + `SgdMomentum` give PyTorch's loss at every step and its final weights, on the stock
 * `cpu` backend and on `native`. Fixture: scripts/make_train_fixtures.py (its docstring gives the
 * recipe, the model sizes and why the SCConv run uses gate threshold 0.7).
 *
 * Weight decay: torch.optim.SGD(weight_decay=λ) adds λ·w to the gradient of EVERY parameter
 * (BatchNorm and GroupNorm γ/β, biases included). Here that is TrainConfig decay 'all'; the
 * default 'kernels' decays only conv/dense kernels and would not match (checked below).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { createResNet, modelFromTorchStateDict, modelToTorchStateDict, ResNetArgs, TorchStateDict } from '../../src/index';
import { trainStep } from '../../src/train/step';
import { buildOptimizer } from '../../src/train/train';
import { NATIVE_BACKEND_NAME, randomValues, skip } from '../kernels/helpers';
import { Packed, unpack } from '../layers/fixtures';

const file = JSON.parse(readFileSync(new URL('../fixtures/train_parity.json', import.meta.url), 'utf8'));
const recipe: {steps: number, batch: number, size: number, lr: number, momentum: number, weight_decay: number,
  decay: 'all', image_seed: number, label_seed: number} = file.recipe;

interface TrainFixture {
  name: string;
  config: Required<Pick<ResNetArgs, 'depth' | 'conv' | 'placement' | 'shortcut' | 'width'>> & {scconv?: {gate_threshold: number}};
  losses: number[];
  /** min |w − t| over every SRU value of the run (null without SRU), min |ReLU input|, values w > t. */
  margin: number | null;
  relu_margin: number;
  above_threshold: number;
  initial: TorchStateDict;
  final: TorchStateDict;
}
const unpackAll = (sd: Record<string, Packed>): TorchStateDict => Object.fromEntries(Object.entries(sd).map(([k, v]) => [k, unpack(v)]));
const fixtures: TrainFixture[] = file.fixtures.map((f: TrainFixture & {initial: Record<string, Packed>, final: Record<string, Packed>}) =>
  ({...f, initial: unpackAll(f.initial), final: unpackAll(f.final)}));

/** Batch k as the generator makes it: mulberry32 images (NCHW → NHWC) and labels. */
function batch(k: number): {x: tf.Tensor4D, y: tf.Tensor2D, labels: Int32Array} {
  const {batch: b, size: s} = recipe;
  const labels = Int32Array.from(randomValues(b, recipe.label_seed + k, 0, 10), Math.floor);
  return tf.tidy(() => ({
    x: tf.transpose(tf.tensor4d(randomValues(b * 3 * s * s, recipe.image_seed + k, -1, 1), [b, 3, s, s]), [0, 2, 3, 1]),
    y: tf.oneHot(tf.tensor1d(labels, 'int32'), 10).toFloat() as tf.Tensor2D,
    labels,
  }));
}

/** PyTorch's final state dict → the model, after `recipe.steps` steps with weight decay on `decay`. */
async function train(f: TrainFixture, decay: 'all' | 'kernels'): Promise<{losses: number[], final: TorchStateDict, decays: boolean[]}> {
  const {depth, conv, placement, shortcut, width} = f.config;
  const model = createResNet({depth, conv, placement, shortcut, width, inputShape: [recipe.size, recipe.size, 3],
    stridePadding: 'torch', scconv: f.config.scconv ? {threshold: f.config.scconv.gate_threshold} : undefined});
  modelFromTorchStateDict(model, f.initial);
  const opt = buildOptimizer(model, {momentum: recipe.momentum, weightDecay: recipe.weight_decay, decay});
  const losses: number[] = [];
  for (let k = 0; k < recipe.steps; k++) {
    const {x, y, labels} = batch(k);
    losses.push((await trainStep(model, opt, x, y, labels, recipe.lr)).loss);
    tf.dispose([x, y]);
  }
  const final = modelToTorchStateDict(model);
  const decays = opt.params.map((p) => p.decay);
  opt.dispose();
  model.dispose();
  return {losses, final, decays};
}

/** Values per channel that a BatchNorm's statistics average over (batch × its output's H × W). */
function countOf(key: string): number {
  const stage = /^layer(\d)\./.exec(key);
  const side = recipe.size / 2 ** (stage ? Number(stage[1]) - 1 : 0);
  return recipe.batch * side * side;
}

/**
 * What tfjs's running variance should be, from PyTorch's: PyTorch feeds the unbiased batch
 * variance (×n/(n−1)) into it, tfjs the biased one, and both start from r0 with momentum 0.1:
 * r_torch − 0.9^T·r0 = n/(n−1) · (r_tfjs − 0.9^T·r0).
 */
function expectedRunningVar(key: string, r0: ArrayLike<number>, rTorch: ArrayLike<number>): Float32Array {
  const n = countOf(key);
  const decayed = 0.9 ** recipe.steps;
  return Float32Array.from(rTorch, (r, i) => decayed * r0[i] + (r - decayed * r0[i]) * (n - 1) / n);
}

/** max |a − b| / (1 + max |b|) over the entries. */
function maxError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let err = 0, scale = 0;
  for (let i = 0; i < b.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return err / (1 + scale);
}

/** Worst error over the final state dict, and where. num_batches_tracked is not kept by tfjs. */
function worstWeight(f: TrainFixture, final: TorchStateDict): {key: string, err: number} {
  let worst = {key: '', err: 0};
  for (const [key, entry] of Object.entries(f.final)) {
    if (key.endsWith('num_batches_tracked')) continue;
    const want = key.endsWith('running_var') ? expectedRunningVar(key, f.initial[key].data, entry.data) : entry.data;
    const err = maxError(final[key].data, want);
    if (err > worst.err) worst = {key, err};
  }
  return worst;
}

// Tolerances. The two frameworks sum in different orders (im2col/oneDNN vs tfjs loops, batch
// reductions), so each step differs by float32 rounding, ~1e-7 relative, and 20 steps of SGD with
// momentum carry that along. Measured on these fixtures: losses within 3.2e-7 (relative) at every
// step and final weights within 5.8e-7 (relative to the tensor's scale), on cpu and native alike.
// The bounds leave ~30× headroom and stay ~2000× below what a real difference does (decaying only
// the kernels: 4e-2, see the last test). What they rely on: no SRU importance value near the gate
// threshold and no ReLU input near 0 in PyTorch's run (the generator picks such seeds and records
// the margins), since there a rounding difference flips a mask; one ReLU tie on the cpu backend
// moved a step's gradients by 1e-3 in a first version of the fixture.
const LOSS_TOL = 1e-5;
const WEIGHT_TOL = 2e-5;

const backends: [string, false | string][] = [['cpu', false], [NATIVE_BACKEND_NAME, skip]];
for (const [backend, skipWhy] of backends) {
  describe(`20 SGD steps match PyTorch on ${backend}`, {skip: skipWhy}, () => {
    for (const f of fixtures) {
      it(`${f.name}: loss at every step and the final weights`, async () => {
        tf.setBackend(backend);
        const {losses, final, decays} = await train(f, recipe.decay);
        assert.ok(decays.every(Boolean), "decay 'all': PyTorch's weight_decay applies to every parameter");
        assert.ok(f.relu_margin >= 1e-6 && (f.margin === null || (f.margin >= 1e-5 && f.above_threshold > 0)),
          'the fixture keeps masks away from ties, and the SRU gate opens for some values');
        losses.forEach((loss, k) => assert.ok(Math.abs(loss - f.losses[k]) <= LOSS_TOL * f.losses[k],
          `step ${k + 1}: loss ${loss} here, ${f.losses[k]} in PyTorch`));
        const worst = worstWeight(f, final);
        assert.ok(worst.err <= WEIGHT_TOL, `final ${worst.key} differs by ${worst.err} (relative)`);
      });
    }
  });
}

describe('the weight-decay convention matters', () => {
  it("decaying only conv/dense kernels ('kernels', this library's default) does not give PyTorch's weights", async () => {
    tf.setBackend('cpu');
    const f = fixtures[0];
    const {final, decays} = await train(f, 'kernels');
    assert.ok(decays.some((d) => !d), 'BatchNorm γ/β and the dense bias do not decay');
    const worst = worstWeight(f, final);
    assert.ok(worst.err > 10 * WEIGHT_TOL, `worst ${worst.key}: ${worst.err}`);
  });
});
