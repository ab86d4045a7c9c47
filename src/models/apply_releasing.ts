/**
 * `model.apply(x, kwargs)` for a functional LayersModel, releasing each intermediate tensor as soon
 * as the last layer that reads it has run.
 *
 * tfjs-layers' executor (engine/executor.js, 4.22) disposes each layer's output once its readers
 * have run in inference mode only; in training mode it keeps them all until the whole graph has
 * run, so at the end of a training forward pass every activation is alive at once, the ones the
 * backward pass needs and the ones it does not (a batch norm's output that only the ReLU after it
 * read; a residual sum). The gradient tape holds its own reference to whatever a kernel saved, so
 * an output no later layer reads can go in training too. This calls each layer's `apply` with the
 * same kwargs as the executor does, in an order where every layer follows the layers it reads, and
 * disposes each output once its readers have all run (docs/performance.md, Memory, has what that
 * saves).
 *
 * Values are `model.apply`'s (the same layer calls on the same inputs); test/models/apply_releasing.test.ts
 * checks outputs and gradients. It reads tfjs-layers' graph internals (nodesByDepth, the nodes'
 * inputTensors/outputTensors), typed below and checked at run time: a model it cannot walk (several
 * inputs or outputs, mask-making layers, a tfjs version without these fields) runs `model.apply`.
 */
import * as tf from '@tensorflow/tfjs';

interface GraphLayer {
  apply(inputs: tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[];
  getClassName(): string;
  stateful?: boolean;
}

interface GraphNode {
  outboundLayer: GraphLayer;
  inputTensors: tf.SymbolicTensor[];
  outputTensors: tf.SymbolicTensor[];
}

interface GraphInternals {
  nodesByDepth?: Record<string, GraphNode[]>;
  inputs: tf.SymbolicTensor[];
  outputs: tf.SymbolicTensor[];
}

/** Layers that make masks from unmasked inputs: tfjs-layers threads masks, this runner does not. */
const MASK_MAKERS = new Set(['Masking', 'Embedding']);

/**
 * The layer calls of a one-input, one-output model in an order where every layer runs after the
 * layers it reads (deepest first, as tfjs-layers numbers depths), or null when this runner cannot
 * walk the model.
 */
function executionOrder(model: tf.LayersModel): GraphNode[] | null {
  const g = model as unknown as GraphInternals;
  if (!g.nodesByDepth || g.inputs?.length !== 1 || g.outputs?.length !== 1) return null;
  const depths = Object.keys(g.nodesByDepth).map(Number).sort((a, b) => b - a);
  const nodes = depths.flatMap((d) => g.nodesByDepth![String(d)])
    .filter((n) => n.outboundLayer?.getClassName?.() !== 'InputLayer');
  const ok = nodes.every((n) => typeof n.outboundLayer?.apply === 'function' && Array.isArray(n.outputTensors) &&
    !MASK_MAKERS.has(n.outboundLayer.getClassName()));
  return ok ? nodes : null;
}

/** How many layer calls read each symbolic tensor (by id). */
function readerCounts(nodes: GraphNode[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const n of nodes) for (const t of n.inputTensors) counts.set(t.id, (counts.get(t.id) ?? 0) + 1);
  return counts;
}

interface WalkPlan { nodes: GraphNode[]; readers: Map<number, number> }

/** Each model's walk plan (null: not walkable), worked out on its first call: a model's graph never changes. */
const plans = new WeakMap<tf.LayersModel, WalkPlan | null>();

function walkPlan(model: tf.LayersModel): WalkPlan | null {
  if (!plans.has(model)) {
    const nodes = executionOrder(model);
    plans.set(model, nodes && { nodes, readers: readerCounts(nodes) });
  }
  return plans.get(model) ?? null;
}

/**
 * The model's output for `x`, as `model.apply(x, kwargs)` computes it (each layer's `apply` with
 * the same kwargs, as tfjs-layers' executor calls it), with every intermediate tensor disposed as
 * soon as no later layer reads it. `x` itself is never disposed.
 */
export function applyReleasing(model: tf.LayersModel, x: tf.Tensor, kwargs: { training?: boolean } = {}): tf.Tensor {
  const plan = walkPlan(model);
  if (!plan) return model.apply(x, kwargs) as tf.Tensor;
  const {nodes, readers} = plan;
  const g = model as unknown as GraphInternals;
  const output = g.outputs[0];
  return tf.tidy(() => {
    const values = new Map<number, tf.Tensor>([[g.inputs[0].id, x]]);
    // Readers still to run of each tensor object (a layer may return its input, so one object can
    // stand for several symbolic tensors); the input and the output are never disposed.
    const pending = new Map<tf.Tensor, number>([[x, Infinity]]);
    for (const node of nodes) {
      const inputs = node.inputTensors.map((s) => values.get(s.id));
      if (inputs.some((t) => t === undefined)) {
        throw new Error(`applyReleasing: layer ${node.outboundLayer.getClassName()} reads a tensor not computed before it.`);
      }
      const out = node.outboundLayer.apply(inputs as tf.Tensor[], { ...kwargs });
      const outs = Array.isArray(out) ? out : [out];
      node.outputTensors.forEach((s, i) => {
        values.set(s.id, outs[i]);
        const more = s.id === output.id ? Infinity : readers.get(s.id) ?? 0;
        pending.set(outs[i], (pending.get(outs[i]) ?? 0) + more);
      });
      for (const s of node.inputTensors) {
        const t = values.get(s.id)!;
        const left = pending.get(t)! - 1;
        pending.set(t, left);
        // As the executor in inference mode: a stateful layer's output (its state) and a variable
        // a layer handed on unchanged are not the pass's to dispose.
        if (left === 0 && !s.sourceLayer?.stateful && !(t instanceof tf.Variable)) t.dispose();
      }
    }
    const y = values.get(output.id);
    if (!y) throw new Error(`applyReleasing: the model's output ${output.name} was not computed.`);
    return y;
  });
}
