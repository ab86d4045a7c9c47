/**
 * `tf.variableGrads` with the memory of a training step released as the backward pass goes.
 *
 * tfjs-core's backward pass (engine.gradients, tape.backpropagateGradients in 4.22) keeps, until
 * the very end of the pass, every tensor any kernel saved for its gradient and the gradient of
 * every intermediate tensor, including each partial gradient it summed at a fan-out. At the end of
 * a step's backward pass all of them are alive at once: about twice the activations of the whole
 * network. PyTorch frees each saved tensor and each gradient as soon as the node that needs it has
 * run. This does the same on the same tape:
 *
 *   - the tape nodes walked in reverse order; a node's outputs are only consumed by later nodes,
 *     so once a node has run, the gradients of its outputs and its saved tensors are dropped;
 *   - a partial gradient is dropped as soon as it is added into the running sum;
 *   - saved tensors of nodes that do not lie between the variables and the loss are dropped before
 *     the backward pass starts;
 *   - kernels whose gradient reads only the shapes of what it saves (Add, Sub, Mean, Sum, Reshape,
 *     Concat: they save their inputs to know how to reduce or reshape dy) save a shape record
 *     instead of the tensor, during the forward pass. In SCConv-ResNet-20 at batch 128 the
 *     tensors that only these kernels kept were ~30% of all saved bytes (docs/performance.md);
 *   - so does the Square of a batch-norm variance whose gradient the native backend folds into
 *     the batch norm's dx (its x − mean is never read);
 *   - a tensor that is saved is kept as a second handle on its data, without the Identity kernel
 *     and the tape node the engine's clone adds for each (~380 in a SCConv-ResNet-20 step).
 *
 * The gradients are the same numbers as tf.variableGrads' (same tape, same gradient functions, same
 * summation order); test/train/backprop.test.ts checks that.
 *
 * It reads tfjs-core's engine internals (the tape, startTape/endTape), as batch_norm.ts does; they
 * are typed below and checked at run time, so a tfjs upgrade that changes them fails loudly.
 */
import * as tf from '@tensorflow/tfjs';
import { ValueError } from '../errors';
import type { NativeBackendLike } from '../kernels/native_util';

/** A node of tfjs-core's gradient tape (tape.ts). */
interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
  saved?: (tf.Tensor | ShapeRecord)[];
}

/** What a shape-only gradient reads of a saved tensor. */
interface ShapeRecord { shape: number[]; dtype: tf.DataType; rank: number; size: number }

interface EngineInternals {
  startTape(): void;
  endTape(): void;
  getTensorsForGradient(kernelName: string, inputs: tf.NamedTensorMap, outputs: tf.Tensor[]): (tf.Tensor | ShapeRecord)[];
  saveTensorsForBackwardMode(tensors: (tf.Tensor | ShapeRecord)[]): (tf.Tensor | ShapeRecord)[];
  clone(x: tf.Tensor): tf.Tensor;
  makeTensorFromTensorInfo(info: tf.TensorInfo, backend?: tf.KernelBackend): tf.Tensor;
  state: { activeTape: TapeNode[] | null; gradientDepth: number; tensorInfo: WeakMap<object, { backend: tf.KernelBackend }> };
}

function engineInternals(): EngineInternals {
  const engine = tf.engine() as unknown as EngineInternals;
  const methods = ['startTape', 'endTape', 'getTensorsForGradient', 'saveTensorsForBackwardMode', 'clone', 'makeTensorFromTensorInfo'] as const;
  if (!methods.every((m) => typeof engine[m] === 'function') || !engine.state || typeof engine.state.gradientDepth !== 'number' ||
    !(engine.state.tensorInfo instanceof WeakMap)) {
    throw new Error(`frugalVariableGrads expects tfjs-core 4.x engine internals (${methods.join(', ')}, state.activeTape, state.tensorInfo); ` +
      'this tfjs version lacks some: use tf.variableGrads instead.');
  }
  return engine;
}

/**
 * Kernels whose gradient (tfjs-core 4.22's, and the native override of Mean in kernels/gradients.ts)
 * reads nothing of its saved tensors but `.shape` (Concat also `saved[0].shape`).
 */
const SHAPE_ONLY_GRADIENTS = new Set<string>([tf.Add, tf.Sub, tf.Mean, tf.Sum, tf.Reshape, tf.Concat]);

function shapeRecord(t: tf.Tensor | ShapeRecord): ShapeRecord {
  return {shape: t.shape.slice(), dtype: t.dtype, rank: t.rank, size: t.size};
}

