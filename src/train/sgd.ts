/**
 * SGD with momentum and coupled weight decay, written out so its whole state is explicit and a
 * checkpoint holds it exactly. Same arithmetic as torch.optim.SGD (dampening 0, no Nesterov):
 *
 *   g ← g + λ·w      (only for weights that decay)
 *   v ← μ·v + g      (v starts at 0, so the first step has v = g, as PyTorch's buffer)
 *   w ← w − lr·v
 */
import * as tf from '@tensorflow/tfjs';
import { ValueError } from '../errors';

export interface SgdParam {
  name: string;
  variable: tf.Variable;
  /** Whether weight decay applies to this weight. */
  decay: boolean;
}

/** The optimizer state as plain data: one velocity per parameter, in parameter order. */
export interface SgdState {
  momentum: number;
  weightDecay: number;
  velocities: { name: string; shape: number[]; values: Float32Array }[];
}

export class SgdMomentum {
  readonly velocities: tf.Variable[];

  constructor(readonly params: SgdParam[], readonly momentum: number, readonly weightDecay: number) {
    this.velocities = params.map((p) => tf.variable(tf.zerosLike(p.variable), false, undefined, 'float32'));
  }

  /**
   * One update with `grads[i]` the gradient of params[i] (the caller disposes grads). A null
   * gradient (the weight did not take part, e.g. a switched-off SRU) leaves that weight and its
   * velocity untouched, as PyTorch skips parameters whose .grad is None.
   */
  step(grads: (tf.Tensor | null | undefined)[], lr: number): void {
    if (grads.length !== this.params.length) {
      throw new ValueError(`SgdMomentum.step expects ${this.params.length} gradients, but received ${grads.length}.`);
    }
    tf.tidy(() => {
      this.params.forEach((p, i) => {
        const grad = grads[i];
        if (grad == null) return;
        const g = p.decay && this.weightDecay > 0 ? grad.add(p.variable.mul(this.weightDecay)) : grad;
        const v = this.velocities[i];
        v.assign(v.mul(this.momentum).add(g));
        p.variable.assign(p.variable.sub(v.mul(lr)));
      });
    });
  }

  /** The velocities read out (asynchronously: webgpu in Node has no synchronous read). */
  async state(): Promise<SgdState> {
    const values = await Promise.all(this.velocities.map((v) => v.data() as Promise<Float32Array>));
    return {
      momentum: this.momentum,
      weightDecay: this.weightDecay,
      velocities: this.velocities.map((v, i) => ({ name: this.params[i].name, shape: v.shape, values: values[i] })),
    };
  }

  /** Restore velocities saved by `state()`; shapes must match parameter by parameter. */
  loadState(state: SgdState): void {
    if (state.velocities.length !== this.velocities.length) {
      throw new ValueError(`SgdMomentum.loadState expects ${this.velocities.length} velocities, but received ${state.velocities.length}.`);
    }
    state.velocities.forEach((s, i) => {
      const v = this.velocities[i];
      if (s.shape.join() !== v.shape.join()) {
        throw new ValueError(`SgdMomentum.loadState expects velocity ${i} (${this.params[i].name}) of shape [${v.shape}], but received [${s.shape}].`);
      }
      const t = tf.tensor(s.values, v.shape);
      v.assign(t);
      t.dispose();
    });
  }

  dispose(): void {
    this.velocities.forEach((v) => v.dispose());
  }
}
