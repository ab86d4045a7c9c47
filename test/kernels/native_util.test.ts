/**
 * The native kernels prove they ran: fallbacks to cpu are counted per kernel, an addon failure is
 * an error (never a silent fallback), the test guard (helpers.ts) flags what a test did not
 * expect, and forcing one native kernel to fail or fall back (SCCONV_NATIVE_FAIL) fails the suite.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { nativeFallbacks, resetNativeFallbacks } from '../../src/index';
import { expectFallback, fallbackProblems, NATIVE_BACKEND_NAME, skip } from './helpers';

test('a cpu fallback is counted per kernel, with the inputs it ran on, until reset', { skip }, () => {
  expectFallback('Add');
  tf.setBackend(NATIVE_BACKEND_NAME);
  tf.tidy(() => {
    tf.add(tf.tensor1d([1, 2], 'int32'), tf.scalar(3, 'int32')).dataSync();
    tf.add(tf.tensor1d([1, 2], 'float32'), tf.scalar(3)).dataSync(); // native: not counted
  });
  assert.deepEqual(nativeFallbacks(), { Add: { fallbacks: 1, failures: 0, examples: ['Add a:int32[2] b:int32[]'] } });
  // The guard would pass this test only because Add was expected here.
  assert.deepEqual(fallbackProblems(nativeFallbacks(), new Set(['Add'])), []);
  assert.deepEqual(fallbackProblems(nativeFallbacks(), new Set()),
    ['Add: ran the cpu kernel 1× instead of the native one (e.g. Add a:int32[2] b:int32[])']);
  assert.deepEqual(fallbackProblems({}, new Set(['Conv2D'])), ['Conv2D: the test expects a cpu fallback, but none happened']);
  assert.deepEqual(fallbackProblems({ Conv2D: { fallbacks: 0, failures: 2, examples: ['Conv2D x:float32[1]'] } }, new Set(['Conv2D'])),
    ['Conv2D: the addon failed 2× (e.g. Conv2D x:float32[1])', 'Conv2D: the test expects a cpu fallback, but none happened']);
  resetNativeFallbacks();
  assert.deepEqual(nativeFallbacks(), {});
  tf.add(tf.tensor1d([1], 'int32'), tf.scalar(1, 'int32')).dispose(); // for expectFallback('Add')
});

test('an addon failure is an error naming the kernel and its inputs, counted, and frees its output', { skip }, () => {
  tf.setBackend(NATIVE_BACKEND_NAME);
  const backend = tf.backend() as unknown as { addon: { conv: (...a: unknown[]) => void } };
  const conv = backend.addon.conv;
  backend.addon.conv = () => { throw Object.assign(new Error('scconv_native.conv: oneDNN failed (status 5): out of luck.'), { code: 'SCCONV_NATIVE' }); };
  const x = tf.ones([1, 4, 4, 2]) as tf.Tensor4D, w = tf.ones([3, 3, 2, 3]) as tf.Tensor4D;
  const before = tf.memory().numTensors;
  try {
    assert.throws(() => tf.conv2d(x, w, 1, 'same'),
      /^Error: The native kernel Conv2D x:float32\[1,4,4,2\] filter:float32\[3,3,2,3\] failed: scconv_native\.conv: oneDNN failed \(status 5\): out of luck\. This is a bug/);
  } finally {
    backend.addon.conv = conv;
  }
  assert.equal(tf.memory().numTensors, before);
  assert.equal(nativeFallbacks().Conv2D.failures, 1);
  resetNativeFallbacks(); // else the guard fails this test for the failure it provoked
  tf.dispose([x, w]);
});

/** Run the first conv test of test/kernels/conv.test.ts with SCCONV_NATIVE_FAIL=`fail`; its exit status and output. */
function convTestsWith(fail: string): { status: number | null; output: string } {
  // Without NODE_TEST_CONTEXT (set by this runner) the child is a test run of its own, with its own exit status.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--test',
    '--test-name-pattern', '^conv2d x 2,7,9,3 filter 3,3,3,4 strides 1 same', 'test/kernels/conv.test.ts'],
    { encoding: 'utf8', env: { ...env, SCCONV_NATIVE_FAIL: fail } });
  return { status: r.status, output: r.stdout + r.stderr };
}

test('SCCONV_NATIVE_FAIL=Conv2D (the kernel throws) fails the native conv tests', { skip }, () => {
  const { status, output } = convTestsWith('Conv2D');
  assert.notEqual(status, 0);
  assert.match(output, /The native kernel Conv2D .* failed: scconv_native: Conv2D forced to fail by SCCONV_NATIVE_FAIL\./);
  assert.match(output, /# pass 0\n# fail 1\n/);
});

test('SCCONV_NATIVE_FAIL=Conv2D:fallback (cpu runs silently, the old failure mode) fails them too', { skip }, () => {
  const { status, output } = convTestsWith('Conv2D:fallback');
  assert.notEqual(status, 0);
  assert.match(output, /native fallback guard .*\n\s+Conv2D: ran the cpu kernel \d+× instead of the native one/);
  assert.match(output, /# pass 0\n# fail 1\n/);
});