/**
 * After a native FusedBatchNorm that folded its mean and variance paths into dx (the backend
 * recorded its mean in `batchStats`, src/kernels/batch_norm.ts), the Square node of that variance
 * gets a known-zero dy, and its gradient (src/kernels/gradients.ts) never reads what it saved, the
 * x − mean: swap that tensor for a shape record now, so it is freed during the forward pass (one
 * activation-sized tensor per batch norm) instead of at the end of the backward pass.
 */
function releaseFoldedVariance(engine: EngineInternals, inputs: tf.NamedTensorMap): void {
  const backend = tf.backend() as Partial<Pick<NativeBackendLike, 'batchStats'>>;  // only the native backend has it
  const stats = inputs.mean && backend.batchStats?.get(inputs.mean.dataId);
  const tape = engine.state.activeTape;
  if (!stats || !tape) return;
  for (let i = tape.length - 1; i >= Math.max(0, tape.length - 64); i--) {
    const node = tape[i];
    if (node.kernelName !== tf.Square || node.inputs.x?.dataId !== stats.centered) continue;
    node.saved = (node.saved ?? []).map((t) => {
      if (t instanceof tf.Tensor) t.dispose();
      return shapeRecord(t);
    });
    return;
  }
}

/**
 * Run `f` with the engine saving frugally for the backward pass. The shape-only kernels save a
 * ShapeRecord in place of each tensor: the engine asks getTensorsForGradient what to save and keeps
 * a clone of each through saveTensorsForBackwardMode; both pass the records through instead. A gradient that read values from a record would fail
 * loudly (it has no data), never silently. Square nodes of folded batch-norm variances lose their
 * saved tensor the same way (releaseFoldedVariance).
 *
 * The tensors that are saved are kept as the engine keeps them, a second handle on the same data
 * (the backend's reference count raised), but without the engine's clone running an Identity
 * kernel and recording a tape node for each: a saved copy is never on the path to the loss.
 */
function savingFrugally<T>(engine: EngineInternals, f: () => T): T {
  const records = new WeakSet<object>();
  // What the overrides below replace, to be put back as it was (an own property or the prototype's).
  const replaced = (['getTensorsForGradient', 'saveTensorsForBackwardMode', 'clone'] as const).map((name) =>
    ({ name, own: Object.prototype.hasOwnProperty.call(engine, name), method: engine[name] }));
  const getTensors = engine.getTensorsForGradient;
  const save = engine.saveTensorsForBackwardMode;
  const clone = engine.clone;
  engine.getTensorsForGradient = function (kernelName, inputs, outputs) {
    const tensors = getTensors.call(this, kernelName, inputs, outputs);
    if (kernelName === tf.FusedBatchNorm) releaseFoldedVariance(engine, inputs);
    if (!SHAPE_ONLY_GRADIENTS.has(kernelName)) return tensors;
    return tensors.map((t) => {
      const record = shapeRecord(t);
      records.add(record);
      return record;
    });
  };
  engine.saveTensorsForBackwardMode = function (tensors) {
    return tensors.map((t) => (records.has(t) ? t : save.call(this, [t])[0]));
  };
  engine.clone = function (x) {
    const { backend } = this.state.tensorInfo.get(x.dataId)!;
    backend.incRef(x.dataId);
    return this.makeTensorFromTensorInfo({ dataId: x.dataId, shape: x.shape, dtype: x.dtype }, backend);
  };
  try {
    return f();
  } finally {
    for (const { name, own, method } of replaced) {
      if (own) Object.assign(engine, { [name]: method }); else delete (engine as Partial<EngineInternals>)[name];
    }
  }
}

/**
 * The nodes that lie on a path from one of `xs` to `y`, in tape order, each with only the inputs
 * that depend on `xs` (tfjs-core's getFilteredNodesXToY, which is not exported).
 */
function nodesFromXsToY(tape: TapeNode[], xs: tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set<number>(xs.map((x) => x.id));
  const nodesFromX = new Set<number>();
  for (const node of tape) {
    if (Object.values(node.inputs).some((t) => fromX.has(t.id))) {
      for (const o of node.outputs) fromX.add(o.id);
      nodesFromX.add(node.id);
    }
  }
  const leadToY = new Set<number>([y.id]);
  const nodesToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i];
    if (node.outputs.some((o) => leadToY.has(o.id))) {
      for (const t of Object.values(node.inputs)) leadToY.add(t.id);
      nodesToY.add(node.id);
    }
  }
  return tape.filter((n) => nodesFromX.has(n.id) && nodesToY.has(n.id)).map((n) => ({
    ...n, inputs: Object.fromEntries(Object.entries(n.inputs).filter(([, t]) => fromX.has(t.id))),
  }));
}

