/**
 * Option-A shortcut of the CIFAR ResNet (He et al. 2016, Sec. 4.2): a parameter-free identity
 * that subsamples by the stride and zero-pads the new channels, so a block that doubles the
 * channels and halves the resolution still adds its input to its output.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from '../errors';

export interface ZeroPadShortcutArgs {
  /** Output channels; must be at least the input channels. */
  filters: number;
  /** Spatial subsampling factor (1 or 2). Defaults to 1. */
  strides?: number;
  name?: string;
}

/** x[:, ::s, ::s, :] followed by zero channels split evenly before and after (PyTorch's F.pad idiom). */
export class ZeroPadShortcut extends tf.layers.Layer {
  /** @nocollapse */
  static className = 'ZeroPadShortcut';
  readonly filters: number;
  readonly strides: number;

  constructor(args: ZeroPadShortcutArgs) {
    super({ name: args.name });
    expect(Number.isInteger(args.filters) && args.filters > 0, 'ZeroPadShortcut', 'filters a positive integer', args.filters);
    this.filters = args.filters;
    this.strides = args.strides == null ? 1 : args.strides;
    expect(this.strides === 1 || this.strides === 2, 'ZeroPadShortcut', 'strides 1 or 2', this.strides);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [n, h, w, c] = inputShape as tf.Shape;
    expect(c != null && c <= this.filters, 'ZeroPadShortcut', `at most ${this.filters} input channels`, c);
    const sub = (d: number | null) => (d == null ? null : Math.ceil(d / this.strides));
    return [n, sub(h), sub(w), this.filters];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D; // (B, H, W, C)
      const [b, h, w, c] = x.shape;
      const sub = this.strides === 1 ? x : tf.stridedSlice(x, [0, 0, 0, 0], [b, h, w, c], [1, this.strides, this.strides, 1]);
      const extra = this.filters - c;
      const before = Math.floor(extra / 2);
      return extra === 0 ? sub : tf.pad(sub, [[0, 0], [0, 0], [0, 0], [before, extra - before]]);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), filters: this.filters, strides: this.strides };
  }
}
tf.serialization.registerClass(ZeroPadShortcut);
