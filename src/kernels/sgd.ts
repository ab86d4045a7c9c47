/**
 * The SGD-with-momentum update of one weight (src/train/sgd.ts) as one native kernel: the weight,
 * its velocity and its gradient in, the new weight and velocity out, in one pass
 * (native/src/sgd.cc), where the tfjs composition makes five kernel calls and five tensors. A
 * training step updates every trainable weight (65 in ResNet-20, 128 in SCConv-ResNet-20), most of
 * them small, so per-call overhead, not arithmetic, is what it costs.
 *
 * Same float operations in the same order as the composition, so the two give the same bits
 * (test/kernels/sgd.test.ts). Anything but three float32 tensors of one shape is an error naming the
 * input (there is no cpu kernel of this name: other backends run the composition).
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from '../errors';
import { SGD_MOMENTUM_KERNEL, type SgdUpdate } from '../train/sgd';
import { float32Arrays, output, withFallback, type KernelArgs } from './native_util';

/** Inputs {w, v, g}, attrs {lr, momentum, decay} → [w', v']. */
const sgdMomentum = withFallback(SGD_MOMENTUM_KERNEL, ({ inputs, backend, attrs }: KernelArgs) => {
  const { w, v, g } = inputs;
  for (const [name, t] of Object.entries({ v, g })) {
    expect(tf.util.arraysEqual(t.shape, w.shape), SGD_MOMENTUM_KERNEL, `${name} of w's shape [${w.shape}]`, t.shape);
  }
  const [wv, vv, gv] = float32Arrays(backend, SGD_MOMENTUM_KERNEL, { w, v, g });
  const { lr, momentum, decay } = attrs as unknown as SgdUpdate;
  const wOut = output(backend, w.shape), vOut = output(backend, w.shape);
  backend.addon.sgdMomentum(wv, vv, gv, wOut.values, vOut.values, lr, momentum, decay);
  return [wOut.info, vOut.info];
});

export const sgdKernels: tf.KernelConfig[] = [sgdMomentum];
