/**
 * The native kernels remember how moments' tensors were computed (a WeakMap keyed by data id, see
 * batch_norm.ts). They must not keep earlier tensors alive: recording every Sub chained a weight
 * updated as w ← w − lr·v to all its earlier values, and training slowed down as the garbage
 * collector walked an ever longer chain (scripts/probe_long_run.ts).
 */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import * as tf from '@tensorflow/tfjs';
import { NATIVE_BACKEND_NAME } from '../../src/kernels/native_backend';
import { skip } from './helpers';

v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc') as () => void;

/** A data id's object after it is disposed: alive only while something still references it. */
async function released(ref: WeakRef<object>): Promise<boolean> {
  for (let i = 0; i < 5 && ref.deref() !== undefined; i++) {
    await new Promise((r) => setImmediate(r)); // WeakRefs stay alive until the current job ends
    collectGarbage();
  }
  return ref.deref() === undefined;
}

test('an updated variable does not keep its earlier values alive (native)', { skip }, async () => {
  tf.setBackend(NATIVE_BACKEND_NAME);
  const w = tf.variable(tf.ones([64]));
  const first = new WeakRef(tf.engine().state.registeredVariables[w.name].dataId as object);
  const delta = tf.fill([64], 0.01);
  for (let step = 0; step < 20; step++) tf.tidy(() => w.assign(w.sub(delta.mul(tf.scalar(step)))));
  assert.ok(await released(first), "the variable's first data id is still reachable after 20 updates");
  tf.dispose([w, delta]);
});

test('moments still fold into the batch-norm gradient (native)', { skip }, () => {
  tf.setBackend(NATIVE_BACKEND_NAME);
  // The Sub and Square of moments are recorded: the fused gradient then hands zeros to their nodes.
  const x = tf.randomNormal([4, 3, 3, 8], 0, 1, 'float32', 1);
  const backend = tf.backend() as unknown as { provenance: WeakMap<object, { op: string }> };
  tf.tidy(() => {
    const mean = x.mean([0, 1, 2]);
    const diff = x.sub(mean);
    const sq = diff.square();
    assert.equal(backend.provenance.get(diff.dataId)?.op, 'sub');
    assert.equal(backend.provenance.get(sq.dataId)?.op, 'square');
    const other = x.sub(tf.onesLike(mean));
    assert.equal(backend.provenance.get(other.dataId), undefined, 'a Sub that is not x − mean(x) is not recorded');
  });
  x.dispose();
});
