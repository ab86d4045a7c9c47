/**
 * Whether a gradient tape is recording: inside tf.grad, tf.variableGrads or frugalVariableGrads.
 * Caches of weight-derived values (the native conv's reordered filters, the CRU's fused weights)
 * are used only when it is not, since under a tape the values must be built on it so that
 * gradients reach the weights. Reads tfjs-core's engine state (gradientDepth), which it does not export.
 */
import * as tf from '@tensorflow/tfjs';

export function recordingGradients(): boolean {
  return (tf.engine() as unknown as { state: { gradientDepth: number } }).state.gradientDepth > 0;
}