/** Dispose what `node` saved for its gradient (tensors; shape records hold no data). */
function dropSaved(node: TapeNode): void {
  for (const t of node.saved ?? []) if (t instanceof tf.Tensor) t.dispose();
}

/**
 * Walk `nodes` backward from dL/dy = 1 and return dL/dx for each of `xs` (null where x does not
 * reach y), freeing every saved tensor and every gradient once no later step needs it.
 */
function backpropagate(nodes: TapeNode[], xs: tf.Tensor[], y: tf.Tensor): (tf.Tensor | null)[] {
  const wanted = new Set(xs.map((x) => x.id));
  const grads = new Map<number, tf.Tensor>([[y.id, tf.onesLike(y)]]);
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i];
    if (!node.gradient) throw new Error(`Cannot compute gradient: gradient function not found for ${node.kernelName}.`);
    const dys = node.outputs.map((o) => grads.get(o.id) ?? null);
    const inputGradients = node.gradient(dys);
    for (const [name, x] of Object.entries(node.inputs)) {
      if (!(name in inputGradients)) {
        throw new Error(`Cannot backprop through input ${name} of ${node.kernelName}. Available gradients: ${Object.keys(inputGradients)}.`);
      }
      let dx = tf.tidy(() => inputGradients[name]());
      if (dx.dtype !== 'float32' || !tf.util.arraysEqual(dx.shape, x.shape)) {
        throw new Error(`Error in gradient for op ${node.kernelName}: the gradient of input '${name}' is ` +
          `${dx.dtype}[${dx.shape}], expected float32[${x.shape}].`);
      }
      // A gradient function may hand back a tensor it did not create (dy itself, an input, a saved
      // tensor); a clone shares the data but can be disposed on its own.
      if (dys.includes(dx) || (node.saved as unknown[] | undefined)?.includes(dx) || Object.values(node.inputs).includes(dx)) dx = tf.clone(dx);
      const sum = grads.get(x.id);
      if (sum) {
        grads.set(x.id, tf.add(sum, dx));
        tf.dispose([sum, dx]);
      } else {
        grads.set(x.id, dx);
      }
    }
    for (const o of node.outputs) {
      if (wanted.has(o.id)) continue;
      grads.get(o.id)?.dispose();
      grads.delete(o.id);
    }
    dropSaved(node);
  }
  return xs.map((x) => grads.get(x.id) ?? null);
}

/**
 * Like `tf.variableGrads(f, vars)`: the value of the scalar `f()` and its gradient for each of
 * `vars` by name (variables f does not depend on are left out), with less memory alive at the
 * end of the backward pass (see the file comment). Not for use inside another gradient
 * computation (tf.grads of a function that calls this).
 */
export function frugalVariableGrads(f: () => tf.Scalar, vars: tf.Variable[]):
    { value: tf.Scalar; grads: tf.NamedTensorMap } {
  const engine = engineInternals();
  if (engine.state.gradientDepth !== 0) {
    throw new ValueError('frugalVariableGrads expects to run outside any other gradient computation, but it ran ' +
      `inside one (gradient depth ${engine.state.gradientDepth}); use tf.variableGrads there.`);
  }
  const xs = vars.filter((v) => v.trainable);
  if (xs.length === 0) throw new ValueError(`frugalVariableGrads expects at least one trainable variable, but received ${vars.length} none of which is trainable.`);
  engine.startTape();
  let value: tf.Tensor;
  let tape: TapeNode[];
  try {
    value = savingFrugally(engine, () => tf.tidy('forward', f));
  } finally {
    engine.endTape();
    tape = engine.state.activeTape ?? [];
    engine.state.activeTape = null;
  }
  try {
    if (value.rank !== 0) throw new ValueError(`frugalVariableGrads expects f to return a scalar, but it returned a rank-${value.rank} tensor.`);
    const nodes = nodesFromXsToY(tape, xs, value);
    const onPath = new Set(nodes.map((n) => n.id));
    for (const node of tape) if (!onPath.has(node.id)) dropSaved(node);
    const grads = tf.tidy('backward', () => backpropagate(nodes, xs, value) as tf.TensorContainer) as (tf.Tensor | null)[];
    if (grads.every((g) => g == null)) {
      throw new ValueError('frugalVariableGrads expects f to depend on at least one of the variables, but it depends on none.');
    }
    const named: tf.NamedTensorMap = {};
    xs.forEach((x, i) => { if (grads[i]) named[x.name] = grads[i]!; });
    return { value: value as tf.Scalar, grads: named };
  } catch (e) {
    value.dispose();
    throw e;
  } finally {
    for (const node of tape) dropSaved(node);
  }
}
