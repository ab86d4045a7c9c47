/**
 * One training step and one evaluation pass: the two places a batch meets the model.
 */
import * as tf from '@tensorflow/tfjs';
import type { SgdMomentum } from './sgd';

export interface StepResult {
  /** Mean cross-entropy over the batch (NaN/Inf when training diverged; nothing is updated then). */
  loss: number;
  /** Correct top-1 predictions in the batch. */
  correct: number;
}

/** Correct top-1 predictions of `logits` (B, K) against integer `labels`. */
export function countCorrect(logits: tf.Tensor, labels: Int32Array): number {
  const pred = tf.tidy(() => logits.argMax(-1).dataSync());
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (pred[i] === labels[i]) correct++;
  return correct;
}

/**
 * Forward in training mode (BatchNorm uses and updates batch statistics), softmax cross-entropy,
 * backward, and one optimizer step at learning rate `lr`. The update is skipped when the loss is
 * not finite, so the weights stay the last good ones.
 */
export function trainStep(model: tf.LayersModel, opt: SgdMomentum, x: tf.Tensor4D, y: tf.Tensor2D, labels: Int32Array, lr: number): StepResult {
  let logits: tf.Tensor | null = null;
  const vars = opt.params.map((p) => p.variable);
  const { value, grads } = tf.variableGrads(() => {
    logits = tf.keep(model.apply(x, { training: true }) as tf.Tensor); // (B, 10)
    return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
  }, vars);
  const loss = value.dataSync()[0];
  const correct = countCorrect(logits!, labels);
  if (Number.isFinite(loss)) opt.step(vars.map((v) => grads[v.name]), lr);
  tf.dispose([value, logits!, ...Object.values(grads).filter((g) => g != null)]);
  return { loss, correct };
}

/** Top-1 accuracy over batches (inference mode: BatchNorm uses its moving statistics). */
export function evaluate(model: tf.LayersModel, batches: Iterable<{ x: tf.Tensor4D; y: tf.Tensor2D; labels: Int32Array }>): number {
  let correct = 0;
  let seen = 0;
  for (const { x, y, labels } of batches) {
    const logits = model.apply(x, { training: false }) as tf.Tensor;
    correct += countCorrect(logits, labels);
    seen += labels.length;
    tf.dispose([x, y, logits]);
  }
  return seen === 0 ? NaN : correct / seen;
}
