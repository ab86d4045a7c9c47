/**
 * SGD with momentum and coupled weight decay, written out so its whole state is explicit and a
 * checkpoint holds it exactly. Same arithmetic as torch.optim.SGD (dampening 0, no Nesterov):
 *
 *   g ← g + λ·w      (only for weights that decay)
 *   v ← μ·v + g      (v starts at 0, so the first step has v = g, as PyTorch's buffer)
 *   w ← w − lr·v
 *
 * One weight's update is `sgdUpdate`: one kernel call on backends that provide SGD_MOMENTUM_KERNEL
 * (the native backend, src/kernels/sgd.ts), else five tfjs ops; both give the same bits.
 */
import * as tf from '@tensorflow/tfjs';
import { ValueError } from '../errors';

/** The name of the fused update kernel (inputs {w, v, g}, attrs SgdUpdate → [w', v']). */
export const SGD_MOMENTUM_KERNEL = 'SCConvSgdMomentum';

/** One update's scalars: learning rate, momentum μ, weight decay λ (0: this weight does not decay). */
export interface SgdUpdate {
  lr: number;
  momentum: number;
  decay: number;
}

/**
 * The new weight and velocity, v' = μ·v + (g + λ·w) (the decay term only when λ ≠ 0) and
 * w' = w − lr·v', through the fused kernel when `fused` (the current backend provides it).
 */
export function sgdUpdate(w: tf.Tensor, v: tf.Tensor, g: tf.Tensor, u: SgdUpdate, fused: boolean): [tf.Tensor, tf.Tensor] {
  if (fused) return tf.engine().runKernel(SGD_MOMENTUM_KERNEL, { w, v, g }, { ...u }) as [tf.Tensor, tf.Tensor];
  const gd = u.decay !== 0 ? g.add(w.mul(u.decay)) : g;
  const vNew = v.mul(u.momentum).add(gd);
  return [w.sub(vNew.mul(u.lr)), vNew];
}

/** Whether the current backend provides SGD_MOMENTUM_KERNEL. */
export function hasFusedSgd(): boolean {
  return tf.getKernel(SGD_MOMENTUM_KERNEL, tf.getBackend()) !== undefined;
}

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
    const fused = hasFusedSgd();
    tf.tidy(() => {
      this.params.forEach((p, i) => {
        const grad = grads[i];
        if (grad == null) return;
        const decay = p.decay ? this.weightDecay : 0;
        const [w, v] = sgdUpdate(p.variable, this.velocities[i], grad, { lr, momentum: this.momentum, decay }, fused);
        this.velocities[i].assign(v);
        p.variable.assign(w);
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
